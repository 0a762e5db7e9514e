"""Row and column pair sums of the AP losses (compat.libauc_ap), one class per surrogate family, all
with one interface over a (n, C) float64 batch h (C independent label columns) and K weight vectors
stacked (K, n, C), l_ij = l(h_i - h_j) within a column:

* ``rows(w)``: (value, d value / d k) with value_i = sum_j w_j l_ij (k = -h_i up to a constant;
  only the anchor rows are read by the caller);
* ``cols(g)``: (value, d value / d h_j) with value_j = sum_i g_i l_ij (g is zero off the anchors).

No class forms an n x n (or n+ x n) matrix: polynomial surrogates by sort + scan, the piecewise
linear barrier hinge by sort + scan at each breakpoint, the logistic (and every surrogate on
small batches) by a tiled kernel.
"""

import math

import torch

from .._core import validate as V


def _suffix(x):
    """(K, n + 1, C): [k, r] holds sum_{r' >= r} x[k, r']."""
    return torch.cat([x.flip(1).cumsum(1).flip(1), x.new_zeros((x.shape[0], 1, x.shape[2]))], 1)


def _prefix(x):
    """(K, n + 1, C): [k, r] holds sum_{r' < r} x[k, r']."""
    return torch.cat([x.new_zeros((x.shape[0], 1, x.shape[2])), x.cumsum(1)], 1)


def _search(sorted_cols, values, right):
    """Per column searchsorted of (n, C) values in (n, C) column-sorted data."""
    return torch.searchsorted(sorted_cols.t().contiguous(), values.t().contiguous(), right=right).t()


def _poly(kind, k, m):
    """sum w (k + key)^p and its k-derivative from the moments m = (sum w, sum w key, sum w key^2)."""
    km0 = k * m[0]
    if kind == "hinge":
        return km0 + m[1], m[0]
    value = torch.addcmul(m[2], km0.add(m[1], alpha=2), k)  # (k m0 + 2 m1) k + m2
    return value, km0.add_(m[1]).mul_(2)


class _PairSums:
    """Sorted view of a (n, C) float64 batch that answers, for K weight vectors at once (stacked
    (K, n, C)), the row sums sum_j w_j l(k_i + h_j) and their k-derivatives, and the column sums
    sum_i g_i l(m - h_i + h_j) and their h_j-derivatives."""

    def __init__(self, h, margin, kind):
        self.h, self.m, self.kind = h, margin, kind
        self.hs, self.order = torch.sort(h, 0)
        n = h.shape[0]
        if kind == "squared":  # every pair is active
            self.row_first = torch.zeros_like(h, dtype=torch.long)
            self.col_count = torch.full_like(h, n, dtype=torch.long)
        else:
            self.row_first = _search(self.hs, h - margin, right=True)  # first sorted h_j > h_i - m
            self.col_count = _search(self.hs, h + margin, right=False)  # anchors with h_i < h_j + m

    def _moments(self, w, key, scan, at):
        """Scanned sums of (w, w key, w key^2) in sorted order, read at index ``at``: 3 x (K, n, C)."""
        K = w.shape[0]
        ws = w.gather(1, self.order.expand(K, -1, -1))
        wk = ws * key
        parts = [ws, wk] if self.kind == "hinge" else [ws, wk, wk * key]
        sums = scan(torch.cat(parts, 0)).gather(1, at.expand(len(parts) * K, -1, -1))
        return sums.split(K, 0)

    def rows(self, w):
        """(value, d value / d k) per row: sum_j w_j l(k + h_j) over the active j."""
        k = self.m - self.h
        m = self._moments(w, self.hs, _suffix, self.row_first)
        return _poly(self.kind, k, m)

    def cols(self, g):
        """(value, d value / d h_j) per column: sum_i g_i l(m - h_i + h_j) over the active i."""
        z = self.h
        e = self._moments(g, self.m - self.hs, _prefix, self.col_count)
        return _poly(self.kind, z, e)


