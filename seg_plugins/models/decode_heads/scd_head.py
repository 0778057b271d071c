"""Semantic change head: one semantic classifier for both dates and a
binary change branch (HRSCD strategy 4, Daudt et al. 2019; Bi-SRNet, Ding
et al. 2022)."""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from .binary_change_head import BinaryChangeHead


def pad_to(label: Tensor, size, value: int) -> Tensor:
    """Pad (N, H, W) labels at the bottom/right, as mmseg pads inputs."""
    return F.pad(label, (0, size[1] - label.shape[-1], 0,
                         size[0] - label.shape[-2]), value=value)


def semantic_consistency(sem_a: Tensor, sem_b: Tensor, change: Tensor,
                         valid: Tensor) -> Tensor:
    """Bi-SRNet's similarity loss: cosine embedding of the two dates' class
    probabilities, alike where unchanged and unlike where changed.

    Args:
        sem_a, sem_b (Tensor): logits, shape (N, K, H, W).
        change (Tensor): {0, 1}, shape (N, H, W).
        valid (Tensor): bool, shape (N, H, W).
    """
    pa = sem_a.softmax(1).permute(0, 2, 3, 1)[valid]
    pb = sem_b.softmax(1).permute(0, 2, 3, 1)[valid]
    if pa.numel() == 0:
        return sem_a.sum() * 0
    target = 1 - 2 * change[valid].float()
    return F.cosine_embedding_loss(pa, pb, target)


