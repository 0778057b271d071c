"""Semantic change over a GeoTIFF scene pair: from-class and to-class COGs
(colour table, class names) beside the change map, equal to the maps of
the model run in memory; the from-to area table counted while writing;
nodata; resume; the ONNX Runtime backend."""
import csv
import filecmp
import os.path as osp

import numpy as np
import pytest
import rasterio
import torch

from seg_plugins.apis import infer_change_scene, init_change_model
from seg_plugins.apis.change_inference import predict_tiles
from seg_plugins.apis.scene_pipeline import SceneStopped
from seg_plugins.datasets.second_scd import SECOND_CLASSES, SECOND_PALETTE
from tests.conftest import REPO, run_tool_in_process
from tests.geo.scene_fixture import scene_bands, transform, write_tif

TINY_SCD = f"""_base_ = ['{REPO}/configs/scd_second_unet.py']
model = dict(backbone=dict(base_channels=4, num_stages=3),
             decode_head=dict(in_channels=[4], channels=8))
"""
H, W = 150, 140
TILING = dict(tile=64, overlap=16, batch_size=2)


def calibrate(model, pair) -> None:
    """Spread the random head's outputs over ``pair``: the change logit's
    bias to its median (changed and unchanged regions), each class logit's
    to its mean, scaled up (several classes, not one)."""
    head, logits = model.decode_head, {}
    hooks = [layer.register_forward_hook(
        lambda m, i, o, name=name: logits.setdefault(name, o))
        for name, layer in (('change', head.conv_change),
                            ('classes', head.conv_seg))]
    predict_tiles(model, [pair])
    for hook in hooks:
        hook.remove()
    with torch.no_grad():
        head.conv_change.bias -= logits['change'].median()
        head.conv_seg.bias -= logits['classes'].mean((0, 2, 3))
        head.conv_seg.weight *= 30
        head.conv_seg.bias *= 30


@pytest.fixture(scope='module')
def scd(tmp_path_factory):
    """A pair (A nodata in its left 20 columns), the tiny SCD U-Net with
    a checkpoint of its calibrated random weights."""
    tmp = tmp_path_factory.mktemp('scd_scene')
    config = tmp / 'tiny_scd.py'
    config.write_text(TINY_SCD)
    torch.manual_seed(0)
    model = init_change_model(str(config))
    a, b = scene_bands(H, W, 1), scene_bands(H, W, 2)
    calibrate(model, (a.transpose(1, 2, 0), b.transpose(1, 2, 0)))
    ckpt = tmp / 'tiny_scd.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(
        classes=SECOND_CLASSES, palette=SECOND_PALETTE))), ckpt)
    a[:, :, :20] = 0
    write_tif(tmp / 'a.tif', a, nodata=0)
    write_tif(tmp / 'b.tif', b)
    model = init_change_model(str(config), str(ckpt))
    return tmp, model, config, ckpt


@pytest.fixture(scope='module')
def tiled(scd):
    tmp, model, _, _ = scd
    return infer_change_scene(model, tmp / 'a.tif', tmp / 'b.tif',
                              tmp / 'tiled' / 'change.tif',
                              polygons=tmp / 'tiled' / 'changes.gpkg',
                              **TILING)


def read(path):
    with rasterio.open(path) as src:
        return src.read(1)


def test_class_cogs_are_the_models_maps_with_colours_and_names(scd):
    tmp, model, _, _ = scd
    out = tmp / 'whole' / 'change.tif'
    # One tile holds the whole scene: the maps are the model's on it.
    result = infer_change_scene(model, tmp / 'a.tif', tmp / 'b.tif', out,
                                tile=160, overlap=0, batch_size=1)
    with rasterio.open(tmp / 'a.tif') as a, rasterio.open(tmp / 'b.tif') as b:
        # In the loader's (mmcv's BGR) order, as the scene reader gives it.
        dates = [d.read([3, 2, 1]).transpose(1, 2, 0) for d in (a, b)]
    change, _, frm, to = predict_tiles(model, [dates])[0]
    valid = np.zeros((H, W), bool)
    valid[:, 20:] = True
    assert (result.from_map, result.to_map) == (
        str(tmp / 'whole' / 'change_from.tif'),
        str(tmp / 'whole' / 'change_to.tif'))
    for path, want in ((result.change, change), (result.from_map, frm),
                       (result.to_map, to)):
        np.testing.assert_array_equal(read(path), np.where(valid, want, 255))
    # A map with changes, several classes and no-change pixels.
    assert 0.05 < change[valid].mean() < 0.95
    assert len(np.unique(to[valid])) >= 3
    for path in (result.from_map, result.to_map):
        with rasterio.open(path) as src:
            assert src.tags()['CLASS_NAMES'].split(',') == list(
                SECOND_CLASSES)
            assert src.nodata == 255 and src.overviews(1) == []
            for i, rgb in enumerate(SECOND_PALETTE):
                assert src.colormap(1)[i] == tuple(rgb) + (255, )


def test_area_table_counts_the_written_pairs(tiled):
    frm, to, change = (read(tiled[k]) for k in ('from_map', 'to_map',
                                                 'change'))
    assert ((frm > 0) & (frm < 255)).sum() == tiled.changed_pixels > 0
    np.testing.assert_array_equal(frm == 255, change == 255)
    np.testing.assert_array_equal(to == 255, change == 255)
    assert ((frm == 0) == (change == 0)).all()
    with open(tiled.area_table) as f:
        rows = list(csv.DictReader(f))
    names = list(SECOND_CLASSES)
    assert len(rows) >= 2
    for row in rows:
        i, j = names.index(row['from_class']), names.index(row['to_class'])
        assert int(row['pixels']) == np.sum((frm == i) & (to == j)) > 0
    assert sum(int(r['pixels']) for r in rows) == tiled.changed_pixels
    # UTM, 0.5 m pixels: 0.25 m^2 each, within the scale factor.
    area = sum(float(r['area_m2']) for r in rows)
    # Each row rounded to mm^2.
    assert area == pytest.approx(tiled.changed_area_m2, abs=1e-3 * len(rows))
    assert area == pytest.approx(tiled.changed_pixels * 0.25, rel=2e-3)