def _upper_envelope(lines):
    """Pieces (lo, hi, slope, intercept) of t -> max_l (slope_l t + intercept_l) over the real line,
    each on [lo, hi): the line on top between consecutive pairwise crossings (checked at a point
    inside each interval), adjacent intervals with the same line merged."""
    cuts = sorted({(b2 - b1) / (a1 - a2) for i, (a1, b1) in enumerate(lines) for a2, b2 in lines[i + 1 :] if a1 != a2})
    bounds = [-math.inf, *cuts, math.inf]
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        probe = (lo + hi) / 2 if math.isfinite(lo) and math.isfinite(hi) else (hi - 1 if math.isfinite(hi) else lo + 1)
        if not math.isfinite(probe):  # no crossing at all: one piece
            probe = 0.0
        top = max(lines, key=lambda ab: ab[0] * probe + ab[1])
        if pieces and pieces[-1][2:] == top:
            pieces[-1] = (pieces[-1][0], hi, *top)
        else:
            pieces.append((lo, hi, *top))
    return pieces


class _LinearPieces:
    """l(t) = slope t + intercept on each piece [lo, hi) of t = h_i - h_j (barrier hinge: the upper
    envelope of -s (m + t) + m, m - t and s (t - m)). Per piece, a row sums w over the sorted h_j in
    (h_i - hi, h_i - lo] and a column g over the h_i in [h_j + lo, h_j + hi): two ``searchsorted``
    per piece into prefix sums of (w, w h)."""

    def __init__(self, h, hparam):
        m, s = hparam
        self.h = h
        self.pieces = _upper_envelope([(-s, m - s * m), (-1.0, m), (s, -s * m)])
        self.hs, self.order = torch.sort(h, 0)

    def _prefix_sums(self, w):
        """(2K, n + 1, C): prefix sums of w and w h in sorted order."""
        K = w.shape[0]
        ws = w.gather(1, self.order.expand(K, -1, -1))
        return _prefix(torch.cat([ws, ws * self.hs], 0)), K

    def _ranged(self, pre, K, lo_at, hi_at):
        """(sum w, sum w h) over the sorted positions [lo_at, hi_at) of every column: 2 x (K, n, C)."""
        sums = pre.gather(1, hi_at.expand(2 * K, -1, -1)) - pre.gather(1, lo_at.expand(2 * K, -1, -1))
        return sums.split(K, 0)

    def rows(self, w):
        pre, K = self._prefix_sums(w)
        value, dvalue = torch.zeros_like(w), torch.zeros_like(w)
        for lo, hi, a, b in self.pieces:  # at most three pieces: a loop over breakpoints, not data
            first = _search(self.hs, self.h - hi, right=True)
            end = _search(self.hs, self.h - lo, right=True)
            W, WH = self._ranged(pre, K, first, end)
            value += (a * self.h + b) * W - a * WH
            dvalue -= a * W  # d/dk = -d/dh_i
        return value, dvalue

    def cols(self, g):
        pre, K = self._prefix_sums(g)
        value, dvalue = torch.zeros_like(g), torch.zeros_like(g)
        for lo, hi, a, b in self.pieces:
            first = _search(self.hs, self.h + lo, right=False)
            end = _search(self.hs, self.h + hi, right=False)
            G, GH = self._ranged(pre, K, first, end)
            value += a * GH + (b - a * self.h) * G
            dvalue -= a * G
        return value, dvalue


