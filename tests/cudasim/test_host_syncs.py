"""Issue 16: no loss op waits for the GPU. The harness records every host synchronisation of a
simulated op (csrc/cudasim: a device-to-host copy or stream sync through the shadow CUDA runtime,
and each torch op that would wait for a GPU: .item(), bool(t), nonzero, masked_select, .cpu(), ...),
named by its cause; each loss op, on every differential case with valid input, must record none.
Label checks are device-side asserts there (torch._assert_async), compaction sizes stay on the device.

On a GPU (TORCHAUC_DIFF_DEVICE=cuda, benchmarks/gpu.sh) the same tests run the real kernels under
torch.cuda.set_sync_debug_mode("error").

Not asserted: the metrics and the CML sampler (their results go to the host anyway: AUROC's
outputs, the sampler's CSR check) and the SAM optimizer ops."""

import contextlib
import warnings

import _loss_steps
import _simlib
import pytest
import torch
from test_differential import CASES, clone_args, gen_for

CPU = torch.ops.torchauc
SIMULATED = _simlib.DEVICE != "cuda"

# Every loss op with a CUDA kernel: the losses (pairwise, partial AUC, multiclass / pixel, adauc,
# SOD, CML triplet, AUTKC, UPAUCI, the AP losses' grouped pair sums, the LibAUC pAUC DRO / KL
# drop-ins' exp row / column sums) and the AUCSeg memory bank steps that run in the loss's step.
LOSS_OPS = [
    "adauc_loss",
    "adauc_pgd_step",
    "aucm_loss",
    "aucm_moments",
    "autkc_loss_rows",
    "autkc_topk",
    "cml_gather_dots",
    "cml_gather_dots_backward",
    "cml_triplet_backward",
    "cml_triplet_loss",
    "grouped_pair_sums",
    "memory_bank_class_bbox",
    "memory_bank_gather",
    "memory_bank_paste",
    "multiclass_auc_loss",
    "pairwise_auc_loss",
    "partial_auc_exp_cols",
    "partial_auc_exp_rows",
    "partial_auc_select",
    "partial_auc_upauci",
    "sod_frames",
    "sod_si_loss",
]
# Loss ops that still synchronise, and why. A strict expectation: the test fails when one of them
# stops syncing, so that the list stays true.
STILL_SYNCING: dict[str, str] = {}
# Python-level steps whose CUDA path the simulation cannot take: a branch on the device type that does not
# go through torchauc._core.devices (the branches that do are turned to their CUDA side by routed_to_cuda_kernels)
CPU_BRANCH_ONLY: dict[str, str] = {}  # none left: partial_auc_loss and the LibAUC pAUC steps branch there


def valid_cases(op):
    """The differential cases of `op` whose inputs the CPU kernel accepts."""
    for cid, make in CASES[op].items():
        args = make(gen_for(cid))
        try:
            getattr(CPU, op)(*clone_args(args))
        except (RuntimeError, ValueError, TypeError, IndexError):
            continue
        yield cid, args


@contextlib.contextmanager
def recorded():
    """Yields the list of host syncs of the block: the simulation's record, or on a GPU the first
    synchronisation that torch's sync debug mode turns into an error."""
    found = []
    if SIMULATED:
        torch.ops.cudasim.record_host_syncs()
        try:
            yield found
        finally:
            found.extend(torch.ops.cudasim.take_host_syncs())
        return
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield found
    except RuntimeError as e:
        if "synchroniz" not in str(e):
            raise
        found.append(str(e).splitlines()[0])
    finally:
        torch.cuda.set_sync_debug_mode("default")


def host_syncs(op, args):
    if SIMULATED:
        call, args = getattr(torch.ops.torchauc_cudasim, op), clone_args(args)
    else:  # the outputs stay on the GPU (copying them back would be a sync)
        call, args = getattr(CPU, op), tuple(_simlib._to(a, "cuda") for a in args)
        call(*clone_args(args))  # warm-up: first-call set-up may synchronise
    with recorded() as syncs:
        call(*args)
    return syncs


@contextlib.contextmanager
def routed_to_cuda_kernels():
    """In the simulation: every torchauc op with a CUDA kernel runs its simulated CUDA glue and
    kernels in place of its CPU kernel, so the public API's CUDA path runs on CPU tensors; the Python
    branches of torchauc._core.devices take their CUDA side (the LibAUC pAUC batch keeps its class
    sizes on the device). Other branches on the device type keep their CPU side (CPU_BRANCH_ONLY)."""
    if not SIMULATED:
        yield "cuda"
        return
    from torchauc._core import devices

    lib = torch.library.Library("torchauc", "IMPL")
    host_reads_free = devices.host_reads_free
    devices.host_reads_free = lambda t: False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
            for name in _simlib.cuda_op_names():
                sim = getattr(torch.ops.torchauc_cudasim, name)
                lib.impl(name, lambda *args, _sim=sim: _sim(*args), "CPU")
        yield "cpu"
    finally:
        lib._destroy()
        devices.host_reads_free = host_reads_free


