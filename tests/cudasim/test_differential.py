"""Every op with a CUDA kernel, run through the CPU simulation of its CUDA glue and kernels
(torch.ops.torchauc_cudasim.*), against its CPU kernel (torch.ops.torchauc.*): the same outputs
(loss ops are fused, so that is values and gradients) on small random inputs with ties, weights,
NaN, odd sizes and every dtype, under the forward, reverse and seeded random schedules."""

import itertools
import zlib

import _simlib
import pytest
import torch

CPU = torch.ops.torchauc
SIMULATED = _simlib.DEVICE != "cuda"
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
SIZES = [1, 2, 255, 256, 257, 1000, 1537]
LABEL_DTYPES = [torch.int64, torch.bool, torch.float32, torch.uint8, torch.int32]
CASES = {}  # op name -> {case id: function(generator) -> args}


def case(op, cid):
    def register(make):
        CASES.setdefault(op, {})[cid] = make
        return make

    return register


def gen_for(cid):
    return torch.Generator().manual_seed(zlib.crc32(cid.encode()))


def scores(g, n, dtype, ties=True, nan=False, cols=None):
    shape = (n,) if cols is None else (n, cols)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    if ties:  # about half the values from a small grid: many ties, exact in every dtype
        grid = torch.randint(-4, 5, shape, generator=g).double() / 4
        x = torch.where(torch.rand(shape, generator=g) < 0.5, grid, x)
    if nan and n > 0:
        x.view(-1)[torch.randint(0, x.numel(), (1,), generator=g)] = float("nan")
    return x.to(dtype)


def binary_labels(g, n, dtype=torch.int64, p=0.3, cols=None):
    shape = (n,) if cols is None else (n, cols)
    y = torch.rand(shape, generator=g) < p
    return y.to(dtype)


def weights(g, n, dtype=torch.float64):
    return (torch.rand(n, generator=g, dtype=torch.float64) + 0.1).to(dtype)


# ---------------------------------------------------------------- pairwise
PAIR_SURROGATES = ["square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"]
for i, (sur, n) in enumerate(itertools.product(PAIR_SURROGATES, SIZES)):
    dtype, ldt = FLOATS[i % 4], LABEL_DTYPES[i % 5]
    w = ["none", "both", "pos"][i % 3]
    nan = i % 7 == 3

    @case("pairwise_auc_loss", f"{sur}-n{n}-{str(dtype)[6:]}-w{w}-nan{int(nan)}")
    def _(g, sur=sur, n=n, dtype=dtype, ldt=ldt, w=w, nan=nan, i=i):
        s = scores(g, n, dtype, nan=nan)
        a = weights(g, n, dtype) if w != "none" else None
        b = weights(g, n, dtype) if w == "both" else None
        margin = [1.0, 0.5, 2.0][i % 3]
        return (s, binary_labels(g, n, ldt), a, b, sur, margin, ["mean", "sum"][i % 2], i % 5 != 4)


for sur in PAIR_SURROGATES:

    @case("pairwise_auc_loss", f"{sur}-one-class-column")
    def _(g, sur=sur):
        return (scores(g, 9, torch.float32).view(9, 1), torch.ones(9, 1), None, None, sur, 1.0, "mean", True)


for i, sur in enumerate(PAIR_SURROGATES):

    @case("pairwise_auc_loss", f"{sur}-scaled")
    def _(g, sur=sur, i=i):
        s, a = scores(g, 257, FLOATS[i % 4]), weights(g, 257, FLOATS[i % 4]) if i % 2 else None
        return (s, binary_labels(g, 257), a, None, sur, 1.0, ["mean", "sum"][i % 2], True, [0.5, -0.3][i % 2])


@case("pairwise_auc_loss", "bad-label")
def _(g):
    return (scores(g, 5, torch.float32), torch.tensor([0, 1, 2, 0, 1]), None, None, "square", 1.0, "mean", True)


# ---------------------------------------------------------------- partial AUC
for i, n in enumerate(SIZES + [33]):
    rounding = ["floor", "ceil", "round"][i % 3]
    dtype = FLOATS[i % 4]

    @case("partial_auc_select", f"n{n}-{rounding}-{str(dtype)[6:]}")
    def _(g, n=n, rounding=rounding, dtype=dtype, i=i):
        fpr, tpr = [(0.3, 0.5), (1.0, 0.0), (0.0, 1.0), (0.77, 0.1)][i % 4]
        return (
            scores(g, n, dtype, nan=i % 3 == 1),
            binary_labels(g, n, LABEL_DTYPES[i % 5], p=0.4),
            fpr,
            tpr,
            rounding,
        )


def exp_args(g, op, s, y, margin, lam, sur):
    if op == "partial_auc_exp_rows":
        return (s, y, margin, lam, sur)
    return (s, y, (torch.rand(s.shape, generator=g, dtype=torch.float64) + 0.1).to(s.dtype), margin, lam, sur)


