"""Exact AUROC metrics (forward only) vs scikit-learn, torchmetrics, XCurve and a pure-PyTorch rank sum.

Targets (same run, medians): binary n = 2^23 >= 15x faster than torchmetrics (issue 16) and close to
the sort of its keys (the "vs its sort" case: the op with one class; and every CPU row's floor
column: the project's radix sort of the same float keys, no payload, as the metrics sort keys without
an index; multiclass and pixel rows with C >= 16: one read of the scores and labels, see
multiclass_floor); multiclass ovo 65536 x 100 >= 50x faster than scikit-learn; on a GPU, binary
n = 1e8 within 2x of a device radix sort of n float keys (baseline ``torch.sort``)."""

from collections.abc import Callable

import torch

from torchauc.metrics import functional as F
from torchauc.reference import auroc as R

from . import floors
from .harness import Case


def _binary(n, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g)
    y = (torch.rand(n, generator=g) < torch.sigmoid((s - 0.5) * 4)).long()
    return s.to(device), y.to(device)


def _multiclass(n, C, device, seed=1):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, C, (n,), generator=g)
    logits = torch.randn(n, C, generator=g)
    logits[torch.arange(n), y] += 1.0
    # float32 probabilities, what a model emits (scikit-learn gets the same float32 array)
    return torch.softmax(logits, 1).to(device), y.to(device)


def _sklearn():
    from sklearn.metrics import roc_auc_score

    return roc_auc_score


def _torchmetrics():
    try:
        from torchmetrics.functional.classification import binary_auroc, multiclass_auroc
    except ImportError:
        return None, None
    return binary_auroc, multiclass_auroc


def sort_floor(scores: torch.Tensor) -> Callable[[], object] | None:
    """The floor of an exact AUROC: the project's radix sort of the same float keys (no index
    payload: the metrics' sorts carry none or a packed one), None off the CPU."""
    return floors.radix_sort(scores, with_index=False)


# the CPU kernel's kSearchMinClasses (csrc/auroc/multiclass_search.h): from this many classes on,
# unweighted float scores take the search path
SEARCH_MIN_CLASSES = 16


def multiclass_floor(scores: torch.Tensor, labels: torch.Tensor) -> Callable[[], object] | None:
    """The floor of a multiclass (or pixel) AUROC row on the CPU. With C >= 16 classes the op sorts no
    n x C keys: it sorts each column's ~n/C positives and locates every score among them, so it must
    at least read every score and label once (one read-only pass; the lookups are the op's own
    work). With fewer classes it radix-sorts every column: the sort of all n x C keys."""
    if scores.shape[1] >= SEARCH_MIN_CLASSES:
        return floors.elementwise(scores, labels, writes=0)
    return sort_floor(scores)


