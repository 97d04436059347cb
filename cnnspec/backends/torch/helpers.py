"""The modules torch.nn lacks that a generated module defines where its code uses them
(render.py's helper table): ``Permute`` and the channels-first ``LayerNorm2d``. Written
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

#: the names these helpers define
HELPERS = ("Permute", "LayerNorm2d")
