"""Data-parallel training over the processes that ``torchrun`` starts.

    torchrun --nproc_per_node=4 -m facies_train.train --config configs/base.py ...

Every rank builds the same seeded global batch and trains on its contiguous
share of it (``rank_share``); DistributedDataParallel averages the gradients,
so N ranks x (batch_size / N) make the same step as one process with
``batch_size``: ``batch_size`` in a config is always the global batch and the
learning rate is not rescaled. BatchNorm statistics are computed over the whole
global batch: ``torch.nn.SyncBatchNorm`` on CUDA (NCCL), and on CPU (gloo),
where torch 1.13's SyncBatchNorm refuses non-CUDA input, ``CpuSyncBatchNorm``
below. Without that, each rank would normalise with its own share's statistics
and the run would no longer match a single process.

Only rank 0 logs and writes files (``is_main``). A collective that waits longer
than the process-group timeout (a rank died or hangs) raises, and the rank
exits at once with a message naming it instead of hanging (``failures_reported``).

The other mode, ``--spread-folds``, joins no process group: the ranks share out
the cross-validation folds, each trained as by one process, and exchange the
folds' results as files (``publish``/``collect``).
"""

import contextlib
import datetime
import json
import os
import sys
import time
import traceback
from typing import List, Tuple

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn import all_reduce as differentiable_all_reduce
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

__all__ = ["init_from_env", "shutdown", "rank", "world_size", "launched", "is_main", "local_device",
           "rank_share", "mean_over_ranks", "CpuSyncBatchNorm", "sync_batchnorm", "data_parallel",
           "failures_reported", "publish", "collect", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 600.0
# Substrings of the errors c10d raises when a peer is gone or a collective timed out.
_PEER_FAILURE_MARKERS = ("Connection closed", "Connection reset", "Timed out", "timed out", "Broken pipe",
                         "NCCL", "Socket", "peer")


def init_from_env(timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    """Join the process group that torchrun's environment describes (RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR, MASTER_PORT); returns the world size (1: nothing to join)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1 or dist.is_initialized():
        return world
    # Without this NCCL leaves a rank blocked forever on a dead peer instead of honouring the timeout.
    os.environ.setdefault("NCCL_ASYNC_ERROR_HANDLING", "1")
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo", init_method="env://",
                            timeout=datetime.timedelta(seconds=timeout_s))
    return world


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def rank() -> int:
    """This process's rank in the data-parallel group (0 without one)."""
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    """Ranks sharing each training step (1 without a process group)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def launched() -> Tuple[int, int]:
    """(RANK, WORLD_SIZE) as torchrun set them, process group or not; (0, 1) outside torchrun."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    """The one process that logs and writes the outputs, in either mode."""
    return launched()[0] == 0


def local_device(device: torch.device) -> torch.device:
    """One GPU per rank: ``cuda`` becomes this rank's ``cuda:LOCAL_RANK``."""
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device


def rank_share(batch: torch.Tensor, rank_: int, world: int) -> torch.Tensor:
    """This rank's contiguous, disjoint share of a global batch (dim 0)."""
    if len(batch) % world:
        raise ValueError(f"a batch of {len(batch)} does not split over {world} ranks")
    per = len(batch) // world
    return batch[rank_ * per:(rank_ + 1) * per]


def mean_over_ranks(value: float) -> float:
    if not dist.is_initialized():
        return value
    t = torch.tensor([value], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


class CpuSyncBatchNorm(_BatchNorm):
    """BatchNorm whose training-mode statistics cover every rank's batch (gloo, CPU).

    Per-channel sums and sums of squares (float64, so E[x²] − E[x]² keeps its
    digits) are all-reduced with a differentiable all-reduce, whose backward
    all-reduces their gradients: the same gradient as ``torch.nn.SyncBatchNorm``
    and as one process seeing the global batch. Eval mode is plain BatchNorm.
    """

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized()):
            return super().forward(x)
        c = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        xd = x.double()
        count = torch.tensor([x.numel() // c], dtype=torch.float64)
        sums = differentiable_all_reduce(torch.cat([xd.sum(dims), (xd * xd).sum(dims), count]))
        n = sums[-1].detach()
        mean = sums[:c] / n
        var = (sums[c:2 * c] / n - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                f = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - f).add_(f * mean.to(self.running_mean.dtype))
                self.running_var.mul_(1 - f).add_(f * (var * n / (n - 1)).to(self.running_var.dtype))
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.to(x.dtype).view(shape)) * torch.rsqrt(var + self.eps).to(x.dtype).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Every BatchNorm of ``module`` computing statistics over all ranks; the same
    parameter and buffer tensors are kept, so optimisers and state_dict keys are unchanged."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)

    def convert(m: nn.Module) -> nn.Module:
        if isinstance(m, _BatchNorm):
            out = CpuSyncBatchNorm(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats)
            if m.affine:
                out.weight, out.bias = m.weight, m.bias
            if m.track_running_stats:
                out.running_mean, out.running_var = m.running_mean, m.running_var
                out.num_batches_tracked = m.num_batches_tracked
            out.train(m.training)
            return out
        for name, child in m.named_children():
            m.add_module(name, convert(child))
        return m

    return convert(module)


def data_parallel(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` with synchronised BatchNorm inside DistributedDataParallel."""
    module = sync_batchnorm(module, device)
    # Synchronised BN leaves every rank with the same running statistics: no buffer broadcast needed.
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None,
                                   broadcast_buffers=False)


@contextlib.contextmanager
def failures_reported(timeout_s: float):
    """On one rank of a multi-process run, name the rank that failed and end the process at once.

    When a peer vanished or a collective timed out, the message is all there is to say (the
    traceback adds nothing). Either way the process leaves through ``os._exit``: after a peer is
    gone, gloo's teardown at interpreter exit can block for ever on the dead pair (seen in about
    one run in four here, after the message was printed), so no collective teardown is attempted.
    """
    try:
        yield
    except BaseException as e:
        if world_size() == 1 or isinstance(e, SystemExit) and e.code in (0, None):
            raise
        text = f"rank {rank()} of {world_size()} failed: {type(e).__name__}: {e}"
        if any(s in str(e) for s in _PEER_FAILURE_MARKERS):
            text += (f"\nAnother rank died or stopped responding (process-group timeout {timeout_s:g} s); "
                     "its own log says why. The run is incomplete: rerun it.")
        else:
            traceback.print_exc()
        print(text, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def _run_id() -> str:
    run = os.environ.get("TORCHELASTIC_RUN_ID")
    if not run:
        raise SystemExit("--spread-folds needs torchrun (TORCHELASTIC_RUN_ID names the run whose results to collect)")
    return run


def publish(path: str, result: dict) -> None:
    """Write one rank's result for the others, tagged with this run (atomically: readers
    never see half a file)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump({"run": _run_id(), "result": result}, fh)
    os.replace(path + ".tmp", path)


def collect(paths: List[str], poll_s: float = 1.0) -> List[dict]:
    """The results at ``paths`` of this run, waiting until every rank has published its own.
    No timeout: a rank that fails ends the run through torchrun, which stops the others."""
    run, results = _run_id(), {}
    while len(results) < len(paths):
        for p in paths:
            if p not in results and os.path.isfile(p):
                with open(p, encoding="utf-8") as fh:
                    payload = json.load(fh)
                if payload["run"] == run:  # a file from an earlier run waits to be overwritten
                    results[p] = payload["result"]
        if len(results) < len(paths):
            time.sleep(poll_s)
    return [results[p] for p in paths]
