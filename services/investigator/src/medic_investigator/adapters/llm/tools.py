"""Read-only, repository-confined tools the model may call, each returning a structured result.

A tool never raises to the loop: it answers ``{"status": "ok"|"error"|"refused", "error", "data",
"params"}`` so the model can correct itself. The allow-list is this module's :data:`TOOL_SPECS`;
any other name is refused. Paths go through :meth:`Repository.resolve` (canonical, no symlink
escapes, no ``.git``) and secret-bearing files are refused whatever the model is told (the rule is
:func:`medic_runtime.redaction.path_unreadable`, shared with the fixer). Every other file body is
redacted whole (:meth:`~medic_runtime.Redactor.file_body`) before any line of it is shown, through
``read_file``, ``search_code`` or ``git_blame`` alike. The same call twice in one investigation is
refused (it cannot tell the model anything new).

``query_database`` is offered only when the target's medic.toml has a ``[database]`` section: one
read-only, allow-listed, time- and row-limited SELECT against the application's database
(:class:`~medic_investigator.adapters.database.ReadOnlyDatabase`), rows redacted. Every attempt,
refused, failed or answered, is kept in :attr:`ToolBox.queries` for the audit trail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from medic_runtime import Redactor
from medic_runtime.redaction import path_unreadable

from ...domain.errors import PathOutsideRepository, QueryFailed, RepositoryUnavailable
from ...domain.sql_guard import QueryAttempt, QueryRefused
from ...domain.untrusted import truncate
from ..database import ReadOnlyDatabase
from ..repo import Repository

__all__ = ["TOOL_NAMES", "TOOL_SPECS", "ToolBox", "ToolResult", "database_tool_spec"]

TOOL_SPECS: list[dict[str, Any]] = [
    {
        "name": "read_file",
        "description": "Read lines of a file of the repository (path relative to the repository root).",
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Repository-relative path."},
                "start_line": {"type": "integer", "minimum": 1, "description": "First line (1-based)."},
                "end_line": {"type": "integer", "minimum": 1, "description": "Last line (inclusive)."},
            },
            "required": ["path"],
        },
    },
    {
        "name": "search_code",
        "description": "Search the repository's tracked files for a fixed string (git grep). Returns file, line and text.",
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Fixed string to find."},
                "path": {"type": "string", "description": "Optional directory or file to limit the search to."},
            },
            "required": ["query"],
        },
    },
    {
        "name": "list_files",
        "description": "List the entries of a directory of the repository.",
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "Repository-relative directory ('' for the root)."}},
        },
    },
    {
        "name": "git_log",
        "description": "Recent commits touching a file (sha, author, date, subject), newest first.",
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Repository-relative file."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 20},
            },
            "required": ["path"],
        },
    },
    {
        "name": "git_blame",
        "description": "Who last changed each line of a range of a file (sha, line, text).",
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1},
            },
            "required": ["path", "start_line", "end_line"],
        },
    },
]
TOOL_NAMES = frozenset(spec["name"] for spec in TOOL_SPECS)
_REQUIRED: dict[str, tuple[str, ...]] = {spec["name"]: tuple(spec["input_schema"].get("required", ())) for spec in TOOL_SPECS}
_REQUIRED["query_database"] = ("sql",)


def database_tool_spec(database: ReadOnlyDatabase) -> dict[str, Any]:
    """The ``query_database`` tool as the model sees it (its allow-list and limits in the description)."""
    section = database.section
    return {
        "name": "query_database",
        "description": (
            "Run ONE read-only SELECT against the application's PostgreSQL database to check a fact "
            "(e.g. does this user have a practice row?). Only these tables are readable: "
            f"{database.allow.describe()}. Unqualified names are in schema {section.schema_name!r}. "
            f"At most {section.row_limit} rows come back, the statement is cancelled after "
            f"{section.statement_timeout_ms} ms, personal data is redacted. Writes, locks, several statements, "
            "catalog tables and volatile functions are refused."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"sql": {"type": "string", "description": "A single SELECT (WITH ... SELECT allowed)."}},
            "required": ["sql"],
        },
    }


_MAX_LINES = 200
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool answered."""

    status: str  # ok | error | refused
    data: Any = None
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self, *, limit: int = 12_000) -> str:
        """The result as the tool_result content the model reads (truncated)."""
        body = {"status": self.status, "error": self.error, "data": self.data, "params": self.params}
        return truncate(json.dumps(body, ensure_ascii=False, default=str), limit)


