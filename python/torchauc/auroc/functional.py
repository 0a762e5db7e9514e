r"""Exact AUROC metrics (functional). Every value is a Mann-Whitney rank sum with ties counted 1/2,
computed by one sort per score column in C++ (CPU: parallel radix sort; CUDA: CUB radix sort), so

.. math::
    \mathrm{AUC} = \frac{\sum_{p \in P}\sum_{q \in N} w_p w_q\,H(s_p - s_q)}{\sum_P w_p \sum_N w_q},
    \qquad H(t) = 1\ (t > 0),\ \tfrac12\ (t = 0),\ 0\ (t < 0),

which equals scikit-learn's ``roc_auc_score`` (trapezoidal ROC area) exactly, weights included.

Undefined values (one class present, an absent class, an empty partial-AUC subset) raise
``ValueError`` by default; ``on_undefined="warn"`` warns (:class:`UndefinedMetricWarning`) and
returns NaN, and averages over classes or labels are then NaN too (scikit-learn 1.9);
``on_undefined="nan"`` returns NaN silently and the averages skip the undefined terms. NaN scores
are an error naming ``scores``; +-inf scores are ranked (above / below every finite score, tied
with each other). Sample weights may have any scale: they are divided by their maximum first, which
leaves every AUROC unchanged and keeps the weight products finite. Results are float64 0-dim
tensors (or vectors / matrices for ``average="none"``) on the scores' device; the undefined-case
check reads a few numbers back to the host (one sync per call).
"""

import warnings

import torch

from .._core import options as O
from .._core import validate as V


def _distributed():
    from . import distributed  # it builds on this module

    return distributed


class UndefinedMetricWarning(UserWarning):
    """An AUROC value is undefined and NaN is returned (``on_undefined="warn"``)."""


def _common(scores, labels, sample_weights, on_undefined, samples=None):
    """Checks shared by every metric; returns the sample weights as float64 scaled to max 1 (or None).
    ``samples``: the number of samples the weights must match (default: labels.numel())."""
    V.tensor(scores, "scores")
    V.tensor(labels, "labels")
    V.optional_tensor(sample_weights, "sample_weights")
    V.option(on_undefined, O.ON_UNDEFINED)
    if not scores.is_floating_point():
        raise TypeError(f"scores must be a floating point tensor, got {scores.dtype}")
    if labels.device != scores.device:
        raise ValueError(f"labels must be on the scores' device {scores.device}, got {labels.device}")
    return _scaled_weights(sample_weights, labels.numel() if samples is None else samples, scores.device)


def _scaled_weights(w, n, device):
    if w is None:
        return None
    if w.is_complex() or w.dtype == torch.bool:
        raise TypeError(f"sample_weights must be a real tensor, got {w.dtype}")
    if w.numel() != n or w.dim() > 2 or (w.dim() == 2 and w.shape[1] != 1):
        raise ValueError(f"sample_weights must have shape (n,) with one weight per sample (n = {n}), got "
                         f"{tuple(w.shape)}")  # fmt: skip
    if w.device != device:
        raise ValueError(f"sample_weights must be on the scores' device {device}, got {w.device}")
    w = w.reshape(-1).to(torch.float64)
    if n == 0:
        return w
    if not bool((torch.isfinite(w) & (w >= 0)).all()):  # the one host sync of the weights
        raise ValueError("sample_weights must be non-negative and finite")
    top = w.max()
    return w / torch.where(top > 0, top, torch.ones_like(top))


def _undefined(on_undefined, message):
    if on_undefined == "raise":
        raise ValueError(message + " (pass on_undefined='warn' or 'nan' to get NaN instead)")
    if on_undefined == "warn":
        warnings.warn(message + "; returning NaN", UndefinedMetricWarning, stacklevel=3)


def _ratio(num, den):
    """num / den with NaN where den == 0."""
    nan = torch.full_like(num, float("nan"))
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), nan)


def _average(values, weights, on_undefined):
    """(Weighted) mean of per-class values. NaN terms propagate with on_undefined="warn" (scikit-learn)
    and are skipped with "nan"."""
    if values.numel() == 0:
        return values.new_tensor(float("nan"))
    if weights is None:
        weights = torch.ones_like(values)
    weights = weights / weights.max().clamp_min(torch.finfo(weights.dtype).tiny)  # no overflow in v * w
    if on_undefined == "warn":
        return (values * weights).sum() / weights.sum()
    ok = ~torch.isnan(values)
    w = torch.where(ok, weights, torch.zeros_like(weights))
    v = torch.where(ok, values, torch.zeros_like(values))
    total = w.sum()
    return (v * w).sum() / total if bool(total > 0) else values.new_tensor(float("nan"))


