"""GeoTIFF chips: the synthetic scene writer and the rasterio path of
LoadImagePairFromFile / LoadChangeLabel (the chip converter:
tests/geo/test_chips.py)."""
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from seg_plugins.utils.synthetic import change_sample
from seg_plugins.utils.synthetic_scene import (
    CELL,
    cell_index,
    write_scene_pair,
)


def write_tif(path, data, nodata=None, crs='EPSG:32633'):
    """(C, H, W) array -> GeoTIFF."""
    count, h, w = data.shape
    with rasterio.open(path, 'w', driver='GTiff', height=h, width=w,
                       count=count, dtype=data.dtype.name, crs=crs,
                       transform=from_origin(500000, 5600000, 0.5, 0.5),
                       nodata=nodata) as dst:
        dst.write(data)
    return str(path)


@pytest.fixture(scope='module')
def scene4(tmp_path_factory):
    """A 4-band uint16 scene pair, 320 x 256, with nodata borders."""
    out = tmp_path_factory.mktemp('scene4')
    return write_scene_pair(str(out), (320, 256), bands=4, dtype='uint16',
                            seed=3)


def load_pair(mmseg_scope, a, b, label=None, **kwargs):
    from mmcv.transforms import Compose
    steps = [dict(type='LoadImagePairFromFile', **kwargs)]
    if label:
        steps.append(dict(type='LoadChangeLabel'))
    return Compose(steps)(dict(img_path=a, img_path2=b, seg_map_path=label,
                               seg_fields=[], label_threshold=None,
                               reduce_zero_label=False))


def test_scene_is_georeferenced_with_nodata_footprints(scene4):
    with rasterio.open(scene4['a']) as a, rasterio.open(scene4['b']) as b, \
            rasterio.open(scene4['label']) as lab:
        assert a.crs.to_epsg() == 32633 and a.count == 4
        assert a.dtypes[0] == 'uint16' and a.nodata == 0
        assert a.transform == b.transform == lab.transform
        assert a.block_shapes[0] == (256, 256) and lab.nodata == 255
        img_a = a.read()
        valid_a = a.dataset_mask() > 0
        valid_b = b.dataset_mask() > 0
        label = lab.read(1)
    # Irregular footprints, different per date; no valid pixel equals the
    # nodata value; the label is 255 exactly where either date is nodata.
    assert 0.4 < valid_a.mean() < 0.9 and (valid_a != valid_b).any()
    assert not valid_a[0, 0] and valid_a[160, 128]
    np.testing.assert_array_equal((img_a > 0).all(0), valid_a)
    np.testing.assert_array_equal(label == 255, ~(valid_a & valid_b))
    assert set(np.unique(label)) == {0, 1, 255}
    # Scaled digital numbers: 40 per level in A (level 0 kept at 1, off
    # the nodata value).
    dn = img_a[:, valid_a]
    assert img_a.max() > 255 * 20 and ((dn % 40 == 0) | (dn == 1)).all()


