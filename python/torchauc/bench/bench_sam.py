"""SAM family: optimizer overhead per step (everything but the model's forward/backward) on a
ResNet-18-sized parameter list, ours (multi-tensor) vs the per-parameter-loop implementations
(davda54/sam); total step time of SSE-SAM (3 or 2 forward passes) vs the official 4-pass schedule
and of ImbSAM vs the official code, on a small CNN."""

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F

from torchauc.optim import SAM, SSESAM, ImbSAM, split_head_tail
from torchauc.reference import sam as R

from .harness import Case


def resnet18_shapes():
    """The parameter shapes of torchvision's resnet18 (11.7M parameters, 62 tensors)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            c_in = cin if block == 0 else cout
            shapes += [(cout, c_in, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,), (cout,)]
            if block == 0 and (stride != 1 or cin != cout):
                shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
        cin = cout
    return shapes + [(1000, 512), (1000,)]


def param_list(device: torch.device | str | None, seed: int = 0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(s, generator=g).to(device) * 0.01) for s in resnet18_shapes()]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g).to(device) * 0.01
    return params


def sam_overhead(cls, device: torch.device | str | None) -> Callable[[], torch.Tensor]:
    params = param_list(device)
    opt = cls(params, torch.optim.SGD, rho=0.05, lr=1e-3, momentum=0.9)

    def run():
        opt.first_step()  # grads stay: the timed part is the optimizer's own work only
        opt.second_step()
        return params[0].detach()

    return run


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.c1, self.c2 = torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc = torch.nn.Linear(32 * 8 * 8, 10)

    def forward(self, x: torch.Tensor):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        return self.fc(F.max_pool2d(F.relu(self.c2(x)), 2).flatten(1))


TAIL = [7, 8, 9]


def head_tail(out, y: torch.Tensor):
    return split_head_tail(F.cross_entropy(out, y, reduction="none"), y, TAIL)


def step_case(kind, device: torch.device | str | None, n):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=g).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    sgd = functools.partial(torch.optim.SGD, lr=1e-3, momentum=0.9)

    def ours(switched, split=False):
        m = Net().to(device)
        if kind == "ImbSAM":
            opt = ImbSAM(m.parameters(), sgd, rho=0.05)
        else:
            opt = SSESAM(m.parameters(), sgd, rho_head=0.05, rho_tail=0.1, switch_epoch=0 if switched else None)
        if split:  # each pass on its group's rows only
            per_sample = functools.partial(F.cross_entropy, reduction="none")
            return lambda: opt.step_split(m, x, y, per_sample, TAIL, normalization="batch")
        return lambda: opt.step(lambda: head_tail(m(x), y))

    def official(switched):
        m = Net().to(device)
        opt = R.OfficialImbSAM(sgd(m.parameters()), m, rho=0.05)
        if kind == "ImbSAM":
            return lambda: R.imbsam_step(m, opt, x, y, head_tail)
        return lambda: R.ssesam_step(m, opt, x, y, head_tail, 0.0 if switched else 0.05, 0.1)

    if kind == "ImbSAM":
        return [Case("sam", "ImbSAM step", f"batch={n}", ours(False), {"official code": official(False)}, rtol=None,
                     note="2 F + 3 B both"),
                Case("sam", "ImbSAM step_split", f"batch={n}", ours(False, True), {"official code": official(False)},
                     rtol=None, note="passes on their group's rows: 1 + tail share (F + B) vs 2 F + 3 B")]  # fmt: skip
    split = [
        Case(
            "sam",
            f"SSE-SAM step_split ({'after' if sw else 'before'} switch)",
            f"batch={n}",
            ours(sw, True),
            {"official 4-pass schedule": official(sw)},
            rtol=None,
            note=f"passes on their group's rows: {'1 + tail share' if sw else '2'} (F + B) vs 4 F + 4 B",
        )  # fmt: skip
        for sw in (False, True)
    ]
    return split + [
        Case(
            "sam",
            f"SSE-SAM step ({'after' if sw else 'before'} switch)",
            f"batch={n}",
            ours(sw),
            {"official 4-pass schedule": official(sw)},
            rtol=None,
            note=f"{'2 F + 3 B' if sw else '3 F + 4 B'} vs 4 F + 4 B",
        )  # fmt: skip
        for sw in (False, True)
    ]


def cases(device: torch.device | str | None, quick: bool):
    out = [
        Case(
            "sam",
            "SAM first+second step",
            "resnet18 params (11.7M)",
            sam_overhead(SAM, device),
            {"davda54/sam (per-parameter)": sam_overhead(R.DavdaSAM, device)},
            repeats=5,
            rtol=None,
            note="optimizer overhead incl. SGD momentum step; passes over the 47 MB: ours 6 reads + 3 writes "
            "(norm; w+e into the spare; fused SGD), davda54 11 reads + 7 writes and a clone per step",
        )  # fmt: skip
    ]
    n = 32 if quick else 128
    for kind in ("SSE-SAM", "ImbSAM"):
        out += step_case(kind, device, n)
    return out
