"""`make bench`: runs every benchmarks/bench_*.py, prints a table, writes
benchmarks/results/<machine>.md and a PNG plot. Usage: run.py [--device cpu|cuda] [--quick] [--only NAME]."""

import argparse
import importlib
import os
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    ap.add_argument("--only", default=None, help="comma-separated families: run only bench_<NAME>.py")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=None, help="results file (default results/<machine>.md)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from tqdm import tqdm

    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{name}" for name in args.only.split(",")}
        modules = [m for m in modules if m in wanted]
    cases = []
    for name in modules:
        cases += list(importlib.import_module(name).cases(args.device, args.quick))

    rows, failures = [], []
    for case in tqdm(cases, desc="benchmarks", unit="case"):
        t_ours, m_ours, v_ours = harness.measure(case.ours, case.repeats, args.device)
        row = dict(case=case, ours=(t_ours, m_ours), base={})
        for bname, fn in case.baselines.items():
            if fn is None:
                row["base"][bname] = None
                continue
            reps = case.baseline_repeats or max(1, min(case.repeats, 3))
            t_b, m_b, v_b = harness.measure(fn, reps, args.device)
            row["base"][bname] = (t_b, m_b)
            if case.rtol is not None:
                a, b = harness.as_float(v_ours), harness.as_float(v_b)
                if abs(a - b) > case.rtol * max(1.0, abs(b)):
                    failures.append(f"{case.op} {case.size}: ours {a} vs {bname} {b}")
        rows.append(row)

    machine = harness.machine_name(args.device)
    lines = [
        f"# torchauc benchmarks on {machine}",
        "",
        f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        "losses: forward+backward, metrics and memory bank: one call; median over repeats (a "
        "baseline with one repeat is one cold call), peak = extra memory during the timed calls "
        "(RSS high-water on CPU, allocator peak on CUDA). ratio = baseline time / ours.",
        "",
        "| family | op | size | ours | ours peak | baseline | baseline time | baseline peak | ratio | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row["case"]
        t, m = row["ours"]
        if not row["base"]:
            lines.append(
                f"| {c.family} | {c.op} | {c.size} | {harness.fmt_time(t)} | {harness.fmt_mem(m)} "
                f"| - | - | - | - | {c.note} |"
            )
        for bname, res in row["base"].items():
            if res is None:
                lines.append(
                    f"| {c.family} | {c.op} | {c.size} | {harness.fmt_time(t)} | {harness.fmt_mem(m)} "
                    f"| {bname} | skipped | - | - | {c.skip_reason} |"
                )
            else:
                tb, mb = res
                lines.append(
                    f"| {c.family} | {c.op} | {c.size} | {harness.fmt_time(t)} | {harness.fmt_mem(m)} "
                    f"| {bname} | {harness.fmt_time(tb)} | {harness.fmt_mem(mb)} | {tb / t:.1f}x | {c.note} |"
                )
    text = "\n".join(lines) + "\n"
    print(text)
    suffix = ("-" + args.only.replace(",", "-") if args.only else "") + ("-quick" if args.quick else "")
    out = pathlib.Path(args.out) if args.out else HERE / "results" / f"{machine}-{args.device}{suffix}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")
    try:
        import plot

        png = plot.plot(rows, out.with_suffix(".png"), machine)
        print(f"wrote {png}")
    except Exception as e:  # the table is the result; a plot failure must not hide it
        print(f"plot skipped: {e}")
    if failures:
        print("VALUE MISMATCHES:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
