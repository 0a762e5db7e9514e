"""Hard top-k selection (partial_auc_select): counts, tie rule, NaN, dtypes, against an explicit sort."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from partial_auc_common import batch

from torchauc import functional as F
from torchauc.reference import partial_auc as R


# ------------------------------------------------------------------ selection
@pytest.mark.parametrize("max_fpr,min_tpr", [(0.3, 0.0), (0.3, 0.5), (1.0, 0.0), (0.01, 0.0), (0.0, 0.0), (1.0, 1.0)])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("rounding", ["floor", "ceil", "round"])
def test_select_matches_explicit_sort(device, max_fpr, min_tpr, ties, rounding):
    s, y = batch(101, ties=ties, device=device)
    ours = F.partial_auc_select(s, y, max_fpr=max_fpr, min_tpr=min_tpr, rounding=rounding)
    assert torch.equal(ours.cpu(), R.partial_auc_select(s.cpu(), y.cpu(), max_fpr, min_tpr, rounding))


def test_select_tie_rule_and_counts(device):
    s = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.9, 0.1], device=device)
    y = torch.tensor([0, 0, 0, 0, 1, 1], device=device)
    # 4 negatives, all tied: floor(0.5 * 4) = 2 -> the two smallest indices
    assert F.partial_auc_select(s, y, max_fpr=0.5).cpu().tolist() == [True, True, False, False, True, True]
    # 0.29 * 100 counts as 29 (binary rounding absorbed)
    s2 = torch.arange(100, dtype=torch.float64, device=device)
    assert int(F.partial_auc_select(s2, torch.zeros(100, device=device), max_fpr=0.29).sum()) == 29
    # NaN counts as the hardest negative
    s3 = torch.tensor([0.1, float("nan"), 0.9], device=device)
    assert F.partial_auc_select(s3, torch.zeros(3, device=device), max_fpr=0.34).cpu().tolist() == [False, True, False]


def test_select_errors():
    s, y = batch(10)
    with pytest.raises(ValueError, match="max_fpr"):
        F.partial_auc_select(s, y, max_fpr=1.5)
    with pytest.raises(ValueError, match="min_tpr"):
        F.partial_auc_select(s, y, max_fpr=0.5, min_tpr=-0.1)
    with pytest.raises(ValueError, match="rounding"):
        F.partial_auc_select(s, y, max_fpr=0.5, rounding="up")
    with pytest.raises(ValueError, match="labels"):
        torch.ops.torchauc.partial_auc_select(s, y + 2, 0.5, 0.0, "floor")


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60), beta=st.floats(0, 1), alpha=st.floats(0, 1), seed=st.integers(0, 10**6), ties=st.booleans()
)
def test_select_hypothesis(n, beta, alpha, seed, ties):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64)
    if ties:
        s = torch.round(s * 3) / 3
    y = (torch.rand(n, generator=g) < 0.5).long()
    assert torch.equal(F.partial_auc_select(s, y, max_fpr=beta, min_tpr=alpha), R.partial_auc_select(s, y, beta, alpha))


# ------------------------------------------------------------------ kernel paths (sorted / counted)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_select_signed_zero_ties_and_nan_positives(dtype):
    # -0.0 and +0.0 tie (index order decides); a NaN positive is the hardest positive
    s = torch.tensor([0.0, -0.0, 0.0, -0.0, float("nan"), 0.5, -0.0, 0.0], dtype=dtype)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    for beta, alpha in ((0.5, 0.0), (0.25, 0.5), (0.75, 0.25)):
        ours = F.partial_auc_select(s, y, max_fpr=beta, min_tpr=alpha)
        assert torch.equal(ours, R.partial_auc_select(s.double(), y, beta, alpha)), (beta, alpha)
