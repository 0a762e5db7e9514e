r"""List-stable AUPRC loss (SOPRC + variance term; Wen et al., NeurIPS 2022): :class:`ListStableAUPRCLoss`.

Inputs: L2-normalised embeddings (B, d) and identity labels (B,), the batch laid out as nc identities
x ns consecutive samples. For anchor a with sorted positive similarities s+_{a,k} (k < ns - 1) and
negative similarities s-_{a,j}:

.. math::
    L_{pn}[a,k] = \operatorname{mean}_j \ell_{pn}(s^+_{a,k} - s^-_{a,j}),\quad
    \ell_{pn}(x) = \begin{cases}(\min(x,\tau_1)/\tau_1 - 1)^2 & x \ge 0\\ 1 - 2x/\tau_1 & x < 0\end{cases}

    L_{pv}[a,k] = \frac{1 + \sum_{m<100} \ell_{pp}(s^+_{a,k} - v_{id,m})}{101},\quad
    \ell_{pp}(x) = \frac{2}{1 + e^{\min(x,0)/\tau_2}} - 1 \quad(\text{no gradient})

    \rho = \frac{1 - \pi_{id}}{\pi_{id}} \frac{L_{pn}}{L_{pv}},\qquad
    L = \operatorname{mean}\frac{\rho}{1 + \rho} + w_+ \operatorname{mean}(\mu_+ - s^+)_+^2
        + w_- \operatorname{mean}(s^- - \mu_-)_+^2

with v a per-identity EMA (rate beta) of 100 interpolated positive-score quantiles and
pi_id = prior_mul cnt_id / max cnt (1 / nc when prior_mul < 0). L_pn is exact in O(B^2 min(ns, log B))
time: for ns - 1 <= 8 positives per anchor directly on the (B, ns - 1, M) differences with a closed-form
gradient (no autograd graph; the default ns = 4); above that, without the (B, ns - 1, B) tensor XCurve
builds: sort each anchor's negatives once, prefix sums of s- and s-^2, and two binary searches per
positive (the surrogate is linear above s+ and quadratic on (s+ - tau1, s+]), O(B^2) memory.
"""

import functools
import math
from typing import Any

import torch
from torch import nn

from ._core import distributed as D
from ._core import validate as V

_NUM_V = 100  # quantiles kept per identity (XCurve's num_v)


@functools.lru_cache(maxsize=16)
def _layout_index(B, ns, device):
    """Column indices of the positives (B, ns - 1) and negatives (B, B - ns) of every anchor (cached:
    they depend on the batch layout only)."""
    cols = torch.arange(B, device=device)
    block = cols // ns
    same = block[:, None] == block[None, :]
    pos = cols[None, :].expand(B, B)[same & (cols[:, None] != cols[None, :])].reshape(B, ns - 1)
    neg = cols[None, :].expand(B, B)[~same].reshape(B, B - ns)
    return pos, neg


def _mean_pn_sorted(pos, neg, tau):
    """mean_j l_pn(pos[b, k] - neg[b, j]) for pos (B, P), neg (B, M), exact via sort + prefix sums
    (O(B M log M) time: for many positives per anchor)."""
    neg_sorted = neg.sort(dim=1)[0]
    zero = neg_sorted.new_zeros((neg.shape[0], 1))
    c1 = torch.cat([zero, neg_sorted.cumsum(1)], 1)
    c2 = torch.cat([zero, (neg_sorted * neg_sorted).cumsum(1)], 1)
    M = neg.shape[1]
    hi = torch.searchsorted(neg_sorted.detach(), pos.detach(), right=True)  # negatives <= s+
    lo = torch.searchsorted(neg_sorted.detach(), (pos - tau).detach(), right=True)  # negatives <= s+ - tau
    s1_hi, s1_lo, s2_hi, s2_lo = c1.gather(1, hi), c1.gather(1, lo), c2.gather(1, hi), c2.gather(1, lo)
    n_above = (M - hi).to(pos.dtype)
    above = n_above * (1 - 2 * pos / tau) + 2 * (c1[:, -1:] - s1_hi) / tau  # x < 0: 1 - 2 x / tau
    c = pos - tau  # (x / tau - 1)^2 = (c - s-)^2 / tau^2 on (s+ - tau, s+]
    nb = (hi - lo).to(pos.dtype)
    band = (nb * c * c - 2 * c * (s1_hi - s1_lo) + (s2_hi - s2_lo)) / (tau * tau)
    return (above + band) / M


