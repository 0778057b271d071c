from typing import List, Optional

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor


@MODELS.register_module()
class BinaryChangeHead(BaseDecodeHead):
    """One logit channel for changed / unchanged; BCE + Dice loss.

    At test time mmseg's segmentor applies the sigmoid and ``threshold``, so
    ``pred_sem_seg`` is a {0, 1} map and ``seg_logits`` the change
    probability.

    mmseg's ``DiceLoss`` one-hot encodes an (N, H, W) label against a
    1-channel prediction as class 0, i.e. it scores the *unchanged* pixels;
    this head hands it an (N, 1, H, W) target instead, with ignored pixels
    removed from both sides.

    Args:
        in_channels (int): Channels of the input feature map.
        channels (int, optional): Channels after ``num_convs`` 3x3 convs;
            defaults to ``in_channels`` (no convs: a 1x1 classifier, like the
            FC-* networks' last layer).
        num_convs (int): 3x3 ConvModules before the classifier. Default: 0.
        threshold (float): Probability above which a pixel is 'changed'.
            Default: 0.5.
        pos_weight (float, optional): BCE weight of the changed class
            (rare in LEVIR-CD: ~5% of pixels). Default: None.
        loss_bce (dict, optional): BCE loss config (mmseg
            ``CrossEntropyLoss`` with ``use_sigmoid=True``); None disables.
        loss_dice (dict, optional): Dice loss config (mmseg ``DiceLoss``
            with ``use_sigmoid=True``); None disables.
        **kwargs: Other ``BaseDecodeHead`` arguments (``in_index``,
            ``norm_cfg``, ``dropout_ratio``, ``align_corners`` ...).
    """

    def __init__(self,
                 in_channels: int,
                 channels: Optional[int] = None,
                 num_convs: int = 0,
                 threshold: float = 0.5,
                 pos_weight: Optional[float] = None,
                 loss_bce: Optional[dict] = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     avg_non_ignore=True,
                     loss_weight=1.0),
                 loss_dice: Optional[dict] = dict(
                     type='DiceLoss', use_sigmoid=True, loss_weight=1.0),
                 **kwargs):
        assert loss_bce or loss_dice, 'need at least one of BCE and Dice'
        assert 0.0 < threshold < 1.0, f'threshold in (0, 1), got {threshold}'
        if loss_bce and pos_weight is not None:
            # mmseg's sigmoid CE passes class_weight as BCE pos_weight.
            loss_bce = dict(loss_bce, class_weight=[float(pos_weight)])
        kwargs.setdefault('in_index', -1)
        super().__init__(
            in_channels,
            channels or in_channels,
            num_classes=2,
            out_channels=1,
            threshold=threshold,
            loss_decode=[cfg for cfg in (loss_bce, loss_dice) if cfg],
            **kwargs)
        self.convs = torch.nn.Sequential(*[
            self._conv(self.in_channels if i == 0 else self.channels)
            for i in range(num_convs)
        ])
        assert num_convs or self.channels == self.in_channels, (
            'channels must equal in_channels when num_convs == 0')

    def _conv(self, c_in):
        return ConvModule(c_in, self.channels, 3, padding=1,
                          conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                          act_cfg=self.act_cfg)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Args:
            inputs (list[Tensor]): Backbone maps; ``in_index`` picks one,
                shape (N, in_channels, H, W).

        Returns:
            Tensor: change logits, shape (N, 1, H, W).
        """
        return self.cls_seg(self.convs(self._transform_inputs(inputs)))

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: SampleList) -> dict:
        """Args:
            seg_logits (Tensor): shape (N, 1, h, w).
            batch_data_samples (list[SegDataSample]): with ``gt_sem_seg``
                {0, 1, ignore_index}.

        Returns:
            dict[str, Tensor]: ``loss_bce`` and/or ``loss_dice``.
        """
        label = self._stack_batch_gt(batch_data_samples)  # (N, 1, H, W)
        seg_logits = resize(seg_logits, size=label.shape[2:],
                            mode='bilinear', align_corners=self.align_corners)
        valid = label != self.ignore_index
        losses = {}
        for loss in self.loss_decode:
            if loss.loss_name == 'loss_dice':
                losses['loss_dice'] = self._dice(loss, seg_logits, label,
                                                 valid)
            else:
                losses['loss_bce'] = loss(seg_logits, label.squeeze(1),
                                          ignore_index=self.ignore_index)
        return losses

    @staticmethod
    def _dice(loss, logits: Tensor, label: Tensor, valid: Tensor) -> Tensor:
        """Dice on (N, 1, H, W) with ignored pixels at probability 0 and
        target 0, so they add nothing to either sum."""
        logits = logits.masked_fill(~valid, -1e4)
        target = (label * valid).float()
        return loss(logits, target)