def test_polygons_are_the_from_to_regions_with_their_classes(tiled):
    import pyogrio.raw
    import shapely
    from rasterio.features import rasterize
    frm, to = read(tiled.from_map), read(tiled.to_map)
    meta, _, geoms, (pixels, area, frm_names, to_names) = pyogrio.raw.read(
        tiled.polygons)
    assert list(meta['fields']) == ['pixels', 'area_m2', 'from', 'to']
    assert len(geoms) == tiled.regions > 1
    with rasterio.open(tiled.change) as src:
        transform = src.transform
    names = list(SECOND_CLASSES)
    covered = np.zeros(frm.shape, int)
    for geom, n, f, t in zip(shapely.from_wkb(geoms), pixels, frm_names,
                             to_names):
        inside = rasterize([geom], frm.shape, transform=transform) > 0
        assert inside.sum() == n
        assert (frm[inside] == names.index(f)).all()
        assert (to[inside] == names.index(t)).all()
        covered += inside
    # Every changed pixel in one region, no other pixel in any.
    np.testing.assert_array_equal(covered, (frm > 0) & (frm < 255))
    assert area.sum() == pytest.approx(tiled.changed_area_m2, rel=1e-3)


def test_stopped_run_resumes_to_the_same_files(scd, tiled):
    tmp, model, _, _ = scd
    out = tmp / 'resumed' / 'change.tif'
    asked = iter(range(100))
    with pytest.raises(SceneStopped):
        infer_change_scene(model, tmp / 'a.tif', tmp / 'b.tif', out,
                           should_stop=lambda: next(asked) >= 5, **TILING)
    result = infer_change_scene(model, tmp / 'a.tif', tmp / 'b.tif', out,
                                resume=True, **TILING)
    assert result.tiles_resumed > 0
    for key in ('change', 'from_map', 'to_map', 'area_table'):
        assert filecmp.cmp(result[key], tiled[key], shallow=False), key


def test_align_resamples_b_onto_a_grid(scd, tiled):
    tmp, model, _, _ = scd
    # B three pixels east of A's grid: A's column c is its column c - 3
    # (A's first 20 columns are nodata anyway).
    with rasterio.open(tmp / 'b.tif') as src:
        b = src.read()
    shifted = np.zeros_like(b)
    shifted[:, :, :-3] = b[:, :, 3:]
    write_tif(tmp / 'b_east.tif', shifted, geotransform=transform(3))
    result = infer_change_scene(model, tmp / 'a.tif', tmp / 'b_east.tif',
                                tmp / 'aligned' / 'change.tif', align=True,
                                **TILING)
    for key in ('change', 'from_map', 'to_map', 'area_table'):
        assert filecmp.cmp(result[key], tiled[key], shallow=False), key


def test_onnxruntime_gives_the_same_maps(scd, tiled):
    from seg_plugins.deploy import export_config
    tmp, _, config, ckpt = scd
    onnx_file = tmp / 'scd.onnx'
    export_config(str(config), str(ckpt), str(onnx_file), shape=(64, 64),
                  dynamic=True)
    ort = init_change_model(str(config), str(onnx_file),
                            backend='onnxruntime')
    result = infer_change_scene(ort, tmp / 'a.tif', tmp / 'b.tif',
                                tmp / 'ort' / 'change.tif', **TILING)
    for key in ('change', 'from_map', 'to_map'):
        # Pixels on the threshold may round either way.
        assert (read(result[key]) == read(tiled[key])).mean() >= 0.999, key
    with rasterio.open(result.to_map) as src:
        assert src.tags()['CLASS_NAMES'].split(',') == list(SECOND_CLASSES)


def test_infer_tool_writes_the_scd_outputs(scd, tiled):
    from PIL import Image
    tmp, _, config, ckpt = scd
    out = tmp / 'tool' / 'change.tif'
    log = run_tool_in_process(
        'tools/infer.py', tmp / 'a.tif', tmp / 'b.tif', '--config', config,
        '--checkpoint', ckpt, '--out', out, '--polygons',
        tmp / 'tool' / 'changes.gpkg', '--quicklook', tmp / 'tool' / 'q.png',
        '--tile', TILING['tile'], '--overlap', TILING['overlap'],
        '--batch-size', TILING['batch_size'])
    assert f'areas: {tmp / "tool" / "change_areas.csv"}' in log
    for key in ('from_map', 'to_map', 'area_table'):
        assert filecmp.cmp(tmp / 'tool' / osp.basename(tiled[key]),
                           tiled[key], shallow=False), key
    # Changed pixels: 0.8 of their to-class colour over a grey background
    # (equal channels once the colour is taken off).
    pixels = np.asarray(Image.open(tmp / 'tool' / 'q.png')).astype(float)
    to = read(tiled.to_map)
    assert pixels.shape[:2] == to.shape
    changed = (to > 0) & (to < 255)
    grey = pixels[changed] - 0.8 * np.array(SECOND_PALETTE)[to[changed]]
    assert np.abs(grey - grey.mean(1, keepdims=True)).max() <= 1
