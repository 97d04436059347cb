"""The JSON Schema of the spec format (``cnnspec schema``; ``schema/cnnspec.schema.json``).

Editors validate specs and show the models' field descriptions on hover from it.
"""

from __future__ import annotations

import json
from typing import Any

from .models import Spec


def json_schema() -> dict:
    """The JSON Schema of the spec format (what ``cnnspec schema`` prints)."""
    schema = _without_null(Spec.model_json_schema())
    defs = schema.pop("$defs")
    defs["Spec"] = schema
    defs["BlocksFile"] = {
        "type": "object",
        "title": "cnnspec blocks file",
        "description": "Blocks shared between specs: a spec names this file in `include:`.",
        "properties": {
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/BlockSpec"}}
        },
        "required": ["blocks"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cnnspec network",
        "anyOf": [{"$ref": "#/$defs/Spec"}, {"$ref": "#/$defs/BlocksFile"}],
        "$defs": defs,
    }


def _without_null(node: Any) -> Any:
    """The schema with every ``{"type": "null"}`` option and every ``"default": null``
    taken out: no key takes null (an optional key is left out instead), so an editor
    should neither offer nor insert it."""
    if isinstance(node, list):
        return [_without_null(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _without_null(v) for k, v in node.items() if not (k == "default" and v is None)}
    options = node.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        options = [o for o in options if o != {"type": "null"}]
        if len(options) == 1:
            del node["anyOf"]
            node = {**options[0], **node}
        else:
            node["anyOf"] = options
    return node


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
