"""What users of the installed package rely on: the version and build record, the import-time check
that the running torch is the one the library was built against, and the benchmark command."""

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest
import torch

import torchauc
from torchauc import _loader, _version
from torchauc.bench import harness, plot
from torchauc.bench import run as bench_run


def test_version_names_the_torch_it_is_bound_to():
    minor = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    kind = f"cu{torch.version.cuda.replace('.', '')}" if torch.version.cuda else "cpu"
    assert torchauc.__version__ == f"{_version.BASE}+torch{minor}.{kind}"
    assert importlib.metadata.version("torchauc") == torchauc.__version__
    requires = importlib.metadata.requires("torchauc")
    assert f"torch=={minor}.*" in [r.replace(" ", "") for r in requires]


def test_build_info():
    info = torchauc.build_info()
    assert info["version"] == torchauc.__version__
    assert info["torch"] == torch.__version__
    assert info["cuda"] == (torch.version.cuda if info["cuda_kernels"] else None)
    assert info["cuda_kernels"] == torchauc.cuda_available()
    assert info["compiler"].strip() and info["openmp"]
    if info["cuda"]:
        assert info["cuda_architectures"] and info["cuda_compiler"]
    else:
        assert info["cuda_architectures"] == [] and info["cuda_compiler"] is None


@pytest.mark.parametrize(
    "built,version,cuda,ok",
    [
        ({"torch": "2.13.0+cpu", "cuda": None}, "2.13.1+cpu", None, True),
        ({"torch": "2.13.0+cpu", "cuda": None}, "2.13.0+cu130", "13.0", True),  # CPU ops under a CUDA torch
        ({"torch": "2.13.0+cpu", "cuda": None}, "2.12.0+cpu", None, False),
        ({"torch": "2.13.0+cpu", "cuda": None}, "2.14.0", None, False),
        ({"torch": "2.13.0+cu130", "cuda": "13.0"}, "2.13.0+cpu", None, False),  # CUDA kernels, CPU torch
        ({}, "2.0.0", None, True),  # no record (a source tree): nothing to check
    ],
)
def test_torch_mismatch_is_a_clear_import_error(built, version, cuda, ok):
    if ok:
        _loader.check_torch(built, version, cuda)
        return
    with pytest.raises(ImportError, match=r"built against torch .* is installed.*torch==2\.13\.\*"):
        _loader.check_torch(built, version, cuda)


def test_import_under_another_torch_fails_before_loading(tmp_path):
    # a fresh interpreter whose torch reports another minor: import torchauc must raise the message,
    # not die on undefined symbols
    code = "import torch; torch.__version__ = '2.1.0'; import torchauc"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert res.returncode != 0
    assert "ImportError: torchauc was built against torch" in res.stderr


# ------------------------------------------------------------------------------------ benchmarks
def test_bench_lists_every_family(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "torchauc.bench", "--list"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert {"pairwise", "partial_auc", "multiclass", "auroc", "memory_bank"} <= set(res.stdout.split())


def test_bench_runs_a_family_from_a_folder(tmp_path):
    # a bench_<family>.py written for the old benchmarks/ folder (top-level `harness` import) still runs
    (tmp_path / "bench_toy.py").write_text(
        textwrap.dedent(
            """
            import torch
            from harness import Case

            def cases(device, quick):
                x = torch.arange(1000.0 if quick else 10.0)
                out = [
                    Case("toy", "sum", f"n={n}", lambda n=n: x[:n].sum(), {"loop": lambda n=n: sum(x[:n].tolist())})
                    for n in (10, 100)
                ]
                base = {"a": lambda: x[:10].max(), "b": lambda: max(x[:10].tolist())}
                return out + [Case("toy", "max", "n=10", lambda: x[:10].max(), base, repeats=2)]
            """
        )
    )
    out = tmp_path / "out"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "torchauc.bench",
            "--path",
            str(tmp_path),
            "--only",
            "toy",
            "--out-dir",
            str(out),
            "--threads",
            "1",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    (table,) = out.glob("*-cpu-toy-quick.md")
    text = table.read_text()
    assert f"torch {torch.__version__}" in text and "torchauc" in text and "quick suite" in text
    assert text.count("| toy | sum |") == 2 and text.count("| toy | max |") == 2
    assert table.with_suffix(".png").stat().st_size > 0
    assert table.with_name(table.stem + "-summary.png").stat().st_size > 0


def _row(family, op, size, ours, **base):
    case = harness.Case(family, op, size, lambda: 0, {k: (lambda: 0) for k in base})
    return dict(case=case, ours=(ours, 0), base={k: (v, 0) if v is not None else None for k, v in base.items()})


def test_summary_is_speedup_over_the_best_baseline_at_the_largest_size():
    rows = [
        _row("f", "a", "n=10", 1.0, slow=5.0, fast=2.0),
        _row("f", "a", "n=100", 2.0, slow=40.0, fast=8.0),
        _row("f", "b", "n=10", 1.0, skipped=None),
        _row("g", "c", "4x4", 0.5, only=0.25),
    ]
    assert plot.summary(rows) == [("f: a (n=100)", 4.0, "fast"), ("g: c (4x4)", 0.5, "only")]


def test_unknown_family_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="unknown family"):
        bench_run.main(["--only", "nope", "--out-dir", str(tmp_path)])
