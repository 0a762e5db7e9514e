"""scikit-learn's own tests of roc_auc_score, run against torchauc.

Every test function of the installed ``sklearn/metrics/tests/test_ranking.py`` that calls
``roc_auc_score`` is collected here (with its own parametrisation) and runs with ``roc_auc_score``
replaced by ``sklearn_roc_auc_score`` below: a thin adapter that turns scikit-learn's arguments
(numpy arrays, string labels, ``multi_class``, ``labels``, ``max_fpr``) into calls of
``torchauc.metrics.functional``. Undefined values use ``on_undefined="warn"`` (scikit-learn 1.9's
warn-and-NaN), re-raised as scikit-learn's UndefinedMetricWarning. The cases where torchauc
deliberately differs are listed in INTENDED_DIFFERENCES; they must fail (strict xfail), so the table
cannot go stale. The scikit-learn version is pinned in requirements-dev.txt.
"""

import functools
import importlib
import warnings

import numpy as np
import pytest
import torch

from torchauc.metrics import UndefinedMetricWarning
from torchauc.metrics import functional as F

sklearn = pytest.importorskip("sklearn")
ranking = importlib.import_module("sklearn.metrics.tests.test_ranking")
from sklearn.exceptions import UndefinedMetricWarning as SklearnUndefined  # noqa: E402
from sklearn.utils.multiclass import type_of_target  # noqa: E402


def _tensor(x, dtype=None):
    return torch.as_tensor(np.ascontiguousarray(x), dtype=dtype)


def _undefined_as_sklearn(fn):
    """Calls fn, re-emitting torchauc's UndefinedMetricWarning as scikit-learn's."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    for w in caught:
        category = SklearnUndefined if issubclass(w.category, UndefinedMetricWarning) else w.category
        warnings.warn(w.message if category is w.category else str(w.message), category, stacklevel=3)
    return out


def sklearn_roc_auc_score(
    y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None, multi_class="raise", labels=None
):
    """scikit-learn's roc_auc_score signature over torchauc.metrics.functional."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=np.float64)
    w = None if sample_weight is None else _tensor(np.asarray(sample_weight, dtype=np.float64))
    kind = type_of_target(y_true, input_name="y_true")
    if kind == "multilabel-indicator":
        if max_fpr is not None and max_fpr != 1:
            raise ValueError("torchauc's McClish partial AUROC (max_fpr) is binary only")
        avg = "none" if average is None else average
        fn = functools.partial(F.multilabel_auroc, _tensor(y_score), _tensor(y_true), average=avg, sample_weights=w)
        return _result(_undefined_as_sklearn(lambda: fn(on_undefined="warn")))
    if kind == "multiclass" or (y_score.ndim == 2 and y_score.shape[1] > 2):
        if multi_class not in ("ovo", "ovr"):
            raise ValueError("multi_class must be 'ovo' or 'ovr' for multiclass y_true (torchauc: mode)")
        if max_fpr is not None and max_fpr != 1:
            raise ValueError("max_fpr is not available for multiclass AUROC")
        classes = np.unique(y_true) if labels is None else np.asarray(labels)
        order = np.unique(np.concatenate([classes, y_true]))  # encode any label type as integers
        codes = np.searchsorted(order, y_true)
        mode = "ova" if multi_class == "ovr" else "ovo"
        avg = "none" if average is None else average
        fn = functools.partial(
            F.multiclass_auroc,
            _tensor(y_score),
            _tensor(codes, torch.long),
            mode=mode,
            average=avg,
            sample_weights=w,
            classes=_tensor(np.searchsorted(order, classes), torch.long),
        )
        return _result(_undefined_as_sklearn(lambda: fn(on_undefined="warn")))
    classes = np.unique(y_true)
    if len(classes) > 2:
        raise ValueError(f"labels must be binary, got classes {classes}")
    y = _tensor(y_true == classes[-1], torch.long) if len(classes) == 2 else _tensor(np.zeros(len(y_true)), torch.long)
    s = _tensor(y_score.reshape(-1))
    if max_fpr is None or max_fpr == 1:
        return _result(_undefined_as_sklearn(lambda: F.auroc(s, y, sample_weights=w, on_undefined="warn")))
    return _result(
        _undefined_as_sklearn(
            lambda: F.partial_auroc(s, y, max_fpr=max_fpr, mcclish=True, sample_weights=w, on_undefined="warn")
        )
    )


def _result(t):
    return float(t) if t.dim() == 0 else t.numpy()


SUITE = sorted(
    name
    for name, fn in vars(ranking).items()
    if name.startswith("test_") and callable(fn) and "roc_auc_score" in getattr(fn, "__code__", object).co_names
)