@MODELS.register_module()
class SCDHead(BaseDecodeHead):
    """Per-date semantic maps and a change map from siamese features.

    Takes backbone levels of shape (N, 2 * C_i, h_i, w_i), date A on the
    first C_i channels (``SiameseStridedUNet``, ``SiameseResNetV1c``);
    levels in ``levels`` are resized to the finest and concatenated per date.
    Output logits (N, 2 * (K - 1) + 1, h, w): date A's K - 1 land-cover
    classes, date B's, then the change logit. Losses: cross-entropy per date
    on changed pixels only (labels 0 = no change ignored), BCE + Dice on
    change, and, with ``consistency_weight > 0``, the semantic-consistency
    term of Bi-SRNet.

    Args:
        in_channels (Sequence[int]): channels of ONE date per level in
            ``levels``.
        levels (Sequence[int]): backbone outputs used.
        channels (int): channels of the branches.
        num_classes (int): classes including no change (SECOND: 7).
        consistency_weight (float): weight of the consistency term; 0 = off.
        loss_ce (dict): semantic loss. loss_bce, loss_dice (dict): change.
        **kwargs: ``BaseDecodeHead`` arguments (norm_cfg, dropout_ratio...).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 levels: Union[int, Sequence[int]],
                 channels: int,
                 num_classes: int,
                 consistency_weight: float = 0.0,
                 loss_ce: dict = dict(type='CrossEntropyLoss',
                                      avg_non_ignore=True),
                 loss_bce: dict = dict(type='CrossEntropyLoss',
                                       use_sigmoid=True, avg_non_ignore=True),
                 loss_dice: dict = dict(type='DiceLoss', use_sigmoid=True),
                 **kwargs):
        levels = [levels] if isinstance(levels, int) else list(levels)
        in_channels = list(in_channels)
        assert len(levels) == len(in_channels), (
            f'SCDHead: one in_channels per level, got {in_channels} for '
            f'levels {levels}')
        assert num_classes >= 2, (
            f'num_classes counts no change and the land-cover classes, got '
            f'{num_classes}')
        # conv_seg is the shared land-cover classifier (K - 1 classes).
        super().__init__(in_channels=sum(in_channels), channels=channels,
                         num_classes=num_classes - 1, loss_decode=loss_ce,
                         **kwargs)
        self.levels = levels
        self.num_scd_classes = num_classes
        self.consistency_weight = consistency_weight
        conv = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg)
        self.semantic = torch.nn.Sequential(
            ConvModule(self.in_channels, channels, 3, padding=1, **conv),
            ConvModule(channels, channels, 3, padding=1, **conv))
        self.change = torch.nn.Sequential(
            ConvModule(2 * self.in_channels, channels, 3, padding=1, **conv),
            ConvModule(channels, channels, 3, padding=1, **conv))
        self.conv_change = torch.nn.Conv2d(channels, 1, 1)
        self.loss_bce = MODELS.build(loss_bce)
        self.loss_dice = MODELS.build(loss_dice)

    @property
    def out_channels_total(self) -> int:
        return 2 * (self.num_scd_classes - 1) + 1

    def _dates(self, inputs: List[Tensor]):
        feats_a, feats_b = [], []
        size = inputs[self.levels[0]].shape[2:]
        for i in self.levels:
            a, b = inputs[i].chunk(2, dim=1)
            feats_a.append(resize(a, size, mode='bilinear',
                                  align_corners=self.align_corners))
            feats_b.append(resize(b, size, mode='bilinear',
                                  align_corners=self.align_corners))
        return torch.cat(feats_a, 1), torch.cat(feats_b, 1)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Returns:
            Tensor: shape (N, 2 * (K - 1) + 1, h, w) logits.
        """
        fa, fb = self._dates(inputs)
        n = fa.shape[0]
        sem = self.cls_seg(self.semantic(torch.cat((fa, fb), 0)))
        change = self.conv_change(self.change(torch.cat((fa, fb), 1)))
        return torch.cat((sem[:n], sem[n:], change), 1)

    def _check_classes(self, label: Tensor, batch_data_samples,
                       path_key: str) -> None:
        """A label class the head has no output for is an error naming the
        label file (cross-entropy would fail on an index, naming nothing).

        Args:
            label (Tensor): one date's classes, shape (N, H, W).
            path_key (str): the metainfo key of that date's label file.
        """
        bad = (label >= self.num_scd_classes) & (label != self.ignore_index)
        if not bad.any():
            return
        n = int(bad.flatten(1).any(1).nonzero()[0])
        path = batch_data_samples[n].metainfo.get(path_key, f'sample {n}')
        raise ValueError(
            f'label {path} holds class {int(label[n][bad[n]].max())} but '
            f'model.decode_head.num_classes is {self.num_scd_classes} (no '
            'change included): set it to the number of the dataset\'s '
            'classes')

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples) -> dict:
        """Args:
            seg_logits (Tensor): shape (N, 2 * (K - 1) + 1, h, w).
            batch_data_samples (list[SegDataSample]): with ``gt_sem_seg``
                (change), ``gt_sem_seg_from``/``gt_sem_seg_to`` (0 = no
                change).
        """
        change = self._stack_batch_gt(batch_data_samples)[:, 0]  # (N, H, W)
        size = change.shape[1:]
        dates = [
            torch.stack([
                pad_to(s.get(f'gt_sem_seg_{d}').data[0], size,
                       self.ignore_index) for s in batch_data_samples
            ]) for d in ('from', 'to')
        ]
        logits = resize(seg_logits, size=size, mode='bilinear',
                        align_corners=self.align_corners)
        k = self.num_scd_classes - 1
        for date, label in zip(('seg_map_path', 'seg_map_path2'), dates):
            self._check_classes(label, batch_data_samples, date)
        sem_a, sem_b, change_logit = logits.split([k, k, 1], dim=1)
        losses = {}
        for name, sem, label in (('a', sem_a, dates[0]), ('b', sem_b,
                                                          dates[1])):
            # Class c -> c - 1; no change (0) and ignored (255) -> ignored.
            target = torch.where((label == 0) | (label == self.ignore_index),
                                 self.ignore_index, label - 1)
            losses[f'loss_ce_{name}'] = self.loss_decode(
                sem, target, ignore_index=self.ignore_index)
        valid = change != self.ignore_index
        losses['loss_bce'] = self.loss_bce(change_logit, change,
                                           ignore_index=self.ignore_index)
        losses['loss_dice'] = BinaryChangeHead._dice(
            self.loss_dice, change_logit, change[:, None], valid[:, None])
        if self.consistency_weight > 0:
            losses['loss_consistency'] = self.consistency_weight * \
                semantic_consistency(sem_a, sem_b, change, valid)
        return losses
