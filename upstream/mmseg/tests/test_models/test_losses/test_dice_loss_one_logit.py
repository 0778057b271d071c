# Copyright (c) OpenMMLab. All rights reserved.
import torch

from mmseg.models.losses import DiceLoss


def test_dice_loss_one_logit_scores_the_foreground():
    # A one-logit (sigmoid) head predicts class 1 of a 0/1 label: a
    # confident right prediction must cost little, a confident wrong one
    # much. Scored against class 0, it is the other way round.
    label = torch.zeros(2, 8, 8, dtype=torch.long)
    label[:, 2:6, 2:6] = 1
    right = torch.where(label == 1, 10., -10.).unsqueeze(1)
    loss = DiceLoss(use_sigmoid=True, naive_dice=True)
    assert loss(right, label) < 0.05
    assert loss(-right, label) > 0.95


def test_dice_loss_two_logits_unchanged():
    # Heads with several classes keep their one-hot targets.
    label = torch.zeros(2, 8, 8, dtype=torch.long)
    label[:, 2:6, 2:6] = 1
    right = torch.stack([torch.where(label == c, 10., -10.) for c in (0, 1)],
                        dim=1)
    loss = DiceLoss(use_sigmoid=False, naive_dice=True)
    assert loss(right, label) < 0.05
    assert loss(right.flip(1), label) > 0.95