class _MeanPNDirect(torch.autograd.Function):
    """mean_j l_pn(pos[b, k] - neg[b, j]) directly on the (B, P, M) differences, O(B P M) memory.
    With y = clamp(s+ - tau - s-, -tau, 0): l_pn = y^2 / tau^2 - 2 min(s+ - s-, 0) / tau and
    dl_pn/ds+ = 2 y / tau^2, so the gradient needs no graph: backward recomputes y and contracts it
    over P in one batched matmul. For the few positives of a batch layout (P = ns - 1, 3 by default)
    this beats the row sort of the negatives."""

    @staticmethod
    def _y(pos, neg, tau):
        return (pos[:, :, None] - tau - neg[:, None, :]).clamp_(-tau, 0)

    @staticmethod
    def forward(ctx, pos, neg, tau):
        M = neg.shape[1]
        y = _MeanPNDirect._y(pos, neg, tau)
        below = (pos[:, :, None] - neg[:, None, :]).clamp_max_(0).sum(2)  # sum of min(s+ - s-, 0)
        ctx.save_for_backward(pos, neg, y.sum(2).mul_(2 / (tau * tau * M)))
        ctx.tau = tau
        return (y.mul_(y).sum(2) / (tau * tau) - below * (2 / tau)) / M

    @staticmethod
    def backward(ctx, *grads):
        grad = grads[0]
        pos, neg, dpos = ctx.saved_tensors
        tau, M = ctx.tau, neg.shape[1]
        grad_neg = None
        if ctx.needs_input_grad[1]:
            coef = grad * (-2 / (tau * tau * M))
            grad_neg = torch.bmm(coef[:, None, :], _MeanPNDirect._y(pos, neg, tau)).squeeze(1)
        return grad * dpos, grad_neg, None


_DIRECT_MAX_POSITIVES = 8  # P direct passes vs a row sort of ~log2(M) passes: direct wins while P is small


def _mean_pn(pos, neg, tau):
    """mean_j l_pn(pos[b, k] - neg[b, j]) for pos (B, P), neg (B, M): O(B M min(P, log M)) time."""
    if pos.shape[1] <= _DIRECT_MAX_POSITIVES:
        return _MeanPNDirect.apply(pos, neg, tau)
    return _mean_pn_sorted(pos, neg, tau)


def _pos_part_sq_mean(d):
    """mean of d^2 over the entries with d > 0 (0 when there are none)."""
    r = d.clamp_min(0)
    return (r * r).sum() / torch.count_nonzero(r).clamp_min(1)