class _TiledSums:
    """Any surrogate by ``torch.ops.torchauc.grouped_pair_sums`` (a tiled kernel, O(n) memory): rows
    only at the anchors (O(n+ n) pairs), columns over the anchors of their own label; the labels are
    the op's groups. The logistic always (it is not piecewise polynomial), the others on small
    batches, where one kernel call beats the sort + scan's few dozen tensor ops. ``compact=False``
    (CUDA) groups the anchors without a host size: ``where`` then orders every entry (see __init__)."""

    def __init__(self, h, hparam, kind, anchors, dtype, compact):
        n, C = h.shape
        self.n, self.C, self.kind = n, C, kind
        m, s = hparam if kind == "barrier_hinge" else (hparam, hparam)
        self.margin, self.scale = float(m), float(s)
        self.flat = h.t().reshape(-1).to(dtype)  # label-major: label c holds [c n, (c + 1) n)
        labels = torch.arange(C, device=h.device)
        self.sample_label = labels.repeat_interleave(n)
        self.sample_offsets = torch.arange(C + 1, device=h.device) * n
        is_anchor = anchors.t().reshape(-1)
        count_offsets = torch.cat([labels.new_zeros(1), anchors.sum(0).cumsum(0)])
        if compact:  # the anchors, grouped by label, by a host-sized nonzero
            self.where = is_anchor.nonzero().squeeze(1)
            self.anchor_label = torch.div(self.where, n, rounding_mode="floor")
            self.anchor_offsets = count_offsets
        else:
            # no host size (CUDA): every entry, the anchors first (grouped by label), then the others as
            # one more group C, which no column query reads and which is empty for the row queries (an
            # entry that is not an anchor sums nothing)
            end = labels.new_full((1,), n * C)
            key = torch.where(is_anchor, self.sample_label, C)
            self.anchor_label, self.where = torch.sort(key, stable=True)
            self.anchor_offsets = torch.cat([count_offsets, end])
            self.sample_offsets = torch.cat([self.sample_offsets, end])
        self.anchors = self.flat[self.where]

    def _flat(self, w):
        return w.transpose(1, 2).reshape(w.shape[0], -1).to(self.flat.dtype)

    def _unflat(self, x):
        return x.reshape(x.shape[0], self.C, self.n).transpose(1, 2)

    def _op(self, queries, group, items, offsets, weights, sign):
        return torch.ops.torchauc.grouped_pair_sums(
            queries, group, items, offsets, weights, self.kind, self.margin, self.scale, sign
        )

    def rows(self, w):
        # t = h_i - h_j: queries the anchors h_i, items every h_j of the label, sign +1
        v, dq = self._op(self.anchors, self.anchor_label, self.flat, self.sample_offsets, self._flat(w), 1.0)
        value = v.new_zeros((w.shape[0], self.C * self.n))
        dvalue = torch.zeros_like(value)
        value[:, self.where] = v
        dvalue[:, self.where] = -dq  # d/dk = -d/dh_i
        return self._unflat(value), self._unflat(dvalue)

    def cols(self, g):
        # t = h_i - h_j = -(h_j - h_i): queries every h_j, items the label's anchors h_i, sign -1
        weights = self._flat(g)[:, self.where]
        v, dq = self._op(self.flat, self.sample_label, self.anchors, self.anchor_offsets, weights, -1.0)
        return self._unflat(v), self._unflat(dq)


# Batches with at most this many pairs (n^2 C) take the tiled kernel for every surrogate.
SMALL_BATCH_PAIRS = 1 << 16


def surrogate_hparam(kind, margin):
    """LibAUC's ``margin`` argument for ``kind``: a finite float, or (m, s) for ``barrier_hinge``."""
    if kind != "barrier_hinge":
        return V.finite_float(margin, "margin")
    if not isinstance(margin, (tuple, list)) or len(margin) != 2:
        raise ValueError(f"surr_loss='barrier_hinge' needs margin=(m, s) (margin and scale), got {margin!r}")
    return (V.finite_float(margin[0], "margin[0] (m)"), V.finite_float(margin[1], "margin[1] (s)"))


def make_pair_sums(h, hparam, kind, anchors, dtype, compact):
    """The pair-sum strategy of surrogate ``kind`` over the float64 batch h; ``anchors`` (n, C) bool
    marks the rows that will be read, ``dtype`` the compute type of the tiled logistic kernel (the
    piecewise polynomials are summed in float64); ``compact``: the tiled kernel may size its anchors on
    the host (CPU; on CUDA that read would wait for the GPU)."""
    if kind == "logistic":
        return _TiledSums(h, hparam, kind, anchors, dtype, compact)
    if h.shape[0] ** 2 * h.shape[1] <= SMALL_BATCH_PAIRS:
        return _TiledSums(h, hparam, kind, anchors, torch.float64, compact)
    if kind == "barrier_hinge":
        return _LinearPieces(h, hparam)
    return _PairSums(h, hparam, kind)