for op in ["partial_auc_exp_rows", "partial_auc_exp_cols"]:
    for i, (n, cols) in enumerate(itertools.product(SIZES, [None, 4])):  # cols: one problem per column
        sur, dtype = ["squared_hinge", "hinge"][i % 2], [torch.float32, torch.float64][(i // 2) % 2]
        nan = i % 5 == 3  # a NaN makes its problem's statistics NaN

        @case(op, f"n{n}-c{cols}-{sur}-{str(dtype)[6:]}-nan{int(nan)}")
        def _(g, op=op, n=n, cols=cols, sur=sur, dtype=dtype, nan=nan, i=i):
            s = torch.sigmoid(scores(g, n, torch.float64, nan=nan, cols=cols)).to(dtype)
            y = binary_labels(g, n, LABEL_DTYPES[i % 5], p=0.3, cols=cols)
            margin, lam = [(1.0, 1.0), (0.6, 0.1), (2.0, 5.0)][i % 3]
            return exp_args(g, op, s, y, margin, lam, sur)

    @case(op, "one-class-columns")  # three problems of n = 9: only positives, only negatives, both
    def _(g, op=op):
        y = binary_labels(g, 9, torch.float32, p=0.5, cols=3)
        y[:, 0], y[:, 1] = 1, 0
        return exp_args(g, op, scores(g, 9, torch.float32, cols=3), y, 1.0, 0.5, "squared_hinge")

    @case(op, "bad-label")
    def _(g, op=op):
        return exp_args(g, op, scores(g, 5, torch.float64), torch.tensor([0, 1, 2, 0, 1]), 1.0, 1.0, "hinge")


for i, n in enumerate(SIZES + [3000]):
    dtype, ldt = FLOATS[i % 4], LABEL_DTYPES[i % 5]
    min_tpr, omega = [0.0, 0.3][i % 2], [0.0, 0.5, 2.0][i % 3]

    @case("partial_auc_upauci", f"n{n}-{str(dtype)[6:]}-tpr{min_tpr}-w{omega}")
    def _(g, n=n, dtype=dtype, ldt=ldt, min_tpr=min_tpr, omega=omega, i=i):
        s = torch.sigmoid(scores(g, n, torch.float64, nan=i % 7 == 3)).to(dtype)
        c = torch.rand(n, generator=g, dtype=torch.float64).to([torch.float32, torch.float64][i % 2])
        p = torch.rand(7, generator=g, dtype=torch.float64)
        return (s, binary_labels(g, n, ldt, p=[0.3, 1.0, 0.0][i % 3] if n < 5 else 0.3), c, p, 0.3, min_tpr, omega,
                i % 4 != 1)  # fmt: skip


# ---------------------------------------------------------------- multiclass
MC_SHAPES = [(1, 3), (2, 2), (255, 4), (257, 3), (1000, 5), (2, 4, 5, 7), (1, 3, 16, 17), (3, 1)]
for i, (sur, act, mode, norm) in enumerate(
    itertools.product(["square", "exp", "hinge", "linear"], ["none", "sigmoid"], ["ovo", "ova"], ["present", "xcurve"])
):
    shape, dtype = MC_SHAPES[i % len(MC_SHAPES)], FLOATS[i % 4]
    ignore = i % 3 == 0

    @case("multiclass_auc_loss", f"{sur}-{act}-{mode}-{norm}-{'x'.join(map(str, shape))}-{str(dtype)[6:]}")
    def _(g, sur=sur, act=act, mode=mode, norm=norm, shape=shape, dtype=dtype, ignore=ignore, i=i):
        C = shape[1]
        x = scores(g, shape[0] * C * int(torch.tensor(shape[2:]).prod()), dtype, nan=i % 11 == 5)
        x = x.view(shape[0], C, *shape[2:])
        if len(shape) == 2:
            x = x.view(shape)
        lshape = (shape[0], *shape[2:])
        y = torch.randint(0, C, lshape, generator=g)
        if ignore:
            y = torch.where(torch.rand(lshape, generator=g) < 0.2, torch.full_like(y, 255), y)
        y = y.to([torch.int64, torch.int32, torch.uint8][i % 3])
        return (x, y, 255 if ignore else None, act, sur, mode, [1.0, 0.5][i % 2], norm, i % 4 != 3)


@case("multiclass_auc_loss", "bad-label")
def _(g):
    return (
        scores(g, 12, torch.float32).view(4, 3),
        torch.tensor([0, 1, 3, 2]),
        None,
        "none",
        "square",
        "ovo",
        1.0,
        "present",
        True,
    )


# ---------------------------------------------------------------- AUROC metrics
for i, (n, cols) in enumerate(itertools.product(SIZES, [None, 3])):
    dtype = FLOATS[i % 4]

    nan = i % 4 == 2  # NaN scores: a ValueError on every device

    @case("auroc_binary_stats", f"n{n}-cols{cols}-{str(dtype)[6:]}-nan{int(nan)}")
    def _(g, n=n, cols=cols, dtype=dtype, nan=nan, i=i):
        w = weights(g, n) if i % 3 == 1 else None
        return (scores(g, n, dtype, nan=nan, cols=cols), binary_labels(g, n, LABEL_DTYPES[i % 5], cols=cols), w)


AUROC_MC_SHAPES = [(1, 2), (257, 3), (1000, 4), (300, 6), (2, 5, 7, 9), (3, 3, 1, 85)]
for i, shape in enumerate(AUROC_MC_SHAPES):
    dtype = FLOATS[i % 4]

    @case("auroc_multiclass_stats", f"{'x'.join(map(str, shape))}-{str(dtype)[6:]}-nan{int(i == 2)}")
    def _(g, shape=shape, dtype=dtype, i=i):
        C, lshape = shape[1], (shape[0], *shape[2:])
        x = scores(g, int(torch.tensor(shape).prod()), dtype, nan=i == 2).view(shape)
        y = torch.randint(0, C, lshape, generator=g)
        y = torch.where(torch.rand(lshape, generator=g) < 0.1, torch.full_like(y, -100), y)
        w = weights(g, y.numel()).view(lshape) if i % 2 else None
        return (x, y, w, -100)


for i, n in enumerate(SIZES):
    dtype = FLOATS[i % 4]

    nan = i % 3 == 1

    @case("auroc_partial_stats", f"n{n}-{str(dtype)[6:]}-nan{int(nan)}")
    def _(g, n=n, dtype=dtype, nan=nan, i=i):
        fpr, tpr = [(0.3, 0.5), (1.0, 0.0), (0.05, 0.9)][i % 3]
        return (scores(g, n, dtype, nan=nan), binary_labels(g, n, LABEL_DTYPES[i % 5], p=0.4), fpr, tpr)

    @case("auroc_partial_area", f"n{n}-{str(dtype)[6:]}-nan{int(nan)}")
    def _(g, n=n, dtype=dtype, nan=nan, i=i):
        w = weights(g, n) if i % 2 else None
        return (
            scores(g, n, dtype, nan=nan),
            binary_labels(g, n, LABEL_DTYPES[i % 5], p=0.4),
            w,
            [0.3, 1.0, 0.01][i % 3],
        )


for i, n in enumerate(SIZES):
    dtype = FLOATS[i % 4]
    cols = [None, 3][i % 2]

    @case("auroc_average_precision", f"n{n}-{str(dtype)[6:]}-cols{cols}")
    def _(g, n=n, dtype=dtype, i=i, cols=cols):
        w = weights(g, n) if i % 3 == 1 else None
        return (scores(g, n, dtype, cols=cols), binary_labels(g, n, LABEL_DTYPES[i % 5], p=0.4, cols=cols), w)


# ---------------------------------------------------------------- autkc (per-row top-k selection)
for i, (B, C) in enumerate([(1, 2), (5, 7), (300, 11), (257, 100), (3, 1000)]):
    dtype = FLOATS[i % 4]

    @case("autkc_topk", f"B{B}-C{C}-{str(dtype)[6:]}")
    def _(g, B=B, C=C, dtype=dtype, i=i):
        k = [1, 3, 5, 1, 10][i]
        inc = i % 2 == 1
        return (scores(g, B * C, dtype, nan=i == 2).view(B, C), torch.randint(0, C, (B,), generator=g), k,
                [0.0, 1.0][i % 2], inc)  # fmt: skip


@case("autkc_topk", "bad-label")
def _(g):
    return (scores(g, 12, torch.float32).view(3, 4), torch.tensor([0, 4, 1]), 2, 0.0, False)


# the fused AUTKC loss: every surrogate (hinge on raw logits), m = k and k + 1, NaN rows, C = 2
AUTKC_SURROGATES = ["square", "exp", "logistic", "hinge"]
for i, (B, C) in enumerate([(1, 2), (5, 7), (300, 11), (257, 100), (3, 1000), (40, 6), (9, 3), (64, 33)]):
    dtype, sur = FLOATS[i % 4], AUTKC_SURROGATES[i % 4]

    @case("autkc_loss_rows", f"{sur}-B{B}-C{C}-{str(dtype)[6:]}")
    def _(g, B=B, C=C, dtype=dtype, sur=sur, i=i):
        k = min([1, 3, 5, 2, 10, 4, 1, 6][i], C - 1)
        m = min(k + i % 2, C - 1)
        return (scores(g, B * C, dtype, nan=i in (2, 5)).view(B, C), torch.randint(0, C, (B,), generator=g), k, m,
                sur, i % 3 != 2)  # fmt: skip


# the fused top-k cross entropy (surrogate "ce", m = k - 1 competitors left out): k = C, NaN and +-inf rows
for i, (B, C) in enumerate([(1, 2), (5, 7), (257, 100), (3, 1000), (9, 3)]):
    dtype = FLOATS[i % 4]

    @case("autkc_loss_rows", f"ce-B{B}-C{C}-{str(dtype)[6:]}")
    def _(g, B=B, C=C, dtype=dtype, i=i):
        k = min([1, 3, 5, 10, 3][i], C)
        x = scores(g, B * C, dtype, nan=i in (1, 2)).view(B, C)
        if i == 2:
            x[3, 4], x[7, 9] = float("inf"), -float("inf")
        return (x, torch.randint(0, C, (B,), generator=g), k, k - 1, "ce", i % 3 != 2)


# the reduced forms the losses call (0-dim loss, the gradient scaled by 1 / B for the mean), B = 0 included
for i, (B, C, red) in enumerate([(257, 100, "mean"), (5, 7, "sum"), (0, 4, "mean"), (33, 9, "sum")]):
    dtype, sur = FLOATS[i % 4], ["ce", "square", "exp", "hinge"][i]

    @case("autkc_loss_rows", f"{sur}-{red}-B{B}-C{C}-{str(dtype)[6:]}")
    def _(g, B=B, C=C, dtype=dtype, sur=sur, red=red, i=i):
        k = 3
        m = k - 1 if sur == "ce" else k
        return (scores(g, B * C, dtype, nan=i == 3).view(B, C), torch.randint(0, C, (B,), generator=g), k, m, sur,
                True, red)  # fmt: skip


@case("autkc_loss_rows", "bad-label")
def _(g):
    return (scores(g, 12, torch.float32).view(3, 4), torch.tensor([0, 4, 1]), 2, 2, "square", True)


# ---------------------------------------------------------------- memory bank
BANK_SHAPES = [(1, 1, 1), (2, 7, 13), (3, 16, 33), (1, 40, 64)]
for i, (B, H, W) in enumerate(BANK_SHAPES):
    ldt = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64][i % 5]

    @case("memory_bank_class_bbox", f"{B}x{H}x{W}-{str(ldt)[6:]}")
    def _(g, B=B, H=H, W=W, ldt=ldt):
        lab = torch.randint(0, 4, (B, H, W), generator=g)  # runs of equal labels come from the 0..3 range
        lab[torch.rand(B, H, W, generator=g) < 0.05] = 9  # outside num_classes: counted as invalid
        lab[torch.rand(B, H, W, generator=g) < 0.05] = 7  # ignore_index
        return (lab.to(ldt), 5, 7)


def gather_requests(g, B, H, W, R):
    rows, off = [], 0
    for _ in range(R):
        h, w = int(torch.randint(1, H + 1, (1,), generator=g)), int(torch.randint(1, W + 1, (1,), generator=g))
        y0, x0 = (
            int(torch.randint(0, H - h + 1, (1,), generator=g)),
            int(torch.randint(0, W - w + 1, (1,), generator=g)),
        )
        rows.append(
            [
                int(torch.randint(0, B, (1,), generator=g)),
                int(torch.randint(0, 4, (1,), generator=g)),
                y0,
                x0,
                h,
                w,
                off,
            ]
        )
        off += h * w
    return torch.tensor(rows, dtype=torch.int64).view(R, 7), off


IMAGE_DTYPES = [torch.uint8, torch.float32, torch.float64, torch.float16, torch.bfloat16]
for i, ((B, H, W), R) in enumerate(itertools.product(BANK_SHAPES[1:], [1, 3, 7])):
    idt = IMAGE_DTYPES[i % 5]

    @case("memory_bank_gather", f"{B}x{H}x{W}-R{R}-{str(idt)[6:]}")
    def _(g, B=B, H=H, W=W, R=R, idt=idt, i=i):
        req, P = gather_requests(g, B, H, W, R)
        img = (torch.rand(B, 3, H, W, generator=g) * 255).to(idt)
        lab = torch.randint(0, 4, (B, H, W), generator=g).to([torch.int64, torch.uint8, torch.int32][i % 3])
        return (img, lab, req, torch.zeros(P + 5, 3, dtype=idt), torch.zeros(P + 5, dtype=torch.bool))

    @case("memory_bank_paste", f"{B}x{H}x{W}-R{R}-{str(idt)[6:]}")
    def _(g, B=B, H=H, W=W, R=R, idt=idt, i=i):
        P = 400
        pool_img = (torch.rand(P, 3, generator=g) * 255).to(idt)
        pool_mask = torch.rand(P, generator=g) < 0.7
        rows = []
        for b in sorted(int(v) for v in torch.randint(0, B, (R,), generator=g)):
            sh, sw = int(torch.randint(1, 12, (1,), generator=g)), int(torch.randint(1, 12, (1,), generator=g))
            h, w = int(torch.randint(1, sh + 1, (1,), generator=g)), int(torch.randint(1, sw + 1, (1,), generator=g))
            y0, x0 = (
                int(torch.randint(0, sh - h + 1, (1,), generator=g)),
                int(torch.randint(0, sw - w + 1, (1,), generator=g)),
            )
            rh, rw = (
                int(torch.randint(1, 2 * sh + 1, (1,), generator=g)),
                int(torch.randint(1, 2 * sw + 1, (1,), generator=g)),
            )
            oy, ox = int(torch.randint(-3, H, (1,), generator=g)), int(torch.randint(-3, W, (1,), generator=g))
            off = int(torch.randint(0, P - h * w + 1, (1,), generator=g))
            rows.append([b, int(torch.randint(0, 100, (1,), generator=g)), oy, ox, rh, rw, sh, sw, y0, x0, h, w, off])
        img = (torch.rand(B, 3, H, W, generator=g) * 255).to(idt)
        lab = torch.randint(0, 4, (B, H, W), generator=g).to([torch.int64, torch.uint8, torch.int16][i % 3])
        return (img, lab, pool_img, pool_mask, torch.tensor(rows, dtype=torch.int64).view(-1, 13))


# ---------------------------------------------------------------- edge cases
EMPTY, EMPTY_Y = torch.empty(0), torch.empty(0, dtype=torch.int64)
SIGNED_ZEROS_INF = torch.tensor([float("inf"), -float("inf"), 0.0, -0.0, 1.0, float("inf"), -0.0, 0.0])
SIGNED_ZEROS_Y = torch.tensor([1, 0, 1, 0, 0, 1, 1, 0])
for sur in PAIR_SURROGATES:
    case("pairwise_auc_loss", f"{sur}-empty")(lambda g, sur=sur: (EMPTY, EMPTY_Y, None, None, sur, 1.0, "mean", True))
    case("pairwise_auc_loss", f"{sur}-inf-signed-zeros")(
        lambda g, sur=sur: (SIGNED_ZEROS_INF, SIGNED_ZEROS_Y, None, None, sur, 1.0, "mean", True)
    )
    case("pairwise_auc_loss", f"{sur}-strided-big-margin")(
        lambda g, sur=sur: (
            scores(g, 300, torch.float32)[::2],
            binary_labels(g, 150),
            weights(g, 300, torch.float32)[::2],
            None,
            sur,
            30.0,
            "sum",
            True,
        )
    )
case("auroc_binary_stats", "empty")(lambda g: (EMPTY, EMPTY_Y, None))
case("auroc_binary_stats", "inf-signed-zeros")(lambda g: (SIGNED_ZEROS_INF, SIGNED_ZEROS_Y, None))
case("auroc_partial_area", "inf-signed-zeros")(lambda g: (SIGNED_ZEROS_INF, SIGNED_ZEROS_Y, None, 0.5))
case("auroc_multiclass_stats", "empty-spatial")(
    lambda g: (torch.randn(4, 3, 0), torch.empty(4, 0, dtype=torch.int64), None, -100)
)
for sur in ["square", "exp", "hinge", "linear"]:
    case("multiclass_auc_loss", f"{sur}-empty")(
        lambda g, sur=sur: (torch.empty(0, 3), EMPTY_Y, None, "none", sur, "ovo", 1.0, "present", True)
    )
    case("multiclass_auc_loss", f"{sur}-all-ignored")(
        lambda g, sur=sur: (torch.randn(6, 3), torch.full((6,), 255), 255, "sigmoid", sur, "ovo", 1.0, "xcurve", True)
    )
    case("multiclass_auc_loss", f"{sur}-inf")(
        lambda g, sur=sur: (
            torch.tensor([[float("inf"), 0.0], [0.0, -float("inf")], [1.0, 2.0]]),
            torch.tensor([0, 1, 1]),
            None,
            "sigmoid",
            sur,
            "ova",
            1.0,
            "present",
            True,
        )
    )
case("memory_bank_class_bbox", "empty")(lambda g: (torch.zeros(2, 0, 4, dtype=torch.int64), 3, 255))
case("memory_bank_class_bbox", "negative-labels")(lambda g: (torch.randint(-3, 5, (2, 9, 70), generator=g), 3, -1))


# ---------------------------------------------------------------- cml
def cml_triplet_args(g, B, K, J, d, dtype, indexed, reduction):
    grid = lambda shape: (torch.randint(-2, 3, shape, generator=g).double() / 2).to(dtype)  # noqa: E731  (ties)
    if not indexed:
        return (grid((B, K, d)), grid((B, d)), grid((B, J, d)), None, None, None, 1.0, reduction)
    M, N = max(B // 3, 1), max(B // 2, 1)
    ui, pi, ni = (torch.randint(0, hi, shape, generator=g) for hi, shape in ((M, (B,)), (N, (B,)), (N, (B, J))))
    return (grid((M, K, d)), grid((N, d)), grid((N, d)), ui, pi, ni, 0.5, reduction)


for i, (B, K, J) in enumerate([(0, 1, 1), (1, 1, 1), (37, 5, 1), (300, 3, 10), (257, 1, 4)]):
    for indexed in (False, True):
        dtype, red = FLOATS[i % 4], ["sum", "mean"][i % 2]

        @case("cml_triplet_loss", f"B{B}-K{K}-J{J}-idx{int(indexed)}-{str(dtype)[6:]}")
        def _(g, B=B, K=K, J=J, dtype=dtype, indexed=indexed, red=red):
            return cml_triplet_args(g, B, K, J, 3, dtype, indexed, red)

        @case("cml_triplet_backward", f"B{B}-K{K}-J{J}-idx{int(indexed)}-{str(dtype)[6:]}")
        def _(g, B=B, K=K, J=J, dtype=dtype, indexed=indexed, red=red):
            a = cml_triplet_args(g, B, K, J, 3, dtype, indexed, red)
            argmin = CPU.cml_triplet_loss(*a)[1]
            return (torch.tensor(0.75, dtype=dtype), *a[:6], argmin, red)


for R_, J, N in [(0, 3, 5), (1, 1, 2), (300, 10, 50), (1000, 3, 2000)]:

    @case("cml_sample_negatives", f"R{R_}-J{J}-N{N}")
    def _(g, R_=R_, J=J, N=N):
        M = 40
        dense = torch.rand(M, N, generator=g) < 0.4
        dense[0, : N - 1] = True  # a user with a single negative
        indptr = torch.cat([torch.zeros(1, dtype=torch.long), dense.sum(1).cumsum(0)])
        return (indptr, dense.nonzero()[:, 1].contiguous(), torch.randint(0, M, (R_,), generator=g), N, J, 99)


for B, n, W, dtype in [
    (0, 5, 2, torch.float64),
    (3, 1, 1, torch.float32),
    (40, 300, 6, torch.float64),
    (7, 1000, 40, torch.float32),
]:

    @case("cml_rank_counts", f"B{B}-n{n}-W{W}-{str(dtype)[6:]}")
    def _(g, B=B, n=n, W=W, dtype=dtype):
        off = 5
        S = (torch.randint(-4, 5, (B, n), generator=g).double() / 4).to(dtype)  # many ties
        counts = torch.randint(0, W + 1, (B,), generator=g)
        perm = torch.rand(B, n + off, generator=g).argsort(1)
        test = perm[:, :W].sort(1).values  # W distinct items per row, ascending
        keep = torch.arange(W).unsqueeze(0) < counts.unsqueeze(1)
        tp = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
        ti = test[keep]
        q = (torch.randint(-4, 5, (B, W), generator=g).double() / 4).to(dtype).masked_fill(~keep, float("inf"))
        q, o = q.sort(dim=1, stable=True)
        qi = torch.where(keep, test, n + off).gather(1, o)
        train = perm[:, W : W + 3].sort(1).values
        rp = torch.arange(0, 3 * B + 1, 3)
        return (S, off, q, qi, tp, ti, rp, train.reshape(-1))


for i, (B, N, d, p) in enumerate(
    [(0, 4, 3, 0.5), (1, 1, 1, 1.0), (33, 70, 5, 0.3), (300, 40, 3, 0.6), (9, 1000, 2, 0.1)]
):
    dtype = FLOATS[i % 4]

    def cml_dots_args(g, B=B, N=N, d=d, p=p, dtype=dtype):
        T = torch.rand(B, N, generator=g) < p
        ptr = torch.cat([torch.zeros(1, dtype=torch.long), T.sum(1).cumsum(0)])
        U, V = (scores(g, n, dtype, cols=d) for n in (B, N))
        return U, V, ptr, T.nonzero()[:, 1].contiguous()

    case("cml_gather_dots", f"B{B}-N{N}-d{d}-{str(dtype)[6:]}")(cml_dots_args)

    @case("cml_gather_dots_backward", f"B{B}-N{N}-d{d}-{str(dtype)[6:]}")
    def _(g, make=cml_dots_args, dtype=dtype):
        U, V, ptr, idx = make(g)
        return (scores(g, idx.numel(), dtype), U, V, ptr, idx)


@case("cml_sample_negatives", "user-runs")  # CSR-order runs: the CPU bitmap path vs the CUDA binary search
def _(g):
    dense = torch.rand(20, 300, generator=g) < 0.3
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), dense.sum(1).cumsum(0)])
    users = torch.randint(0, 20, (400,), generator=g).sort().values
    return (indptr, dense.nonzero()[:, 1].contiguous(), users, 300, 5, 7)


