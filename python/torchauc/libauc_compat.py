"""The LibAUC drop-ins under their first name; they live in :mod:`torchauc.compat.libauc`."""

from .compat.libauc import pAUC_CVaR_Loss, pAUC_DRO_Loss, tpAUC_KL_Loss

__all__ = ["pAUC_CVaR_Loss", "pAUC_DRO_Loss", "tpAUC_KL_Loss"]
