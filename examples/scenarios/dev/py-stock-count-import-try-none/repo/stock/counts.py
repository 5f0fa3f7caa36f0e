"""Load a stock-count export: one line per counted bin, as the handheld scanners write it."""

import re
from dataclasses import dataclass
from datetime import date

COUNT_LINE = re.compile(r"^(?P<bin>[A-Z]\d{2}-\d{2});(?P<sku>[A-Z0-9-]+);(?P<counted>[^;]+);(?P<quantity>-?\d+)$")


@dataclass(frozen=True)
class Count:
    bin: str
    sku: str
    counted_on: date
    quantity: int


@dataclass
class LoadResult:
    counts: list[Count]
    errors: list[str]


def load_counts(warehouse: str, export: str) -> LoadResult:
    """Parse a scanner export for ``warehouse``; a line that cannot be loaded is reported in ``errors``."""
    result = LoadResult(counts=[], errors=[])
    for number, raw in enumerate(export.splitlines(), start=1):
        line = raw.strip()
        row = COUNT_LINE.match(line)
        try:
            count = Count(
                bin=f"{warehouse}/{row.group('bin')}",
                sku=row.group("sku"),
                counted_on=date.fromisoformat(row.group("counted")),
                quantity=int(row.group("quantity")),
            )
        except ValueError as exc:
            result.errors.append(f"line {number}: {exc}")
            continue
        if count.quantity < 0:
            result.errors.append(f"line {number}: a count cannot be negative")
            continue
        result.counts.append(count)
    return result