for name, row in [("unsorted-row", [3, 1, 4]), ("repeat-in-row", [1, 4, 4])]:  # a ValueError on every device

    @case("cml_sample_negatives", name)
    def _(g, row=row):
        return (torch.tensor([0, 2, 5, 5]), torch.tensor([0, 2, *row]), torch.tensor([0, 2]), 6, 3, 5)


@case("cml_sample_negatives", "full-user")
def _(g):
    return (torch.tensor([0, 2]), torch.tensor([0, 1]), torch.tensor([0]), 2, 1, 5)


# ---------------------------------------------------------------- sod
def sod_masks(g, B, H, W, p=0.4):
    return (torch.rand(B, H, W, generator=g) < p).float()


def sod_boxes(g, B, H, W, K):
    """(boxes, counts): random boxes (some overlapping, some empty, some the whole image)."""
    x = torch.randint(0, W + 1, (B, K, 2), generator=g).sort(-1).values
    y = torch.randint(0, H + 1, (B, K, 2), generator=g).sort(-1).values
    boxes = torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)
    if K:
        boxes[0, 0] = torch.tensor([0, 0, W, H])
    counts = torch.randint(0, K + 1, (B,), generator=g)
    return boxes, counts


SOD_SHAPES = [(1, 1, 1), (2, 7, 13), (3, 16, 33), (1, 40, 64), (2, 1, 257)]
for i, (B, H, W) in enumerate(SOD_SHAPES):
    for conn in (4, 8):

        @case("sod_frames", f"{B}x{H}x{W}-c{conn}")
        def _(g, B=B, H=H, W=W, conn=conn, i=i):
            m = sod_masks(g, B, H, W, p=[0.3, 0.5, 0.6][i % 3])
            return (m.to([torch.float32, torch.uint8, torch.float64][i % 3]), 0.5, [0, 3, 1][i % 3], conn)

    for base in (1, 2, 3):
        dtype = FLOATS[(i + base) % 4]

        @case("sod_si_loss", f"{B}x{H}x{W}-base{base}-{str(dtype)[6:]}")
        def _(g, B=B, H=H, W=W, base=base, dtype=dtype, i=i):
            C = 1 + i % 3
            pred = torch.rand(B, C, H, W, generator=g, dtype=torch.float64)
            pred[pred < 0.05] = 0.0  # clamped logs
            boxes, counts = sod_boxes(g, B, H, W, [0, 1, 3, 6][i % 4])
            return (pred.to(dtype), sod_masks(g, B, H, W).to(dtype), boxes, counts, base, base != 2 or i % 2 == 0)

    for official in (False, True):

        @case("sod_frame_stats", f"{B}x{H}x{W}-official{int(official)}")
        def _(g, B=B, H=H, W=W, official=official, i=i):
            dtype = FLOATS[i % 4]
            pred = (torch.rand(B, H, W, generator=g, dtype=torch.float64) * 8).round() / 8  # ties on thresholds
            boxes, counts = sod_boxes(g, B, H, W, [0, 2, 4, 7][i % 4])
            thr = torch.linspace(0, 1, [2, 9, 100][i % 3])
            target = sod_masks(g, B, H, W) if i % 2 else torch.rand(B, H, W, generator=g)  # soft targets
            return (pred.to(dtype), (1 - pred).to(dtype), target.to(dtype), boxes, counts, thr, official)


