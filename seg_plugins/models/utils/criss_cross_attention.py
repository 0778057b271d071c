"""Criss-cross attention (Huang et al., "CCNet: Criss-Cross Attention for
Semantic Segmentation", 2019) that exports to ONNX."""
import torch
import torch.nn.functional as F
from mmcv.ops import CrissCrossAttention


class ExportableCrissCrossAttention(CrissCrossAttention):
    """mmcv's ``CrissCrossAttention`` with an ONNX-exportable forward.

    mmcv builds the mask that keeps a pixel from attending to itself twice
    (once in its row, once in its column) with ``torch.diag``, which has no
    ONNX conversion at opset 17; here it is a ``masked_fill`` on an index
    comparison. Same layers and state-dict keys as mmcv's (``query_conv``,
    ``key_conv``, ``value_conv``, ``gamma.scale``), same outputs.

    Args:
        in_channels (int): Channels of the input (C); query and key have
            C // 8.
        recurrence (int): Passes of the same attention (2 lets every pixel
            reach every other one). Default: 1.
    """

    def __init__(self, in_channels: int, recurrence: int = 1):
        super().__init__(in_channels)
        self.recurrence = recurrence

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """One pass.

        Args:
            x (Tensor): shape (N, C, H, W).

        Returns:
            Tensor: shape (N, C, H, W), ``x`` plus the scaled attention.
        """
        h = x.shape[2]
        query = self.query_conv(x)
        key = self.key_conv(x)
        value = self.value_conv(x)
        # (N, W, H, H'): each pixel against its column.
        energy_h = torch.einsum('nchw,nciw->nwhi', query, key)
        rows = torch.arange(h, device=x.device)
        energy_h = energy_h.masked_fill(rows[:, None] == rows[None, :],
                                        float('-inf')).transpose(1, 2)
        # (N, H, W, W'): each pixel against its row.
        energy_w = torch.einsum('nchw,nchj->nhwj', query, key)
        attn = F.softmax(torch.cat([energy_h, energy_w], dim=-1), dim=-1)
        out = torch.einsum('nciw,nhwi->nchw', value, attn[..., :h])
        out = out + torch.einsum('nchj,nhwj->nchw', value, attn[..., h:])
        return self.gamma(out) + x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): shape (N, C, H, W).

        Returns:
            Tensor: shape (N, C, H, W).
        """
        for _ in range(self.recurrence):
            x = self.attend(x)
        return x
