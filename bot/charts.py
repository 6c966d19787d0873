"""Bar charts of results as PNG images, for the platforms that show images.

Drawn with matplotlib's Agg backend: no display, no network, no font download (it
ships DejaVu Sans). Pure functions of their data; callers run them in a thread, since
drawing takes a moment of CPU.
"""

from __future__ import annotations

import io
import textwrap

MAX_BARS = 20
LABEL_WIDTH = 28  # characters per line of a bar's label


def bar_chart(title: str, bars: list[tuple[str, int]], *, total: int | None = None) -> bytes:
    """A horizontal bar chart, one bar per (label, count), in the given order (top
    first), each bar marked with its count (and its share of ``total`` when given)."""
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: never a window, never a display server
    from matplotlib.figure import Figure

    bars = bars[:MAX_BARS]
    labels = ["\n".join(textwrap.wrap(label, LABEL_WIDTH)) or " " for label, _ in bars]
    counts = [count for _, count in bars]
    height = 1.2 + 0.55 * max(1, len(bars)) + 0.18 * sum(label.count("\n") for label in labels)
    figure = Figure(figsize=(7.0, height), dpi=110)
    axes = figure.subplots()
    positions = list(range(len(bars)))[::-1]
    axes.barh(positions, counts, color="#c8102e")  # the red of the emblem
    axes.set_yticks(positions, labels=labels, fontsize=9)
    axes.set_title("\n".join(textwrap.wrap(title, 60)), fontsize=11, loc="left")
    top = max(counts, default=0) or 1
    axes.set_xlim(0, top * 1.25)
    for y, count in zip(positions, counts, strict=True):
        mark = f"{count}" if not total else f"{count} · {round(100 * count / total)}%"
        axes.text(count + top * 0.02, y, mark, va="center", fontsize=9)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