case("sod_si_loss", "nan")(
    lambda g: (
        torch.full((1, 1, 3, 4), float("nan")),
        torch.zeros(1, 3, 4),
        torch.tensor([[[0, 0, 2, 2]]]),
        torch.tensor([1]),
        3,
        True,
    )
)
# ---------------------------------------------------------------- adauc
for i, n in enumerate(SIZES):
    dtype, ldt = FLOATS[i % 4], LABEL_DTYPES[i % 5]
    nan = i % 7 == 3

    @case("adauc_loss", f"n{n}-{str(dtype)[6:]}-nan{int(nan)}")
    def _(g, n=n, dtype=dtype, ldt=ldt, nan=nan, i=i):
        s = scores(g, n, dtype, nan=nan)
        a, b, alpha = (torch.randn((), generator=g, dtype=torch.float64).to(dtype) for _ in range(3))
        form, imratio = ["canonical", "xcurve"][i % 2], [None, 0.3, None][i % 3]
        return (s, binary_labels(g, n, ldt), a, b, alpha, imratio, [1.0, 0.5][i % 2], form, i % 4 != 3)


case("adauc_loss", "one-class-column")(
    lambda g: (
        scores(g, 9, torch.float32).view(9, 1),
        torch.ones(9, 1),
        *(torch.tensor(0.2),) * 3,
        None,
        1.0,
        "canonical",
        True,
    )  # fmt: skip
)
case("adauc_loss", "bad-label")(
    lambda g: (
        scores(g, 5, torch.float32),
        torch.tensor([0, 1, 2, 0, 1]),
        *(torch.tensor(0.2),) * 3,
        None,
        1.0,
        "xcurve",
        True,
    )  # fmt: skip
)
# ---------------------------------------------------------------- aucm (LibAUC's AUC-M losses)
# (rows, cols): one column, a partial column tile, several tiles (grid-stride over tiles and chunks)
AUCM_SHAPES = [(1, 1), (2, 3), (257, 1), (255, 10), (1000, 3), (37, 70), (1537, 2)]
for i, (rows, cols) in enumerate(AUCM_SHAPES):
    dtype, ldt = FLOATS[i % 4], LABEL_DTYPES[i % 5]
    nan = i % 7 == 5

    @case("aucm_moments", f"{rows}x{cols}-{str(dtype)[6:]}")
    def _(g, rows=rows, cols=cols, dtype=dtype, ldt=ldt):
        return (scores(g, rows, dtype, cols=cols), binary_labels(g, rows, ldt, cols=cols))

    @case("aucm_loss", f"{rows}x{cols}-{str(dtype)[6:]}-nan{int(nan)}")
    def _(g, rows=rows, cols=cols, dtype=dtype, ldt=ldt, nan=nan, i=i):
        s, y = scores(g, rows, dtype, nan=nan, cols=cols), binary_labels(g, rows, ldt, cols=cols)
        a, b, alpha = (torch.randn(cols, generator=g, dtype=torch.float64).to(dtype) for _ in range(3))
        version = ["v1", "v2"][i % 2]
        prior = weights(g, cols) / 2 if version == "v1" and i % 3 == 0 else None
        w = weights(g, cols) if i % 3 == 1 else None
        return (s, y, a, b, alpha, prior, w, None, [1.0, 0.5][i % 2], version, i % 4 != 3)


