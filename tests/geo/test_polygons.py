"""Block-wise polygons of a change raster against whole-raster ones."""
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.features import shapes
from shapely.geometry import shape

from seg_plugins.geo.compare import score_change
from seg_plugins.geo.polygons import change_regions, write_polygons
from seg_plugins.geo.quicklook import write_quicklook
from tests.geo.scene_fixture import scene_bands, write_tif


def change_map(h, w, seed=0):
    """Blobs (crossing block borders, with holes) and pepper (diagonal
    contacts), nodata in a corner."""
    rng = np.random.default_rng(seed)
    blobs = np.kron(rng.random((h // 6 + 1, w // 6 + 1)) < 0.45,
                    np.ones((6, 6), bool))[:h, :w]
    pepper = rng.random((h, w)) < 0.5
    change = np.where(np.arange(w) < w // 2, blobs, pepper).astype(np.uint8)
    change[:20, -30:] = 255
    return change


def whole_raster_areas(change):
    return sorted(shape(g).area for g, _ in shapes(
        change, mask=change == 1, connectivity=4))


@pytest.mark.parametrize('ext', ['gpkg', 'geojson'])
def test_blockwise_polygons_equal_whole_raster(tmp_path, ext):
    import pyogrio.raw
    change = change_map(150, 131)
    path = write_tif(tmp_path / 'change.tif', change[None], nodata=255)
    out = tmp_path / f'changes.{ext}'
    n = write_polygons(str(path), str(out), block=32)
    want = whole_raster_areas(change)
    assert n == len(want) > 100
    meta, _, geoms, fields = pyogrio.raw.read(out)
    assert meta['fields'].tolist() == ['pixels', 'area_m2']
    assert rasterio.crs.CRS.from_user_input(meta['crs']) == 'EPSG:32631'
    pixels, area = fields
    assert sorted(pixels.tolist()) == want
    # 0.5 m UTM pixels: on the ground 0.08% more at the central meridian
    # (scale factor 0.9996; geo/ground_area.py)
    np.testing.assert_allclose(area, pixels * 0.25 / 0.9996**2, rtol=1e-5)
    # Geometry in the CRS: each region's area in the CRS's units is its
    # pixels' nominal area.
    got = np.array([shape_area(g) for g in geoms])
    np.testing.assert_allclose(got, pixels * 0.25)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'change.tif', f'changes.{ext}']


def smooth_map(h, w, share, seed):
    """Changes as smooth random blobs over ``share`` of the map: at 0.55
    one region percolates across it, with holes of every size."""
    import cv2
    coarse = np.random.default_rng(seed).random((h // 12 + 2, w // 12 + 2))
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return (field > np.quantile(field, 1 - share)).astype(np.uint8)


@pytest.mark.parametrize('share,block', [(0.45, 50), (0.55, 50),
                                         (0.55, 32), (0.7, 64)])
def test_regions_equal_whole_raster_vertex_for_vertex(tmp_path, share,
                                                      block):
    """Each region equals its whole-raster polygon, ring for ring and
    vertex for vertex: holes that reach block borders, holes that do not,
    a region crossing every block, nothing added along the borders."""
    change = smooth_map(300, 290, share, seed=int(share * 100) + block)
    path = write_tif(tmp_path / 'change.tif', change[None], crs=None)
    with rasterio.open(path) as src:
        got = list(change_regions(src, 1, block))
    want = [shape(g) for g, _ in shapes(change, mask=change == 1,
                                        connectivity=4)]

    def canonical(polygons):
        return sorted(shapely.to_wkb(shapely.normalize(p)) for p in polygons)
    assert len(got) == len(want)
    assert canonical(got) == canonical(want)
    biggest = max(want, key=lambda p: p.area)
    x0, y0, x1, y1 = biggest.bounds
    assert len(biggest.interiors) > 2
    if share > 0.5:  # the case that merges most: one region across all
        assert x1 - x0 > 4 * block and y1 - y0 > 4 * block


def shape_area(wkb):
    return shapely.from_wkb(wkb).area


def test_min_area_drops_small_regions(tmp_path):
    import pyogrio.raw
    change = change_map(90, 100, seed=1)
    path = write_tif(tmp_path / 'change.tif', change[None], nodata=255)
    n = write_polygons(str(path), str(tmp_path / 'big.gpkg'), min_area=9.0,
                       block=40)  # m^2: 36 pixels
    want = [a for a in whole_raster_areas(change) if a * 0.25 >= 9.0]
    assert n == len(want) > 0
    _, _, _, (pixels, _) = pyogrio.raw.read(tmp_path / 'big.gpkg')
    assert sorted(pixels.tolist()) == want


def test_no_change_writes_an_empty_layer(tmp_path):
    import pyogrio
    path = write_tif(tmp_path / 'change.tif', np.zeros((1, 40, 40),
                                                       np.uint8), nodata=255)
    assert write_polygons(str(path), str(tmp_path / 'none.gpkg')) == 0
    assert pyogrio.read_info(tmp_path / 'none.gpkg')['features'] == 0


def test_scores_against_a_label_raster(tmp_path):
    change = change_map(70, 60, seed=2)
    rng = np.random.default_rng(3)
    label = (rng.random(change.shape) < 0.4).astype(np.uint8)
    label[-10:] = 9  # the label's nodata
    write_tif(tmp_path / 'change.tif', change[None], nodata=255)
    write_tif(tmp_path / 'label.tif', label[None], nodata=9)
    s = score_change(str(tmp_path / 'change.tif'),
                     str(tmp_path / 'label.tif'), block=16)
    valid = (change != 255) & (label != 9)
    tp = int((valid & (change == 1) & (label == 1)).sum())
    fp = int((valid & (change == 1) & (label == 0)).sum())
    fn = int((valid & (change == 0) & (label == 1)).sum())
    assert (s['tp'], s['fp'], s['fn']) == (tp, fp, fn)
    assert s['tp'] + s['fp'] + s['fn'] + s['tn'] == valid.sum()
    assert s['f1'] == pytest.approx(200 * tp / (2 * tp + fp + fn))


def test_quicklook_is_small_and_red_where_changed(tmp_path):
    change = np.zeros((1, 600, 300), np.uint8)
    change[0, 100:300, 50:150] = 1
    change[0, 500:, :] = 255
    path = write_tif(tmp_path / 'change.tif', change, nodata=255)
    grey = np.repeat(scene_bands(600, 300, 1, count=1), 3, axis=0)
    image = write_tif(tmp_path / 'b.tif', grey)
    write_quicklook(str(path), str(tmp_path / 'ql.png'), str(image),
                    max_side=200)
    from PIL import Image
    ql = np.asarray(Image.open(tmp_path / 'ql.png')).astype(int)
    assert ql.shape == (200, 100, 3)
    # saved beside it and renamed: only the picture is left
    assert sorted(p.name for p in tmp_path.glob('ql*')) == ['ql.png']
    red = (ql[..., 0] > ql[..., 1] + 40) & (ql[..., 0] > ql[..., 2] + 40)
    assert red[40:95, 20:45].all() and not red[:30].any()
    assert (ql[175:] == 40).all()  # nodata
    # the scene in muted grey: nothing in it can pass for a change
    scene = ql[:30]
    assert (scene[..., 0] == scene[..., 1]).all()
    assert (scene[..., 1] == scene[..., 2]).all()
    assert 40 <= scene.min() and scene.max() <= 190 and scene.std() > 5


def test_quicklook_background_is_averaged(tmp_path):
    """1-pixel stripes of 0 and 200 between a dark and a bright band shrink
    to their mean, halfway; nearest sampling would pick one stripe and
    draw them as dark or as bright as the bands (aliasing)."""
    change = np.zeros((1, 400, 400), np.uint8)
    path = write_tif(tmp_path / 'change.tif', change, nodata=255)
    image = np.zeros((3, 400, 400), np.uint8)
    image[:, 140:260, ::2] = 200
    image[:, 260:] = 200
    image = write_tif(tmp_path / 'b.tif', image)
    write_quicklook(str(path), str(tmp_path / 'ql.png'), str(image),
                    max_side=100)
    from PIL import Image
    ql = np.asarray(Image.open(tmp_path / 'ql.png')).astype(int)[..., 0]
    dark, striped, bright = ql[:30], ql[40:60], ql[70:]
    assert striped.max() - striped.min() <= 1
    assert dark.max() + 30 < striped.min()
    assert striped.max() + 30 < bright.min()


def test_quicklook_of_a_float_scene_with_nan(tmp_path):
    """A NaN in the background (float scenes mark nodata so) reads as 0:
    the stretch stays that of the data, not NaN throughout."""
    change = np.zeros((1, 200, 200), np.uint8)
    path = write_tif(tmp_path / 'change.tif', change, nodata=255)
    image = scene_bands(200, 200, 2).astype(np.float32)
    image[:, :50, :50] = np.nan
    image = write_tif(tmp_path / 'b.tif', image, nodata=np.nan)
    write_quicklook(str(path), str(tmp_path / 'ql.png'), str(image))
    from PIL import Image
    ql = np.asarray(Image.open(tmp_path / 'ql.png')).astype(int)
    scene = ql[60:, 60:, 0]
    assert 40 <= scene.min() and scene.max() <= 190 and scene.std() > 5


@pytest.mark.parametrize('out_shape,strip_rows', [((37, 19), 50),
                                                  ((60, 150), 7),
                                                  ((1, 1), 512)])
def test_quicklook_average_equals_block_means(tmp_path, out_shape,
                                              strip_rows):
    """The strip-by-strip average equals each output pixel's mean over its
    bin of source pixels (uneven bins, strips that split the bins' rows
    anywhere)."""
    from seg_plugins.geo.quicklook import _averaged, _bins
    rng = np.random.default_rng(0)
    data = rng.integers(0, 60000, (3, 600, 300), dtype=np.uint16)
    path = write_tif(tmp_path / 'b.tif', data)
    with rasterio.open(path) as src:
        got = _averaged(src, [1, 2, 3], out_shape, strip_rows)
    rows = np.append(_bins(600, out_shape[0]), 600)
    cols = np.append(_bins(300, out_shape[1]), 300)
    for i in range(out_shape[0]):
        for j in range(out_shape[1]):
            block = data[:, rows[i]:rows[i + 1], cols[j]:cols[j + 1]]
            np.testing.assert_allclose(got[:, i, j],
                                       block.reshape(3, -1).mean(axis=1))


def test_pieces_that_are_not_one_region_are_not_lost():
    """Pieces that touch only at a corner make no single polygon: the
    overlay union takes them, and both parts come out (one of two pieces
    sharing an edge on the block line x = 32)."""
    from shapely.geometry import box

    from seg_plugins.geo.block_union import union_pieces
    pieces = [box(30, 30, 32, 32), box(32, 32, 34, 34), box(32, 30, 33, 31)]
    got = union_pieces(pieces, block=32)
    assert sorted(p.area for p in got) == [4.0, 5.0]
