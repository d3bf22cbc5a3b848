"""IResNet face-recognition backbones, compatible with InsightFace checkpoints.

Module names and nesting are those of InsightFace ``arcface_torch``
(``backbones/iresnet.py``), so a ``state_dict`` saved there loads here with
``strict=True`` and vice versa::

    conv1.weight, bn1.*, prelu.weight,
    layer{1..4}.{i}.{bn1,conv1,bn2,prelu,conv2,bn3}.*,
    layer{k}.0.downsample.{0,1}.*,
    bn2.*, fc.{weight,bias}, features.*

Structure (input 112x112, NCHW, RGB scaled to [-1, 1]):

- stem: conv3x3(3 -> w, stride 1, no bias) -> BN -> PReLU(w)
- four stages of ``IBasicBlock`` with widths w, 2w, 4w, 8w (w = 64 for the
  published models); the first block of every stage has stride 2 and a
  downsample branch conv1x1(stride 2) -> BN
- block: BN -> conv3x3 -> BN -> PReLU -> conv3x3(stride s) -> BN, plus the
  identity (or downsample) branch; nothing after the addition
- head: BN(8w) -> flatten (8w * 7 * 7) -> dropout -> Linear -> BatchNorm1d,
  whose affine weight is frozen at 1.0 as in InsightFace.

Beyond InsightFace, ``layers`` may be any list of four block counts and
``base_width`` (or ``width_mult``) shrinks the network for small test models;
with the defaults the module is identical to InsightFace's.
"""

from typing import List, Optional, Sequence

import torch
from torch import nn

__all__ = ["IBasicBlock", "IResNet", "iresnet18", "iresnet34", "iresnet50",
           "iresnet100", "iresnet200", "iresnet_tiny", "get_model", "ARCH_LAYERS"]

BN_EPS = 1e-5

# Block counts per stage of the published InsightFace backbones.
ARCH_LAYERS = {
    "iresnet18": [2, 2, 2, 2],
    "iresnet34": [3, 4, 6, 3],
    "iresnet50": [3, 4, 14, 3],
    "iresnet100": [3, 13, 30, 3],
    "iresnet200": [6, 26, 60, 6],
}


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride,
                     padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride,
                     bias=False)


class IBasicBlock(nn.Module):
    """Improved residual block: BN-conv-BN-PReLU-conv-BN + shortcut."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=BN_EPS)
        self.conv1 = conv3x3(inplanes, planes)
        self.bn2 = nn.BatchNorm2d(planes, eps=BN_EPS)
        self.prelu = nn.PReLU(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn3 = nn.BatchNorm2d(planes, eps=BN_EPS)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(x)
        out = self.conv1(out)
        out = self.bn2(out)
        out = self.prelu(out)
        out = self.conv2(out)
        out = self.bn3(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return out + shortcut


class IResNet(nn.Module):
    """InsightFace IResNet.

    Args:
        layers: number of ``IBasicBlock`` in each of the four stages.
        dropout: dropout probability before the embedding ``fc``.
        num_features: embedding size (512 for the published models).
        base_width: channels of the stem and first stage; stages use
            ``base_width * (1, 2, 4, 8)``. 64 for the published models.
        width_mult: alternative to ``base_width``: ``base_width = round(64 * width_mult)``.
        input_size: side of the square input; must be divisible by 16.
        zero_init_residual: zero the last BN of every residual branch.
    """

    def __init__(self, layers: Sequence[int] = (3, 13, 30, 3), dropout: float = 0.0,
                 num_features: int = 512, base_width: Optional[int] = None,
                 width_mult: Optional[float] = None, input_size: int = 112,
                 zero_init_residual: bool = False, block=IBasicBlock):
        super().__init__()
        layers = [int(n) for n in layers]
        if len(layers) != 4 or min(layers) < 1:
            raise ValueError(f"layers must be four positive block counts, got {layers}")
        if base_width is not None and width_mult is not None:
            raise ValueError("give base_width or width_mult, not both")
        if base_width is None:
            base_width = 64 if width_mult is None else max(1, int(round(64 * width_mult)))
        if input_size % 16:
            raise ValueError(f"input_size must be divisible by 16, got {input_size}")
        widths = [base_width * k for k in (1, 2, 4, 8)]

        self.layers_config: List[int] = layers
        self.base_width = base_width
        self.num_features = num_features
        self.input_size = input_size
        self.fc_scale = (input_size // 16) ** 2  # 7 * 7 at 112x112
        self.inplanes = base_width

        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes, eps=BN_EPS)
        self.prelu = nn.PReLU(self.inplanes)
        self.layer1 = self._make_layer(block, widths[0], layers[0], stride=2)
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.bn2 = nn.BatchNorm2d(widths[3] * block.expansion, eps=BN_EPS)
        self.dropout = nn.Dropout(p=dropout, inplace=True)
        self.fc = nn.Linear(widths[3] * block.expansion * self.fc_scale, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=BN_EPS)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

        # InsightFace's initialisation.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.1)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, IBasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion, eps=BN_EPS),
            )
        stage = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        stage.extend(block(self.inplanes, planes) for _ in range(1, blocks))
        return nn.Sequential(*stage)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.prelu(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.bn2(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        x = self.features(x)
        return x


def iresnet18(**kwargs) -> IResNet:
    return IResNet(ARCH_LAYERS["iresnet18"], **kwargs)


def iresnet34(**kwargs) -> IResNet:
    return IResNet(ARCH_LAYERS["iresnet34"], **kwargs)


def iresnet50(**kwargs) -> IResNet:
    return IResNet(ARCH_LAYERS["iresnet50"], **kwargs)


def iresnet100(**kwargs) -> IResNet:
    return IResNet(ARCH_LAYERS["iresnet100"], **kwargs)


def iresnet200(**kwargs) -> IResNet:
    return IResNet(ARCH_LAYERS["iresnet200"], **kwargs)


def iresnet_tiny(**kwargs) -> IResNet:
    """Small test network with the operator set of IR-100 (not an InsightFace model).

    One block per stage, widths 8/16/32/64, 128-d embedding: 479,608
    parameters (a ~1.9 MB fp32 ONNX file).
    """
    kwargs.setdefault("base_width", 8)
    kwargs.setdefault("num_features", 128)
    return IResNet([1, 1, 1, 1], **kwargs)


_FACTORIES = {
    "iresnet18": iresnet18, "r18": iresnet18,
    "iresnet34": iresnet34, "r34": iresnet34,
    "iresnet50": iresnet50, "r50": iresnet50,
    "iresnet100": iresnet100, "r100": iresnet100,
    "iresnet200": iresnet200, "r200": iresnet200,
    "iresnet_tiny": iresnet_tiny, "tiny": iresnet_tiny,
}


def get_model(name: str, **kwargs) -> IResNet:
    """Build a backbone by name (InsightFace spelling ``r100`` or ``iresnet100``).

    ``get_model("iresnet", layers=[2, 2, 2, 2], base_width=16)`` builds a
    custom IResNet; any other keyword goes to :class:`IResNet`.
    """
    key = name.lower()
    if key in ("iresnet", "custom"):
        if "layers" not in kwargs:
            raise ValueError("get_model('iresnet', ...) needs layers=[n1, n2, n3, n4]")
        return IResNet(**kwargs)
    if key not in _FACTORIES:
        raise ValueError(f"unknown backbone {name!r}; known: {sorted(_FACTORIES)}")
    if "layers" in kwargs:
        raise ValueError(f"{name} has fixed layers; use get_model('iresnet', layers=...)")
    return _FACTORIES[key](**kwargs)