@case("aucm_loss", "given-moments")
def _(g):
    s, y = scores(g, 40, torch.float32, cols=3), binary_labels(g, 40, cols=3)
    m = CPU.aucm_moments(s, y) * 3  # a global batch three times this one
    return (s, y, *(torch.rand(3, generator=g) for _ in range(3)), None, None, m, 1.0, "v1", True)


@case("aucm_loss", "neither-side-labels")
def _(g):
    s, y = scores(g, 30, torch.float64, cols=2), torch.randint(-1, 3, (30, 2), generator=g)
    abc = (torch.rand(2, generator=g, dtype=torch.float64) for _ in range(3))
    return (s, y, *abc, None, None, None, 1.0, "v2", True)


case("aucm_loss", "bad-version")(
    lambda g: (
        scores(g, 5, torch.float32, cols=1),
        torch.ones(5, 1),
        *(torch.zeros(1),) * 3,
        None,
        None,
        None,
        1.0,
        "v3",
        True,
    )
)
PGD_SHAPES = [(1, 1), (3, 5), (2, 3, 17, 9), (5, 600), (7, 257)]
for i, (shape, norm) in enumerate(itertools.product(PGD_SHAPES, ["linf", "l2"])):
    dtype = FLOATS[i % 4]

    @case("adauc_pgd_step", f"{norm}-{'x'.join(map(str, shape))}-{str(dtype)[6:]}")
    def _(g, shape=shape, norm=norm, dtype=dtype, i=i):
        x = torch.rand(shape, generator=g, dtype=torch.float64).to(dtype)
        d = ((torch.rand(shape, generator=g, dtype=torch.float64) - 0.5) * 0.2).to(dtype)
        grad = scores(g, shape[0], dtype, cols=int(torch.tensor(shape[1:]).prod())).view(shape)
        clamp = [(0.0, 1.0), (-float("inf"), float("inf"))][i % 2]
        return (x, d, grad, [0.03, 0.5][i % 2], 0.01, norm, *clamp)


