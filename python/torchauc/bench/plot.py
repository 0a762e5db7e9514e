"""Figures of a benchmark run: one panel per op (time against size where an op has several sizes,
speed-up bars on a log scale where it has one) and a summary of the speed-up over the best baseline
per op, one bar each."""

from __future__ import annotations

import pathlib
from collections import defaultdict
from typing import Any


def _ops(rows):
    """{(family, op): [row, ...]} in the order of the run."""
    ops = defaultdict(list)
    for row in rows:
        ops[(row["case"].family, row["case"].op)].append(row)
    return ops


def _timed(row):
    """{baseline: seconds} of the baselines that ran."""
    return {b: r[0] for b, r in row["base"].items() if r is not None}


def summary(rows: Any) -> list[tuple[str, float, str]]:
    """[(label, speed-up over the fastest baseline, baseline name)] per op, at its largest size (the
    last case of the op that has a baseline)."""
    out = []
    for (fam, op), op_rows in _ops(rows).items():
        with_base = [r for r in op_rows if _timed(r)]
        if not with_base:
            continue
        row = with_base[-1]
        name, t = min(_timed(row).items(), key=lambda kv: kv[1])
        out.append((f"{fam}: {op} ({row['case'].size})", t / row["ours"][0], name))
    return out


def _panel(ax, fam, op, op_rows):
    sizes = [r["case"].size for r in op_rows]
    if len(set(sizes)) > 1:  # time against size: ours solid, baselines dashed
        x = range(len(sizes))
        ax.plot(x, [r["ours"][0] for r in op_rows], "-o", label="torchauc", markersize=3)
        for b in dict.fromkeys(b for r in op_rows for b in _timed(r)):
            pts = [(i, _timed(r)[b]) for i, r in enumerate(op_rows) if b in _timed(r)]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "--x", label=b, markersize=3)
        ax.set_xticks(list(x), sizes, fontsize=7, rotation=20)
        ax.set_yscale("log")
        ax.set_ylabel("seconds")
    else:  # one size: speed-up of ours over each baseline
        ratios = {b: t / op_rows[0]["ours"][0] for b, t in _timed(op_rows[0]).items()}
        if not ratios:
            ax.text(0.5, 0.5, "no baseline", ha="center", va="center", transform=ax.transAxes)
        bars = ax.bar(range(len(ratios)), list(ratios.values()), color="tab:blue")
        ax.bar_label(bars, [f"{v:.3g}x" for v in ratios.values()], fontsize=7)
        ax.set_xticks(range(len(ratios)), list(ratios), fontsize=7, rotation=20)
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_ylabel(f"speed-up ({sizes[0]})")
    ax.set_title(f"{fam}: {op}", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def plot(rows: Any, path: str | pathlib.Path, machine: str) -> Any:
    """Writes ``path`` (every op) and ``<path stem>-summary.png``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = pathlib.Path(path)
    ops = _ops(rows)
    if not ops:
        return []
    cols = min(3, len(ops))
    nrows = (len(ops) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 3.8 * nrows), squeeze=False, layout="constrained")
    for ax, ((fam, op), op_rows) in zip(axes.flat, ops.items()):
        _panel(ax, fam, op, op_rows)
    for ax in list(axes.flat)[len(ops) :]:
        ax.axis("off")
    fig.suptitle(f"torchauc vs baselines on {machine}", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written = [path]

    bars = summary(rows)
    if bars:
        fig, ax = plt.subplots(figsize=(11, 0.35 * len(bars) + 1.2), layout="constrained")
        y = range(len(bars))
        h = ax.barh(y, [b[1] for b in bars], color="tab:green")
        ax.bar_label(h, [f"{b[1]:.3g}x vs {b[2]}" for b in bars], fontsize=7, padding=2)
        ax.set_yticks(list(y), [b[0] for b in bars], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        lo, hi = min(b[1] for b in bars), max(b[1] for b in bars)
        ax.set_xlim(min(lo, 1.0) / 1.5, max(hi, 1.0) * 60)  # room for the labels right of the bars
        ax.axvline(1.0, color="grey", lw=0.8)
        ax.set_xlabel("speed-up over the fastest baseline (log scale)")
        ax.set_title(f"torchauc speed-up per op on {machine}", fontsize=10)
        summary_path = path.with_name(path.stem + "-summary.png")
        fig.savefig(summary_path, dpi=110)
        plt.close(fig)
        written.append(summary_path)
    return written
