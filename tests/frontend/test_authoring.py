"""Authoring shorthands produce exactly what the long form does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cnnspec

ROOT = Path(__file__).resolve().parents[2]


def _without_positions(net: cnnspec.Network):
    nodes = tuple(dataclasses.replace(n, pos=cnnspec.Pos(), origin=(0, 1)) for n in net.layers)
    return dataclasses.replace(net, nodes=nodes, source="")


def test_table_block_is_the_same_network_as_the_layers_list():
    table = cnnspec.load(ROOT / "specs" / "lenet5_table.yaml")
    rows = cnnspec.load(ROOT / "specs" / "lenet5.yaml")
    assert _without_positions(table) == _without_positions(rows)
    assert table.params == 61_026


def test_table_block_compiles_to_the_same_module():
    table = cnnspec.load(ROOT / "specs" / "lenet5_table.yaml")
    rows = cnnspec.load(ROOT / "specs" / "lenet5.yaml")
    a = cnnspec.torch_source(table).splitlines()
    b = cnnspec.torch_source(rows).splitlines()
    # only the header names a different spec file
    assert a[0] != b[0] and "lenet5_table.yaml" in a[0]
    assert a[1:] == b[1:]
    assert str(cnnspec.build(table)) == str(cnnspec.build(rows))


def test_repeat_is_the_same_network_as_the_rows_written_out():
    short = cnnspec.loads(
        "name: Block\ninput: {maps: 3, size: 16x16}\nlayers:\n"
        "  - {type: conv, maps: 8, kernel: 3, padding: 1, activation: relu, repeat: 3}\n"
        "  - {type: maxpool, kernel: 2}\n"
    )
    long = cnnspec.loads(
        "name: Block\ninput: {maps: 3, size: 16x16}\nlayers:\n"
        + "  - {type: conv, maps: 8, kernel: 3, padding: 1, activation: relu}\n" * 3
        + "  - {type: maxpool, kernel: 2}\n"
    )
    assert _without_positions(short) == _without_positions(long)
    assert [n.name for n in short.layers] == [
        "conv1", "relu1", "conv2", "relu2", "conv3", "relu3", "maxpool1",
    ]  # fmt: skip


def test_repeat_appends_copy_numbers_to_a_name():
    net = cnnspec.loads(
        "name: Block\ninput: {maps: 3, size: 16x16}\nlayout: flat\nlayers:\n"
        "  - {name: conv, type: conv, maps: 8, kernel: 3, padding: 1, repeat: 2}\n"
    )
    assert [n.name for n in net.layers] == ["conv_1", "conv_2"]
