"""Small server-rendered SVG bar charts (no chart library, no script needed to draw them)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "stacked_bar_chart"]

_W, _H, _PAD_L, _PAD_B, _PAD_T = 360, 150, 30, 22, 18


def _frame(title: str, labels: Sequence[str], top: float, body: list[str]) -> str:
    n = max(1, len(labels))
    step = (_W - _PAD_L) / n
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f'<text class="chart-title" x="{_PAD_L}" y="12">{escape(title)}</text>',
        f'<line class="axis" x1="{_PAD_L}" y1="{_H - _PAD_B}" x2="{_W}" y2="{_H - _PAD_B}"/>',
        f'<text class="tick" x="{_PAD_L - 4}" y="{_PAD_T + 4}" text-anchor="end">{top:g}</text>',
        f'<text class="tick" x="{_PAD_L - 4}" y="{_H - _PAD_B}" text-anchor="end">0</text>',
        *body,
    ]
    for i, label in enumerate(labels):
        x = _PAD_L + step * i + step / 2
        parts.append(f'<text class="tick" x="{x:.1f}" y="{_H - 6}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    *, labels: Sequence[str], values: Sequence[float], title: str, css: str = "bar", max_value: float | None = None
) -> str:
    """One bar per label, scaled to the largest value (or ``max_value``)."""
    top = max_value or max([*values, 1])
    n = max(1, len(labels))
    step = (_W - _PAD_L) / n
    height = _H - _PAD_B - _PAD_T
    body = []
    for i, value in enumerate(values):
        h = height * (value / top) if top else 0
        x = _PAD_L + step * i + step * 0.15
        body.append(
            f'<rect class="{css}" x="{x:.1f}" y="{_H - _PAD_B - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(labels[i])}: {value:g}</title></rect>"
        )
    return _frame(title, labels, top, body)


def stacked_bar_chart(*, labels: Sequence[str], series: dict[str, Sequence[int]], title: str) -> str:
    """Bars stacked by series (e.g. severities), scaled to the tallest stack."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max([*totals, 1])
    n = max(1, len(labels))
    step = (_W - _PAD_L) / n
    height = _H - _PAD_B - _PAD_T
    body = []
    for i in range(len(labels)):
        y: float = _H - _PAD_B
        for name, values in series.items():
            h = height * values[i] / top
            if h <= 0:
                continue
            y -= h
            x = _PAD_L + step * i + step * 0.15
            body.append(
                f'<rect class="sev-{escape(name)}" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}">'
                f"<title>{escape(labels[i])} {escape(name)}: {values[i]}</title></rect>"
            )
    legend = "".join(
        f'<rect class="sev-{escape(name)}" x="{_W - 150 + j * 30}" y="4" width="8" height="8"/>'
        f'<text class="tick" x="{_W - 140 + j * 30}" y="12">{escape(name)}</text>'
        for j, name in enumerate(series)
    )
    return _frame(title, labels, top, [*body, legend])