# ---------------------------------------------------------------------------------------- binary
def auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    sample_weights: torch.Tensor | None = None,
    on_undefined: str = "raise",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    """Exact binary AUROC (ties 1/2), equal to ``sklearn.metrics.roc_auc_score`` with and without
    ``sample_weights``.

    Args:
        scores: (n,) or (n, 1) float16/bfloat16/float32/float64 (float16/bfloat16 are compared as
            float32, float64 as float64).
        labels: (n,) or (n, 1) bool/int/float in {0, 1}; 1 marks a positive.
        sample_weights: optional (n,) finite non-negative weights, of any scale.
        on_undefined: ``"raise"`` (default: ValueError when all samples have one class), ``"warn"``
            or ``"nan"``.
        process_group: None (this process's data) or a torch.distributed group: the exact AUROC of
            the concatenated data of its ranks by a sample sort (:mod:`torchauc.auroc.distributed`,
            which also drops ``DistributedSampler`` padding by ``sample_index``). The same
            keyword works for :func:`multilabel_auroc`, :func:`multiclass_auroc` and
            :func:`partial_auroc` (``mcclish=False``).
    """
    if process_group is not None:
        return _distributed().auroc(
            scores, labels, sample_weights=sample_weights, on_undefined=on_undefined, process_group=process_group
        )
    sample_weights = _common(scores, labels, sample_weights, on_undefined)
    if labels.numel() != scores.numel():
        raise ValueError(f"labels must have the shape of scores {tuple(scores.shape)}, got {tuple(labels.shape)}")
    if scores.dim() == 2 and scores.shape[1] != 1:
        raise ValueError(
            f"scores must have shape (n,) or (n, 1), got {tuple(scores.shape)}; "
            "use multilabel_auroc or multiclass_auroc for several columns"
        )
    st = torch.ops.torchauc.auroc_binary_stats(scores.reshape(-1), labels.reshape(-1), sample_weights)[0]
    u, p, n = st[0], st[1], st[2]
    if not bool(p > 0) or not bool(n > 0):
        _undefined(
            on_undefined,
            "auroc is undefined when only one class is present in labels "
            f"(positive weight {float(p)}, negative weight {float(n)})",
        )
    return _ratio(u, p * n)


