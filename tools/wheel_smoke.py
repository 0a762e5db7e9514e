"""`make wheel-check`, inside the fresh environment the wheel was installed into: the version names the
torch it is bound to, a loss runs, a torchmetrics metric works inside a MetricCollection."""

import importlib.metadata

import torch
from torchmetrics import MetricCollection

import torchauc
from torchauc.metrics.torchmetrics import AUROC, PartialAUROC

info = torchauc.build_info()
assert torchauc.__version__ == importlib.metadata.version("torchauc"), torchauc.__version__
assert f"+torch{'.'.join(torch.__version__.split('.')[:2])}." in torchauc.__version__, torchauc.__version__
requires = importlib.metadata.requires("torchauc")
assert any(r.replace(" ", "").startswith("torch==") for r in requires), requires

s, y = torch.tensor([0.9, 0.2, 0.4, 0.7]), torch.tensor([1, 0, 0, 1])
loss = torchauc.functional.pairwise_auc_loss(s.requires_grad_(), y)
loss.backward()
metrics = MetricCollection({"auroc": AUROC(), "pauc": PartialAUROC(max_fpr=0.5)})
metrics.update(s.detach(), y)
values = {k: float(v) for k, v in metrics.compute().items()}
assert values["auroc"] == 1.0, values
print("wheel ok:", torchauc.__version__, torchauc.__file__, f"loss {float(loss.detach()):.4f}", values, info)