def cases(device: torch.device | str | None, quick: bool):
    sk = _sklearn()
    tm_binary, tm_multiclass = _torchmetrics()
    out = []
    sizes = [1 << 16] if quick else [1 << 20, 1 << 23]
    for n in sizes:
        s, y = _binary(n, device)
        sn, yn = s.cpu().numpy(), y.cpu().numpy()
        base = {
            "sklearn": lambda sn=sn, yn=yn: sk(yn, sn),
            "pytorch rank sum": lambda s=s, y=y: R.auroc_sort(s, y),
        }
        if tm_binary is not None:
            base["torchmetrics"] = lambda s=s, y=y: tm_binary(s, y)
        out.append(
            Case(
                "auroc",
                "auroc (binary)",
                f"n=2^{n.bit_length() - 1}",
                lambda s=s, y=y: F.auroc(s, y),
                base,
                repeats=5,
                floor=sort_floor(s),
            )
        )

    if device in (None, "cpu"):
        # the op's own sort: the same n keys with every sample in one class (one label read, no
        # counting merge); from 2^16 samples on that is the key-range bucket sort of
        # csrc/auroc/bucket_count.h (prefix count, one scatter, in-cache sorts), below it the split
        # radix sort. The floor column stays the project's LSD radix sort of the keys.
        n = 1 << 16 if quick else 1 << 23
        s, y = _binary(n, device)
        one_class = torch.zeros(n, dtype=torch.int8)
        out.append(
            Case(
                "auroc",
                "auroc (binary) vs its sort of the keys",
                f"n=2^{n.bit_length() - 1}",
                lambda s=s, y=y: F.auroc(s, y),
                {"its sort, one class": lambda s=s: torch.ops.torchauc.auroc_binary_stats(s, one_class, None)},
                repeats=7,
                rtol=None,
                floor=sort_floor(s),
            )
        )

    n = 1 << 16 if quick else 1 << 20
    s, y = _binary(n, device, seed=2)
    sn, yn = s.cpu().numpy(), y.cpu().numpy()
    out.append(
        Case(
            "auroc",
            "partial_auroc mcclish max_fpr=0.3",
            f"n=2^{n.bit_length() - 1}",
            lambda: F.partial_auroc(s, y, max_fpr=0.3, mcclish=True),
            {"sklearn max_fpr": lambda: sk(yn, sn, max_fpr=0.3)},
            repeats=5,
            floor=sort_floor(s),
        )
    )
    try:
        from XCurve.Metrics import PartialAUROC as XPartial

        xbase = {"XCurve PartialAUROC": lambda: XPartial(yn, sn, 0.5, 0.3)}
    except ImportError:
        xbase = {}
    out.append(
        Case(
            "auroc",
            "partial_auroc two-way (0.3, 0.5)",
            f"n=2^{n.bit_length() - 1}",
            lambda: F.partial_auroc(s, y, max_fpr=0.3, min_tpr=0.5),
            xbase,
            repeats=5,
            floor=sort_floor(s),
        )
    )

    n, C = (4096, 10) if quick else (65536, 100)
    S, Y = _multiclass(n, C, device)
    Sn, Yn = S.cpu().numpy(), Y.cpu().numpy()
    out.append(
        Case(
            "auroc",
            "multiclass_auroc ovo",
            f"{n}x{C}",
            lambda: F.multiclass_auroc(S, Y, mode="ovo"),
            {"sklearn ovo": lambda: sk(Yn, Sn, multi_class="ovo")},
            repeats=5,
            floor=multiclass_floor(S, Y),
        )
    )
    base = {"sklearn ovr": lambda: sk(Yn, Sn, multi_class="ovr")}
    if tm_multiclass is not None:
        base["torchmetrics"] = lambda S=S, Y=Y, C=C: tm_multiclass(S, Y, num_classes=C, average="macro")
    out.append(
        Case(
            "auroc",
            "multiclass_auroc ova",
            f"{n}x{C}",
            lambda: F.multiclass_auroc(S, Y, mode="ova"),
            base,
            repeats=5,
            floor=multiclass_floor(S, Y),
        )
    )

    B, C, H = (2, 19, 64) if quick else (8, 19, 128)
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(B, C, H, H, generator=g).to(device)
    labels = torch.randint(0, C, (B, H, H), generator=g).to(device)
    base = {}
    if tm_multiclass is not None:
        # torchmetrics softmaxes scores outside [0, 1]; the sigmoid keeps each column's order (so the
        # per-class AUROCs) and lands in [0, 1]
        probs = torch.sigmoid(logits)
        base["torchmetrics (N,C) copy"] = lambda C=C: tm_multiclass(
            probs.movedim(1, -1).reshape(-1, C), labels.reshape(-1), num_classes=C, average="macro"
        )
    out.append(
        Case(
            "auroc",
            "pixel_auroc",
            f"{B}x{C}x{H}x{H}",
            lambda: F.pixel_auroc(logits, labels, ignore_index=255, on_undefined="nan"),
            base,
            repeats=5,
            floor=multiclass_floor(logits, labels),
        )
    )

    if device == "cuda":
        n = 1 << 20 if quick else 100_000_000
        s, y = _binary(n, device, seed=4)
        out.append(
            Case(
                "auroc",
                "auroc (binary) vs device sort",
                f"n={n:.0e}",
                lambda: F.auroc(s, y),
                {"torch.sort (radix) of n keys": lambda: torch.sort(s)},
                repeats=5,
                rtol=None,
            )
        )
    return out
