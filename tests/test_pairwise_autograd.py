"""The C++ autograd of pairwise_auc_loss (csrc/pairwise/autograd.cpp): backward scales the fused
gradients in place or not at all, never touching a buffer someone else holds, and forward+backward
of the O(n) losses allocates one gradient buffer per differentiable input (measured in a subprocess
by its peak RSS)."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from torchauc import functional as F


def batch(n=5000, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64)
    y = torch.rand(n, generator=g) < 0.3
    return s, y


def test_raw_op_outputs_kept_by_the_caller_are_not_scaled_in_place():
    s, y = batch()
    x = s.clone().requires_grad_()
    loss, grad_s, _, _ = torch.ops.torchauc.pairwise_auc_loss(x, y, None, None, "square", 1.0, "mean", True)
    kept = grad_s.clone()
    (3.0 * loss).backward()
    torch.testing.assert_close(grad_s, kept, rtol=0, atol=0)
    torch.testing.assert_close(x.grad, 3.0 * kept)


@pytest.mark.parametrize("surrogate", ["square", "exp", "hinge"])
def test_only_the_inputs_that_require_grad_get_one(surrogate):
    s, y = batch(seed=1)
    a, b = torch.rand(5000, dtype=torch.float64), torch.rand(5000, dtype=torch.float64)
    wa, wb = a.clone().requires_grad_(), b.clone()
    F.pairwise_auc_loss(s, y, surrogate=surrogate, pos_weights=wa, neg_weights=wb).backward()
    full = torch.ops.torchauc.pairwise_auc_loss(s, y, a, b, surrogate, 1.0, "mean", True)
    torch.testing.assert_close(wa.grad, full[2], rtol=0, atol=0)
    assert wb.grad is None


def test_backward_through_a_call_without_gradients_is_an_error():
    x = torch.randn(10, requires_grad=True)
    y = torch.arange(10) % 2
    loss = torch.ops.torchauc.pairwise_auc_loss(x, y, None, None, "square", 1.0, "mean", False)[0]
    with pytest.raises(RuntimeError, match="compute_grad=False"):
        loss.backward()


def test_create_graph_keeps_the_dependence_on_the_incoming_gradient():
    s, y = batch(seed=2)
    x = s.clone().requires_grad_()
    loss = F.pairwise_auc_loss(x, y)
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    (g2,) = torch.autograd.grad(F.pairwise_auc_loss(x, y), x)
    torch.testing.assert_close(g.detach(), g2)


PEAK_SCRIPT = textwrap.dedent(
    """
    import sys, torch, torchauc
    torch.set_num_threads(1)
    n, surrogate, weighted = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
    x = torch.randn(n).requires_grad_()
    y = torch.rand(n) < 0.1
    w = [torch.rand(n).requires_grad_() for _ in range(2)] if weighted else [None, None]
    def step():
        torchauc.functional.pairwise_auc_loss(x, y, surrogate=surrogate, pos_weights=w[0],
                                              neg_weights=w[1]).backward()
        for t in (x, *w):
            if t is not None:
                t.grad = None
    step()  # warm-up: lazy initialisation is not the op's memory
    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    open("/proc/self/clear_refs", "w").write("5")
    base = rss("VmRSS:")
    torchauc.functional.pairwise_auc_loss(x, y, surrogate=surrogate, pos_weights=w[0], neg_weights=w[1]).backward()
    print(rss("VmHWM:") - base)
    """
)


@pytest.mark.parametrize(("surrogate", "weighted"), [("square", False), ("exp", False), ("square", True)])
def test_forward_backward_peaks_at_one_buffer_per_gradient(surrogate, weighted):
    """Peak extra memory of fwd+bwd: the gradients that become .grad (one float32 buffer per
    differentiable input), no second copy for the backward's scale."""
    n = 4_000_000
    buffers = 3 if weighted else 1
    # Every large block through mmap, returned on free: the RSS high-water mark is then the live
    # tensors' (glibc's adaptive threshold would otherwise keep freed warm-up blocks in its heap).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(n), surrogate, "1" if weighted else "0"],
                         capture_output=True, text=True, check=True, env=env)  # fmt: skip
    peak = int(out.stdout.split()[-1])
    assert peak < (buffers + 0.5) * 4 * n, f"peak {peak / 2**20:.1f} MiB for {buffers} gradient buffer(s)"


def test_compiled_weighted_loss_matches_eager_gradients():
    s, y = batch(n=300, seed=3)
    a, b = torch.rand(300, dtype=torch.float64), torch.rand(300, dtype=torch.float64)

    def loss(x, wa, wb):
        return 0.5 * F.pairwise_auc_loss(x, y, surrogate="exp", pos_weights=wa, neg_weights=wb)

    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")
    grads = []
    for fn in (loss, compiled):
        leaves = [t.clone().requires_grad_() for t in (s, a, b)]
        fn(*leaves).backward()
        grads.append([t.grad for t in leaves])
    torch.testing.assert_close(grads[1], grads[0])
