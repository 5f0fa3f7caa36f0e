"""The Claude fixer: edits as search/replace blocks through an allow-listed tool set.

The model gets four tools — ``read_file``, ``edit_file`` (an exact, unique search/replace inside
the worktree), ``run_tests`` and ``finish`` — and no shell. Every path goes through the
:class:`~medic_implementer.domain.guard.PathGuard`; a refused write is returned to the model as a
structured error and audited. What the model may read is the investigator's readable set
(:func:`medic_runtime.redaction.path_unreadable`: secrets files and git internals never), and every
file body it is shown is redacted whole first. Test failures are fed back; the loop stops after ``max_attempts``
test runs, ``max_steps`` model calls (the last one without tools), or when the per-issue budget is
spent. Identical repeated tool calls are refused. Diagnosis text is fenced as untrusted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from medic_contracts import ActionStatus, DiagnosisReady, FixStrategy, TokenUsage
from medic_runtime import Redactor
from medic_runtime.redaction import path_unreadable

from ..domain.guard import PathGuard
from .testrun import TestRun

__all__ = ["TOOLS", "ClaudeFixer"]

log = logging.getLogger("medic.implementer.claude")

Audit = Callable[[str, ActionStatus, str, dict[str, Any]], None]


TOOLS: list[dict[str, Any]] = [
    {
        "name": "read_file",
        "description": "Read a text file of the repository (repository-relative path). Returns numbered lines.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
    {
        "name": "edit_file",
        "description": (
            "Replace the exact text `search` (must occur exactly once) with `replace` in one repository file. "
            "An empty `search` creates a new file with `replace` as its content."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "search": {"type": "string"}, "replace": {"type": "string"}},
            "required": ["path", "search", "replace"],
        },
    },
    {
        "name": "run_tests",
        "description": "Run the repository's test command on the current edits. Returns pass/fail and a summary.",
        "input_schema": {"type": "object", "properties": {}},
    },
    {
        "name": "finish",
        "description": "Declare the fix complete, with a one-line summary of the change.",
        "input_schema": {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]},
    },
]

# USD per million tokens (input, output); cache reads bill at a tenth of input.
_PRICES = {"opus": (15.0, 75.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}


def _price(model: str) -> tuple[float, float]:
    return next((p for name, p in _PRICES.items() if name in model), _PRICES["sonnet"])


def _fence(text: str | None, limit: int = 4000) -> str:
    body = (text or "").replace("</untrusted>", "</ untrusted>")[:limit]
    return f"<untrusted>{body}</untrusted>"


@dataclass
class _Session:
    edited: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    attempts: int = 0
    passed: bool = False
    summary: str = ""
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0


class ClaudeFixer:
    """Proposes a fix by letting Claude edit the worktree through guarded tools."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_key_file: Path | None = None,
        model: str = "claude-sonnet-5",
        base_url: str | None = None,
        max_attempts: int = 3,
        max_steps: int = 12,
        max_tokens: int = 4096,
        budget_usd: float = 2.0,
        timeout_s: float = 120.0,
        redactor: Redactor | None = None,
    ) -> None:
        if api_key is None and api_key_file is None:
            raise ValueError("the Claude fixer needs api_key or api_key_file")
        self.api_key = api_key
        self.redactor = redactor or Redactor()
        self.api_key_file = api_key_file
        self.model = model
        self.base_url = base_url
        self.max_attempts = max_attempts
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.budget_usd = budget_usd
        self.timeout_s = timeout_s
        self.last_usage = TokenUsage()
        self.last_cost_usd = 0.0

    def key(self) -> str:
        """The API key: read from ``api_key_file`` now (so a rotated key is picked up), else the value given."""
        if self.api_key_file is not None:
            return self.api_key_file.read_text(encoding="utf-8").strip()
        assert self.api_key is not None  # checked in __init__
        return self.api_key

    def _client(self) -> Any:
        import anthropic  # slow import (~4 s): only when a Claude fix actually runs

        return anthropic.AsyncAnthropic(api_key=self.key(), base_url=self.base_url, max_retries=2, timeout=self.timeout_s)

    async def propose(
        self,
        *,
        diagnosis: DiagnosisReady,
        workspace: Path,
        guard: PathGuard,
        run_tests: Callable[[], Awaitable[TestRun]],
        audit: Audit,
    ) -> tuple[tuple[str, ...], str, FixStrategy] | None:
        """Run the tool loop; the files Claude changed and its summary, or None when it made no passing fix."""
        client = self._client()
        session = _Session()
        system = resources.files("medic_implementer").joinpath("prompts/fix_system.md").read_text()
        messages: list[dict[str, Any]] = [{"role": "user", "content": self._brief(diagnosis, workspace, guard)}]
        for step in range(self.max_steps):
            last = step == self.max_steps - 1
            kwargs: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens, "system": system, "messages": messages}
            if not last:
                kwargs["tools"] = TOOLS
            response = await client.messages.create(**kwargs)
            self._account(session, response.usage)
            content = [block.model_dump(exclude_none=True) for block in response.content]
            messages.append({"role": "assistant", "content": content})
            uses = [b for b in content if b.get("type") == "tool_use"]
            if not uses:
                break
            results = []
            for use in uses:
                result = await self._call(
                    use["name"],
                    args=use.get("input") or {},
                    session=session,
                    workspace=workspace,
                    guard=guard,
                    run_tests=run_tests,
                    audit=audit,
                )
                results.append({"type": "tool_result", "tool_use_id": use["id"], "content": json.dumps(result)})
            messages.append({"role": "user", "content": results})
            if session.summary or (session.attempts >= self.max_attempts and not session.passed):
                break
            if session.cost_usd >= self.budget_usd:
                audit(
                    "implementer.claude_budget",
                    ActionStatus.REFUSED,
                    f"Claude fix stopped: budget {self.budget_usd} USD spent",
                    {},
                )
                break
        self.last_usage, self.last_cost_usd = session.usage, session.cost_usd
        if not session.edited:
            return None
        return tuple(sorted(session.edited)), session.summary or "Claude edit", FixStrategy.LLM_EDIT

    def _brief(self, diagnosis: DiagnosisReady, workspace: Path, guard: PathGuard) -> str:
        where = diagnosis.affected_file or "unknown"
        if diagnosis.affected_lines:
            where += f" lines {diagnosis.affected_lines.first}-{diagnosis.affected_lines.last}"
        parts = [
            f"Issue: {_fence(diagnosis.issue.title, 500)}",
            f"Severity: {diagnosis.issue.severity.value}",
            f"Root cause (from the investigator): {_fence(diagnosis.root_cause)}",
            f"Fault location: {where}",
            f"Suggested strategy: {diagnosis.fix_strategy.value}",
        ]
        if diagnosis.fix_hint:
            parts.append(f"Hint: {_fence(diagnosis.fix_hint, 2000)}")
        for item in diagnosis.evidence[:8]:
            parts.append(f"Evidence ({item.kind}): {_fence(item.summary + (': ' + item.detail if item.detail else ''), 1500)}")
        if diagnosis.affected_file:
            shown = self._read(diagnosis.affected_file, workspace, guard, self.redactor)
            if "data" in shown:
                parts.append(f"Contents of {diagnosis.affected_file}:\n{shown['data']}")
        return "\n".join(parts)

    def _account(self, session: _Session, usage: Any) -> None:
        inp = int(getattr(usage, "input_tokens", 0) or 0)
        out = int(getattr(usage, "output_tokens", 0) or 0)
        cache_read = int(getattr(usage, "cache_read_input_tokens", 0) or 0)
        cache_write = int(getattr(usage, "cache_creation_input_tokens", 0) or 0)
        u = session.usage
        session.usage = TokenUsage(
            input_tokens=u.input_tokens + inp,
            output_tokens=u.output_tokens + out,
            cache_read_tokens=u.cache_read_tokens + cache_read,
            cache_write_tokens=u.cache_write_tokens + cache_write,
        )
        price_in, price_out = _price(self.model)
        session.cost_usd += (inp * price_in + cache_write * price_in * 1.25 + cache_read * price_in * 0.1 + out * price_out) / 1e6

    @staticmethod
    def _read(path: str, workspace: Path, guard: PathGuard, redactor: Redactor) -> dict[str, Any]:
        if path_unreadable(path):
            return {"status": "error", "error": f"{path}: not readable (secrets or git internals)"}
        verdict = guard.check(path)
        if verdict.refused and not verdict.reason.startswith("protected path"):
            return {"status": "error", "error": f"{path}: {verdict.reason}"}
        file = workspace / path
        if not file.is_file():
            return {"status": "error", "error": f"{path}: no such file"}
        lines = redactor.file_body(file.read_text(errors="replace"), path).splitlines()[:2000]
        return {"status": "ok", "data": "\n".join(f"{i:>5}  {line}" for i, line in enumerate(lines, 1))}

    async def _call(
        self,
        name: str,
        *,
        args: dict[str, Any],
        session: _Session,
        workspace: Path,
        guard: PathGuard,
        run_tests: Callable[[], Awaitable[TestRun]],
        audit: Audit,
    ) -> dict[str, Any]:
        signature = json.dumps([name, args], sort_keys=True)
        if name != "run_tests" and signature in session.calls:
            return {"status": "error", "error": "identical call already made; change something first"}
        session.calls.add(signature)
        if name == "read_file":
            return self._read(str(args.get("path", "")), workspace, guard, self.redactor)
        if name == "edit_file":
            return self._edit(args, session, workspace, guard, audit)
        if name == "run_tests":
            if session.attempts >= self.max_attempts:
                return {"status": "error", "error": f"test-run limit ({self.max_attempts}) reached"}
            session.attempts += 1
            run = await run_tests()
            session.passed = run.passed
            return {
                "status": "ok",
                "data": {
                    "outcome": run.report.outcome.value,
                    "passed": run.report.passed,
                    "failed": run.report.failed,
                    "summary": run.report.summary[-3000:],
                },
            }
        if name == "finish":
            session.summary = str(args.get("summary", ""))[:300] or "Claude edit"
            return {"status": "ok"}
        return {"status": "error", "error": f"unknown tool {name!r}; tools are read_file, edit_file, run_tests, finish"}

    @staticmethod
    def _edit(args: dict[str, Any], session: _Session, workspace: Path, guard: PathGuard, audit: Audit) -> dict[str, Any]:
        path, search, replace = str(args.get("path", "")), str(args.get("search", "")), str(args.get("replace", ""))
        verdict = guard.check(path)
        if verdict.refused:
            audit(
                "implementer.guard",
                ActionStatus.REFUSED,
                f"refused Claude's edit of {path[:200]!r}: {verdict.reason}",
                {"path": path[:500], "reason": verdict.reason, "origin": "claude"},
            )
            return {"status": "error", "error": f"{path}: {verdict.reason}; this path cannot be written"}
        file = workspace / path
        if search == "":
            if file.exists():
                return {"status": "error", "error": f"{path} exists: give a non-empty search text"}
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(replace)
            session.edited.add(path)
            return {"status": "ok", "data": f"created {path}"}
        if not file.is_file():
            return {"status": "error", "error": f"{path}: no such file"}
        text = file.read_text(errors="replace")
        count = text.count(search)
        if count == 0 and "[REDACTED:" in search:
            return {"status": "error", "error": f"{path} was shown redacted: choose a search text without redacted parts"}
        if count != 1:
            return {"status": "error", "error": f"search text found {count} times in {path}; it must match exactly once"}
        file.write_text(text.replace(search, replace, 1))
        session.edited.add(path)
        return {"status": "ok", "data": f"edited {path}"}
