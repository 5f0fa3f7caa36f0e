"""Reading a test run's output: counts of passed and failed tests, and a short redacted summary."""

from __future__ import annotations

import re

__all__ = ["count_tests", "summarise_output"]

_PATTERNS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    # pytest: "3 passed, 1 failed in 0.12s" (the summary line ends with the duration)
    (re.compile(r"(\d+) passed[^\n]* in [\d.]+m?s"), re.compile(r"(\d+) failed[^\n]* in [\d.]+m?s")),
    # node:test / tsx --test: "# pass 3" / "# fail 1"; also "ℹ pass 3"
    (re.compile(r"^(?:#|ℹ)\s*pass\s+(\d+)", re.M), re.compile(r"^(?:#|ℹ)\s*fail\s+(\d+)", re.M)),
    # jest / vitest: "Tests:       1 failed, 3 passed" / "Tests  1 failed | 3 passed"
    (re.compile(r"Tests:?\s+(?:.*?)(\d+) passed"), re.compile(r"Tests:?\s+(?:.*?)(\d+) failed")),
)


def count_tests(output: str) -> tuple[int, int]:
    """(passed, failed) as the runners reported them; (0, 0) when no known summary line is found.

    A test command may run several suites (``tsx --test`` for the web app, then pytest for the
    API): each runner's last summary counts, and the counts add up.
    """
    total_passed = total_failed = 0
    for passed_re, failed_re in _PATTERNS:
        passed = passed_re.findall(output)
        failed = failed_re.findall(output)
        total_passed += int(passed[-1]) if passed else 0
        total_failed += int(failed[-1]) if failed else 0
    return (total_passed, total_failed)


def summarise_output(output: str, *, max_lines: int = 40, max_chars: int = 4000) -> str:
    """The useful tail of a test run: failure lines first, then the last lines, bounded."""
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip()]
    failures = [ln for ln in lines if re.search(r"\b(FAILED|FAIL|Error|assert|not ok)\b", ln)][:10]
    tail = lines[-max_lines:]
    picked = [*failures, *(["…"] if failures else []), *tail] if failures else tail
    text = "\n".join(dict.fromkeys(picked))
    return text[-max_chars:]
