"""The published JSON Schema of an instrument definition, generated from the model.

``python -m burnout.instruments.schema`` rewrites ``schema.json`` beside this module;
tests/instruments/test_definitions.py fails when the file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from burnout.instruments.model import Instrument

__all__ = ["SCHEMA_PATH", "schema_json"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")


def schema_json() -> str:
    """The JSON Schema of `Instrument` as stable, sorted JSON text."""
    schema = Instrument.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "burnout/instruments/schema.json"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover
    SCHEMA_PATH.write_text(schema_json(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
