"""complexity(): parameters and MACs in mmengine's FlopAnalyzer convention."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer

from seg_plugins.utils.complexity import complexity


class Tiny(nn.Module):
    """Every op kind the counter adds to FlopCounterMode's, on 2 x 3 bands."""

    in_channels, num_images = 3, 2

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.ln = nn.LayerNorm(8)
        self.gn = nn.GroupNorm(2, 8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = self.bn(self.conv(x)).relu()
        x = self.ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = self.gn(x)
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = F.interpolate(x, size=(20, 12), mode='bilinear')
        x = F.adaptive_avg_pool2d(self.up(x), 3)
        return self.fc(x.flatten(2).transpose(1, 2))


def test_counts_agree_with_mmengine_flop_analyzer():
    torch.manual_seed(0)
    model = Tiny().eval()
    analyzer = FlopAnalyzer(model, (torch.zeros(1, 6, 8, 12), ))
    analyzer.unsupported_ops_warnings(False)
    params, macs = complexity(model, (8, 12))
    assert params == sum(p.numel() for p in model.parameters())
    assert macs == analyzer.total() > 0
    # The CPU path (for ops without meta kernels) counts the same.
    assert complexity(model, (8, 12), device='cpu') == (params, macs)
    # The model passed in is copied to the meta device, not moved.
    assert model.conv.weight.device.type == 'cpu'


def test_change_unet_config(tmp_path):
    params, macs = complexity('configs/changedet_unet.py', (64, 64))
    _, macs_128 = complexity('configs/changedet_unet.py', (128, 128))
    assert params > 0
    # A fully convolutional network: MACs grow with the pixels.
    assert macs_128 == 4 * macs
