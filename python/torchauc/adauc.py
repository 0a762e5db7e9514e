r"""AdAUC (Hou et al., ICML 2022): the instance-wise min-max square AUC objective,
:func:`adauc_loss` and its modules :class:`AdAUCLoss` / :class:`RegAdAUCLoss`.

The attack is :func:`torchauc.adversarial.pgd`, the optimizer :class:`torchauc.optim.AdAUCOptimizer`.
"""

from typing import Any

import torch
from torch import nn

from ._core import distributed as D
from ._core import options as O
from ._core import validate as V


def _prior(labels, imratio):
    return None if imratio is None else V.fraction(imratio, "imratio")


def adauc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    alpha: torch.Tensor,
    *,
    imratio: float | None = None,
    margin: float = 1.0,
    form: str = "canonical",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""The AdAUC objective F(s; a, b, alpha), O(n), value and gradients in one fused pass.

    .. math::
        F = \frac{1-p}{n}\sum_{y=1}(s-a)^2 + \frac{p}{n}\sum_{y=0}(s-b)^2
            + \frac{2(m+\alpha)}{n}\Big(p\sum_{y=0}s - (1-p)\sum_{y=1}s\Big) - c\,\alpha^2

    with c = p(1-p) (``form="canonical"``, Ying et al. 2016 / LibAUC's AUCM) or c = p (``"xcurve"``,
    XCurve's ``AdvAUROCLoss``). Minimised over the model, a and b, maximised over alpha.

    Args:
        scores: (n,) or (n, 1) probabilities (sigmoid outputs), float16/bfloat16/float32/float64, n >= 1.
        labels: (n,) or (n, 1) values in {0, 1}.
        a, b, alpha: one-element floating tensors on the scores' device (differentiable).
        imratio: the positive prior p in [0, 1]; None = this batch's positive rate (XCurve caches the
            first batch's rate instead).
        margin: m (1 in the paper and XCurve).
        form: ``"canonical"`` or ``"xcurve"``.
        process_group: None (this rank's batch) or a torch.distributed group: F of the global batch
            (the ranks' batches concatenated in rank order, ``imratio=None`` then its positive rate),
            equal on every rank. F is a function of six label-grouped moments (n, n+, and the sums
            of s and s^2 per class), all-reduced in float64 (48 bytes, autograd through the sums:
            each rank gets the gradient of its own scores; a, b, alpha get the global gradient on
            every rank, so they stay synchronised).

    Returns a 0-dim tensor of the scores' dtype. One-class batches are fine (their terms vanish);
    NaN scores give NaN. Differentiable once.
    """
    for t, name in ((scores, "scores"), (labels, "labels"), (a, "a"), (b, "b"), (alpha, "alpha")):
        V.tensor(t, name)
    V.option(form, O.ADAUC_FORM)
    margin = V.finite_float(margin, "margin")
    if D.check_group(process_group) is not None:
        return _adauc_global(scores, labels, a, b, alpha, _prior(labels, imratio), margin, form, process_group)
    grad = V.needs_grad(scores, a, b, alpha)
    return torch.ops.torchauc.adauc_loss(scores, labels, a, b, alpha, _prior(labels, imratio), margin, form, grad)[0]


def _adauc_global(scores, labels, a, b, alpha, imratio, margin, form, group):
    """adauc_loss of the global batch from its all-reduced moments (float64)."""
    x = scores.reshape(-1).to(torch.float64)
    y = labels.reshape(-1)
    if bool(((y != 0) & (y != 1)).any()):
        raise ValueError("labels must hold values in {0, 1}")
    pos = y == 1
    sp, sn = torch.where(pos, x, 0.0), torch.where(pos, 0.0, x)
    npos, n = pos.sum().to(torch.float64), x.new_tensor(float(x.numel()))
    sums = torch.stack([sp.sum(), (sp * sp).sum(), sn.sum(), (sn * sn).sum(), npos, n])
    s1p, s2p, s1n, s2n, npos, n = D.all_reduce_sum_replicated(sums, group).unbind()
    p = npos / n if imratio is None else x.new_tensor(imratio)
    q = 1 - p
    c = p * q if form == "canonical" else p
    a, b, alpha = (t.reshape(()).to(torch.float64) for t in (a, b, alpha))
    sq = q * (s2p - 2 * a * s1p + npos * a * a) + p * (s2n - 2 * b * s1n + (n - npos) * b * b)
    f = (sq + 2 * (margin + alpha) * (p * s1n - q * s1p)) / n - c * alpha * alpha
    return f.to(scores.dtype)


def adauc_sample_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    alpha: torch.Tensor,
    *,
    imratio: float | None = None,
    margin: float = 1.0,
    form: str = "canonical",
) -> torch.Tensor:
    """Per-sample terms f_i of :func:`adauc_loss` (their mean is the loss), for per-sample attack
    tracking: elementwise, O(n), through autograd."""
    V.option(form, O.ADAUC_FORM)
    s = scores.reshape(-1)
    pos = labels.reshape(-1) == 1
    p = pos.to(s.dtype).mean() if imratio is None else V.fraction(imratio, "imratio")
    q = 1 - p
    c = p * q if form == "canonical" else p
    lin = 2 * (margin + alpha)
    f = torch.where(pos, q * (s - a) ** 2 - lin * q * s, p * (s - b) ** 2 + lin * p * s)
    return f - c * alpha**2


def _scalar(value):
    return nn.Parameter(torch.tensor(float(value)))


class AdAUCLoss(nn.Module):
    """AdAUC objective (see :func:`adauc_loss`) with a, b (minimised) and alpha (maximised) as
    registered parameters (0-dim, init 0.2 as XCurve): ``.to()``, ``state_dict()`` and DDP see them.

    ``forward(scores, labels)`` takes probabilities; :meth:`per_sample` gives the per-sample terms
    (for :func:`torchauc.adversarial.pgd`'s per-sample restarts). :meth:`param_groups` gives the
    groups :class:`torchauc.optim.AdAUCOptimizer` needs (alpha with ``maximize=True``).

    Drop-in: ``AdAUCLoss(imratio=p, form="xcurve")`` equals XCurve's ``AdvAUROCLoss(imratio=p)``.
    ``process_group=`` (keyword): the objective of the global batch, see :func:`adauc_loss`
    (:meth:`per_sample` stays per rank: it serves the local attack).

    Differences: the canonical form is the default; ``imratio=None`` uses each batch's rate (XCurve
    caches the first batch's); no ``.cuda()`` and no [0, 1] assertion (no host syncs).
    """

    a: nn.Parameter
    b: nn.Parameter
    alpha: nn.Parameter

    def __init__(
        self,
        imratio: float | None = None,
        margin: float = 1.0,
        form: str = "canonical",
        *,
        a: float = 0.2,
        b: float = 0.2,
        alpha: float = 0.2,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.imratio: float | None = None if imratio is None else V.fraction(imratio, "imratio")
        self.margin: float = V.finite_float(margin, "margin")
        self.form: str = V.option(form, O.ADAUC_FORM)
        self.a, self.b, self.alpha = _scalar(a), _scalar(b), _scalar(alpha)

    def _kw(self):
        return dict(imratio=self.imratio, margin=self.margin, form=self.form)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return adauc_loss(scores, labels, self.a, self.b, self.alpha, **self._kw(), process_group=self.process_group)

    def per_sample(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return adauc_sample_loss(scores, labels, self.a, self.b, self.alpha, **self._kw())

    def param_groups(self) -> list[dict[str, Any]]:
        """Optimizer groups of the loss variables: a, b descend; alpha ascends."""
        return [{"params": [self.a, self.b]}, {"params": [self.alpha], "maximize": True}]

    def extra_repr(self) -> str:
        return f"imratio={self.imratio}, margin={self.margin}, form={self.form!r}"


class RegAdAUCLoss(AdAUCLoss):
    """The regularised AdAUC objective F - lambda1 (alpha + a) - lambda2 (alpha - b + 1) (XCurve's
    ``RegAdvAUROCLoss``): Lagrange multipliers of alpha >= -a and alpha >= b - 1, init 1.0, registered
    parameters. :meth:`param_groups` adds them as a descent group clamped to [0, 5] (XCurve's range)."""

    lambda1: nn.Parameter
    lambda2: nn.Parameter

    def __init__(
        self,
        imratio: float | None = None,
        margin: float = 1.0,
        form: str = "canonical",
        *,
        a: float = 0.2,
        b: float = 0.2,
        alpha: float = 0.2,
        lambda1: float = 1.0,
        lambda2: float = 1.0,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__(imratio, margin, form, a=a, b=b, alpha=alpha, process_group=process_group)
        self.lambda1, self.lambda2 = _scalar(lambda1), _scalar(lambda2)

    def _penalty(self):
        return self.lambda1 * (self.alpha + self.a) + self.lambda2 * (self.alpha - self.b + 1)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return super().forward(scores, labels) - self._penalty()

    def per_sample(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return super().per_sample(scores, labels) - self._penalty()

    def param_groups(self) -> list[dict[str, Any]]:
        return super().param_groups() + [{"params": [self.lambda1, self.lambda2], "clamp": (0.0, 5.0)}]


__all__ = ["adauc_loss", "adauc_sample_loss", "AdAUCLoss", "RegAdAUCLoss"]
