"""The helpers a generated module defines before its classes, each only where its code
uses it: U-Net's ``center_crop``, and the modules torch.nn lacks (``Permute``, the
channels-first ``LayerNorm2d``). Written here, so the generated module needs torch alone."""

from __future__ import annotations

CENTER_CROP = '''\
def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` cut to the height and width of ``like``, centred (U-Net's copy and crop)."""
    top = (x.shape[2] - like.shape[2]) // 2
    left = (x.shape[3] - like.shape[3]) // 2
    return x[:, :, top : top + like.shape[2], left : left + like.shape[3]]
'''

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

#: name → its definition, in the order a module defines them
HELPERS: dict[str, str] = {
    "center_crop": CENTER_CROP,
    "Permute": PERMUTE,
    "LayerNorm2d": LAYER_NORM_2D,
}


def helpers_used(body: str) -> list[str]:
    """The names of the helpers ``body`` (the classes' code) calls, in order."""
    return [name for name in HELPERS if f"{name}(" in body]


def helper_text(body: str) -> str:
    """The definitions of the helpers ``body`` calls, two blank lines apart."""
    return "\n\n".join(HELPERS[name] for name in helpers_used(body))
