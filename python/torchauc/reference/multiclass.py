"""Pure-PyTorch references of the multiclass / pixel-level AUC loss.

- ``multiclass_auc_loss_pairs``: the definition, pair by pair (float64 test oracle; a Python loop over
  class pairs, each an N_i x N_j pair matrix).
- ``xcurve_multiclass_auc_loss``: XCurve 1.1.0 ``AUROC.losses.StandardAUROC`` (``SquareAUCLoss``,
  ``ExpAUCLoss``, ``HingeAUCLoss``), multiclass path, line for line but on any device (XCurve calls
  ``.cuda()``). Its "hinge" is linear and its negative term lacks the N_i factor; absent classes
  give NaN.
- ``aucseg_auc_loss``: AUCSeg's ``mmseg/models/losses/auc_loss.py`` (the same, plus sigmoid,
  NCHW flattening, ignore_index pixels dropped, absent classes skipped, C_b in place of C).
These two are the official formulations (one-hot Y, a Python loop over classes), used as the
benchmark baselines."""

import torch


def _surrogate(surrogate, margin, t):
    if surrogate == "square":
        return 0.5 * (margin - t) ** 2
    if surrogate == "exp":
        return torch.exp(-margin * t)
    if surrogate == "hinge":
        return torch.relu(margin - t)
    if surrogate == "linear":
        return margin - t
    raise ValueError(f"unknown surrogate {surrogate!r}")


def multiclass_auc_loss_pairs(
    scores: torch.Tensor,
    labels: torch.Tensor,
    surrogate: str = "square",
    mode: str = "ovo",
    margin: float = 1.0,
    ignore_index: int | None = None,
    normalization: str = "present",
    activation: str = "none",
) -> torch.Tensor:
    """Brute force over every (positive, negative) pair of every class; scores (N, C) or (B, C, *)."""
    if scores.dim() > 2:  # (B, C, *) -> (B * prod(*), C)
        scores = scores.movedim(1, -1).reshape(-1, scores.shape[1])
    s = torch.sigmoid(scores) if activation == "sigmoid" else scores
    y = labels.reshape(-1)
    if ignore_index is not None:
        keep = y != ignore_index
        s, y = s[keep], y[keep]
    C = s.shape[1]
    counts = torch.bincount(y, minlength=C).tolist()
    n_total = sum(counts)
    present = [c for c in range(C) if counts[c] > 0]
    cb = len(present)
    if normalization == "present":
        F = cb * (cb - 1) if mode == "ovo" else (cb if cb >= 2 else 0)
    else:
        F = C * (C - 1) if mode == "ovo" else 1
    total = s.sum() * 0
    if F == 0:
        return total
    for i in present:
        x = s[y == i, i]
        for j in present:
            if j == i:
                continue
            z = s[y == j, i]
            w = 1.0 / (counts[i] * counts[j]) if mode == "ovo" else 1.0 / (counts[i] * (n_total - counts[i]))
            total = total + w * _surrogate(surrogate, margin, x[:, None] - z[None, :]).sum()
    return total / F


# ---------------------------------------------------------------- XCurve StandardAUROC (multiclass)
def _xcurve_class_term(surrogate, predi, Yi, Di, Ni, gamma, fac):
    if surrogate == "square":  # SquareAUCLoss.calLossPerCLassNaive
        diff = predi - gamma * Yi
        nD = Di.mul(1 - Yi)
        S = Ni * nD + (fac * Yi / Ni)
        diff = diff.reshape((-1,))
        S = S.reshape((-1,))
        A = diff.mul(S).dot(diff)
        nD = nD.reshape((-1,))
        Yi = Yi.reshape((-1,))
        B = diff.dot(nD) * Yi.dot(diff)
        return 0.5 * A - B
    if surrogate == "exp":  # ExpAUCLoss.calLossPerCLassNaive
        C1 = Yi * torch.exp(-gamma * predi)
        C2 = (1 - Yi) * torch.exp(gamma * predi)
        C2 = Di * C2
        return C1.sum() * C2.sum()
    if surrogate == "hinge":  # HingeAUCLoss.calLossPerCLassNaive: linear, missing N_i on delta2
        delta1 = (fac / Ni) * Yi * predi
        delta2 = Di * (1 - Yi) * predi
        return fac * gamma - delta1.sum() + delta2.sum()
    raise ValueError(f"unknown XCurve surrogate {surrogate!r}")


def xcurve_multiclass_auc_loss(
    pred: torch.Tensor, target, surrogate: str = "square", gamma: float = 1.0, transform: str = "ovo"
) -> torch.Tensor:
    """XCurve ``{Square,Exp,Hinge}AUCLoss(num_classes=C, gamma, transform)(pred, target)``, C > 2."""
    num_classes = pred.shape[1]
    factor = num_classes * (num_classes - 1) if transform == "ovo" else 1
    Y = torch.stack([target.eq(i).float() for i in range(num_classes)], 1).squeeze().to(pred.dtype)
    N = Y.sum(0)
    D = 1 / N[target.squeeze().long()]
    loss = torch.zeros(1, dtype=pred.dtype, device=pred.device)
    ones_vec = torch.ones_like(D)
    for i in range(num_classes):
        if transform == "ovo":
            Di = D / N[i]
        else:
            Di = (1.0 / (N[i] * (N.sum() - N[i]))) * ones_vec
        fac = (num_classes - 1) if transform == "ovo" else 1.0
        loss = loss + _xcurve_class_term(surrogate, pred[:, i], Y[:, i], Di, N[i], gamma, fac)
    return loss / factor


# ---------------------------------------------------------------- AUCSeg auc_loss.py
def aucseg_auc_loss(
    pred: torch.Tensor,
    target,
    surrogate: str = "square",
    gamma: float = 1.0,
    transform: str = "ovo",
    ignore_index: int = 255,
    loss_weight: float = 1.0,
) -> torch.Tensor:
    """AUCSeg ``{Square,Exp,Hinge}AUCLoss(num_classes=C, ...)(seg_logit, seg_label)``, C > 2."""
    num_classes = pred.shape[1]
    pred = torch.sigmoid(pred)
    pred = pred.transpose(0, 1).reshape(num_classes, -1).transpose(0, 1)
    target = target.reshape(-1)
    unmask = torch.where(target != ignore_index)[0]
    pred, target = pred[unmask, :], target[unmask]
    Y = torch.stack([target.eq(i).float() for i in range(num_classes)], 1).squeeze().to(pred.dtype)
    N = Y.sum(0)
    D = 1 / N[target.squeeze().long()]
    batch_num_classes = num_classes - torch.where(N == 0)[0].size()[0]
    factor = batch_num_classes * (batch_num_classes - 1) if transform == "ovo" else 1
    loss = torch.zeros(1, dtype=pred.dtype, device=pred.device)
    ones_vec = torch.ones_like(D)
    for i in range(num_classes):
        if N[i] == 0:
            continue
        if transform == "ovo":
            Di = D / N[i]
        else:
            Di = (1.0 / (N[i] * (N.sum() - N[i]))) * ones_vec
        fac = (batch_num_classes - 1) if transform == "ovo" else 1.0
        loss = loss + _xcurve_class_term(surrogate, pred[:, i], Y[:, i], Di, N[i], gamma, fac)
    return (loss / factor) * loss_weight


__all__ = ["multiclass_auc_loss_pairs", "xcurve_multiclass_auc_loss", "aucseg_auc_loss"]