class ListStableAUPRCLoss(nn.Module):
    """XCurve's ``ListStableAUPRC`` (SOPRC + VarianceLoss, weights 1) as an ``nn.Module``.

    ``forward(feats (B, d), targets (B,))``. The per-identity quantiles ``v`` (n_id, 100) and priors are
    buffers (``state_dict``, ``.to()``), sized by :meth:`update_cnt_per_id` (or ``cnt_per_id=``); the
    EMA of ``v`` is updated in training mode only. A batch that is not nc identities x ns consecutive
    samples, or a call before the counts are set (with ``prior_mul >= 0``), is a ValueError. Where
    several anchors of one identity write its quantiles, the last anchor's update is kept (what
    XCurve's duplicate-index assignment does on CPU).

    ``process_group=`` (keyword; None = this rank's batch): the loss of the global batch (the ranks'
    blocks of whole identities concatenated in rank order: negatives come from every rank), through one
    autograd-aware all-gather of ``feats`` and ``targets`` (B d values; each rank gets the gradient of
    its own rows). Every rank then applies the same EMA to ``v``: the buffers stay identical.
    """

    def __init__(
        self,
        tau1: float = 0.1,
        tau2: float = 0.001,
        beta: float = 0.001,
        prior_mul: float = 0.1,
        num_sample_per_id: int = 4,
        var_reg_weight_pos: float = 5,
        var_reg_weight_neg: float = 1,
        *,
        cnt_per_id: Any = None,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.tau1: float = V.finite_float(tau1, "tau1")
        self.tau2: float = V.finite_float(tau2, "tau2")
        if self.tau1 <= 0 or self.tau2 <= 0:
            raise ValueError(f"tau1 and tau2 must be > 0, got {tau1}, {tau2}")
        self.beta: float = V.fraction(beta, "beta")
        self.prior_mul: float = V.finite_float(prior_mul, "prior_mul")
        if isinstance(num_sample_per_id, bool) or not isinstance(num_sample_per_id, int) or num_sample_per_id < 3:
            raise ValueError(
                f"num_sample_per_id must be an int >= 3 (two positives per anchor), got {num_sample_per_id}"
            )
        self.num_sample_per_id: int = num_sample_per_id
        self.var_reg_weight_pos: float = V.finite_float(var_reg_weight_pos, "var_reg_weight_pos")
        self.var_reg_weight_neg: float = V.finite_float(var_reg_weight_neg, "var_reg_weight_neg")
        self.register_buffer("v", torch.empty(0, _NUM_V))
        self.register_buffer("prior", torch.empty(0))
        if cnt_per_id is not None:
            self.update_cnt_per_id(cnt_per_id)

    def update_cnt_per_id(self, cnt_per_id: Any) -> None:
        """Sets the per-identity sample counts: resets the quantiles v to arange(100) / 100 and the
        priors to prior_mul cnt / max cnt."""
        cnt = torch.as_tensor(cnt_per_id, dtype=torch.float32, device=self.v.device).reshape(-1)
        if cnt.numel() == 0 or not bool((cnt > 0).all()):
            raise ValueError("cnt_per_id must be a non-empty sequence of positive counts")
        self.v: torch.Tensor = (torch.arange(_NUM_V, device=cnt.device) / _NUM_V).expand(cnt.numel(), _NUM_V).clone()
        self.prior: torch.Tensor = cnt * (self.prior_mul / cnt.max())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ("v", "prior"):  # the buffers are sized by the identity count of the checkpoint
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name], device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check(self, feats, targets):
        V.tensor(feats, "feats")
        V.tensor(targets, "targets")
        if feats.dim() != 2 or feats.shape[0] != targets.numel():
            raise ValueError(f"feats must have shape (B, d) with B = targets.numel() = {targets.numel()}, "
                             f"got {tuple(feats.shape)}")  # fmt: skip
        B, ns = targets.numel(), self.num_sample_per_id
        if B % ns != 0 or B // ns < 2:
            raise ValueError(f"the batch must hold nc >= 2 identities x num_sample_per_id = {ns} samples, got B = {B}")
        if self.prior_mul >= 0 and self.v.shape[0] == 0:
            raise ValueError("call update_cnt_per_id(cnt_per_id) (or pass cnt_per_id=) before the first forward")
        t = targets.reshape(B // ns, ns)
        ok = (t == t[:, :1]).all() & ((t[:, :1] == t[:1, :1]).sum() == 1)
        if self.prior_mul >= 0:
            ok = ok & (targets >= 0).all() & (targets < self.v.shape[0]).all()
        V.data_check(
            ok,
            f"targets must be nc distinct identities x {ns} consecutive samples each"
            + (f", ids in [0, {self.v.shape[0]})" if self.prior_mul >= 0 else ""),
        )

    def forward(self, feats: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if D.check_group(self.process_group) is not None:
            V.tensor(feats, "feats")
            feats, targets = D.gather_batch(self.process_group, feats, V.tensor(targets, "targets").reshape(-1))
        self._check(feats, targets)
        targets = targets.reshape(-1).long()
        B, ns = targets.numel(), self.num_sample_per_id
        nc = B // ns
        sim = feats @ feats.t()
        pidx, nidx = _layout_index(B, ns, feats.device)
        sim_pos, sim_neg = sim.gather(1, pidx), sim.gather(1, nidx)
        pos = sim_pos.sort(dim=1)[0]
        work = torch.promote_types(feats.dtype, torch.float32)  # half inputs: float32 sums over the negatives
        loss_pn = _mean_pn(pos.to(work), sim_neg.to(work), self.tau1).double()
        with torch.no_grad():
            if self.prior_mul >= 0:
                v = self._update_v(pos.detach(), targets).index_select(0, targets)
                # l_pp = 2 / (1 + e^z) - 1 with z = min(x, 0) / tau2 <= 0, in place; z clamped at -80, where
                # l_pp is already 1 in float32 and float64 (exp's underflow path is ~100x slower)
                x = pos.to(work)[:, :, None] - v.to(work)[:, None, :]
                lpp = x.clamp_max_(0).div_(self.tau2).clamp_min_(-80).exp_().add_(1).reciprocal_().mul_(2).sub_(1)
                loss_pv = ((1 + lpp.sum(-1)) / (lpp.shape[-1] + 1)).double()
                prior = self.prior.index_select(0, targets).double()[:, None]
            else:
                loss_pv = torch.ones_like(loss_pn)
                prior = torch.full_like(loss_pn[:, :1], 1.0 / nc)
        rho = (1 - prior) / prior * loss_pn / loss_pv
        soprc = (rho / (1 + rho)).mean().to(feats.dtype)
        var = self.var_reg_weight_pos * _pos_part_sq_mean(sim_pos.mean() - sim_pos)
        var = var + self.var_reg_weight_neg * _pos_part_sq_mean(sim_neg - sim_neg.mean())
        return soprc + var

    @torch.no_grad()
    def _update_v(self, score, targets):
        """XCurve's quantile interpolation and EMA; returns v (updated in training mode)."""
        if not self.training:
            return self.v
        B, P = score.shape
        n_intv = math.ceil(_NUM_V / P)
        alpha = (torch.arange(n_intv, device=score.device, dtype=score.dtype) / n_intv).view(1, 1, -1)
        s = score[:, :, None]
        left = torch.cat([torch.clamp(2 * score[:, :1] - score[:, 1:2], min=-1), score[:, :-1]], 1)[:, :, None]
        right = torch.cat([score[:, 1:], torch.clamp(2 * score[:, -1:] - score[:, -2:-1], max=1)], 1)[:, :, None]
        mid = ((s - left) * alpha + left + (right - s) * alpha + s).reshape(B, -1)[:, :_NUM_V]
        last = torch.arange(self.num_sample_per_id - 1, B, self.num_sample_per_id, device=score.device)
        ids = targets.index_select(0, last)
        self.v[ids] = (1 - self.beta) * self.v[ids] + self.beta / 2 * mid.index_select(0, last).to(self.v.dtype)
        return self.v

    def extra_repr(self) -> str:
        return (
            f"tau1={self.tau1}, tau2={self.tau2}, beta={self.beta}, prior_mul={self.prior_mul}, "
            f"num_sample_per_id={self.num_sample_per_id}, identities={self.v.shape[0]}"
        )


__all__ = ["ListStableAUPRCLoss"]
