"""The modules torch.nn lacks that a generated module defines where its code uses them
(render.py's helper table): ``Permute``, the channels-first ``LayerNorm2d`` and
``PyramidPool2d``. Written
here, so that the generated module needs torch alone."""

from __future__ import annotations

PERMUTE = '''\
class Permute(nn.Module):
    """The input's dimensions in the order ``dims``: to channels-last and back."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)
'''

LAYER_NORM_2D = '''\
class LayerNorm2d(nn.LayerNorm):
    """nn.LayerNorm over the maps of an N×maps×H×W tensor, at each position."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''

PYRAMID_POOL_2D = '''\
class PyramidPool2d(nn.Module):
    """Spatial pyramid pooling: for each level n, the input pooled to n×n bins (adaptive
    max or average pooling) and flattened, maps first; the levels concatenated in order.
    N×C×H×W gives N×C·Σn², whatever H×W."""

    def __init__(self, levels: list[int], pool: str = "max") -> None:
        super().__init__()
        self.levels = levels
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool == "max":
            bins = [nn.functional.adaptive_max_pool2d(x, n) for n in self.levels]
        else:
            bins = [nn.functional.adaptive_avg_pool2d(x, n) for n in self.levels]
        return torch.cat([b.flatten(1) for b in bins], dim=1)

    def extra_repr(self) -> str:
        return f"levels={self.levels}, pool={self.pool}"
'''

#: the names these helpers define
HELPERS = ("Permute", "LayerNorm2d", "PyramidPool2d")
