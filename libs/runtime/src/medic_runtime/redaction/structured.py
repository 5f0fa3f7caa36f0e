"""Secrets in structured config files that only their nesting gives away.

``{"env": {"SESSION_SECRET": {"value": "..."}}}`` (Heroku's ``app.json``) or YAML's
``secrets:\\n  stripe: ...`` hold a secret under a key (``value``, ``stripe``) that names nothing:
its *ancestor* is the sensitive name. For JSON and YAML files the body is parsed, every string leaf
below a sensitive key is collected, and those literals are replaced where they stand in the text,
so the layout and the line numbers of the file stay as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .fields import is_sensitive_key

__all__ = ["sensitive_leaves"]

_MAX_BODY = 2_000_000


def _leaves(value: Any, *, under_secret: bool, depth: int = 0) -> Iterator[str]:
    if depth > 40:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, under_secret=under_secret or is_sensitive_key(str(key)), depth=depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _leaves(child, under_secret=under_secret, depth=depth + 1)
    elif under_secret and isinstance(value, str) and value.strip():
        yield value


def _parse(body: str, path: str) -> Any:
    lowered = path.lower()
    try:
        if lowered.endswith((".json", ".json5", ".jsonc")):
            return json.loads(body)
        if lowered.endswith((".yaml", ".yml")):
            import yaml  # a dependency of detect-secrets; only needed for YAML bodies

            return list(yaml.safe_load_all(body))
    except (ValueError, ImportError):
        return None
    except Exception as exc:  # yaml.YAMLError and its parser errors have no common base outside yaml
        if type(exc).__module__.startswith("yaml"):
            return None
        raise
    return None


def sensitive_leaves(body: str, path: str) -> list[re.Pattern[str]]:
    """Patterns for the string values below a sensitive key in a JSON or YAML ``body`` (else none)."""
    if len(body) > _MAX_BODY:
        return []
    data = _parse(body, path)
    if data is None:
        return []
    patterns = []
    for leaf in sorted(set(_leaves(data, under_secret=False)), key=len, reverse=True):
        escaped = json.dumps(leaf)[1:-1]
        forms = {re.escape(leaf), re.escape(escaped)}
        patterns.append(re.compile(rf"(?<![\w-])(?:{'|'.join(sorted(forms))})(?![\w-])"))
    return patterns
