"""The label subset (``task_id``) of the multi-label LibAUC losses, without a host sync for a device tensor."""

import torch

from . import devices


def chosen_labels(task_id, num_labels: int) -> torch.Tensor | None:
    """None for every label (``task_id`` None or empty), else the (num_labels,) bool mask of the chosen
    labels, on ``task_id``'s device (the host for a list). A list or a CPU tensor is checked on the host
    (a ValueError naming task_id); a tensor off the host (CUDA) is not read there, which would wait for
    the GPU: its range is a device-side assert."""
    if task_id is None or len(task_id) == 0:
        return None
    tasks = torch.as_tensor(task_id).reshape(-1).long()
    if devices.host_reads_free(tasks):
        if bool(((tasks < 0) | (tasks >= num_labels)).any()):
            raise ValueError(f"task_id entries must be in [0, {num_labels}), got {tasks.tolist()}")
    else:
        in_range = ((tasks >= 0) & (tasks < num_labels)).all()
        torch.ops.aten._assert_async.msg(in_range, f"task_id entries must be in [0, {num_labels}) (device-side check)")
        tasks = tasks.clamp(0, num_labels - 1)
    return torch.zeros(num_labels, dtype=torch.bool, device=tasks.device).index_fill_(0, tasks, True)
