"""Running the target repository's own formatters and linters on a fix, in the test sandbox.

:mod:`..domain.style` decides which tools a repository declares and what argv to run; this adapter
reads the root configuration files, finds each tool *installed in the checkout* (``node_modules/.bin``
for Node tools; the checkout's ``.venv`` or the sandbox's ``PATH`` for Python tools) and runs it with
:meth:`TestRunner.run_tool` — the same limits, environment and network isolation as the tests, an
argv and never a shell string. A declared tool that is not installed is skipped, not fetched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..domain.style import CONFIG_FILES, StyleStep, StyleTool, declared_tools
from .testrun import TestRunner, ToolRun

__all__ = ["StyleRun", "find_tool", "read_style_config", "repository_tools", "run_step"]

_MAX_CONFIG_BYTES = 500_000
_SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")


@dataclass(frozen=True, slots=True)
class StyleRun:
    """One tool run on a fix (or why it was not run)."""

    tool: StyleTool
    files: tuple[str, ...]
    executable: Path | None
    result: ToolRun | None

    @property
    def ran(self) -> bool:
        """True when the tool was found and started."""
        return self.result is not None


def read_style_config(root: Path) -> dict[str, str]:
    """The root configuration files present in a checkout (regular files only), by name."""
    configs: dict[str, str] = {}
    for name in CONFIG_FILES:
        path = root / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_CONFIG_BYTES:
            configs[name] = path.read_text(errors="replace")
    return configs


def repository_tools(root: Path) -> tuple[StyleTool, ...]:
    """The style tools a checkout declares."""
    return declared_tools(read_style_config(root))


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_tool(tool: StyleTool, root: Path, tool_paths: Sequence[Path]) -> Path | None:
    """Where ``tool`` is installed for this checkout, or None (it is then not run)."""
    name = tool.executable
    if tool.node:
        local = root / "node_modules" / ".bin" / name
        return local if _runnable(local) else None
    for venv in (".venv", "venv"):
        local = root / venv / "bin" / name
        if _runnable(local):
            return local
    found = shutil.which(name, path=os.pathsep.join([*(str(p) for p in tool_paths), *_SYSTEM_PATH]))
    return Path(found) if found else None


async def run_step(
    runner: TestRunner, step: StyleStep, *, root: Path, tool_paths: Sequence[Path], located: Mapping[StyleTool, Path | None]
) -> StyleRun:
    """Run one style step in ``root`` (``located`` caches where tools were found)."""
    executable = located[step.tool] if step.tool in located else find_tool(step.tool, root, tool_paths)
    if executable is None:
        return StyleRun(tool=step.tool, files=step.files, executable=None, result=None)
    result = await runner.run_tool([str(executable), *step.args], cwd=root)
    return StyleRun(tool=step.tool, files=step.files, executable=executable, result=result)
