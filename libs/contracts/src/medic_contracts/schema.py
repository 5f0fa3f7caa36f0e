"""JSON Schema export of every event, and the compatibility rule between schema versions.

The exported schemas under ``libs/contracts/schemas/`` are the committed snapshot. A test compares
each model with its snapshot: a changed schema needs a ``schema_version`` bump, and a minor bump
is allowed only for additive changes (new optional fields, widened enums). Anything else is a
breaking change: a new model on a new topic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .config import MedicConfig
from .events import EVENT_MODELS, Envelope
from .target import TargetConfig

__all__ = ["compatibility_problems", "event_schema", "export_schemas", "snapshot_for", "structural"]


def event_schema(model: type[Envelope]) -> dict[str, Any]:
    """The JSON Schema (validation mode) of one event model."""
    return model.model_json_schema(mode="validation")


def snapshot_for(model: type[Envelope]) -> dict[str, Any]:
    """What is written to (and compared with) the committed snapshot for an event model."""
    return {
        "event_type": model.model_fields["event_type"].default,
        "schema_version": model.SCHEMA_VERSION,
        "schema": event_schema(model),
    }


def export_schemas(directory: str | Path) -> list[Path]:
    """Write one JSON Schema file per event (plus the config and target models); return the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for model in EVENT_MODELS:
        snap = snapshot_for(model)
        path = out / f"{snap['event_type']}.json"
        path.write_text(json.dumps(snap, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    others: dict[str, type[BaseModel]] = {"medic_config": MedicConfig, "target_config": TargetConfig}
    for name, other in others.items():
        path = out / f"{name}.json"
        path.write_text(json.dumps(other.model_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


_DOC_KEYS = frozenset({"description", "examples", "title"})


def structural(schema: Any) -> Any:
    """A schema without its documentation keys: what compatibility is judged on."""
    if isinstance(schema, dict):
        return {k: structural(v) for k, v in schema.items() if k not in _DOC_KEYS or not isinstance(v, (str, list))}
    if isinstance(schema, list):
        return [structural(v) for v in schema]
    return schema


def _deref(node: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """Inline ``$ref``s so two schemas can be compared structurally."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen:
                return {"$recursive": name}
            merged = {**defs.get(name, {}), **{k: v for k, v in node.items() if k != "$ref"}}
            return _deref(merged, defs, seen | {name})
        return {k: _deref(v, defs, seen) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_deref(v, defs, seen) for v in node]
    return node


def _types(node: dict[str, Any]) -> set[str]:
    """The JSON types a schema node admits (through anyOf/oneOf)."""
    found: set[str] = set()
    if "type" in node:
        t = node["type"]
        found.update(t if isinstance(t, list) else [t])
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []):
            found.update(_types(option))
    if "const" in node and not found:
        found.add(type(node["const"]).__name__)
    if "enum" in node and not found:
        found.add("enum")
    if "properties" in node and not found:
        found.add("object")
    return found


def _enum_values(node: dict[str, Any]) -> set[Any] | None:
    values: set[Any] = set()
    seen = False
    if "enum" in node:
        values.update(json.dumps(v, sort_keys=True) for v in node["enum"])
        seen = True
    if "const" in node:
        values.add(json.dumps(node["const"], sort_keys=True))
        seen = True
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []):
            sub = _enum_values(option)
            if sub is not None:
                values.update(sub)
                seen = True
    return values if seen else None


def _object_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "properties" in node:
        return [node]
    return [o for key in ("anyOf", "oneOf") for o in node.get(key, []) if isinstance(o, dict) and "properties" in o]


def _compare(old: Any, new: Any, path: str, problems: list[str]) -> None:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and old_types != new_types:
        problems.append(f"{path or '<root>'}: type changed from {sorted(old_types)} to {sorted(new_types)}")
        return
    old_enum, new_enum = _enum_values(old), _enum_values(new)
    if old_enum is not None and new_enum is not None and not old_enum <= new_enum:
        problems.append(f"{path or '<root>'}: enum values removed: {sorted(old_enum - new_enum)}")
    old_objs, new_objs = _object_nodes(old), _object_nodes(new)
    if len(old_objs) == 1 and len(new_objs) == 1:
        o, n = old_objs[0], new_objs[0]
        for name, sub in o.get("properties", {}).items():
            where = f"{path}.{name}" if path else name
            if name not in n.get("properties", {}):
                problems.append(f"{where}: field removed")
                continue
            _compare(sub, n["properties"][name], where, problems)
        added_required = set(n.get("required", [])) - set(o.get("required", []))
        for name in sorted(added_required):
            problems.append(f"{path + '.' if path else ''}{name}: new required field")
    if "items" in old and "items" in new:
        _compare(old["items"], new["items"], f"{path}[]", problems)
    if "prefixItems" in old and "prefixItems" in new:
        for i, (a, b) in enumerate(zip(old["prefixItems"], new["prefixItems"], strict=False)):
            _compare(a, b, f"{path}[{i}]", problems)
    if isinstance(old.get("additionalProperties"), dict) and isinstance(new.get("additionalProperties"), dict):
        _compare(old["additionalProperties"], new["additionalProperties"], f"{path}{{}}", problems)


def compatibility_problems(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """Why a reader of ``old_schema`` could not read data written with ``new_schema`` (empty: compatible).

    Compatible (minor bump) changes: new optional fields and added enum values. Removed fields, new
    required fields, changed types and removed enum values are breaking.
    """
    old = _deref(old_schema, old_schema.get("$defs", {}))
    new = _deref(new_schema, new_schema.get("$defs", {}))
    problems: list[str] = []
    _compare(old, new, "", problems)
    return problems