# ---------------------------------------------------------------- sam (ATen-only CUDA glue)
SAM_SHAPES = [(3, 4), (5,), (0,), (2, 3, 2), (257,)]


def sam_lists(g, count, dtype):
    """count parallel parameter lists, one tensor per shape of SAM_SHAPES."""
    return [[torch.randn(sh, generator=g, dtype=torch.float64).to(dtype) for sh in SAM_SHAPES] for _ in range(count)]


for dtype, given_norm in itertools.product([torch.float64, torch.float32], [False, True]):

    @case("sam_perturb", f"{str(dtype)[6:]}-norm{int(given_norm)}")
    def _(g, dtype=dtype, given_norm=given_norm):
        p, d, out = sam_lists(g, 3, dtype)
        norm = torch.tensor(2.5, dtype=torch.float64) if given_norm else None
        return (p, d, out, [0.05, 0.1, 0.05, 0.2, 0.05], 1e-12, norm)


for i, (dtype, momentum, fresh) in enumerate(itertools.product([torch.float64, torch.float32], [0.0, 0.9], [0, 1])):

    @case("sam_sgd_step", f"{str(dtype)[6:]}-m{momentum}-fresh{fresh}")
    def _(g, dtype=dtype, momentum=momentum, fresh=fresh, i=i):
        p, grads, buf = sam_lists(g, 3, dtype)
        buffers = buf if momentum else []
        return (
            p,
            grads,
            buffers,
            bool(fresh),
            0.1,
            momentum,
            [0.0, 0.1][i % 2],
            [0.0, 1e-3][i % 2],
            i % 3 == 0,
            i % 4 == 1,
        )


