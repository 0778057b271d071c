"""SNUNet-CD (Fang et al., 2022): a siamese NestedUNet (UNet++) with the
Ensemble Channel Attention Module (ECAM)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from ..utils.bitemporal_input import split_pair

UP_SOURCES = ('both', 'b')


class NestedBlock(nn.Module):
    """Two 3x3 convs with a residual from the first conv's output.

    conv1 -> (kept as the identity) -> norm -> ReLU -> conv2 -> norm,
    plus the identity, then ReLU; every node of SNUNet is one of these.

    Args:
        in_channels (int): C_in.
        mid_channels (int): Channels after conv1 (the identity's).
        out_channels (int): C_out; must equal ``mid_channels``.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self, in_channels: int, mid_channels: int,
                 out_channels: int, norm_cfg: dict):
        super().__init__()
        assert mid_channels == out_channels, (
            'the residual adds conv1 to conv2: mid_channels must equal '
            f'out_channels, got {mid_channels} and {out_channels}')
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 3, padding=1)
        self.norm1 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv2 = nn.Conv2d(mid_channels, out_channels, 3, padding=1)
        self.norm2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, H, W)."""
        identity = self.conv1(x)
        x = self.relu(self.norm1(identity))
        x = self.norm2(self.conv2(x))
        return self.relu(x + identity)


class ChannelAttention(nn.Module):
    """Channel weights in (0, 1) from a shared two-layer 1x1 MLP over the
    average- and max-pooled map (Woo et al., 2018, CBAM's channel part).

    Args:
        channels (int): C.
        ratio (int): C / hidden width of the MLP.
    """

    def __init__(self, channels: int, ratio: int):
        super().__init__()
        hidden = channels // ratio
        assert hidden >= 1, f'{channels} channels // ratio {ratio} is 0'
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False), nn.ReLU(),
            nn.Conv2d(hidden, channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> weights (N, C, 1, 1)."""
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return torch.sigmoid(avg + peak)


class ECAM(nn.Module):
    """Ensemble Channel Attention Module over the four full-resolution
    decoder outputs x^{0,1..4}.

    The outputs' sum gives one attention (intra-level, ratio
    ``intra_ratio``), added to each output; the concatenation is weighted
    by a second attention over all ``4 * C`` channels (inter-level).

    Args:
        channels (int): C of one output.
        num_outputs (int): Outputs ensembled. Default: 4.
        ratio (int): Reduction of the inter-level attention. Default: 16.
        intra_ratio (int): Reduction of the intra-level one. Default: 4.
    """

    def __init__(self, channels: int, num_outputs: int = 4,
                 ratio: int = 16, intra_ratio: int = 4):
        super().__init__()
        self.num_outputs = num_outputs
        self.inter = ChannelAttention(channels * num_outputs, ratio)
        self.intra = ChannelAttention(channels, intra_ratio)

    def forward(self, outs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Args:
            outs (Sequence[Tensor]): ``num_outputs`` maps (N, C, H, W).

        Returns:
            Tensor: (N, num_outputs * C, H, W).
        """
        ensemble = torch.cat(list(outs), dim=1)
        intra = self.intra(torch.stack(list(outs)).sum(dim=0))
        intra = intra.repeat(1, self.num_outputs, 1, 1)
        return self.inter(ensemble) * (ensemble + intra)


@MODELS.register_module()
class SNUNetECAM(BaseModule):
    """SNUNet-CD with ECAM (Fang et al., 2022, "SNUNet-CD: A Densely
    Connected Siamese Network for Change Detection of VHR Images").

    A shared-weight encoder of five levels (max-pool between them, channels
    ``base_channels * 2**i``) runs on each date. The decoder is UNet++'s
    nested grid: node x^{i,j} (level i, column j >= 1) convolves the
    concatenation of both dates' encoder maps x_A^{i,0}, x_B^{i,0}, the
    level's earlier nodes x^{i,1..j-1} and the transposed-conv upsampling
    of x^{i+1,j-1}. ECAM fuses the four full-resolution nodes.

    The paper's equation leaves open which date's x^{i+1,0} feeds the
    first column's upsampling. ``up_source='both'`` runs the deepest level
    on both dates and upsamples the mean of the two (one shared transposed
    conv, so the parameters are the same); ``'b'`` takes date B's, and runs
    the deepest level on date B only, as the authors' code and open-cd do.

    Args:
        in_channels (int): Channels of ONE date (``model.backbone.
            in_channels``); the input has ``2 * in_channels``.
        base_channels (int): Channels of level 0 (16 or 32 in the paper).
            Default: 32.
        up_source (str): 'both' or 'b', see above. Default: 'both'.
        norm_cfg (dict): Norm layer config. Default: BN.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: Kaiming normal (fan_out) convs, unit norms.
    """

    num_levels = 5

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 32,
                 up_source: str = 'both',
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 init_cfg: Optional[dict] = [
                     dict(type='Kaiming', layer='Conv2d', mode='fan_out',
                          nonlinearity='relu', distribution='normal'),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        super().__init__(init_cfg)
        assert up_source in UP_SOURCES, (
            f'up_source must be in {UP_SOURCES}, got {up_source!r}')
        self.in_channels = in_channels
        self.up_source = up_source
        widths = [base_channels * 2**i for i in range(self.num_levels)]
        self.widths = widths
        self.pool = nn.MaxPool2d(2)
        self.encoder = nn.ModuleList(
            NestedBlock(c_in, c, c, norm_cfg)
            for c_in, c in zip([in_channels] + widths[:-1], widths))
        # nodes[f'{i}_{j}']: x^{i,j}; ups[f'{i}_{j}'] upsamples x^{i,j}.
        self.nodes = nn.ModuleDict()
        self.ups = nn.ModuleDict()
        for j in range(1, self.num_levels):
            for i in range(self.num_levels - j):
                c = widths[i]
                self.nodes[f'{i}_{j}'] = NestedBlock(
                    c * (j + 1) + widths[i + 1], c, c, norm_cfg)
        for i in range(1, self.num_levels):
            for j in range(self.num_levels - i):
                self.ups[f'{i}_{j}'] = nn.ConvTranspose2d(
                    widths[i], widths[i], 2, stride=2)
        self.ecam = ECAM(base_channels)

    def _encode(self, x: torch.Tensor, levels: int) -> List[torch.Tensor]:
        feats = [self.encoder[0](x)]
        for block in self.encoder[1:levels]:
            feats.append(block(self.pool(feats[-1])))
        return feats

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args:
            x (Tensor): shape (N, 2 * in_channels, H, W), H and W
                multiples of 16.

        Returns:
            list[Tensor]: one map, (N, 4 * base_channels, H, W).
        """
        img_a, img_b = split_pair(x, self.in_channels, type(self).__name__)
        div = 2**(self.num_levels - 1)
        # A traced graph's sizes are the exporter's business (its metadata
        # names the divisor): checked when not tracing.
        if not torch.jit.is_tracing() and (x.shape[2] % div
                                           or x.shape[3] % div):
            raise ValueError(
                f'{type(self).__name__}: H and W must be multiples of {div} '
                f'(4 poolings), got {x.shape[2]}x{x.shape[3]}: pad them '
                f'with model.data_preprocessor.size_divisor={div}')
        n = x.shape[0]
        if self.up_source == 'both':
            # One pass of the shared encoder over both dates.
            both = self._encode(torch.cat((img_a, img_b)), self.num_levels)
            enc_a, enc_b = [f[:n] for f in both], [f[n:] for f in both]
            deep = [(fa + fb) / 2 for fa, fb in zip(enc_a, enc_b)]
        else:
            enc_a = self._encode(img_a, self.num_levels - 1)
            enc_b = self._encode(img_b, self.num_levels)
            deep = enc_b
        # grid[i][j] = x^{i,j}; column 0 feeds the up path from ``deep``.
        grid = [[d] for d in deep]
        for j in range(1, self.num_levels):
            for i in range(self.num_levels - j):
                up = self.ups[f'{i + 1}_{j - 1}'](grid[i + 1][j - 1])
                grid[i].append(self.nodes[f'{i}_{j}'](torch.cat(
                    [enc_a[i], enc_b[i], *grid[i][1:j], up], dim=1)))
        return [self.ecam(grid[0][1:])]
