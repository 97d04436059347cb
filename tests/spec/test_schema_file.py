"""The committed JSON Schema is what `cnnspec schema` prints, and every spec validates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from cnnspec.spec.jsonschema import json_schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema" / "cnnspec.schema.json"
SPECS = sorted((ROOT / "specs").rglob("*.yaml"))


def test_committed_schema_is_current():
    assert SCHEMA.read_text(encoding="utf-8") == json_schema_text(), (
        "schema/cnnspec.schema.json is stale: run `cnnspec schema > schema/cnnspec.schema.json`"
    )


def test_schema_command_prints_it():
    out = subprocess.run(
        [sys.executable, "-m", "cnnspec", "schema"], capture_output=True, text=True, check=True
    )
    assert out.stdout == SCHEMA.read_text(encoding="utf-8")
    json.loads(out.stdout)


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_schema_carries_field_descriptions():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    conv = schema["$defs"]["Conv"]["properties"]
    for key in ("maps", "size", "kernel", "stride", "padding", "activation"):
        assert conv[key].get("description"), key


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_validates_against_the_schema(spec):
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    errors = [e.message for e in validator.iter_errors(data)]
    assert not errors, errors


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_points_editors_at_the_schema(spec):
    first = spec.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (spec.parent / first.split("$schema=", 1)[1].strip()).resolve()
    assert target == SCHEMA


def test_schema_rejects_what_the_checker_rejects():
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    bad = {
        "name": "Net",
        "input": {"maps": 1, "size": "8x8"},
        "layers": [{"type": "conv", "maps": 4, "kernal": 3}],
    }
    assert list(validator.iter_errors(bad))
