"""BatchNorm running statistics re-estimated from the network's own activations.

Used after fine-tuning ("precise BN", ``train.precise_batchnorm``) and to
calibrate the untrained demonstration model (``make_demo_model.py``).
"""

from typing import Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["reestimate_batchnorm"]


# Not torch.optim.swa_utils.update_bn: its float32 averages vary in the last bit with the thread count (demo model).
@torch.no_grad()
def reestimate_batchnorm(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Set every BN's running statistics to the average, over ``batches``, of the
    per-batch mean and unbiased variance of its input; returns the batch count.

    These are the statistics of train-mode passes with ``momentum=None`` (a
    cumulative average, as ``update_bn`` computes), except that they are
    accumulated in float64 from each BN's input: torch's float32 reductions
    (BatchNorm1d's in particular) change in the last bit with the thread count,
    which would make a generated model depend on the machine's core count.
    A BN that no batch reaches keeps reset statistics (mean 0, variance 1).
    The model is left in eval mode.
    """
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    sums = {}

    def record(module, inputs):
        x = inputs[0].detach().double()
        dims = [0] + list(range(2, x.dim()))
        acc = sums.setdefault(module, [0, 0.0, 0.0])
        acc[0] += 1
        acc[1] = acc[1] + x.mean(dim=dims)
        acc[2] = acc[2] + x.var(dim=dims, unbiased=True)

    saved = [m.momentum for m in bns]
    handles = [m.register_forward_pre_hook(record) for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # train-mode normalisation by batch statistics, cumulative running averages
    model.train()
    count = 0
    try:
        for x in batches:
            model(x)
            count += 1
    finally:
        for h in handles:
            h.remove()
        for m, mom in zip(bns, saved):
            m.momentum = mom
        model.eval()
    for m in bns:
        if m in sums:
            n, mean_sum, var_sum = sums[m]
            m.running_mean.copy_((mean_sum / n).to(m.running_mean.dtype))
            m.running_var.copy_((var_sum / n).to(m.running_var.dtype))
            m.num_batches_tracked.fill_(n)
    return count
