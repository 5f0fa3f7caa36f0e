"""Is a frame the application's own code? Heuristics for when the SDK did not say (or said wrong).

Library and runtime code (``site-packages``, ``node_modules``, ``node:internal``, ``<frozen ...>``,
webpack's runtime, Next.js internals, the Python standard library) is never in-app, even when an
SDK marked it so (GlitchTip's Django samples mark ``site-packages`` frames in-app). Everything
else is in-app when it lies under one of the target's source roots (``"."`` means anywhere).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from medic_contracts import StackFrame

from .paths import normalize_deployed_path

__all__ = ["DEFAULT_IN_APP_RULES", "InAppRules", "is_library_path"]

_LIBRARY_PATTERNS: tuple[str, ...] = (
    r"(^|/)site-packages/",
    r"(^|/)dist-packages/",
    r"(^|/)node_modules/",
    r"(^|/)\.pnpm/",
    r"(^|/)__pypackages__/",  # PEP 582 installs
    r"(^|/)\.?venv/",  # a virtualenv's own files (its site-packages is matched above)
    r"(^|/)lib/python\d(\.\d+)?/",  # the standard library (virtualenvs hit site-packages first)
    r"(^|/)lib64/python\d(\.\d+)?/",
    r"^node:",
    r"^internal/",  # Node < 16 printed core modules without the node: scheme
    r"^<frozen ",
    r"^/tmp/<frozen ",  # sentry-python prefixes the cwd to frozen module names
    r"<frozen[ >]",
    r"^\[native code\]$",
    r"^native$",
    r"^<anonymous>$",
    r"^\[eval\]",  # node -e / --eval
    r"^<(string|stdin|unknown|console|input)>$",
    r"(^|/)webpack/(runtime|bootstrap)",
    r"^\(webpack\)/",
    r"(^|/)webpack-runtime\.js$",
    r"(^|/)\.next/server/(webpack-runtime|edge-runtime-webpack|webpack-api-runtime)\.js$",
    r"(^|/)next/dist/",
    r"(^|/)___next_launcher\.c?js$",  # Vercel's Next.js launcher
    r"(^|/)___vc/",  # Vercel's function wrappers
    r"(^|/)vendor/(bundle|laravel|symfony|composer)/",
    r"^\S+ \([\d.]+\) ",  # Ruby gem frames: "actionpack (6.1.7.7) lib/..."
)
_LIBRARY = re.compile("|".join(f"(?:{p})" for p in _LIBRARY_PATTERNS))


@lru_cache(maxsize=8192)
def is_library_path(path: str) -> bool:
    """True when ``path`` is library, runtime or bundler code (never the application's own)."""
    text = path.strip().replace("\\", "/")
    if _LIBRARY.search(text) is not None:
        return True
    stripped = normalize_deployed_path(text)
    return stripped != text and _LIBRARY.search(stripped) is not None


@dataclass(frozen=True)
class InAppRules:
    """How to decide in-app for frames whose SDK did not (``source_roots`` from ``[target]``)."""

    source_roots: tuple[str, ...] = ("src", "app", "lib", ".")
    prefixes: Mapping[str, str] | None = None
    extra_library_patterns: tuple[str, ...] = ()
    # decisions per path: traces repeat the same files over and over
    _cache: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def is_library(self, path: str) -> bool:
        """Library/runtime code by the built-in patterns or this target's extra ones."""
        if is_library_path(path):
            return True
        return any(re.search(p, path) for p in self.extra_library_patterns)

    def is_in_app(self, path: str) -> bool:
        """The application's own code: not a library and under a source root."""
        known = self._cache.get(path)
        if known is None:
            known = self._decide(path)
            if len(self._cache) < 16384:
                self._cache[path] = known
        return known

    def _decide(self, path: str) -> bool:
        if not path or self.is_library(path):
            return False
        roots = [r.strip("/") for r in self.source_roots]
        if any(r in ("", ".") for r in roots):
            return True
        relative = normalize_deployed_path(path, self.prefixes)
        return any(relative == r or relative.startswith(r + "/") for r in roots)

    def classify(self, frame: StackFrame, sdk_in_app: bool | None) -> StackFrame:
        """``frame`` with ``in_app`` decided: the SDK's word, overruled only for library code."""
        in_app = self.is_in_app(frame.file) if sdk_in_app is None else sdk_in_app and not self.is_library(frame.file)
        if in_app == frame.in_app:
            return frame
        return frame.model_copy(update={"in_app": in_app})


DEFAULT_IN_APP_RULES = InAppRules()
