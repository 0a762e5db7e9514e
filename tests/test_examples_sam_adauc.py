"""The long-tail SAM and adversarial AUC examples run end to end in their --quick setting."""

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_long_tail_sam_quick(tmp_path):
    pytest.importorskip("sklearn")
    results = load("long_tail_sam").main(["--quick", "--plot", str(tmp_path / "plot.png")])
    assert set(results) == {"SGD", "SAM", "ImbSAM", "SSE-SAM"}
    assert all(0.0 <= v <= 1.0 for accs in results.values() for v in accs)
    assert (tmp_path / "plot.png").stat().st_size > 0


def test_adversarial_auc_quick():
    pytest.importorskip("sklearn")
    results = load("adversarial_auc").main(["--quick"])
    assert set(results) == {"BCE", "AdAUC"}
    assert all(0.0 <= v <= 1.0 for pair in results.values() for v in pair)
