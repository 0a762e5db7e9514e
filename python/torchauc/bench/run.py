"""``python -m torchauc.bench`` / ``torchauc-bench``: the benchmark suite installed with the package.

Every ``bench_<family>.py`` module beside this file (and in any ``--path`` folder) exposes
``cases(device, quick)``; the runner times each case against its baselines in this process, prints a
markdown table (machine and versions in the header) and writes it with PNG plots to ``--out-dir``.
The quick suite (every family at reduced sizes, the default) takes a few minutes on 2 cores; ``--full``
runs the sizes of the published tables."""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import pkgutil
import platform
import sys
from collections.abc import Sequence
from typing import Any

import torch

from . import harness

PACKAGE = __name__.rsplit(".", 1)[0]


def families(extra_paths: Sequence[str] = ()) -> dict[str, str]:
    """{family: module name} of every bench_<family>.py in the package and in ``extra_paths``."""
    found = {}
    for path in extra_paths:  # a benchmarks/ folder of a checkout: modules not yet moved in
        if path not in sys.path:
            sys.path.insert(0, path)
        sys.modules.setdefault("harness", harness)  # they import `harness` as a top-level module
        for p in sorted(pathlib.Path(path).glob("bench_*.py")):
            found[p.stem[len("bench_") :]] = p.stem
    pkg = importlib.import_module(PACKAGE)
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name.startswith("bench_"):
            found[m.name[len("bench_") :]] = f"{PACKAGE}.{m.name}"
    return dict(sorted(found.items()))


def versions() -> str:
    out = [f"torch {torch.__version__}"]
    for name in ("torchauc", "torchmetrics", "sklearn", "XCurve", "libauc"):
        try:
            mod = importlib.import_module(name)
        except Exception:  # an absent or broken baseline package is reported, never fatal
            continue
        out.append(f"{name} {getattr(mod, '__version__', '?')}")
    return ", ".join(out)


def run_cases(cases: Any, device: torch.device | str | None, progress: bool = True) -> tuple[Any, Any]:
    """Times every case: rows of {case, ours: (s, bytes), base: {name: (s, bytes) | None}}, mismatches."""
    try:
        from tqdm import tqdm

        cases = tqdm(cases, desc="benchmarks", unit="case", disable=not progress)
    except ImportError:  # the progress bar is optional (pip install torchauc[bench])
        pass

    rows, failures = [], []
    for case in cases:
        t_ours, m_ours, v_ours = harness.measure(case.ours, case.repeats, device)
        row: dict[str, Any] = dict(case=case, ours=(t_ours, m_ours), base={})
        if case.floor is not None:
            row["floor"] = harness.measure(case.floor, case.repeats, device)[0]
        for bname, fn in case.baselines.items():
            if fn is None:
                row["base"][bname] = None
                continue
            reps = case.baseline_repeats or max(1, min(case.repeats, 3))
            t_b, m_b, v_b = harness.measure(fn, reps, device)
            row["base"][bname] = (t_b, m_b)
            if case.rtol is not None:
                a, b = harness.as_float(v_ours), harness.as_float(v_b)
                if abs(a - b) > case.rtol * max(1.0, abs(b)):
                    failures.append(f"{case.op} {case.size}: ours {a} vs {bname} {b}")
        rows.append(row)
    return rows, failures


def table(rows: Sequence[Any], machine: str, device: torch.device | str | None, quick: bool) -> str:
    lines = [
        f"# torchauc benchmarks on {machine}",
        "",
        f"device {device}, {torch.get_num_threads()} threads, {'quick' if quick else 'full'} suite; {versions()}; "
        f"Python {platform.python_version()}. Losses: forward+backward, metrics and memory bank: one call; median "
        "over repeats (a baseline with one repeat is one cold call), peak = extra memory during the timed calls "
        "(RSS high-water on CPU, allocator peak on CUDA). ratio = baseline time / ours. floor = the least work of "
        "the op's kind on the same inputs, timed in the same run (torchauc.bench.floors: one elementwise pass, the "
        "project's radix sort, or one FMA per pair); ours/floor is the number to drive down.",
        "",
        "| family | op | size | ours | ours peak | floor | ours/floor | baseline | baseline time | baseline peak "
        "| ratio | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c, (t, m) = row["case"], row["ours"]
        floor = row.get("floor")
        vs_floor = f"{harness.fmt_time(floor)} | {t / floor:.2f}x" if floor else "- | -"
        head = f"| {c.family} | {c.op} | {c.size} | {harness.fmt_time(t)} | {harness.fmt_mem(m)} | {vs_floor} "
        note = c.note + (f"; {c.pairs / t / 1e9:.2f} G pairs/s" if c.pairs and t > 0 else "")
        if not row["base"]:
            lines.append(head + f"| - | - | - | - | {note} |")
        for bname, res in row["base"].items():
            if res is None:
                lines.append(head + f"| {bname} | skipped | - | - | {c.skip_reason} |")
            else:
                tb, mb = res
                lines.append(
                    head + f"| {bname} | {harness.fmt_time(tb)} | {harness.fmt_mem(mb)} | {tb / t:.1f}x | {note} |"
                )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="torchauc-bench", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--only", nargs="+", default=None, metavar="FAMILY", help="families to run (default: all)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="quick", action="store_true", default=True, help="reduced sizes (default)")
    size.add_argument("--full", dest="quick", action="store_false", help="the sizes of the published tables")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch CPU threads")
    ap.add_argument("--out-dir", default=".", help="folder for the table (.md) and plots (.png)")
    ap.add_argument("--out", default=None, help="table file (overrides --out-dir; plots beside it)")
    ap.add_argument("--path", action="append", default=[], help="also run bench_*.py modules from this folder")
    ap.add_argument("--list", action="store_true", help="list the families and exit")
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    found = families(args.path)
    if args.list:
        print("\n".join(found))
        return 0
    wanted = list(found)
    if args.only:
        wanted = [f for item in args.only for f in item.split(",") if f]
        unknown = [f for f in wanted if f not in found]
        if unknown:
            raise SystemExit(
                f"torchauc-bench: unknown famil{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                f"available: {list(found)}"
            )
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torchauc-bench: --device cuda but torch.cuda.is_available() is False")
    torch.set_num_threads(args.threads)
    cases, skipped = [], []
    for fam in wanted:
        try:
            cases += list(importlib.import_module(found[fam]).cases(args.device, args.quick))
        except ImportError as e:  # a baseline package (XCurve, LibAUC, ...) is not installed
            skipped.append(f"{fam} (needs {e.name or e})")
    rows, failures = run_cases(cases, args.device, progress=not args.no_progress)

    machine = harness.machine_name(args.device)
    text = table(rows, machine, args.device, args.quick)
    if skipped:
        text += "\nSkipped families (a baseline package is missing): " + ", ".join(skipped) + ".\n"
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
    else:
        suffix = ("-" + "-".join(wanted) if args.only else "") + ("-quick" if args.quick else "")
        out = pathlib.Path(args.out_dir) / f"{machine}-{args.device}{suffix}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")
    try:
        from . import plot

        for png in plot.plot(rows, out.with_suffix(".png"), machine):
            print(f"wrote {png}")
    except ImportError as e:  # the table is the result; without matplotlib there is no plot
        print(f"plot skipped: {e}")
    if failures:
        print("VALUE MISMATCHES:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
