"""Pure-PyTorch references of the open-world family: the GMoP loss as the official code computes it
(explicit n+ x n- pair matrix per detector, per-detector class lists), as a test oracle and the
benchmark baseline."""

import torch
import torch.nn.functional as F


def gmop_auc_pairs(scores: torch.Tensor, is_id, w_pos, w_neg) -> torch.Tensor:
    """mean_{p in ID, q in OOD} w_p w_q (1 - (r_p - r_q))^2 from the pair matrix (official form)."""
    sp, sn = scores[is_id], scores[~is_id]
    W = w_pos[is_id][:, None] * w_neg[~is_id][None, :]
    return (W * (1 - (sp[:, None] - sn[None, :])) ** 2).mean()


def gmop_loss(
    logits: torch.Tensor,
    detector_logits,
    labels: torch.Tensor,
    clip_logits: torch.Tensor,
    alpha: float = 0.5,
    lam: float = 1.0,
) -> torch.Tensor:
    """The official GMoP batch loss: CE + alpha mean_k CE_k (ignore -1) + lam mean_k AUC_k (pair matrices)."""
    K, C = len(detector_logits), logits.shape[1]
    y = labels.long()
    w = torch.sigmoid(torch.softmax(logits, 1).gather(1, y[:, None])[:, 0])
    with torch.no_grad():
        v = torch.sigmoid(torch.softmax(clip_logits, 1).gather(1, y[:, None])[:, 0])
    ce_det, auc = [], []
    for k in range(K):
        id_classes = [j for j in range(C) if j % K != k]
        column = {j: i for i, j in enumerate(id_classes)}
        target = torch.tensor([column.get(int(t), -1) for t in y], device=y.device)
        ce_det.append(F.cross_entropy(detector_logits[k], target, ignore_index=-1))
        r = torch.softmax(detector_logits[k], 1).max(1).values
        auc.append(gmop_auc_pairs(r, target >= 0, w, v))
    return F.cross_entropy(logits, y) + alpha * torch.stack(ce_det).mean() + lam * torch.stack(auc).mean()


__all__ = ["gmop_auc_pairs", "gmop_loss"]
