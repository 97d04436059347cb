"""The channel rows, `split` and `channel_shuffle`: what each computes, against plain torch
written here (index arithmetic, not the generated code's reshapes), their shapes, params
and MACs (torchinfo's count of the built model), and their diagnostics."""

from __future__ import annotations

import pytest
import torch
import torchinfo

import cnnspec
from cnnspec.diagnostics import SpecError

HEAD = "name: Net\ninput: {maps: 3, size: 6x6}\n"


def _net(*rows: str, blocks: str = "") -> cnnspec.Network:
    text = HEAD + blocks + "layers:\n" + "".join(f"  - {r}\n" for r in rows)
    return cnnspec.loads(text, source="t.yaml")


def _errors(*rows: str, blocks: str = "") -> list[str]:
    with pytest.raises(SpecError) as info:
        _net(*rows, blocks=blocks)
    return [f"{d.code} at {d.pos.line}:{d.pos.col}: {d.message}" for d in info.value.diagnostics]


def _shuffled(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Map j of group g (position g·C/groups + j) moves to position j·groups + g."""
    per = x.shape[1] // groups
    out = torch.empty_like(x)
    for g in range(groups):
        for j in range(per):
            out[:, j * groups + g] = x[:, g * per + j]
    return out


def _stem_and_rest(net: cnnspec.Network, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The built model's output, and its conv's output (what the channel rows read)."""
    model = cnnspec.build(net).eval()
    with torch.no_grad():
        return model(x), model.conv(x)


@pytest.mark.parametrize(("parts", "part"), [(2, 0), (2, 1), (3, 2), (12, 5), (1, 0)])
def test_split_passes_on_one_of_equal_parts(parts, part):
    net = _net(
        "{name: conv, type: conv, maps: 12, kernel: 3, padding: 1}",
        f"{{name: piece, type: split, parts: {parts}, part: {part}}}",
    )
    piece = net.nodes[-1]
    size = 12 // parts
    assert piece.output_shape == (size, 6, 6) and piece.params == piece.macs == 0
    assert piece.path is None  # no module: an expression in forward
    x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(parts))
    got, stem = _stem_and_rest(net, x)
    assert torch.equal(got, stem[:, part * size : (part + 1) * size])


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 6, 12])
def test_channel_shuffle_interleaves_the_groups(groups):
    net = _net(
        "{name: conv, type: conv, maps: 12, kernel: 3, padding: 1}",
        f"{{name: shuffle, type: channel_shuffle, groups: {groups}}}",
    )
    shuffle = net.nodes[-1]
    assert shuffle.output_shape == (12, 6, 6) and shuffle.params == shuffle.macs == 0
    x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(groups))
    got, stem = _stem_and_rest(net, x)
    assert torch.equal(got, _shuffled(stem, groups))


def test_both_read_a_vector_after_the_flatten():
    net = _net(
        "{name: conv, type: conv, maps: 4, kernel: 3, padding: 1}",
        "{type: flatten}",
        "{name: back, type: split, parts: 4, part: 3}",
        "{name: mix, type: channel_shuffle, groups: 3}",
    )
    assert [n.output_shape for n in net.nodes[-2:]] == [(36,), (36,)]
    x = torch.randn(1, 3, 6, 6)
    got, stem = _stem_and_rest(net, x)
    assert torch.equal(got, _shuffled(stem.flatten(1)[:, 108:], 3))


