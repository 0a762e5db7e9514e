"""The conventions the README promises: one options table (the README prints it), keyword-only
options, import hygiene (no import cycles, references and numpy not loaded by import torchauc)."""

import inspect
import pathlib
import subprocess
import sys

import pytest

import torchauc
from torchauc._core import options

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_prints_the_options_table():
    text = README.read_text()
    start, end = (
        text.index("<!-- options-table -->\n") + len("<!-- options-table -->\n"),
        text.index("<!-- /options-table -->"),
    )
    assert text[start:end].strip() == options.markdown_table(), "print it with: python -m torchauc._core"


PUBLIC = [
    torchauc.pairwise.pairwise_auc_loss,
    torchauc.partial_auc.partial_auc_select,
    torchauc.partial_auc.partial_auc_loss,
    torchauc.multiclass.multiclass_auc_loss,
    torchauc.multiclass.pixel_auc_loss,
    *(getattr(torchauc.metrics.functional, n) for n in torchauc.metrics.functional.__all__),
]


@pytest.mark.parametrize("fn", PUBLIC, ids=lambda f: f.__name__)
def test_options_are_keyword_only(fn):
    params = list(inspect.signature(fn).parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    data = {"scores", "logits", "labels", "is_base", "correct", "closed_scores", "open_scores", "is_known"}
    assert positional and set(positional) <= data, f"{fn.__name__}: only data may be positional, got {positional}"


@pytest.mark.parametrize(
    "module",
    ["torchauc.partial_auc", "torchauc.multiclass", "torchauc.pairwise", "torchauc.auroc", "torchauc.memory_bank",
     "torchauc.compat.libauc", "torchauc.functional", "torchauc.losses", "torchauc.metrics", "torchauc.cml",
     "torchauc.sod", "torchauc.compat.xcurve", "torchauc.autkc", "torchauc.open_auc", "torchauc.auprc"],
)  # fmt: skip
def test_any_module_imports_first_without_references_or_numpy(module):
    # a fresh interpreter that cannot import numpy: torch copes without it, torchauc must too
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        f"import {module}\n"
        "bad = [m for m in sys.modules if m.startswith('torchauc.reference')]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
