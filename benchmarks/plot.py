"""The PNG of a ``make bench`` run: the scale-out of the product's consumer and the AWS calls per message of each
style, ours beside the two baselines'."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from benchmarks.scaleout import SIZES, Cell


def write_png(path: Path, cells: list[Cell], calls: Mapping[str, Mapping[str, float]]) -> Path:
    """Draw ``cells`` (drain seconds by groups and consumers) and ``calls`` (style -> {"ours", "baseline",
    "tuned"}) to ``path``."""
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
        title="Scale-out of the product's consumer over message groups",
    )
    scale.set_xticklabels([str(s) for s in SIZES])
    scale.legend()
    styles = list(calls)
    positions = range(len(styles))
    bars = (("ours", "product"), ("baseline", "Powertools-docs baseline"), ("tuned", "tuned baseline"))
    for n, (side, label) in enumerate(bars):
        per_style.bar(
            [p + (n - 1) * 0.27 for p in positions], [calls[s].get(side, 0.0) for s in styles], width=0.27, label=label
        )
    per_style.set_xticks(list(positions), [s.replace("_", "\n") for s in styles], fontsize=8)
    per_style.set(ylabel="AWS calls per message", title="AWS calls per message by style")
    per_style.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
