"""The PNG of a ``make bench`` run: the scale-out table and the AWS calls per message of each style, ours beside the
baseline's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from benchmarks.scaleout import SIZES, Cell


def write_png(path: Path, cells: list[Cell], calls: Mapping[str, Mapping[str, float]]) -> Path:
    """Draw ``cells`` (drain seconds by groups and consumers) and ``calls`` (style -> {"ours", "baseline"}) to
    ``path``."""
    import matplotlib  # noqa: PLC0415 - only make bench draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (scale, per_style) = plt.subplots(1, 2, figsize=(12, 4.5))
    for groups in SIZES:
        row = sorted((c.consumers, c.seconds) for c in cells if c.groups == groups)
        scale.plot([c for c, _ in row], [s for _, s in row], marker="o", label=f"{groups} group(s)")
    scale.set(
        xlabel="concurrent consumers",
        ylabel="seconds to drain the backlog",
        xscale="log",
        xticks=list(SIZES),
        title="FIFO scale-out over message groups",
    )
    scale.set_xticklabels([str(s) for s in SIZES])
    scale.legend()
    styles = list(calls)
    positions = range(len(styles))
    per_style.bar([p - 0.2 for p in positions], [calls[s]["ours"] for s in styles], width=0.4, label="product")
    per_style.bar(
        [p + 0.2 for p in positions],
        [calls[s]["baseline"] for s in styles],
        width=0.4,
        label="Powertools-docs baseline",
    )
    per_style.set_xticks(list(positions), [s.replace("_", "\n") for s in styles], fontsize=8)
    per_style.set(ylabel="AWS calls per message", title="AWS calls per message by style")
    per_style.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
