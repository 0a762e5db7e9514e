"""PNG plot of a benchmark run: time vs size per op, ours (solid) vs baselines (dashed), log-log."""

import re
from collections import defaultdict


def _size_value(size):
    m = re.search(r"n=([0-9.e+]+)", size)
    return float(m.group(1)) if m else None


def plot(rows, path, machine):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = defaultdict(list)
    for row in rows:
        c = row["case"]
        x = _size_value(c.size)
        if x is None:
            continue
        series[(c.family, c.op, "torchauc")].append((x, row["ours"][0]))
        for bname, res in row["base"].items():
            if res is not None:
                series[(c.family, c.op, bname)].append((x, res[0]))
    ops = sorted({(f, o) for f, o, _ in series})
    if not ops:
        return None
    cols = min(3, len(ops))
    nrows = (len(ops) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 3.6 * nrows), squeeze=False)
    for ax, (fam, op) in zip(axes.flat, ops):
        for (f, o, impl), pts in sorted(series.items()):
            if (f, o) != (fam, op):
                continue
            pts.sort()
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                "-o" if impl == "torchauc" else "--x",
                label=impl,
                markersize=3,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{fam}: {op}", fontsize=9)
        ax.set_xlabel("n")
        ax.set_ylabel("seconds")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(ops) :]:
        ax.axis("off")
    fig.suptitle(f"torchauc vs baselines on {machine}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