# ---------------------------------------------------------------- grouped pair sums
PAIR_SUMS_SURROGATES = ["logistic", "squared_hinge", "hinge", "squared", "barrier_hinge"]
for i, (sur, n, k) in enumerate(itertools.product(PAIR_SUMS_SURROGATES, [1, 257, 1000], [1, 4])):
    dtype = [torch.float32, torch.float64][i % 2]

    @case("grouped_pair_sums", f"{sur}-n{n}-k{k}-{str(dtype)[6:]}")
    def _(g, sur=sur, n=n, k=k, dtype=dtype, i=i):
        groups = 1 + i % 3
        cuts = torch.sort(torch.randint(0, n + 1, (groups - 1,), generator=g)).values
        off = torch.cat([torch.zeros(1, dtype=torch.long), cuts, torch.tensor([n])])
        nq = 1 + (n * 7) % 13
        x = scores(g, n, dtype, nan=i % 5 == 3) * (8 if sur == "logistic" else 1)  # logistic: both tails
        w = weights(g, k * n, dtype).view(k, n)
        margin, scale = [(1.0, 1.0), (0.5, -0.5), (-0.3, 3.0)][i % 3]
        return (
            scores(g, nq, dtype),
            torch.randint(0, groups, (nq,), generator=g),
            x,
            off,
            w,
            sur,
            margin,
            scale,
            [1.0, -1.0][i % 2],
        )


@case("grouped_pair_sums", "empty-groups")
def _(g):
    # the AP losses' layout on CUDA: queries of a trailing empty group (entries that are not anchors) sum nothing
    x, w = scores(g, 9, torch.float32), weights(g, 18, torch.float32).view(2, 9)
    return (scores(g, 6, torch.float32), torch.tensor([0, 3, 1, 3, 2, 3]), x, torch.tensor([0, 4, 4, 9, 9]), w,
            "squared_hinge", 1.0, 1.0, 1.0)  # fmt: skip


@case("grouped_pair_sums", "bad-offsets")
def _(g):
    x, w = scores(g, 4, torch.float32), weights(g, 4, torch.float32).view(1, 4)
    return (
        scores(g, 3, torch.float32),
        torch.zeros(3, dtype=torch.long),
        x,
        torch.tensor([0, 5]),
        w,
        "hinge",
        1.0,
        1.0,
        1.0,
    )


# ---------------------------------------------------------------- comparison
def tolerance(dtype):
    return {torch.float64: 1e-9, torch.float32: 2e-4, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}.get(dtype, 0.0)


def assert_same(cpu, sim, where, input_tol=0.0):
    """Equal outputs: integers exactly, floats to the rounding of the output dtype or of the least
    precise floating input (a float32 op may return float64 sums), relative to the output's scale."""
    if isinstance(cpu, (tuple, list)):
        assert len(cpu) == len(sim), where
        for k, (c, s) in enumerate(zip(cpu, sim)):
            assert_same(c, s, f"{where}[{k}]", input_tol)
        return
    if not isinstance(cpu, torch.Tensor):
        assert cpu == sim, where
        return
    assert cpu.dtype == sim.dtype and cpu.shape == sim.shape, (
        f"{where}: {cpu.dtype}{tuple(cpu.shape)} vs {sim.dtype}{tuple(sim.shape)}"
    )
    tol = tolerance(cpu.dtype)
    if tol == 0.0:  # integer / bool outputs
        assert torch.equal(cpu, sim), f"{where}: {cpu} vs {sim}"
        return
    tol = max(tol, input_tol)
    finite = cpu.detach().double().abs().nan_to_num(0.0, 0.0, 0.0)
    scale = float(finite.max()) if finite.numel() else 0.0
    torch.testing.assert_close(
        sim, cpu, rtol=tol, atol=tol * max(scale, 1e-300), equal_nan=True, msg=lambda m: f"{where}: {m}"
    )


