"""How every backend writes shapes, pairs and counts, so they all agree."""

from __future__ import annotations

from ..ir import Node
from ..kinds import ACTIVATION_LABELS


def shape(dims: tuple[int, ...] | None) -> str:
    """``(64, 224, 224)`` → ``64×224×224``."""
    return "×".join(str(d) for d in dims) if dims else "-"


def pair(value: tuple[int, int] | None) -> str:
    """``(3, 3)`` → ``3×3``; ``None`` → ``-``."""
    return "×".join(str(v) for v in value) if value else "-"


def square(value: tuple[int, int] | None) -> str:
    """``(2, 2)`` → ``2``; ``(1, 2)`` → ``1×2`` — a square pair as a person writes it."""
    if value is None:
        return "-"
    return str(value[0]) if value[0] == value[1] else pair(value)


def count(n: int) -> str:
    """``138357544`` → ``138,357,544``."""
    return f"{n:,}"


def short(n: int) -> str:
    """``15483821032`` → ``15.48 G``."""
    for factor, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= factor:
            return f"{n / factor:.2f} {unit}"
    return str(n)


def activation_label(kind: str | None) -> str:
    """The textbook's spelling of an activation (its record's label); ``-`` for none."""
    return "-" if kind is None else ACTIVATION_LABELS[kind]


def padding(node: Node, spell=square) -> str:
    """A node's padding as the spec means it: ``1``, ``2×1`` (``spell``), or ``same``."""
    if node.padding is None:
        return "-"
    return "same" if node.padding_same else spell(node.padding)


def hyper(node: Node) -> str:
    """``k3×3 s1 p1`` for windowed layers, ``p=0.5`` for dropout, ``part 0 of 2`` for a
    split, ``g2`` for a channel shuffle, else empty."""
    if node.kernel is not None:
        pad = "same" if node.padding_same else f"p{padding(node)}"
        text = f"k{square(node.kernel)} s{square(node.stride)} {pad}"
        if node.dilation not in (None, (1, 1)):
            text += f" d{square(node.dilation)}"
        if node.groups != 1:
            text += f" g{node.groups}"
        return text
    if node.p is not None:
        return f"p={node.p:g}"
    if node.target is not None:
        return f"→{pair(node.target)}"
    if node.levels is not None:  # a pyramid pool: its levels' bins per side, its pooling
        return f"bins {'/'.join(str(n) for n in node.levels)} {node.pool}"
    if node.reshape is not None:
        return f"→{shape(node.reshape)}"
    if node.parts is not None:  # a split: which part of how many
        return f"part {node.part} of {node.parts}"
    if node.groups != 1:  # a channel shuffle's groups
        return f"g{node.groups}"
    return ""


def stride(input_shape: tuple[int, ...], shape: tuple[int, ...]) -> int | float | None:
    """An output's stride relative to the input: input height / output height (an int
    where it divides, as 4, 8, 16, 32 for a pyramid's levels); None for a vector."""
    if len(shape) != 3 or len(input_shape) != 3 or not shape[1]:
        return None
    whole, rest = divmod(input_shape[1], shape[1])
    return whole if not rest else round(input_shape[1] / shape[1], 3)


def output_label(name: str, dims: tuple[int, ...], input_shape: tuple[int, ...]) -> str:
    """``0: 256×56×56 (stride 4)``; a vector's without its stride."""
    s = stride(input_shape, dims)
    return f"{name}: {shape(dims)}" + (f" (stride {s})" if s is not None else "")
