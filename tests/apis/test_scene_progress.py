"""The progress record of a scene run and the key it is checked against."""
import copy
import json

import torch

from seg_plugins.apis.scene_progress import (
    SceneProgress,
    model_fingerprint,
    run_key,
)
from tests.geo.scene_fixture import scene_bands, write_tif

COUNTS = dict(valid_pixels=10, changed_pixels=3, tiles_run=2,
              tiles_skipped=1, changed_m2=0.7506)


def test_fingerprint_follows_the_weights(tiny):
    model = tiny[0]
    twin = copy.deepcopy(model)
    assert model_fingerprint(twin) == model_fingerprint(model)
    with torch.no_grad():
        weight = next(twin.parameters())
        weight[(0, ) * weight.dim()] += 1e-3
    other = copy.deepcopy(twin)  # not the one fingerprinted (cached)
    assert model_fingerprint(other) != model_fingerprint(model)


def test_record_is_taken_only_with_its_key(tiny, tmp_path):
    a = write_tif(tmp_path / 'a.tif', scene_bands(40, 40, 1))
    b = write_tif(tmp_path / 'b.tif', scene_bands(40, 40, 2))
    key = run_key(tiny[0], a, b, tile=64, overlap=16)
    out = tmp_path / 'c.tif'
    assert SceneProgress(out, key).load() == (0, None, 'no progress saved')
    SceneProgress(out, key).save(7, COUNTS)
    assert SceneProgress(out, key).load() == (7, COUNTS, '')
    other = run_key(tiny[0], a, b, tile=64, overlap=8)
    assert SceneProgress(out, other).load() == (
        0, None, 'settings changed: overlap')
    write_tif(b, scene_bands(40, 40, 3))  # B rewritten
    assert SceneProgress(out, run_key(tiny[0], a, b, tile=64, overlap=16)
                         ).load()[2] == 'settings changed: b'
    (tmp_path / 'c.tif.partial.json').write_text('{"key": ')
    done, counts, why = SceneProgress(out, key).load()
    assert (done, counts) == (0, None) and 'unreadable' in why
    # A record of an earlier version, without a count this one keeps:
    # started over, not a KeyError.
    SceneProgress(out, key).save(7, COUNTS)
    record = json.loads((tmp_path / 'c.tif.partial.json').read_text())
    del record['counts']['changed_m2']
    (tmp_path / 'c.tif.partial.json').write_text(json.dumps(record))
    done, counts, why = SceneProgress(out, key).load()
    assert (done, counts) == (0, None)
    assert 'unreadable' in why and 'changed_m2' in why


def test_save_when_synced_records_after_the_fsync(tiny, tmp_path):
    data = tmp_path / 'c.tif.partial.tif'
    data.write_bytes(b'x' * 1000)
    record = SceneProgress(tmp_path / 'c.tif', dict(k=1))
    assert record.save_when_synced([str(data)], 5, COUNTS)
    record.wait()
    assert record.load() == (5, COUNTS, '')