def clone_args(args):
    def clone(a):
        if isinstance(a, list) and a and isinstance(a[0], torch.Tensor):
            return [t.clone() for t in a]  # tensor lists (the SAM ops write into theirs)
        return a.clone() if isinstance(a, torch.Tensor) else a

    return tuple(clone(a) for a in args)


def run(call):
    """(outputs, None) or (None, the exception)."""
    try:
        return call(), None
    except (RuntimeError, ValueError, TypeError, IndexError) as e:
        return None, e


# The loss ops check labels on the device (core/labels.h: torch._assert_async, no host sync): a bad
# label raises the rule with "(device-side check)" appended, a RuntimeError (in the simulation at
# once; on a GPU "device-side assert triggered" at the next sync), where the CPU raises a ValueError
# with the rule, the offending value and index.
DEVICE_CHECK = " (device-side check)"


def device_checked(cpu_err, sim_err):
    if not (isinstance(cpu_err, ValueError) and isinstance(sim_err, RuntimeError)):
        return False
    rule, marker, _ = str(sim_err).partition(DEVICE_CHECK)
    assert marker and rule in str(cpu_err), f"CPU raised {cpu_err!r}, CUDA raised {sim_err!r}"
    return True


def bad_labels(op, args):
    """Whether the CPU kernel rejects these arguments for a label rule that the CUDA op checks on the device."""
    try:
        getattr(CPU, op)(*clone_args(args))
    except ValueError as e:
        return "must contain only 0 and 1" in str(e) or "must be class indices" in str(e)
    except (RuntimeError, TypeError, IndexError):
        pass
    return False


# the AUROC kernels also have a deterministic path (torch.use_deterministic_algorithms)
ALL_CASES = [
    (op, cid, det)
    for op, cases in sorted(CASES.items())
    for cid in cases
    for det in ([False, True] if op.startswith("auroc") else [False])
]


@pytest.mark.parametrize(
    "op,cid,deterministic",
    ALL_CASES,
    ids=[f"{op}-{cid}" + ("-deterministic" if det else "") for op, cid, det in ALL_CASES],
)
def test_cuda_kernel_matches_cpu(op, cid, deterministic, schedule):
    args = CASES[op][cid](gen_for(cid))
    if not SIMULATED and bad_labels(op, args):
        pytest.skip("a bad label is a device-side assert on a GPU, which ends the CUDA context")
    prev = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(deterministic)
    try:
        cpu_args = clone_args(args)
        cpu, cpu_err = run(lambda: (getattr(CPU, op)(*cpu_args), _simlib.tensors_of(cpu_args)))
        sim_args = clone_args(args)
        if SIMULATED:
            torch.ops.cudasim.take_pending_error()
        sim, sim_err = run(lambda: _simlib.call_cuda(op, sim_args))
        pending = torch.ops.cudasim.take_pending_error() if SIMULATED else ""
    finally:
        torch.use_deterministic_algorithms(prev)
    assert not pending, f"a launch error was left unchecked by the glue: {pending}"
    if device_checked(cpu_err, sim_err):
        return
    assert type(cpu_err) is type(sim_err), f"CPU raised {cpu_err!r}, CUDA raised {sim_err!r}"
    if cpu_err is None:
        input_tol = max(
            [tolerance(a.dtype) for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()], default=0.0
        )
        assert_same(cpu, sim, f"{op}[{cid}, {schedule}]", input_tol)


def test_paste_skips_a_class_the_labels_cannot_hold():
    # the CPU kernel rejects such a row; the CUDA kernel skips invalid rows (no host sync) and used
    # to write the class truncated (300 -> 44 in uint8 labels)
    img, lab = torch.rand(1, 2, 4, 4), torch.zeros(1, 4, 4, dtype=torch.uint8)
    req = torch.tensor([[0, 300, 0, 0, 4, 4, 4, 4, 0, 0, 4, 4, 0], [0, 7, 0, 0, 4, 4, 4, 4, 0, 0, 2, 2, 0]])
    pool_img, pool_mask = torch.rand(30, 2), torch.ones(30, dtype=torch.bool)
    with pytest.raises(ValueError, match="does not fit"):
        CPU.memory_bank_paste(img.clone(), lab.clone(), pool_img, pool_mask, req)
    _, (img_out, lab_out, *_) = _simlib.call_cuda(
        "memory_bank_paste", (img.clone(), lab.clone(), pool_img, pool_mask, req)
    )
    want_img, want_lab = img.clone(), lab.clone()
    CPU.memory_bank_paste(want_img, want_lab, pool_img, pool_mask, req[1:])
    assert torch.equal(lab_out, want_lab) and torch.equal(img_out, want_img)


def test_every_cuda_op_has_differential_cases():
    ops = _simlib.cuda_op_names()
    assert ops, "no op with a CUDA kernel found"
    missing = [op for op in ops if not CASES.get(op)]
    assert not missing, f"ops with a CUDA kernel but no differential case: {missing}"
    stale = sorted(set(CASES) - set(ops))
    assert not stale, f"differential cases for ops without a CUDA kernel: {stale}"


# CUDA ops whose glue is ATen only (no .cu kernel of their own), and why
ATEN_ONLY = {
    "sam_perturb": "ATen's _foreach ops already fuse a chunk of the parameter list per launch",
    "sam_sgd_step": "ATen's _foreach ops already fuse a chunk of the parameter list per launch",
}


@pytest.mark.skipif(not SIMULATED, reason="counts the harness's launches")
@pytest.mark.parametrize("op", [op for op in _simlib.cuda_op_names() if op not in ATEN_ONLY] if SIMULATED else [])
def test_differential_cases_reach_the_kernels(op):
    # the cases must run the op's .cu kernels, not only the ATen steps of its glue
    torch.ops.cudasim.configure("forward", 0)  # resets the launch counter
    for cid, make in CASES[op].items():
        try:
            _simlib.call_cuda(op, clone_args(make(gen_for(cid))))
        except (ValueError, RuntimeError):
            pass  # cases of invalid input raise on both sides
    assert torch.ops.cudasim.launch_count() > 0, f"no differential case of {op} launched a CUDA kernel"
