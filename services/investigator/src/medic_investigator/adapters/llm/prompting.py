"""The prompts sent to the model: template files filled with redacted, truncated, fenced telemetry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from string import Template

from medic_runtime import Redactor

from ...domain.diagnosis import Investigation
from ...domain.untrusted import fence, truncate

__all__ = ["PromptWriter", "render_prompt"]


def render_prompt(name: str, **values: object) -> str:
    """Render a prompt template file (``prompts/<name>.md``) with ``$placeholders``."""
    text = resources.files(__package__ or __name__).joinpath("prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()})


@dataclass(frozen=True, slots=True)
class PromptWriter:
    """Writes the triage and investigation prompts of an investigation; untrusted text is fenced."""

    redactor: Redactor
    telemetry_chars: int

    def untrusted(self, label: str, text: str) -> str:
        """``text`` redacted, truncated and fenced as untrusted data."""
        return fence(label, self.redactor.text(text, max_length=self.telemetry_chars * 2), limit=self.telemetry_chars)

    def frames(self, inv: Investigation) -> str:
        """The innermost frames (repository ones marked), with the innermost frame's locals."""
        repo_files = {inv.context.file} | {c.file for c in inv.other_frames} if inv.context else set()
        lines = []
        for frame in inv.frames[-25:]:
            mark = "*" if any(frame.file.endswith(f) for f in repo_files) else " "
            lines.append(f"{mark} {frame.file}:{frame.line} in {frame.function or '?'}")
        culprit_vars = inv.frames[-1].vars if inv.frames else {}
        text = "\n".join(lines)
        if culprit_vars:
            redacted = self.redactor.mapping(culprit_vars)
            text += "\nlocals of the innermost frame: " + truncate(json.dumps(redacted, ensure_ascii=False), 1500)
        return self.untrusted("frames", text)

    def facts(self, inv: Investigation) -> str:
        """What the investigation found in the code around the culprit statement."""
        ctx = inv.context
        if ctx is None:
            return "no frame maps to a repository file"
        facts = [
            f"statement lines {ctx.statement_first}-{ctx.statement_last} in "
            f"{ctx.function.name if ctx.function else 'module code'}"
        ]
        for op in ctx.operations[:8]:
            facts.append(f"- {op.kind}: `{truncate(op.text, 120)}` on `{truncate(op.base, 80)}` (line {op.line})")
        for b in ctx.bindings[:8]:
            extra = " (lookup may return nothing)" if b.may_be_missing else ""
            facts.append(f"- `{b.name}` bound at line {b.line} ({b.kind}): {truncate(b.source, 160)}{extra}")
        for name, why in list(inv.callee_may_return_none.items())[:5]:
            facts.append(f"- `{name}` can return nothing: {truncate(why, 160)}")
        for hit in inv.related[:5]:
            facts.append(f"- related: {truncate(hit, 200)}")
        for caller in inv.other_frames[:2]:
            facts.append(f"- caller {caller.file}:{caller.line}: {truncate(caller.statement.strip(), 160)}")
        # The facts quote repository code, which is a file body like any other: redacted before it is sent.
        return self.redactor.text("\n".join(facts), max_length=8000)

    @staticmethod
    def history(inv: Investigation) -> str:
        """The suspect commit and its diff, or that none was found."""
        s = inv.suspect
        if s is None:
            return "no history found"
        recent = "landed shortly before the issue was first seen" if s.landed_before_first_seen else "not recent"
        diff = truncate(s.diff, 2500)
        return f"suspect commit {s.sha[:12]} by {s.author} on {s.date.isoformat()} ({recent}): {truncate(s.subject, 200)}\n{diff}"

    def triage_user(self, inv: Investigation) -> str:
        """The triage model's user prompt."""
        message = f"{inv.exception.type}: {inv.exception.value}" if inv.exception else inv.message
        return render_prompt(
            "triage_user",
            title=self.untrusted("title", inv.title),
            language=inv.language,
            message=self.untrusted("message", message),
            frames=self.frames(inv),
            excerpt=self.untrusted("code", inv.context.excerpt) if inv.context else "no repository frame",
        )

    def investigate_user(self, inv: Investigation, *, severity: str, count: int, window: int, commit: str | None) -> str:
        """The investigation model's first user turn."""
        message = f"{inv.exception.type}: {inv.exception.value}" if inv.exception else inv.message
        ctx = inv.context
        return render_prompt(
            "investigate_user",
            title=self.untrusted("title", inv.title),
            severity=severity,
            first_seen=inv.first_seen.isoformat(),
            count=count,
            window=window,
            language=inv.language,
            commit=commit or "unknown",
            message=self.untrusted("message", message),
            frames=self.frames(inv),
            request=self.untrusted("request", inv.route or "none"),
            culprit=f"{ctx.file}:{ctx.line}" if ctx else "none",
            excerpt=self.untrusted("code", ctx.excerpt) if ctx else "none",
            facts=self.facts(inv),
            history=self.untrusted("history", self.history(inv)),
        )
