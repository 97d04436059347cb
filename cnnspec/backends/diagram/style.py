"""How the diagram looks: the layer families and their colours, the font, the cluster
style, and the escaping every text from a spec goes through on its way into a label.

Safety: every string that comes from the spec is escaped — HTML entities inside the
HTML-like labels (:func:`html_text`), ``graphviz.escape`` for plain labels
(:func:`plain_text`) — so no title or name can change the graph's structure.
"""

from __future__ import annotations

import html
import re

import graphviz

from ...kinds import FAMILY_LEGEND, KINDS, on_change

FONT = "Helvetica,Arial,sans-serif"

#: The colours of each diagram family a kind's record names: (fill, border).
COLOURS: dict[str, tuple[str, str]] = {
    "conv": ("#cfe2f3", "#3d85c6"),
    "maxpool": ("#f4cccc", "#cc0000"),
    "avgpool": ("#fce5cd", "#e69138"),
    "adaptive": ("#d9d2e9", "#674ea7"),
    "pyramid": ("#e6dcf2", "#674ea7"),  # spatial pyramid pooling: an adaptive pool family
    "batchnorm": ("#fff2cc", "#bf9000"),
    "activation": ("#ead1dc", "#a64d79"),
    "fc": ("#d9ead3", "#38761d"),
    "dropout": ("#efefef", "#666666"),
    "deconv": ("#c9daf8", "#1155cc"),
    "lrn": ("#f3f3d0", "#8f8f1f"),
    "upsample": ("#d0f0ec", "#2f8f83"),
    "flatten": ("#ffffff", "#888888"),
    "merge": ("#ffffff", "#444444"),
    "channels": ("#e6f4d7", "#6aa84f"),
}
#: The colours of a family that has none of its own yet.
PLAIN = ("#f3f3f3", "#777777")
#: Each family drawn: (legend text — its kinds' legends, from their records —, fill,
#: border); and a folded block's. Refreshed when a kind is registered.
FAMILIES: dict[str, tuple[str, str, str]] = {}


def _families() -> None:
    FAMILIES.clear()
    FAMILIES.update((fam, (text, *COLOURS.get(fam, PLAIN))) for fam, text in FAMILY_LEGEND.items())
    FAMILIES["block"] = ("block (folded)", "#e8eaf6", "#3949ab")


_families()
on_change(_families)
IO_FILL, IO_BORDER = "#ffffff", "#444444"
CLUSTER_FILL, CLUSTER_BORDER = "#f8f9fb", "#9aa4b1"
EDGE_COLOR, EDGE_FONT_COLOR = "#555555", "#333333"
#: A graph's shortcuts (an edge whose head is also reached along another path).
SKIP_COLOR = "#1a73e8"
MERGE_FILL, MERGE_BORDER = "#ffffff", "#444444"


def family(kind: str) -> str:
    """The colour family of a layer kind (see :data:`FAMILIES`)."""
    return KINDS[kind].family


def cluster_style(label: str, *, labeljust: str, fontsize: str, margin: str) -> dict[str, str]:
    """The attributes of a cluster (a chain's stage, a graph's block or container)."""
    return {
        "label": plain_text(label),
        "labeljust": labeljust,
        "style": "rounded,filled",
        "fillcolor": CLUSTER_FILL,
        "color": CLUSTER_BORDER,
        "fontsize": fontsize,
        "fontcolor": "#333333",
        "margin": margin,
    }


# --------------------------------------------------------------------------- escaping


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def html_text(text: str) -> str:
    """``text`` as HTML-label content: entities for ``& < > " '``, a line break
    for a newline, and U+FFFD for other control characters (which Graphviz rejects)."""
    text = _CONTROL.sub("\ufffd", text.replace("\r\n", "\n").replace("\t", " "))
    return "<br/>".join(html.escape(line, quote=True) for line in text.split("\n"))


def plain_text(text: str) -> str:
    """``text`` as a plain (non-HTML) label: backslashes and ``<…>`` made literal."""
    return graphviz.escape(_CONTROL.sub("\ufffd", text.replace("\r\n", "\n")))
