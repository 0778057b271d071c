import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS

from tests.scd_fixture import coded_scd_pair, write_scd_pair

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def _batch(root, cfg, n=2, size=(32, 48)):
    for i in range(n):
        write_scd_pair(root, 'test', f'p{i}', *coded_scd_pair(*size, seed=i))
    ds = cfg.test_dataloader.dataset
    ds.update(data_root=str(root))
    dataset = DATASETS.build(ds)
    return pseudo_collate([dataset[i] for i in range(n)])


@pytest.mark.parametrize('config', ['configs/scd_second_unet.py',
                                    'configs/scd_second_r18.py'])
def test_losses_train_and_predictions_are_change_masked(tmp_path, config):
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = _batch(tmp_path, cfg)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce_a', 'decode.loss_ce_b',
                           'decode.loss_bce', 'decode.loss_dice',
                           'decode.loss_consistency'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    total = sum(losses.values())
    total.backward()
    # Shared weights: the one backbone gets gradients from both dates.
    assert all(p.grad is not None for p in model.backbone.parameters()
               if p.requires_grad)
    model.eval()
    with torch.no_grad():
        out = model.test_step(batch)
    for sample in out:
        change = sample.pred_sem_seg.data
        assert change.shape == (1, 32, 48)
        for date in ('from', 'to'):
            pred = sample.get(f'pred_sem_seg_{date}').data
            assert pred.shape == (1, 32, 48)
            assert ((pred > 0) == (change > 0)).all()
            assert pred.max() <= 6


def test_consistency_term_switches_off(tmp_path):
    cfg = Config.fromfile('configs/scd_second_unet.py')
    cfg.model.decode_head.consistency_weight = 0.0
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(_batch(tmp_path, cfg, n=1), True)
    assert 'decode.loss_consistency' not in model(**data, mode='loss')


def test_input_of_one_date_is_a_clear_error(tmp_path):
    cfg = Config.fromfile('configs/scd_second_unet.py')
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='in_channels=3 bands per date'):
        model.backbone(torch.zeros(1, 3, 32, 32))


def test_label_class_beyond_the_head_names_the_label_file(tmp_path):
    """SECOND's 7 classes in the labels, a head configured for 4."""
    cfg = Config.fromfile('configs/scd_second_unet.py')
    cfg.model.decode_head.num_classes = 4
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(_batch(tmp_path, cfg), True)
    with pytest.raises(ValueError, match=r'label .*label1/p0\.png holds class '
                       r'6 but model\.decode_head\.num_classes is 4'):
        model(**data, mode='loss')
