"""infer_change_scene's SceneResult: attributes, read access by key, and
counts that agree with the COGs written."""
import dataclasses

import numpy as np
import rasterio

from seg_plugins.apis import SceneResult, infer_change_scene, tile_windows
from tests.geo.scene_fixture import scene_bands, write_tif

# The keys of the dict that infer_change_scene returned before SceneResult:
# callers (tools/infer.py, the benchmarks) read them by key.
KEYS = {
    'change', 'prob', 'polygons', 'height', 'width', 'valid_pixels',
    'changed_pixels', 'changed_percent', 'crs', 'georeferenced',
    'pixel_area_m2', 'changed_area_m2', 'tiles_run', 'tiles_skipped',
    'tiles_resumed', 'regions', 'seconds', 'read_cpu_seconds',
    'write_cpu_seconds', 'commit_seconds', 'took_turns', 'radiometric',
    'precision'
} | {'from_map', 'to_map', 'area_table'}  # semantic change's, else None


def test_every_field_is_documented_with_its_type():
    names = {f.name for f in dataclasses.fields(SceneResult)}
    assert names == KEYS
    for name in names:
        assert f'        {name} (' in SceneResult.__doc__, name


def test_result_reads_by_attribute_and_key_and_matches_the_cogs(
        tiny, tmp_path):
    h, w, tile, overlap = 150, 130, 64, 16
    a, b = scene_bands(h, w, 1), scene_bands(h, w, 2)
    valid = np.ones((h, w), bool)
    valid[:, :60] = False  # tiles whose core is nodata throughout
    write_tif(tmp_path / 'a.tif', a, mask=valid)
    write_tif(tmp_path / 'b.tif', b)
    out, prob = tmp_path / 'c.tif', tmp_path / 'p.tif'
    result = infer_change_scene(tiny[0], str(tmp_path / 'a.tif'),
                                str(tmp_path / 'b.tif'), str(out),
                                prob_out=str(prob), tile=tile,
                                overlap=overlap, batch_size=2,
                                polygons=str(tmp_path / 'c.gpkg'))
    assert isinstance(result, SceneResult)
    assert set(result) == KEYS and len(result) == len(KEYS)
    assert dict(result.items()) == {k: getattr(result, k) for k in KEYS}
    assert result.get('no such key') is None and 'tiles_run' in result
    with rasterio.open(out) as src:
        change = src.read(1)
    assert (result.change, result.prob) == (str(out), str(prob))
    assert (result['height'], result['width']) == (h, w)
    assert result.valid_pixels == np.count_nonzero(valid)
    np.testing.assert_array_equal(change == 255, ~valid)
    assert result['changed_pixels'] == np.count_nonzero(change == 1) > 0
    assert np.isclose(result.changed_percent,
                      100 * result.changed_pixels / result.valid_pixels)
    windows = list(tile_windows(h, w, tile, overlap))
    assert result.tiles_run + result.tiles_skipped == len(windows)
    assert result.tiles_skipped > 0 and result.tiles_resumed == 0
    assert result.georeferenced and result.crs == 'EPSG:32631'
    assert np.isclose(result.changed_area_m2,
                      result.changed_pixels * result.pixel_area_m2, rtol=1e-3)
    assert result.polygons == str(tmp_path / 'c.gpkg')
    assert isinstance(result.regions, int) and result.regions > 0
    assert result.seconds >= result.commit_seconds > 0
    assert result.radiometric == 'none' and result.precision == 'fp32'
