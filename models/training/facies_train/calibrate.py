"""Temperature scaling (Guo et al. 2017) fitted on held-out patients.

The app computes ``softmax(s · cos θ / T)`` for every TTA pass and averages
the passes: T is fitted here on logits ``s · cos θ`` (no margin) of every pass
of a calibration set disjoint from training, so that the averaged output the
app shows is the calibrated one, then folded into the exported graph and
written to the manifest.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["nll_at", "fit_temperature", "T_MIN", "T_MAX"]

T_MIN, T_MAX = 0.05, 100.0


def nll_at(logits: torch.Tensor, labels: torch.Tensor, t: float) -> float:
    """Mean NLL of softmax(logits / T): logits [N, C], or [V, N, C] for V TTA passes whose
    probabilities are averaged (log-sum-exp of the log-softmaxes: no probability is clamped)."""
    logits = torch.as_tensor(logits, dtype=torch.float64)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if logits.dim() == 2:
        return F.cross_entropy(logits / t, labels).item()
    logp = torch.logsumexp(F.log_softmax(logits / t, dim=-1), dim=0) - math.log(logits.shape[0])
    return F.nll_loss(logp, labels).item()


def fit_temperature(logits, labels, iters: int = 80) -> float:
    """T in [T_MIN, T_MAX] minimising the mean negative log-likelihood; ``logits`` [N, C],
    or [V, N, C] to calibrate the mean over V TTA passes.

    The NLL of one pass is convex in 1/T (that of a mean of passes is not
    always, but is unimodal in practice), so a golden-section search on log T
    finds the minimum without a learning rate to tune.
    """
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if logits.shape[-2] == 0:
        raise ValueError("temperature scaling needs at least one calibration photo")
    lo, hi = math.log(T_MIN), math.log(T_MAX)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll_at(logits, labels, math.exp(a)), nll_at(logits, labels, math.exp(b))
    for _ in range(iters):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll_at(logits, labels, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll_at(logits, labels, math.exp(b))
    return float(math.exp((lo + hi) / 2))