def _line(lines: list[str], number: int) -> str:
    """Line ``number`` (1-based) of ``lines``, cut to 300 characters; '' when out of range."""
    return lines[number - 1][:300] if 0 < number <= len(lines) else ""


def _int(value: Any, default: int) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return default


class ToolBox:
    """The tools of one investigation: confined to ``repo``, with a memory of calls already made."""

    def __init__(
        self,
        repo: Repository,
        *,
        redactor: Redactor | None = None,
        database: ReadOnlyDatabase | None = None,
        queries: list[QueryAttempt] | None = None,
    ) -> None:
        self.repo = repo
        self.redactor = redactor or Redactor()
        self.database = database
        self.calls: list[tuple[str, str]] = []
        self.refusals: list[ToolResult] = []
        self.queries: list[QueryAttempt] = queries if queries is not None else []
        self.specs: list[dict[str, Any]] = (
            [*TOOL_SPECS, database_tool_spec(database)] if database is not None else list(TOOL_SPECS)
        )
        self.names = frozenset(spec["name"] for spec in self.specs)

    def _guard(self, path: str) -> str:
        relative = self.repo.relative(path)
        if path_unreadable(relative):
            raise PathOutsideRepository(path, "secret-bearing files are not readable")
        return relative

    async def call(self, name: str, params: dict[str, Any]) -> ToolResult:
        """Run one tool call; every failure comes back as a result, never as an exception."""
        result = await self._call(name, params)
        if name == "query_database":
            rows = len(result.data.get("rows", ())) if result.status == "ok" and isinstance(result.data, dict) else 0
            self.queries.append(
                QueryAttempt(
                    sql=self.redactor.text(str(params.get("sql", "")), max_length=4000),
                    status="ok" if result.status == "ok" else "refused" if result.status == "refused" else "error",
                    reason=result.error,
                    rows=rows,
                    elapsed_ms=float(result.data.get("elapsed_ms", 0.0)) if isinstance(result.data, dict) else 0.0,
                )
            )
        return result

    async def _call(self, name: str, params: dict[str, Any]) -> ToolResult:
        key = (name, json.dumps(params, sort_keys=True, default=str))
        if name not in self.names:
            result = ToolResult(
                "refused", error=f"unknown tool {name!r}; allowed: {', '.join(sorted(self.names))}", params=params
            )
            self.refusals.append(result)
            return result
        if key in self.calls:
            return ToolResult("refused", error="identical call already made in this investigation; use its result", params=params)
        self.calls.append(key)
        missing = [p for p in _REQUIRED[name] if params.get(p) in (None, "")]
        if missing:
            return ToolResult("error", error=f"bad parameters: missing {', '.join(missing)}", params=params)
        try:
            data = await getattr(self, f"_{name}")(params)
        except QueryRefused as exc:
            result = ToolResult("refused", error=f"query refused: {exc.reason}", params=params)
            self.refusals.append(result)
            return result
        except QueryFailed as exc:
            return ToolResult("error", error=f"query failed ({exc.kind}): {exc.reason}", params=params)
        except PathOutsideRepository as exc:
            result = ToolResult("refused", error=str(exc), params=params)
            self.refusals.append(result)
            return result
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            return ToolResult("error", error=f"not found: {exc}", params=params)
        except RepositoryUnavailable as exc:
            return ToolResult("error", error=str(exc), params=params)
        except (TypeError, ValueError, KeyError) as exc:
            return ToolResult("error", error=f"bad parameters: {exc}", params=params)
        return ToolResult("ok", data=self.redactor.value(data), params=params)

    async def _query_database(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.database is not None  # the tool is only offered with a database
        sql = params["sql"]
        if not isinstance(sql, str):
            raise TypeError("sql must be a string")
        result = await self.database.query(sql)
        return result.as_data()

    def _redacted_lines(self, path: str) -> list[str]:
        """A readable file's lines after whole-file redaction (line numbers stay true)."""
        return self.redactor.file_body(self.repo.read_text(path), path).splitlines()

    async def _read_file(self, params: dict[str, Any]) -> dict[str, Any]:
        path = self._guard(str(params["path"]))
        lines = self._redacted_lines(path)
        start = _int(params.get("start_line"), 1)
        end = min(_int(params.get("end_line"), start + _MAX_LINES - 1), start + _MAX_LINES - 1, len(lines))
        return {
            "path": path,
            "start_line": start,
            "end_line": end,
            "total_lines": len(lines),
            "lines": [f"{n}: {lines[n - 1][:300]}" for n in range(start, end + 1)],
        }

    async def _search_code(self, params: dict[str, Any]) -> dict[str, Any]:
        query = str(params["query"])
        where = params.get("path")
        paths = (self._guard(str(where)),) if where else ()
        hits = await self.repo.grep(query, max_hits=40, paths=paths)
        visible = [h for h in hits if not path_unreadable(h.file)]
        files: dict[str, list[str]] = {}
        for hit in visible:
            if hit.file not in files:
                try:
                    files[hit.file] = self._redacted_lines(hit.file)
                except (OSError, ValueError, PathOutsideRepository):
                    files[hit.file] = []
        # A hit shows its line as the redacted file has it: a line alone may not show it is part of a secret.
        return {"query": query, "hits": [{"file": h.file, "line": h.line, "text": _line(files[h.file], h.line)} for h in visible]}

    async def _list_files(self, params: dict[str, Any]) -> dict[str, Any]:
        path = str(params.get("path") or "")
        relative = self._guard(path) if path else ""
        return {"path": relative, "entries": self.repo.list_dir(relative)[:300]}

    async def _git_log(self, params: dict[str, Any]) -> dict[str, Any]:
        path = self._guard(str(params["path"]))
        limit = min(_int(params.get("limit"), 5), 20)
        result = await self.repo.git(
            "log", "-n", str(limit), "--format=%H%x1f%an%x1f%cI%x1f%s", self.repo.commit or "HEAD", "--", path, check=False
        )
        commits = []
        for raw in result.stdout.splitlines():
            sha, author, date, subject = (raw.split("\x1f") + [""] * 4)[:4]
            if _SHA.match(sha):
                commits.append({"sha": sha, "author": author, "date": date, "subject": subject})
        return {"path": path, "commits": commits}

    async def _git_blame(self, params: dict[str, Any]) -> dict[str, Any]:
        path = self._guard(str(params["path"]))
        start = _int(params.get("start_line"), 1)
        end = min(_int(params.get("end_line"), start), start + 60)
        result = await self.repo.git(
            "blame", "--line-porcelain", "-L", f"{start},{end}", self.repo.commit or "HEAD", "--", path, check=False
        )
        if result.returncode != 0:
            return {"path": path, "lines": [], "note": result.stderr.strip()[:200]}
        lines = []
        sha, line_no = "", 0
        # The text of a blamed line is taken from the redacted file body at the investigated commit.
        show = await self.repo.git("show", f"{self.repo.commit or 'HEAD'}:{path}", check=False)
        body = self.redactor.file_body(show.stdout, path).splitlines() if show.returncode == 0 else []
        for raw in result.stdout.splitlines():
            if raw.startswith("\t"):
                lines.append({"line": line_no, "sha": sha, "text": _line(body, line_no)})
            else:
                parts = raw.split()
                if len(parts) >= 3 and _SHA.match(parts[0]):
                    sha, line_no = parts[0], int(parts[2])
        return {"path": path, "lines": lines}
