"""SCDTTAModel: the views of the config's tta_pipeline merged in
probability space, per date and for change."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS

from seg_plugins.models.segmentors.scd_encoder_decoder import scd_probabilities
from tests.scd_fixture import coded_scd_pair, write_scd_pair

pytestmark = pytest.mark.usefixtures('mmseg_scope')
K = 7


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """The U-Net config's random-weight model, and two fixture pairs."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    root = tmp_path_factory.mktemp('scd_tta')
    for i in range(2):
        write_scd_pair(root, 'test', f'p{i}', *coded_scd_pair(32, 48, i))
    cfg = Config.fromfile('configs/scd_second_unet.py')
    cfg.test_dataloader.dataset.data_root = str(root)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model.eval()


def batch(cfg, pipeline):
    ds = copy.deepcopy(cfg.test_dataloader.dataset)
    ds.pipeline = pipeline
    dataset = DATASETS.build(ds)
    return pseudo_collate([dataset[i] for i in range(len(dataset))])


def tta_predict(cfg, model, pipeline):
    tta = MODELS.build(dict(cfg.tta_model, module=model))
    with torch.no_grad():
        return tta.test_step(batch(cfg, pipeline))


def maps(probs):
    """The three maps of (2K-1, H, W) probabilities, computed here."""
    changed = probs[-1] > 0.5
    return [changed.long()] + [
        torch.where(changed, probs[i * (K - 1):(i + 1) * (K - 1)].argmax(0)
                    + 1, 0) for i in range(2)]


def assert_maps(sample, probs):
    for name, expected in zip(('', '_from', '_to'), maps(probs)):
        got = sample.get(f'pred_sem_seg{name}').data[0]
        assert (got == expected).float().mean() >= 0.9999, name


def test_identical_views_give_the_plain_prediction(setup):
    """Probabilities not activated twice, maps and labels kept."""
    cfg, model = setup
    pipeline = copy.deepcopy(cfg.tta_pipeline)
    for flip in pipeline[1].transforms[1]:
        flip.prob = 0.0
    out = tta_predict(cfg, model, pipeline)
    with torch.no_grad():
        ref = model.test_step(batch(cfg, cfg.test_dataloader.dataset.
                                    pipeline))
    for o, r in zip(out, ref):
        p_ref = scd_probabilities(r.seg_logits.data, K)
        p_out = scd_probabilities(o.seg_logits.data, K)
        torch.testing.assert_close(p_out, p_ref, atol=1e-6, rtol=0)
        for name in ('pred_sem_seg', 'pred_sem_seg_from', 'pred_sem_seg_to',
                     'gt_sem_seg', 'gt_sem_seg_from', 'gt_sem_seg_to'):
            assert torch.equal(o.get(name).data, r.get(name).data), name


def test_flip_views_average_probabilities_per_date_and_change(setup):
    """plain + flipped: the mean of each date's softmax and of the change
    sigmoid, the flipped view turned back; the maps are made from it."""
    cfg, model = setup
    out = tta_predict(cfg, model, cfg.tta_pipeline)
    data = model.data_preprocessor(
        batch(cfg, cfg.test_dataloader.dataset.pipeline), False)
    x = data['inputs']
    metas = [s.metainfo for s in data['data_samples']]
    with torch.no_grad():
        plain = scd_probabilities(model.encode_decode(x, metas), K)
        flipped = scd_probabilities(
            model.encode_decode(x.flip(-1), metas), K).flip(-1)
    expected = (plain + flipped) / 2
    assert (plain - flipped).abs().max() > 1e-3  # the flip is no no-op
    for o, e in zip(out, expected):
        torch.testing.assert_close(
            scd_probabilities(o.seg_logits.data, K), e, atol=1e-5, rtol=0)
        assert_maps(o, e)
