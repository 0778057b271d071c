"""Checks and splits the stacked pair that the change models take."""
from typing import Tuple

import torch


def split_pair(x: torch.Tensor, in_channels: int,
               owner: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """The two dates of a pair stacked on channels (``ConcatCDInput``).

    Args:
        x (Tensor): shape (N, 2 * in_channels, H, W), date A first.
        in_channels (int): Channels of ONE date
            (``model.backbone.in_channels``).
        owner (str): The model's class name, for the error message.

    Returns:
        tuple[Tensor, Tensor]: date A and date B, each
        (N, in_channels, H, W).

    Raises:
        ValueError: ``x`` is not a pair of ``in_channels``-band images,
            naming the config field and what the input holds.
    """
    if x.dim() != 4 or x.shape[1] != 2 * in_channels:
        got = x.shape[1] if x.dim() == 4 else f'shape {tuple(x.shape)}'
        hint = (' (one image: load a pair with LoadImagePairFromFile and '
                'ConcatCDInput)' if x.dim() == 4 and
                x.shape[1] == in_channels else '')
        raise ValueError(
            f'{owner}: model.backbone.in_channels={in_channels} bands per '
            f'date, so the input needs 2 x {in_channels} = '
            f'{2 * in_channels} channels (dates A and B stacked), got '
            f'{got}{hint}')
    return x[:, :in_channels], x[:, in_channels:]