# Where torchauc differs from scikit-learn on purpose: (test name, a substring of the case id or "",
# why, the exception the case then fails with). Listed cases must fail that way (strict xfail): a case
# that starts to pass, or fails otherwise, fails the suite, so the table cannot go stale.
TEXT = AssertionError  # pytest.raises(match=...) saw another message
WARN_TEXT = pytest.fail.Exception  # pytest.warns(match=...) saw the warning with another message
INTENDED_DIFFERENCES = [
    ("test_roc_auc_score_multiclass_labels_error", "must be ordered", "classes= may list the classes in any "
     "order (column k is class classes[k]); scikit-learn requires sorted labels", pytest.fail.Exception),
    ("test_roc_auc_score_multiclass_labels_error", "", "torchauc raises ValueError with its own text, naming "
     "classes / labels / scores", TEXT),
    ("test_roc_auc_score_multiclass_error", "", "torchauc raises ValueError with its own text; it also "
     "supports sample weights for one-vs-one (here an empty weight vector is a length error)", TEXT),
    ("test_multiclass_ranking_metrics_raise_for_incorrect_shape_of_y_score", "", "ValueError with torchauc's "
     "text ('scores must have shape (N, C)')", TEXT),
    ("test_auc_score_non_binary_class", "", "the UndefinedMetricWarning text is torchauc's (it names the class "
     "weights)", WARN_TEXT),
    ("test_roc_curve_toydata", "", "the UndefinedMetricWarning text is torchauc's (it names the class weights)",
     WARN_TEXT),
    ("test_multiclass_ovo_roc_auc_toydata", "y_true", "average=None with mode='ovo' returns the (C, C) matrix "
     "A(i|j) instead of raising NotImplementedError", pytest.fail.Exception),
    ("test_multiclass_ovo_roc_auc_toydata_binary", "", "a class listed in classes= but absent from the labels "
     "is an undefined term (NaN with a warning, or an error); scikit-learn's ovo averages the present pairs",
     TEXT),
    *(
        (f"test_sklearn_common[{test}-partial_roc_auc", "", "the McClish partial AUROC (max_fpr) is binary only in "
         "torchauc (no per-label partial AUROC): multilabel input raises ValueError", ValueError)
        for test in ("test_averaging_multilabel", "test_continuous_multilabel_multioutput_permutations_invariance",
                     "test_multilabel_sample_weight_invariance")
    ),
    ("test_sklearn_common[test_binary_sample_weight_invariance", "", "a weight vector of the wrong length is a "
     "ValueError with torchauc's text (it names sample_weights)", TEXT),
    ("test_sklearn_common[test_multiclass_sample_weight_invariance", "", "a weight vector of the wrong length is a "
     "ValueError with torchauc's text (it names sample_weights)", TEXT),
    ("test_sklearn_common[test_multilabel_sample_weight_invariance", "", "a weight vector of the wrong length is a "
     "ValueError with torchauc's text (it names sample_weights)", TEXT),
]  # fmt: skip


@pytest.fixture
def global_random_seed():
    return 42


@pytest.fixture(autouse=True)
def _torchauc_roc_auc_score(monkeypatch, request):
    monkeypatch.setattr(ranking, "roc_auc_score", sklearn_roc_auc_score)
    name = request.node.name
    for test, case, reason, raises in INTENDED_DIFFERENCES:
        if (name == test or name.startswith(test + "[") or ("[" in test and name.startswith(test))) and case in name:
            request.applymarker(pytest.mark.xfail(reason=reason, raises=raises, strict=True))
            break


for _name in SUITE:
    globals()[_name] = getattr(ranking, _name)


def test_the_suite_is_not_empty():
    assert len(SUITE) >= 10, SUITE


# ---------------------------------------------------------------------------------------------------
# The roc_auc cases of sklearn/metrics/tests/test_common.py: its name-parametrised tests look the
# metric up in ALL_METRICS / CONTINUOUS_CLASSIFICATION_METRICS at call time, so those entries are
# swapped for the adapter (same keywords) and the tests run for every roc_auc name they list.
common = importlib.import_module("sklearn.metrics.tests.test_common")
ROC_NAMES = sorted(n for n in common.ALL_METRICS if "roc_auc" in n)


def _adapted(metric):
    if not isinstance(metric, functools.partial):
        return sklearn_roc_auc_score
    return functools.partial(sklearn_roc_auc_score, *metric.args, **metric.keywords)


ADAPTED = {name: _adapted(common.CONTINUOUS_CLASSIFICATION_METRICS[name]) for name in ROC_NAMES}


def _name_cases():
    cases = []
    for test, fn in sorted(vars(common).items()):
        marks = (
            [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"] if test.startswith("test_") else []
        )
        if len(marks) == 1 and marks[0].args[0] == "name":
            cases += [pytest.param(test, name, id=f"{test}-{name}") for name in marks[0].args[1] if name in ROC_NAMES]
    return cases


@pytest.mark.parametrize("test, name", _name_cases())
def test_sklearn_common(test, name, monkeypatch):
    for table in (common.ALL_METRICS, common.CONTINUOUS_CLASSIFICATION_METRICS):
        for key in ROC_NAMES:
            monkeypatch.setitem(table, key, ADAPTED[key])
    getattr(common, test)(name)


@pytest.mark.parametrize("y_true, y_score", common.invalids_nan_inf)
@pytest.mark.parametrize("name", ROC_NAMES)
def test_sklearn_common_inf_nan_input(name, y_true, y_score):
    # test_common's test_continuous_inf_nan_input with the adapter: NaN scores are an error
    metric = ADAPTED[name]
    if np.isnan(np.asarray(y_score, dtype=float)).any() or np.isnan(np.asarray(y_true, dtype=float)).any():
        with pytest.raises(ValueError):
            metric(y_true, y_score)
    else:  # +-inf: ranked (an intended difference: scikit-learn raises)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                metric(y_true, y_score)
            except ValueError as e:  # only for input kinds the metric does not take
                assert "multi_class" in str(e) or "labels" in str(e) or "shape" in str(e), e