@pytest.mark.parametrize("op", LOSS_OPS)
def test_loss_op_has_no_host_sync(op):
    assert op in CASES, f"{op}: no differential cases"
    found = {}
    checked = 0
    for cid, args in valid_cases(op):
        checked += 1
        syncs = host_syncs(op, args)
        if syncs:
            found[cid] = sorted(set(syncs))
    assert checked, f"{op}: no differential case with valid input"
    if op in STILL_SYNCING:
        if not SIMULATED:
            pytest.xfail(STILL_SYNCING[op])
        assert found, f"{op} no longer syncs: remove it from STILL_SYNCING ({STILL_SYNCING[op]})"
        return
    assert not found, f"{op} synchronises with the host: {dict(list(found.items())[:3])}"


@pytest.mark.parametrize("name", sorted(_loss_steps.STEPS))
def test_loss_training_step_has_no_host_sync(name):
    if SIMULATED and name in CPU_BRANCH_ONLY:
        pytest.skip(CPU_BRANCH_ONLY[name])
    with routed_to_cuda_kernels() as device:
        step, leaves = _loss_steps.prepare(name, device)
        step()  # warm-up (first-call set-up)
        for t in leaves:
            t.grad = None
        with recorded() as syncs:
            step()
    assert all(t.grad is not None for t in leaves), name
    assert not syncs, f"{name}: {sorted(set(syncs))}"


@pytest.mark.skipif(not SIMULATED, reason="the simulation's recorder")
def test_recorder_sees_torch_and_runtime_syncs():
    # the recorder itself: a value read, a data-dependent size and a device move count; a device
    # assert (torch._assert_async, which reads the flag on the CPU only) and plain math do not
    x = torch.arange(5.0)
    torch.ops.cudasim.record_host_syncs()
    torch._assert_async(x.ge(0).all(), "never raised")
    y = (x * 2).sort().values.cumsum(0)
    assert torch.ops.cudasim.take_host_syncs() == []
    torch.ops.cudasim.record_host_syncs()
    float(y[-1])
    x.nonzero()
    x[x > 1]
    x.to("cpu", torch.float64)  # outside a simulated op a device argument is no evidence of a copy
    syncs = torch.ops.cudasim.take_host_syncs()
    assert syncs.count("aten::_local_scalar_dense") == 1, syncs
    assert syncs.count("aten::nonzero") == 2, syncs  # boolean-mask indexing goes through nonzero
    assert len(syncs) == 3, syncs
    torch.ops.cudasim.record_host_syncs()
    torch.ops.cudasim.copy_to_host_selftest(x)  # a glue's .cpu(): a copy to the host
    assert torch.ops.cudasim.take_host_syncs() == ["aten::to"]
    assert torch.ops.cudasim.selftest("host_sync") == "cudaMemcpy D2H,cudaStreamSynchronize"
    torch.ops.cudasim.record_host_syncs()
    float(y[-1])
    torch.ops.cudasim.take_host_syncs()
    assert torch.ops.cudasim.take_host_syncs() == [], "take stops the record"


@pytest.mark.skipif(not SIMULATED, reason="a device-side assert ends the CUDA context")
def test_bad_labels_are_a_device_side_check():
    # no host round trip for the verdict: the simulated op raises the device assert's message (on a
    # GPU, "device-side assert triggered" at the next synchronisation); the CPU keeps its ValueError
    s, y = torch.randn(6), torch.tensor([0, 1, 2, 0, 1, 0])
    args = (s, y, None, None, "square", 1.0, "mean", True)
    with pytest.raises(ValueError, match=r"labels must contain only 0 and 1 \(or False/True\); found 2"):
        CPU.pairwise_auc_loss(*args)
    with pytest.raises(RuntimeError, match=r"labels must contain only 0 and 1 \(or False/True\) \(device-side check\)"):
        torch.ops.torchauc_cudasim.pairwise_auc_loss(*args)
    x, lab = torch.randn(4, 3), torch.tensor([0, 3, 1, 255])
    with pytest.raises(RuntimeError, match=r"labels must be class indices in \[0, 3\) \(device-side check\)"):
        torch.ops.torchauc_cudasim.autkc_topk(x, lab, 2, 0.0, False)
    torch.ops.cudasim.record_host_syncs()
    with pytest.raises(RuntimeError, match="device-side check"):
        torch.ops.torchauc_cudasim.autkc_topk(x, lab, 2, 0.0, False)
    assert torch.ops.cudasim.take_host_syncs() == []


def test_asgda_instance_weight_step_has_no_host_sync():
    # the UPAUCI optimizer's sparse update of the instance weights c: on CUDA no unique / equal (host sizes)
    from torchauc import losses
    from torchauc.optim import ASGDA

    with routed_to_cuda_kernels() as device:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(64, generator=g).to(device)
        y = (torch.rand(64, generator=g) < 0.3).long().to(device)
        ids = torch.randint(0, 100, (64,), generator=g).to(device)  # with repeats
        loss = losses.UPAUCILoss(100, max_fpr=0.3, min_tpr=0.2).to(device)
        w = torch.zeros((), device=device, requires_grad=True)
        opt = ASGDA([dict(params=[w], name="net")] + loss.asgda_groups(), instance_weights=loss, lam=0.2)

        def iteration():
            for pre in (True, False):
                opt.zero_grad()
                loss(torch.sigmoid(x + w), y, ids).backward()
                opt.step(pre=pre)

        iteration()  # warm-up: the optimizer's state is created
        c0 = loss.c.clone()
        with recorded() as syncs:
            iteration()
    assert not syncs, sorted(set(syncs))
    assert not torch.equal(loss.c, c0)  # the step did update c
