"""Grouping fingerprints: which occurrences are the same issue.

In order of preference:

1. a client-set fingerprint (Sentry's ``fingerprint``; ``{{ default }}`` stands for Medic's own);
2. for exceptions, the type plus the normalised frames (in-app frames when there are any): file
   without location noise or build hashes, function without anonymous markers, class prefixes or
   addresses; line numbers are left out so an edit above the fault keeps the issue. A frame with
   no function name is located by its line (and, in minified one-line bundles, its column),
   because nothing else identifies it;
3. otherwise the message template (variables masked), with the exception type when there is one;
4. for failed requests without an error, the method, route and status class.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from medic_contracts import StackFrame
from medic_stacktrace import normalize_deployed_path

from .observed import ObservedEvent
from .templates import mask_text

__all__ = ["Fingerprint", "fingerprint_of", "frame_signature", "normalise_function"]

MAX_FRAMES = 12
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_BUILD_HASH = re.compile(r"[.-][0-9a-f]{6,}(?=\.)|[.-][0-9a-f]{8,}$")
_ANONYMOUS = {"", "?", "<anonymous>", "anonymous", "Anonymous function", "<lambda>", "<module>", "{closure}", "None"}
_NATIVE_FILES = {"<anonymous>", "[native code]", "native code", "native", "<unknown>", "eval code"}
_EVAL_FUNCTIONS = {"eval", "eval code"}
_DEFAULT = "{{ default }}"


class Fingerprint(str):
    """A 16-hex-digit grouping key."""

    __slots__ = ()


def _digest(*parts: str) -> Fingerprint:
    return Fingerprint(hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:16])


def normalise_function(name: str | None) -> str:
    """A function name that is the same across browsers, runs and builds."""
    if not name:
        return ""
    name = _ADDRESS.sub("", name).strip()
    if name in _ANONYMOUS or name.endswith(("/<", "<")):
        return ""  # Firefox writes an anonymous function inside ``test`` as ``test/<``
    name = name.replace("Object.", "").replace("Module.", "").replace("async ", "").replace("new ", "")
    name = name.split(" [as ")[0]
    tail = re.split(r"[.#:\\/]", name)[-1].strip()
    return "" if tail in _ANONYMOUS else tail


def _file_key(frame: StackFrame) -> str:
    path = normalize_deployed_path(frame.file)
    base = path.rsplit("/", 1)[-1]
    return _BUILD_HASH.sub("", base)


def frame_signature(frame: StackFrame) -> str | None:
    """The part of a frame that identifies it for grouping, or None for native/runtime frames."""
    if frame.file in _NATIVE_FILES or (frame.function or "").strip() in _EVAL_FUNCTIONS:
        return None  # runtime frames and eval wrappers differ by browser, not by bug
    function = normalise_function(frame.function)
    if function:
        return f"{_file_key(frame)}:{function}"
    if frame.context_line:
        return f"{_file_key(frame)}:{' '.join(frame.context_line.split())[:200]}"
    minified = (frame.column or 0) >= 1000 or frame.file.endswith(".min.js")
    position = f"{frame.line}:{frame.column}" if minified else f"{frame.line}"
    return f"{_file_key(frame)}@{position}"


def _frames_part(frames: Sequence[StackFrame]) -> list[str]:
    chosen = [f for f in frames if f.in_app] or list(frames)
    signatures: list[str] = []
    for frame in chosen:
        signature = frame_signature(frame)
        # Recursion depth varies between occurrences of one bug: repeated frames count once.
        if signature is not None and (not signatures or signatures[-1] != signature):
            signatures.append(signature)
    return signatures[-MAX_FRAMES:]


def _default_fingerprint(event: ObservedEvent) -> Fingerprint:
    exc = event.exception
    if exc is not None:
        frames = _frames_part(event.frames)
        if frames:
            return _digest("exception", exc.type, *frames)
        return _digest("exception-message", exc.type, mask_text(exc.value or event.message))
    if event.health_check_failing:
        return _digest("health", event.tags.get("check", event.message))
    if event.frames:
        frames = _frames_part(event.frames)
        if frames:
            return _digest("frames", *frames)
    req = event.request
    if req is not None and req.status is not None and (req.status >= 500 or req.status == -1) and req.route:
        # A failing route without an error attached: the route is the issue, whatever each line says.
        return _digest("request", req.method or "", req.route, str(req.status // 100 if req.status > 0 else -1))
    return _digest("message", event.logger or "", mask_text(event.message.strip()))


def fingerprint_of(event: ObservedEvent, *, template: str | None = None) -> Fingerprint:
    """The fingerprint of an observed event; ``template`` (a mined log template) overrides message masking."""
    if event.client_fingerprint:
        parts = list(event.client_fingerprint)
        if parts != [_DEFAULT]:
            default = _default_fingerprint(event) if _DEFAULT in parts else ""
            return _digest("client", *(default if p == _DEFAULT else p for p in parts))
    failing_request = event.request is not None and event.request.route and (event.request.status or 0) >= 500
    if (
        template is not None
        and event.exception is None
        and not event.frames
        and not event.health_check_failing
        and not failing_request
    ):
        return _digest("template", event.logger or "", template)
    return _default_fingerprint(event)
