"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched, and the
CSP allows them (colours come from classes in static/dashboard.css, never style attributes).
Every chart carries a <title>/<desc> for screen readers; the pages put the same figures in a
table beside it."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def _nice_max(v: int) -> int:
    """A round axis top at or above v (1, 2, 5 x 10^n)."""
    if v <= 5:
        return 5
    m = 1
    while True:
        for step in (1, 2, 5):
            if step * m >= v:
                return step * m
        m *= 10


def stacked_bars(hours: Sequence[tuple[int, int]], title: str, desc: str,
                 labels: tuple[str, str]) -> Markup:
    """24 bars (allows below, denies stacked on top), one per hour; ``labels`` names the two
    series for the legend and the per-bar tooltips."""
    w, h, left, bottom, top = 720, 260, 44, 28, 16
    plot_w, plot_h = w - left - 8, h - bottom - top
    top_v = _nice_max(max((a + d for a, d in hours), default=0))
    bw = plot_w / len(hours)
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" '
             f'aria-labelledby="chart-t chart-d" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="chart-t">{escape(title)}</title><desc id="chart-d">{escape(desc)}</desc>']
    for i in range(6):  # grid and y axis labels: 5 equal steps of a 1-2-5 top
        v = top_v * i // 5
        y = top + plot_h - plot_h * i / 5
        parts.append(f'<line class="grid" x1="{left}" x2="{w - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v}'
                     '</text>')
    for i, (allow, deny) in enumerate(hours):
        x = left + i * bw + 2
        ha = plot_h * allow / top_v
        hd = plot_h * deny / top_v
        y_allow = top + plot_h - ha
        tip = f"{i:02d}:00 — {labels[0]} {allow}, {labels[1]} {deny}"
        parts.append(f'<g class="bar" data-hour="{i}" data-allow="{allow}" data-deny="{deny}">'
                     f'<title>{escape(tip)}</title>'
                     f'<rect class="allow" x="{x:.1f}" y="{y_allow:.1f}" width="{bw - 4:.1f}" '
                     f'height="{ha:.1f}"/>'
                     f'<rect class="deny" x="{x:.1f}" y="{y_allow - hd:.1f}" '
                     f'width="{bw - 4:.1f}" height="{hd:.1f}"/></g>')
        if i % 3 == 0:
            parts.append(f'<text class="axis" x="{x + (bw - 4) / 2:.1f}" y="{h - 10}" '
                         f'text-anchor="middle">{i:02d}</text>')
    parts.append(f'<rect class="allow" x="{w - 200}" y="2" width="10" height="10"/>'
                 f'<text class="axis" x="{w - 186}" y="11">{escape(labels[0])}</text>'
                 f'<rect class="deny" x="{w - 110}" y="2" width="10" height="10"/>'
                 f'<text class="axis" x="{w - 96}" y="11">{escape(labels[1])}</text></svg>')
    return Markup("".join(parts))


def timeline(rows: Sequence[tuple[str, int, int | None, str]], start: int, end: int,
             title: str, now: int) -> Markup:
    """Horizontal bars (label, from, until or None = open, state class) between start and end,
    with a line at ``now``."""
    w, row_h, left = 720, 22, 120
    h = row_h * len(rows) + 24
    span = max(end - start, 1)

    def x(t: int) -> float:
        return left + (w - left - 8) * (min(max(t, start), end) - start) / span

    parts = [f'<svg class="timeline" viewBox="0 0 {w} {h}" role="img" aria-label="'
             f'{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, a, b, state) in enumerate(rows):
        y = 4 + i * row_h
        x1, x2 = x(a), x(end if b is None else b)
        parts.append(f'<text class="axis" x="{left - 6}" y="{y + 14}" text-anchor="end">'
                     f'{escape(label)}</text><rect class="key-{escape(state)}" x="{x1:.1f}" '
                     f'y="{y + 3}" width="{max(x2 - x1, 2):.1f}" height="{row_h - 8}"/>')
    xn = x(now)
    parts.append(f'<line class="now" x1="{xn:.1f}" x2="{xn:.1f}" y1="0" y2="{h - 18}"/>'
                 f'<text class="axis" x="{xn:.1f}" y="{h - 4}" text-anchor="middle">●</text>'
                 '</svg>')
    return Markup("".join(parts))


def sparkline(values: Sequence[int | None], title: str) -> Markup:
    """A small line of a health value over syncs (oldest left); gaps where unknown."""
    pts = [v for v in values if v is not None]
    if len(pts) < 2:
        return Markup("")
    w, h = 320, 60
    lo, hi = min(pts), max(pts)
    rng = max(hi - lo, 1)
    step = w / max(len(values) - 1, 1)
    coords = " ".join(f"{i * step:.1f},{h - 4 - (h - 8) * (v - lo) / rng:.1f}"
                      for i, v in enumerate(values) if v is not None)
    return Markup(f'<svg class="spark" viewBox="0 0 {w} {h}" role="img" aria-label="'
                  f'{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}'
                  f'</title><polyline points="{coords}"/></svg>')