def test_a_unit_that_splits_and_shuffles_matches_plain_torch_and_torchinfo():
    """ShuffleNetV2's basic unit in a block with its params as expressions: half the maps
    pass, half go through a conv, the halves are joined and shuffled."""
    blocks = """blocks:
  Unit:
    params: {parts: int, groups: int}
    layers:
      - {name: keep, type: split, parts: $parts, part: 0, from: input}
      - {name: other, type: split, parts: $parts, part: $parts - 1, from: input}
      - {name: conv, type: conv, maps: in_maps // $parts, kernel: 1, bias: false}
      - {name: cat, type: concat, from: [keep, conv]}
      - {name: shuffle, type: channel_shuffle, groups: $groups}
"""
    net = _net(
        "{name: conv, type: conv, maps: 8, kernel: 3, padding: 1}",
        "{name: unit, type: Unit, parts: 2, groups: 4}",
        "{name: wide, type: conv, maps: 12, kernel: 1}",
        "{name: unit2, type: Unit, parts: 3, groups: 2}",
        blocks=blocks,
    )
    source = cnnspec.torch_source(net)
    # the class keeps the values its forward reads
    assert "self.other_part = parts - 1" in source and "self.shuffle_groups = groups" in source
    assert "keep = x.chunk(self.keep_parts, dim=1)[0]" in source
    assert "x.chunk(self.other_parts, dim=1)[self.other_part]" in source
    assert "out, self.shuffle_groups" in source and "torchvision" not in source
    model = cnnspec.build(net).eval()
    x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model.conv(x)
        want = _shuffled(torch.cat([y[:, :4], model.unit.conv(y[:, 4:])], 1), 4)
        y = model.wide(want)
        want = _shuffled(torch.cat([y[:, :4], model.unit2.conv(y[:, 8:])], 1), 2)
        assert torch.equal(model(x), want)
    stats = torchinfo.summary(model, input_size=(1, 3, 6, 6), verbose=0)
    assert stats.total_mult_adds == net.macs
    assert sum(p.numel() for p in model.parameters()) == net.params


def test_parts_must_divide_the_maps():
    assert _errors(
        "{name: conv, type: conv, maps: 8, kernel: 3}",
        "{name: piece, type: split, parts: 3, part: 1}",
    ) == [
        "split-parts at 5:39: parts=3 must divide the 8 maps of its input (8×4×4) into equal "
        "parts: 8 / 3 = 2.66667"
    ]


def test_the_part_is_one_of_the_parts():
    (error,) = _errors(
        "{name: conv, type: conv, maps: 8, kernel: 3}",
        "{name: piece, type: split, parts: 4, part: 4}",
    )
    assert error == "value at 5:48: part 4 of 4: the parts are numbered 0 … 3"


def test_groups_must_divide_the_maps():
    (error,) = _errors(
        "{name: conv, type: conv, maps: 6, kernel: 3}",
        "{name: mix, type: channel_shuffle, groups: 4}",
    )
    assert error.startswith("shuffle-groups at 5:48: groups=4 must divide the 6 maps")


def test_declared_maps_are_checked():
    assert _errors(
        "{name: conv, type: conv, maps: 8, kernel: 3}",
        "{name: piece, type: split, parts: 2, part: 0, maps: 8}",
        "{name: mix, type: channel_shuffle, groups: 2, maps: 4}",
        "{name: mix2, type: channel_shuffle, groups: 2, maps: 5}",
    ) == [
        "maps-mismatch at 5:57: the row declares 8 maps, but it gives 4",
        "maps-mismatch at 7:58: the row declares 5 maps, but it gives 4",
    ]


@pytest.mark.parametrize(
    "row", ["{type: split, parts: 2, part: 0}", "{type: channel_shuffle, groups: 2}"]
)
def test_no_nn_sequential_holds_one(row):
    (error,) = _errors(
        "{name: conv, type: conv, maps: 8, kernel: 3}",
        f"{{name: seq, type: sequential, layers: [{row}]}}",
    )
    assert error.split(":", 1)[0].startswith("op-in-sequential")
    blocks = f"blocks:\n  B:\n    children: indexed\n    layers:\n      - {row}\n"
    (error,) = _errors("{name: conv, type: conv, maps: 8, kernel: 3}", "{type: B}", blocks=blocks)
    assert error.startswith("op-in-sequential at 7:9: ")  # the block's row