def partial_auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    max_fpr: float = 1.0,
    min_tpr: float = 0.0,
    normalize: bool = True,
    mcclish: bool = False,
    sample_weights: torch.Tensor | None = None,
    on_undefined: str = "raise",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""One-way (FPR <= max_fpr) and two-way (TPR >= min_tpr, FPR <= max_fpr) partial AUROC.

    Default (``mcclish=False``): the OPAUC/TPAUC metric of Yang et al. (ICML 2021). Keep the
    ``k+ = floor((1 - min_tpr) * n+)`` lowest-scored positives and the ``k- = floor(max_fpr * n-)``
    highest-scored negatives (floor with a 1e-9 slack, so 0.3 * 10 keeps 3), and take the rank sum
    U on that subset (ties 1/2). ``normalize=True`` returns ``U / (k+ k-)`` (in [0, 1]; XCurve's
    ``PartialAUROC(min_tpr=1 - min_tpr, max_fpr)``), ``normalize=False`` the area of that ROC region,
    ``U / (n+ n-)``. Undefined when k+ = 0 or k- = 0. No sample weights on this path.

    ``mcclish=True`` (one-way only, ``min_tpr=0``): scikit-learn's ``roc_auc_score(max_fpr=...)``,
    the ROC area over FPR in [0, max_fpr] with the curve interpolated at max_fpr, McClish-standardised
    to ``0.5 (1 + (A - max_fpr^2 / 2) / (max_fpr - max_fpr^2 / 2))``; ``max_fpr=1`` gives the
    plain AUROC. Sample weights are supported (as in scikit-learn).
    """
    if process_group is not None:
        if mcclish or sample_weights is not None:
            raise ValueError("process_group supports the two-way partial AUROC (mcclish=False, no sample_weights)")
        return _distributed().partial_auroc(scores, labels, max_fpr=max_fpr, min_tpr=min_tpr, normalize=normalize,
                                            on_undefined=on_undefined, process_group=process_group)  # fmt: skip
    sample_weights = _common(scores, labels, sample_weights, on_undefined)
    if labels.numel() != scores.numel():
        raise ValueError(f"labels must have the shape of scores {tuple(scores.shape)}, got {tuple(labels.shape)}")
    max_fpr = V.fraction(max_fpr, "max_fpr", low_open=True)
    min_tpr = V.fraction(min_tpr, "min_tpr", high_open=True)
    if mcclish:
        if min_tpr != 0.0:
            raise ValueError("mcclish=True is the one-way partial AUROC of scikit-learn; it needs min_tpr=0")
        if max_fpr == 1.0:
            return auroc(scores, labels, sample_weights=sample_weights, on_undefined=on_undefined)
        st = torch.ops.torchauc.auroc_partial_area(scores, labels, sample_weights, max_fpr)
        if not bool(st[1] > 0) or not bool(st[2] > 0):
            _undefined(on_undefined, "partial_auroc is undefined when only one class is present in labels")
            return st[0]
        lo, hi = 0.5 * max_fpr * max_fpr, max_fpr
        return 0.5 * (1.0 + (st[0] - lo) / (hi - lo))
    if sample_weights is not None:
        raise ValueError(
            "sample_weights is only supported with mcclish=True (the two-way subset "
            "selection of the OPAUC/TPAUC metric is defined on counts)"
        )
    st = torch.ops.torchauc.auroc_partial_stats(scores, labels, max_fpr, min_tpr)
    u, kpos, kneg, npos, nneg = st.unbind(0)
    if not bool(kpos > 0) or not bool(kneg > 0):
        _undefined(
            on_undefined,
            f"partial_auroc is undefined: it keeps {int(kpos)} positives and "
            f"{int(kneg)} negatives (k+ = floor((1 - min_tpr) n+), k- = floor(max_fpr n-))",
        )
    return _ratio(u, kpos * kneg) if normalize else _ratio(u, npos * nneg)


# ---------------------------------------------------------------------------------------- multiclass
def _multiclass_table(scores, labels, sample_weights, ignore_index):
    """U (C, C) with U[i, j] = sum over (p in i, q in j) of w_p w_q H(s_pi - s_qi), W (C,)."""
    w = None if sample_weights is None else sample_weights.reshape(labels.shape)
    return torch.ops.torchauc.auroc_multiclass_stats(scores, labels, w, V.ignore_arg(ignore_index))


def _check_class_scores(scores, labels, name):
    """(B, C, *spatial) scores and (B, *spatial) labels of the multiclass and pixel metrics."""
    if scores.dim() < 2:
        raise ValueError(f"{name} must have shape (N, C) or (B, C, *spatial), got {tuple(scores.shape)}")
    want = (scores.shape[0],) + tuple(scores.shape[2:])
    if tuple(labels.shape) != want and not (scores.dim() == 2 and tuple(labels.shape) == (scores.shape[0], 1)):
        raise ValueError(f"labels must have shape {want} ({name} without the class dim 1), got {tuple(labels.shape)}")


def _class_positions(labels, classes, C, ignore_index):
    """labels mapped to their position in ``classes`` (the class of each score column), ignore_index
    kept; a label not listed is a ValueError. O(N log C): a sort of the classes and a search."""
    V.tensor(classes, "classes")
    classes = classes.reshape(-1).to(labels.device)
    if classes.numel() != C:
        raise ValueError(f"classes must name one class per score column ({C}), got {classes.numel()}")
    if classes.is_floating_point() or classes.is_complex():
        raise TypeError(f"classes must be an integer tensor, got {classes.dtype}")
    ordered, perm = classes.long().sort()
    if C > 1 and bool((ordered[1:] == ordered[:-1]).any()):
        raise ValueError("classes must be distinct")
    lab = labels.long()
    idx = torch.searchsorted(ordered, lab).clamp_max(C - 1)
    listed = ordered[idx] == lab
    keep = listed if ignore_index is None else listed | (lab == ignore_index)
    if not bool(keep.all()):
        bad = lab[~keep][0].item()
        raise ValueError(f"labels holds {bad}, which is not in classes (and not ignore_index)")
    return torch.where(listed, perm[idx], lab)


def _ova(U, W, average, on_undefined):
    neg = W.sum() - W
    num = U.sum(1)  # diagonal is 0
    per_class = _ratio(num, W * neg)
    if bool(torch.isnan(per_class).any()):
        bad = torch.nonzero(torch.isnan(per_class)).reshape(-1).tolist()
        _undefined(
            on_undefined,
            f"one-vs-rest AUROC is undefined for classes {bad} (absent from labels, or the only class present)",
        )
    if average == "none":
        return per_class
    return _average(per_class, W if average == "weighted" else None, on_undefined)


def _ovo(U, W, average, on_undefined):
    A = _ratio(U, W[:, None] * W[None, :])  # A[i, j] = A(i|j), NaN when class i or j is absent
    C = W.numel()
    eye = torch.eye(C, dtype=torch.bool, device=A.device)
    A = A.masked_fill(eye, float("nan"))
    absent = torch.nonzero(W <= 0).reshape(-1).tolist()
    if absent:
        _undefined(on_undefined, f"one-vs-one AUROC is undefined for absent classes {absent}")
    if average == "none":
        return A
    pair = (A + A.T) / 2  # Hand & Till's A(i, j), upper triangle used
    iu = torch.triu_indices(C, C, 1, device=A.device)
    vals = pair[iu[0], iu[1]]
    return _average(vals, (W[iu[0]] + W[iu[1]]) if average == "weighted" else None, on_undefined)


def _ova_micro(scores, labels, sample_weights, ignore_index, on_undefined):
    """One-vs-rest micro average: every (sample, class) entry as one binary problem over the N x C
    scores, positive where the class is the sample's label. Needs the N x C indicator (int8)."""
    scores = scores.movedim(1, -1).reshape(-1, scores.shape[1])
    lab = labels.reshape(-1)
    keep = None if ignore_index is None else lab != ignore_index
    if keep is not None:
        scores, lab = scores[keep], lab[keep]
        sample_weights = None if sample_weights is None else sample_weights[keep]
    if lab.numel() and (bool((lab < 0).any()) or bool((lab >= scores.shape[1]).any())):
        raise ValueError(f"labels must be class indices in [0, {scores.shape[1]})")
    indicator = torch.zeros(scores.shape, dtype=torch.int8, device=scores.device)
    indicator.scatter_(1, lab.long().view(-1, 1), 1)
    w = None if sample_weights is None else sample_weights.view(-1, 1).expand(scores.shape).reshape(-1)
    return auroc(scores.reshape(-1), indicator.reshape(-1), sample_weights=w, on_undefined=on_undefined)


