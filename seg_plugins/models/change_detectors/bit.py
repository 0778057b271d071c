"""BIT: the bitemporal image transformer (Chen, Qi and Shi 2021, "Remote
Sensing Image Change Detection With Transformers", IEEE TGRS).

Each date's backbone features (``SiameseResNetV1c``, ResNet-18 V1c's first
three stages) are summarised into a few semantic tokens (a spatial
attention per token); a transformer encoder relates the tokens of both
dates; a transformer decoder refines each date's pixels with its tokens;
the change is the absolute difference of the refined features.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule, ModuleList
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


class TokenAttention(BaseModule):
    """Multi-head attention of queries over keys of the same width.

    Queries, keys and values are projected (without bias) from ``dims`` to
    ``embed_dims`` split over the heads; the output is projected back.

    Args:
        dims (int): Width D of queries and keys.
        embed_dims (int): Width of the projections, all heads together.
        num_heads (int): Heads.
        drop_rate (float): Dropout after the output projection.
    """

    def __init__(self, dims: int, embed_dims: int, num_heads: int,
                 drop_rate: float = 0.0):
        super().__init__()
        assert embed_dims % num_heads == 0, (
            f'embed_dims {embed_dims} must divide into {num_heads} heads')
        self.num_heads = num_heads
        # BIT's authors scale by the model width, not the head width.
        self.scale = dims**-0.5
        self.to_q = nn.Linear(dims, embed_dims, bias=False)
        self.to_k = nn.Linear(dims, embed_dims, bias=False)
        self.to_v = nn.Linear(dims, embed_dims, bias=False)
        self.proj = nn.Linear(embed_dims, dims)
        self.drop = nn.Dropout(drop_rate)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, E) -> (N, heads, L, E / heads)."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads,
                         -1).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """Args:
            query (Tensor): shape (N, Lq, D).
            key (Tensor): keys and values, shape (N, Lk, D).

        Returns:
            Tensor: shape (N, Lq, D).
        """
        q = self._heads(self.to_q(query))
        k = self._heads(self.to_k(key))
        v = self._heads(self.to_v(key))
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).flatten(2)
        return self.drop(self.proj(out))


class TransformerLayer(BaseModule):
    """Pre-norm transformer layer: attention, then a two-layer MLP, each
    with a residual.

    Without ``ref`` it is an encoder layer (self-attention); with ``ref``
    a decoder layer whose queries attend to ``ref`` (BIT's pixels to their
    date's tokens). Queries and ``ref`` share the layer's first norm, as in
    the authors' code.

    Args:
        dims (int): Token width D.
        embed_dims (int): Attention width, all heads together.
        num_heads (int): Attention heads.
        ffn_channels (int): Hidden width of the MLP.
        drop_rate (float): Dropout in attention and MLP.
        norm_cfg (dict): Norm config. Default: LayerNorm.
        act_cfg (dict): MLP activation. Default: GELU.
    """

    def __init__(self, dims: int, embed_dims: int, num_heads: int,
                 ffn_channels: int, drop_rate: float = 0.0,
                 norm_cfg: dict = dict(type='LN'),
                 act_cfg: dict = dict(type='GELU')):
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, dims)[1]
        self.attn = TokenAttention(dims, embed_dims, num_heads, drop_rate)
        self.norm2 = build_norm_layer(norm_cfg, dims)[1]
        self.ffn = FFN(embed_dims=dims, feedforward_channels=ffn_channels,
                       num_fcs=2, act_cfg=act_cfg, ffn_drop=drop_rate,
                       add_identity=True)

    def forward(self, x: torch.Tensor,
                ref: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            x (Tensor): queries, shape (N, L, D).
            ref (Tensor, optional): keys and values, shape (N, Lr, D);
                None for self-attention.

        Returns:
            Tensor: shape (N, L, D).
        """
        q = self.norm1(x)
        x = x + self.attn(q, q if ref is None else self.norm1(ref))
        return self.ffn(self.norm2(x), identity=x)


@MODELS.register_module()
class BITHead(BaseDecodeHead):
    """BIT's bitemporal image transformer and classifier.

    Takes the last backbone level of ``SiameseResNetV1c`` (both dates
    stacked on channels), returns logits at ``upsample`` times that
    level's resolution after ``pre_upsample`` (full size for ResNet-18's
    1/8 features: 2 x 4 = 8).

    Args:
        in_channels (int): Channels of ONE date's backbone features.
        channels (int): Token width D (32 in the paper).
        token_len (int): Semantic tokens per date. Default: 4.
        embed_dims (int): Attention width, all heads together. Default: 64.
        num_heads (int): Attention heads. Default: 8.
        ffn_channels (int): MLP hidden width. Default: 64.
        enc_depth (int): Transformer encoder layers. Default: 1.
        dec_depth (int): Transformer decoder layers. Default: 8.
        pos_embed (bool): Learned positional embedding of the tokens
            before the encoder. Default: True.
        pre_upsample (int): Bilinear upsampling of the backbone features
            before the 3x3 conv to ``channels``. Default: 2.
        upsample (int): Bilinear upsampling of the feature difference
            before the classifier. Default: 4.
        drop_rate (float): Dropout inside the transformer. Default: 0.
        transformer_norm_cfg (dict): Norm of the transformer layers.
            Default: LayerNorm.
        **kwargs: mmseg ``BaseDecodeHead`` arguments (num_classes,
            dropout_ratio, loss_decode, ...).
    """

    def __init__(self,
                 in_channels: int = 256,
                 channels: int = 32,
                 token_len: int = 4,
                 embed_dims: int = 64,
                 num_heads: int = 8,
                 ffn_channels: int = 64,
                 enc_depth: int = 1,
                 dec_depth: int = 8,
                 pos_embed: bool = True,
                 pre_upsample: int = 2,
                 upsample: int = 4,
                 drop_rate: float = 0.0,
                 transformer_norm_cfg: dict = dict(type='LN'),
                 **kwargs):
        super().__init__(in_channels, channels, **kwargs)
        self.token_len = token_len
        self.pre_upsample = pre_upsample
        self.upsample = upsample
        # The authors' code: a plain conv (no norm, no activation).
        self.reduce = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.token_attn = nn.Conv2d(channels, token_len, 1, bias=False)
        self.pos_embed = nn.Parameter(
            torch.randn(1, 2 * token_len, channels)) if pos_embed else None
        layer = dict(dims=channels, embed_dims=embed_dims,
                     num_heads=num_heads, ffn_channels=ffn_channels,
                     drop_rate=drop_rate, norm_cfg=transformer_norm_cfg)
        self.encoder = ModuleList(
            [TransformerLayer(**layer) for _ in range(enc_depth)])
        self.decoder = ModuleList(
            [TransformerLayer(**layer) for _ in range(dec_depth)])

    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        """Semantic tokens: per token, a softmax attention over the pixels
        weights their features.

        Args:
            x (Tensor): shape (N, D, H, W).

        Returns:
            Tensor: shape (N, token_len, D).
        """
        attn = self.token_attn(x).flatten(2).softmax(dim=-1)  # (N, L, HW)
        return attn @ x.flatten(2).transpose(1, 2)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            inputs (list[Tensor]): backbone levels; the one at ``in_index``
                is (N, 2 * in_channels, h, w), date A first.

        Returns:
            Tensor: logits, (N, num_classes, h * pre_upsample * upsample,
            w * pre_upsample * upsample).
        """
        x = self._transform_inputs(inputs)
        x = torch.cat(x.chunk(2, dim=1), dim=0)  # dates as a batch of 2N
        x = F.interpolate(x, scale_factor=self.pre_upsample, mode='bilinear',
                          align_corners=self.align_corners)
        x = self.reduce(x)
        n2, d, h, w = x.shape
        # Encoder: the tokens of both dates, (N, 2L, D).
        tokens = torch.cat(self.tokenize(x).chunk(2, dim=0), dim=1)
        if self.pos_embed is not None:
            tokens = tokens + self.pos_embed
        for layer in self.encoder:
            tokens = layer(tokens)
        tokens = torch.cat(tokens.chunk(2, dim=1), dim=0)  # (2N, L, D)
        # Decoder: each date's pixels attend to that date's tokens.
        pixels = x.flatten(2).transpose(1, 2)  # (2N, HW, D)
        for layer in self.decoder:
            pixels = layer(pixels, tokens)
        x = pixels.transpose(1, 2).reshape(n2, d, h, w)
        a, b = x.chunk(2, dim=0)
        diff = F.interpolate((a - b).abs(), scale_factor=self.upsample,
                             mode='bilinear',
                             align_corners=self.align_corners)
        return self.cls_seg(diff)