def test_scene_cells_are_the_demos_chips(tmp_path):
    """Each 64x64 cell of a 3-band scene is one of the demo's chips
    (change_sample): A and the label exactly (A's valid pixels >= 1)."""
    paths = write_scene_pair(str(tmp_path), (128, 192), bands=3, seed=4,
                             nodata_border=False)
    with rasterio.open(paths['a']) as src:
        a = src.read().transpose(1, 2, 0)
    with rasterio.open(paths['label']) as src:
        label = src.read(1)
    for row, col in ((0, 0), (1, 2)):
        ref_a, _, ref_label = change_sample(4, cell_index(row, col), CELL)
        cell = np.s_[row * CELL:(row + 1) * CELL, col * CELL:(col + 1) * CELL]
        np.testing.assert_array_equal(a[cell], np.maximum(ref_a, 1))
        np.testing.assert_array_equal(label[cell], ref_label // 255)
    assert label.any()


def test_four_band_scene_extends_the_three_band_one(tmp_path):
    p3 = write_scene_pair(str(tmp_path / 's3'), 128, bands=3, seed=2)
    p4 = write_scene_pair(str(tmp_path / 's4'), 128, bands=4, seed=2)
    for key in ('a', 'b'):
        with rasterio.open(p3[key]) as s3, rasterio.open(p4[key]) as s4:
            np.testing.assert_array_equal(s3.read(), s4.read()[:3])


def test_shifted_b_shows_the_same_ground(tmp_path):
    base = write_scene_pair(str(tmp_path / 'base'), 192, seed=1,
                            nodata_border=False)
    moved = write_scene_pair(str(tmp_path / 'moved'), 192, seed=1,
                             nodata_border=False, b_shift=(5, -3))
    with rasterio.open(base['b']) as b0, rasterio.open(moved['b']) as b1:
        assert b1.transform.c == b0.transform.c - 3 * 0.5
        assert b1.transform.f == b0.transform.f - 5 * 0.5
        np.testing.assert_array_equal(b1.read()[:, :-5, 3:],
                                      b0.read()[:, 5:, :-3])


def test_geotiff_chips_keep_uint16_and_band_order(mmseg_scope, tmp_path):
    rng = np.random.default_rng(0)
    bands = rng.integers(0, 60000, (4, 16, 24)).astype(np.uint16)
    a = write_tif(tmp_path / 'a.tif', bands)
    b = write_tif(tmp_path / 'b.tif', bands[::-1].copy())
    out = load_pair(mmseg_scope, a, b)
    assert out['img'].dtype == np.uint16 and out['img'].shape == (16, 24, 4)
    np.testing.assert_array_equal(out['img'], bands.transpose(1, 2, 0))
    np.testing.assert_array_equal(out['img2'][..., 0], bands[3])
    # --bands style selection, 1-based.
    out = load_pair(mmseg_scope, a, b, bands=[4, 1])
    np.testing.assert_array_equal(out['img'], bands[[3, 0]].transpose(1, 2,
                                                                      0))


def test_three_band_geotiff_loads_like_the_same_png(mmseg_scope, tmp_path):
    from PIL import Image
    rgb = np.random.default_rng(1).integers(0, 256, (20, 12, 3),
                                            dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    tif = write_tif(tmp_path / 'a.tif', rgb.transpose(2, 0, 1).copy())
    png = str(tmp_path / 'a.png')
    from_tif = load_pair(mmseg_scope, tif, tif)['img']
    np.testing.assert_array_equal(from_tif,
                                  load_pair(mmseg_scope, png, png)['img'])
    np.testing.assert_array_equal(from_tif, rgb[..., ::-1])  # BGR, as cv2


def test_not_a_raster_tif_names_the_file(mmseg_scope, tmp_path):
    bad = tmp_path / 'broken.tif'
    bad.write_text('not a GeoTIFF')
    good = write_tif(tmp_path / 'good.tif', np.ones((4, 8, 8), np.uint16))
    with pytest.raises(ValueError, match=r'cannot read .*broken\.tif as a '
                       'raster'):
        load_pair(mmseg_scope, good, str(bad))


def test_label_nodata_is_ignored(mmseg_scope, tmp_path):
    img = write_tif(tmp_path / 'a.tif', np.ones((4, 6, 6), np.uint16))
    label = np.zeros((1, 6, 6), np.uint8)
    label[0, :2] = 255
    label[0, 3] = 1
    lab = write_tif(tmp_path / 'label.tif', label, nodata=255)
    out = load_pair(mmseg_scope, img, img, lab)
    np.testing.assert_array_equal(out['gt_seg_map'], label[0])
    # Without declared nodata, 0/255 is the LEVIR convention: 255 = change.
    levir = np.where(label == 255, 255, 0).astype(np.uint8)
    lab = write_tif(tmp_path / 'levir.tif', levir)
    out = load_pair(mmseg_scope, img, img, lab)
    np.testing.assert_array_equal(out['gt_seg_map'], label[0] == 255)


def test_values_without_data_load_as_zero(mmseg_scope, tmp_path):
    """As scene inference shows them to the model (seg_plugins/geo/
    nodata.py): a NaN would make the loss NaN, a sentinel is far out of
    range."""
    rng = np.random.default_rng(2)
    data = rng.uniform(1, 4000, (4, 12, 10)).astype(np.float32)
    holes = rng.random((4, 12, 10)) < 0.2  # per band
    for name, nodata, stored, dtype in (
            ('nan', np.nan, np.nan, np.float32),
            ('undeclared', None, np.inf, np.float32),
            ('sentinel', 65535, 65535, np.uint16)):
        chip = data.astype(dtype)
        chip[holes] = stored
        path = write_tif(tmp_path / f'{name}.tif', chip, nodata=nodata)
        img = load_pair(mmseg_scope, path, path)['img']
        expected = np.where(holes, 0, data.astype(dtype))
        np.testing.assert_array_equal(img, expected.transpose(1, 2, 0))


def test_photometric_distortion_is_uint8_only(mmseg_scope):
    """Why the GeoTIFF chip configs leave mmseg's PhotoMetricDistortion
    out: it returns uint8 clipped to 255, whatever the input's range."""
    from mmseg.registry import TRANSFORMS
    dn = np.random.default_rng(0).integers(1000, 10000, (8, 8, 4))
    distort = TRANSFORMS.build(dict(type='PhotoMetricDistortion'))
    # Every step goes through convert(); which steps run is drawn from
    # numpy's global RNG (and the hue/saturation ones need 3-channel uint8
    # or float input), so the step itself is what is checked.
    out = distort.convert(dn.astype(np.uint16), alpha=1.0, beta=0)
    assert out.dtype == np.uint8 and out.max() == 255
    assert dn.min() > 255  # every input value was clipped