def multiclass_auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    mode: str = "ovo",
    average: str = "macro",
    sample_weights: torch.Tensor | None = None,
    ignore_index: int | None = None,
    classes: torch.Tensor | None = None,
    on_undefined: str = "raise",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""Multiclass AUROC from one batched sort of every score column (no loop over classes or pairs).

    ``mode="ovo"``: Hand & Till's M = 2/(C(C-1)) sum_{i<j} (A(i|j) + A(j|i)) / 2 with
    A(i|j) = P(s_i(x_p) > s_i(x_q)) for p in class i, q in class j (ties 1/2); equal to scikit-learn
    ``roc_auc_score(multi_class="ovo")``; ``average="weighted"`` weights pair (i, j) by
    n_i + n_j (scikit-learn's prevalence weighting); ``"none"`` returns the (C, C) matrix A(i|j)
    (diagonal NaN).
    ``mode="ova"``: class c against the rest (scikit-learn's ``multi_class="ovr"``); ``average``
    ``"macro"``, ``"weighted"`` (by class prevalence), ``"micro"`` (every (sample, class) entry as
    one binary problem) or ``"none"`` (the (C,) vector).

    Args:
        scores: (N, C), or ``(B, C, *spatial)`` read in place. Any real scores (scikit-learn requires
            rows of probabilities; we do not).
        labels: (N,) (or ``(B, *spatial)``) integer class labels: indices in [0, C), or the values listed
            in ``classes``.
        sample_weights: optional per-sample weights (scikit-learn supports them only for ovr).
        ignore_index: label value to skip (None: none).
        classes: optional (C,) distinct integer labels, the class of each score column (scikit-learn's
            ``labels=``): classes listed but absent from ``labels`` are undefined terms, and a label
            that is not listed is an error.
        on_undefined: an absent class raises ValueError; ``"warn"`` / ``"nan"`` give NaN for its terms
            (``"warn"``: the averages are NaN too; ``"nan"``: the averages skip them).
    With C = 2 columns the value is the mean of the two one-vs-rest (or one-vs-one) AUROCs, which is
    the binary AUROC only when the rows are complementary probabilities: a warning says so.
    """
    if process_group is not None:
        return _distributed().multiclass_auroc(scores, labels, mode=mode, average=average,
                                               sample_weights=sample_weights, ignore_index=ignore_index,
                                               classes=classes, on_undefined=on_undefined,
                                               process_group=process_group)  # fmt: skip
    sample_weights = _common(scores, labels, sample_weights, on_undefined)
    V.option(mode, O.MODE)
    V.option(average, O.MULTICLASS_AVERAGE)
    _check_class_scores(scores, labels, "scores")
    ignore_index = V.optional_int(ignore_index, "ignore_index")
    if average == "micro" and mode != "ova":
        raise ValueError("average='micro' is defined for mode='ova' only")
    if scores.shape[1] == 2:
        warnings.warn(
            "multiclass_auroc with 2 score columns averages the two classes' AUROCs; for a binary problem "
            "use auroc(scores[:, 1], labels == 1) (equal when the rows are complementary probabilities)",
            UserWarning,
            stacklevel=2,
        )
    if classes is not None:
        labels = _class_positions(labels, classes, scores.shape[1], ignore_index)
    if average == "micro":
        return _ova_micro(scores, labels, sample_weights, ignore_index, on_undefined)
    U, W = _multiclass_table(scores, labels, sample_weights, ignore_index)
    if mode == "ovo":
        return _ovo(U, W, average, on_undefined)
    return _ova(U, W, average, on_undefined)


def pixel_auroc(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore_index: int | None = None,
    average: str = "macro",
    on_undefined: str = "raise",
) -> torch.Tensor:
    """Per-class one-vs-rest AUROC over all pixels of a segmentation batch, reading (B, C, H, W) in place.

    Class c's AUROC ranks every non-ignored pixel by ``logits[:, c]`` (pass probabilities instead if
    you want them ranked: softmax is not monotone per column). ``average``: ``"macro"`` (mean over
    the classes that are defined), ``"weighted"`` (by pixel count) or ``"none"`` (the (C,) vector).
    A class absent from the labels raises ValueError (the default of every metric); in segmentation,
    where that is usual, pass ``on_undefined="nan"``: the class gets NaN and the averages skip it
    (AUCSeg's rule). ``ignore_index``: label of pixels to skip (None: none; mmseg uses 255).
    """
    _common(logits, labels, None, on_undefined)
    if logits.dim() < 3:
        raise ValueError(f"logits must have shape (B, C, H, W) (or (B, C, *spatial)), got {tuple(logits.shape)}")
    _check_class_scores(logits, labels, "logits")
    ignore_index = V.optional_int(ignore_index, "ignore_index")
    V.option(average, O.AVERAGE)
    U, W = _multiclass_table(logits, labels, None, ignore_index)
    return _ova(U, W, average, on_undefined)


def multilabel_auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    average: str = "macro",
    sample_weights: torch.Tensor | None = None,
    on_undefined: str = "raise",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    """AUROC of every label column of (N, L) scores against (N, L) 0/1 labels, in one batched sort.

    ``average``: ``"macro"`` mean over labels, ``"weighted"`` by positive weight per label,
    ``"micro"`` (all entries as one binary problem), ``"samples"`` (the mean over samples of each
    sample's AUROC across its labels), ``"none"`` (the (L,) vector): scikit-learn's ``roc_auc_score``
    on multilabel indicators. A column (or, for ``"samples"``, a row) with one class present is
    undefined: ValueError, or NaN with ``on_undefined="warn"`` / ``"nan"``.
    """
    if process_group is not None:
        return _distributed().multilabel_auroc(scores, labels, average=average, sample_weights=sample_weights,
                                               on_undefined=on_undefined, process_group=process_group)  # fmt: skip
    if isinstance(scores, torch.Tensor) and isinstance(labels, torch.Tensor) and labels.shape != scores.shape:
        raise ValueError(f"labels must have the shape of scores {tuple(scores.shape)}, got {tuple(labels.shape)}")
    sample_weights = _common(scores, labels, sample_weights, on_undefined, samples=scores.shape[0])
    V.option(average, O.MULTILABEL_AVERAGE)
    if scores.dim() != 2:
        raise ValueError(f"scores must have shape (N, L), got {tuple(scores.shape)}")
    if average == "samples":
        st = torch.ops.torchauc.auroc_binary_stats(scores.t(), labels.t(), None)
        per_sample = _ratio(st[:, 0], st[:, 1] * st[:, 2])
        if bool(torch.isnan(per_sample).any()):
            bad = torch.nonzero(torch.isnan(per_sample)).reshape(-1).tolist()[:10]
            _undefined(on_undefined, f"multilabel_auroc(average='samples') is undefined for samples {bad} (one class)")
        return _average(per_sample, sample_weights, on_undefined)
    if average == "micro":
        w = None
        if sample_weights is not None:
            w = sample_weights.reshape(-1, 1).expand(scores.shape).reshape(-1)
        return auroc(scores.reshape(-1), labels.reshape(-1), sample_weights=w, on_undefined=on_undefined)
    st = torch.ops.torchauc.auroc_binary_stats(scores, labels, sample_weights)
    per_label = _ratio(st[:, 0], st[:, 1] * st[:, 2])
    if bool(torch.isnan(per_label).any()):
        bad = torch.nonzero(torch.isnan(per_label)).reshape(-1).tolist()
        _undefined(on_undefined, f"multilabel_auroc is undefined for label columns {bad} (one class present)")
    if average == "none":
        return per_label
    return _average(per_label, st[:, 1] if average == "weighted" else None, on_undefined)


# ---------------------------------------------------------------------------------------- open world
def openworld_auroc(
    scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor, *, on_undefined: str = "raise"
) -> torch.Tensor:
    r"""OpenworldAUC (Wang et al., ICML 2025):

    .. math::
        \frac{1}{n_b n_n}\sum_{i \in \text{base}}\sum_{j \in \text{new}}
        \mathbb 1[g(x_i) = y_i]\,\mathbb 1[h(x_j) = y_j]\,H(r(x_i) - r(x_j))

    with ties 1/2 (what the official score-replacement trick gives through scikit-learn).

    Args:
        scores: (n,) base-vs-new detection score r (higher means base).
        is_base: (n,) bool/0-1, 1 for base-class samples, 0 for new-class samples.
        correct: (n,) bool/0-1, whether the sample's classifier (base classifier g for base samples,
            new classifier h for new samples) predicted its label.
    Undefined (ValueError, or NaN with ``on_undefined="nan"``) without base or without new samples.
    """
    _common(scores, is_base, None, on_undefined)
    if is_base.numel() != scores.numel():
        raise ValueError(f"is_base must have one entry per score ({scores.numel()}), got {is_base.numel()}")
    V.tensor(correct, "correct")
    if correct.numel() != scores.numel():
        raise ValueError(f"correct must have one entry per score ({scores.numel()}), got {correct.numel()}")
    c = correct.reshape(-1)
    if c.dtype != torch.bool:
        if bool(((c != 0) & (c != 1)).any()):
            raise ValueError("correct must contain only 0 and 1 (or False/True)")
        c = c != 0
    st = torch.ops.torchauc.auroc_binary_stats(scores.reshape(-1), is_base.reshape(-1), c.double())[0]
    nb = (is_base.reshape(-1) != 0).sum().double()
    nn = is_base.numel() - nb
    if not bool(nb > 0) or not bool(nn > 0):
        _undefined(on_undefined, "openworld_auroc is undefined without both base and new samples")
    return _ratio(st[0], nb * nn)


def _openworld_inputs(scores, is_base, correct, on_undefined):
    _common(scores, is_base, None, on_undefined)
    for name, t in (("is_base", is_base), ("correct", correct)):
        V.tensor(t, name)
        if t.numel() != scores.numel():
            raise ValueError(f"{name} must have one entry per score ({scores.numel()}), got {t.numel()}")
        if t.device != scores.device:
            raise ValueError(f"{name} must be on the scores' device {scores.device}, got {t.device}")
        if t.dtype != torch.bool and bool(((t != 0) & (t != 1)).any()):
            raise ValueError(f"{name} must contain only 0 and 1 (or False/True)")
    s = scores.reshape(-1).double()
    if bool(torch.isnan(s).any()):
        raise ValueError("scores must not contain NaN")
    return s, is_base.reshape(-1) != 0, correct.reshape(-1) != 0


def openworld_aurocs(
    scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor, *, on_undefined: str = "raise"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""OpenworldAUC and the AAAI-26 follow-up's Opt-a and Opt-g, from one sort of the scores.

    With H the Heaviside step (ties 1/2), over (base i, new j) pairs:

    * OpenworldAUC (= Opt-h) = mean 1[g(x_i) = y_i] 1[h(x_j) = y_j] H(r_i - r_j)  (:func:`openworld_auroc`);
    * Opt-a = ∫ HitRate_b dMissRate_{n-s} = mean 1[g(x_i) = y_i] H(r_i - r_j)  (the new side's
      correctness dropped: how well the base classifier and the detector do together);
    * Opt-g = ∫ HitRate_n dMissRate_{b-s} = mean 1[h(x_j) = y_j] H(r_i - r_j)  (the base side's dropped).

    The pair forms follow from the follow-up's integrals (Li, Wang, Zhang, AAAI 2026). One sort, the
    tie groups, and per group the counts of new samples (all, and correctly classified) below it: three
    rank sums in O(n log n). Arguments and the undefined rule as :func:`openworld_auroc`.
    Returns ``(openworld, opt_a, opt_g)``, float64 0-dim tensors.
    """
    s, base, ok = _openworld_inputs(scores, is_base, correct, on_undefined)
    nb = base.sum().double()
    nn = s.numel() - nb
    if not bool(nb > 0) or not bool(nn > 0):
        _undefined(on_undefined, "openworld metrics are undefined without both base and new samples")
    ss, order = torch.sort(s)
    _, group, counts = torch.unique_consecutive(ss, return_inverse=True, return_counts=True)
    b, c = base[order].double(), ok[order].double()
    new = torch.stack([1 - b, (1 - b) * c])  # per sample: new, new and correct
    per_group = torch.zeros(2, counts.numel(), dtype=torch.float64, device=s.device).index_add_(1, group, new)
    below = torch.cumsum(per_group, 1) - 0.5 * per_group  # strictly below + half of the ties
    below = below[:, group]
    u = torch.stack([(b * c * below[1]).sum(), (b * c * below[0]).sum(), (b * below[1]).sum()])
    out = _ratio(u, (nb * nn).expand(3))
    return out[0], out[1], out[2]


def openworld_opt_a(
    scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor, *, on_undefined: str = "raise"
) -> torch.Tensor:
    """Opt-a of the AAAI-26 follow-up (see :func:`openworld_aurocs`)."""
    return openworld_aurocs(scores, is_base, correct, on_undefined=on_undefined)[1]


def openworld_opt_g(
    scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor, *, on_undefined: str = "raise"
) -> torch.Tensor:
    """Opt-g of the AAAI-26 follow-up (see :func:`openworld_aurocs`)."""
    return openworld_aurocs(scores, is_base, correct, on_undefined=on_undefined)[2]


# ---------------------------------------------------------------------------------------- average precision
def _ap_columns(scores, labels, sample_weights, what, on_undefined):
    """AP of every column of (n, L) scores (n,) weights: one sort per column (the AUROC sort)."""
    st = torch.ops.torchauc.auroc_average_precision(scores, labels, sample_weights)
    ap = _ratio(st[:, 0], st[:, 1])
    if bool(torch.isnan(ap).any()):
        bad = torch.nonzero(torch.isnan(ap)).reshape(-1).tolist()[:10]
        _undefined(on_undefined, f"{what} is undefined without positive labels (columns {bad})")
    return ap, st


def average_precision(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    sample_weights: torch.Tensor | None = None,
    on_undefined: str = "raise",
) -> torch.Tensor:
    r"""Exact average precision, equal to scikit-learn's ``average_precision_score`` (ties as
    scikit-learn: one threshold per distinct score), with and without ``sample_weights``:

    .. math::
        \mathrm{AP} = \sum_g \frac{\Delta TP_g}{P}\,\frac{TP_g}{TP_g + FP_g}

    over the tie groups g from the highest score down (TP_g, FP_g the weights at scores >= g's).
    One radix sort and one pass (the sort of :func:`auroc`; CUB on CUDA). Without positive weight AP
    is undefined: ValueError, or NaN with ``on_undefined="warn"``/``"nan"`` (scikit-learn returns 0).
    """
    sample_weights = _common(scores, labels, sample_weights, on_undefined)
    if labels.numel() != scores.numel():
        raise ValueError(f"labels must have the shape of scores {tuple(scores.shape)}, got {tuple(labels.shape)}")
    if scores.dim() == 2 and scores.shape[1] != 1:
        raise ValueError(
            f"scores must have shape (n,) or (n, 1), got {tuple(scores.shape)}; use multilabel_average_precision"
        )
    return _ap_columns(scores.reshape(-1), labels.reshape(-1), sample_weights, "average_precision", on_undefined)[0][0]


def multilabel_average_precision(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    average: str = "macro",
    sample_weights: torch.Tensor | None = None,
    on_undefined: str = "raise",
) -> torch.Tensor:
    """Average precision of every label column of (N, L) scores against (N, L) 0/1 labels in one
    batched call: scikit-learn's ``average_precision_score`` on multilabel indicators, with
    ``average`` one of ``"macro"``, ``"weighted"`` (by positive weight), ``"micro"`` (every entry as
    one binary problem), ``"samples"`` (the mean of each row's AP over its labels), ``"none"`` (L,)."""
    if isinstance(scores, torch.Tensor) and isinstance(labels, torch.Tensor) and labels.shape != scores.shape:
        raise ValueError(f"labels must have the shape of scores {tuple(scores.shape)}, got {tuple(labels.shape)}")
    sample_weights = _common(scores, labels, sample_weights, on_undefined, samples=scores.shape[0])
    V.option(average, O.MULTILABEL_AVERAGE)
    if scores.dim() != 2:
        raise ValueError(f"scores must have shape (N, L), got {tuple(scores.shape)}")
    name = "multilabel_average_precision"
    if average == "samples":
        ap, _ = _ap_columns(scores.t(), labels.t(), None, name, on_undefined)
        return _average(ap, sample_weights, on_undefined)
    if average == "micro":
        w = None if sample_weights is None else sample_weights.reshape(-1, 1).expand(scores.shape).reshape(-1)
        return _ap_columns(scores.reshape(-1), labels.reshape(-1), w, name, on_undefined)[0][0]
    ap, st = _ap_columns(scores, labels, sample_weights, name, on_undefined)
    if average == "none":
        return ap
    return _average(ap, st[:, 1] if average == "weighted" else None, on_undefined)


# ---------------------------------------------------------------------------------------- open set
def open_auroc(
    closed_scores: torch.Tensor,
    open_scores: torch.Tensor,
    labels: torch.Tensor,
    is_known: torch.Tensor,
    *,
    on_undefined: str = "raise",
) -> torch.Tensor:
    r"""OpenAUC (Wang et al., NeurIPS 2022):

    .. math::
        rac{1}{n_k n_u}\sum_{i \in 	ext{known}}\sum_{j \in 	ext{unknown}}
        \mathbb 1[\hat y_i = y_i]\,H(r(x_j) - r(x_i))

    with ties 1/2 (what XCurve's ``Metrics.OpenAUC`` gets through scikit-learn, without its
    ``max + 1e-5`` score trick), in one sort.

    Args:
        closed_scores: (n, C) closed-set scores; the prediction is their argmax (first on ties).
        open_scores: (n,) open-set score r, higher means more likely unknown (e.g. -max logit).
        labels: (n,) class indices of the known samples (entries of unknown samples are not read).
        is_known: (n,) bool/0-1, 1 for known-class samples.
    Undefined (ValueError, or NaN) without known or without unknown samples.
    """
    for x, name in ((closed_scores, "closed_scores"), (labels, "labels"), (is_known, "is_known")):
        V.tensor(x, name)
    _common(open_scores, is_known, None, on_undefined)
    n = open_scores.numel()
    if closed_scores.dim() != 2 or closed_scores.shape[0] != n:
        raise ValueError(f"closed_scores must have shape (n, C) with n = {n}, got {tuple(closed_scores.shape)}")
    for x, name in ((labels, "labels"), (is_known, "is_known")):
        if x.numel() != n:
            raise ValueError(f"{name} must have one entry per open score ({n}), got {x.numel()}")
    known = is_known.reshape(-1)
    if known.dtype != torch.bool:
        if bool(((known != 0) & (known != 1)).any()):
            raise ValueError("is_known must contain only 0 and 1 (or False/True)")
        known = known != 0
    hit = closed_scores.argmax(1).eq(labels.reshape(-1).to(closed_scores.device).long()) & known
    return _open_auroc_hits(open_scores.reshape(-1), known, hit, on_undefined)


def _open_auroc_hits(open_scores, known, hit, on_undefined):
    """OpenAUC from the open scores (n,), the known mask and the closed-set hits (bool, n)."""
    # positives = unknowns, negatives = correctly classified knowns; misclassified knowns weigh 0
    w = (hit | ~known).double()
    st = torch.ops.torchauc.auroc_binary_stats(open_scores, ~known, w)[0]
    nk = known.sum().double()
    nu = known.numel() - nk
    if not bool(nk > 0) or not bool(nu > 0):
        _undefined(on_undefined, "open_auroc is undefined without both known and unknown samples")
    return _ratio(st[0], nk * nu)


__all__ = [
    "openworld_aurocs",
    "openworld_opt_a",
    "openworld_opt_g",
    "average_precision",
    "multilabel_average_precision",
    "open_auroc",
    "auroc",
    "partial_auroc",
    "multiclass_auroc",
    "multilabel_auroc",
    "pixel_auroc",
    "openworld_auroc",
    "UndefinedMetricWarning",
]
