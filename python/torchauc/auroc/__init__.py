"""The exact AUROC family: functional metrics (:mod:`.functional`) and their stateful classes
(:mod:`.modules`: update / compute / reset, DDP-aware), which compute through the same functions."""

from . import distributed, functional, modules
from .functional import *  # noqa: F403
from .modules import *  # noqa: F403

__all__ = ["functional", "distributed", *functional.__all__, *modules.__all__]
