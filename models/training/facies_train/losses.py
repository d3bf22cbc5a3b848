"""Additive-margin softmax heads: CosFace and ArcFace.

As in InsightFace ``arcface_torch``, the margin is applied to the cosine
logits ``cos θ_j = normalize(embedding) · normalize(W_j)``; labels of ``-1``
mark rows that get no margin. Unlike InsightFace (which keeps the class matrix
in a separate partial-FC module), each head here owns its class weight matrix
``weight`` of shape ``[num_classes, embedding_size]``, because Facies has four
classes and no need for model-parallel softmax:

- ``head(embeddings, labels)`` -> ``s · (cos θ with margin on the target)``,
  to be fed to ``nn.CrossEntropyLoss``;
- ``head(embeddings)``          -> ``s · cos θ`` (inference: no margin).

CosFace (Wang et al. 2018):  target logit ``s · (cos θ_y − m)``, s = 64, m = 0.4.
ArcFace (Deng et al. 2019):  target logit ``s · cos(θ_y + m)``, s = 64, m = 0.5,
with InsightFace's fallback ``cos θ_y − m · sin(m)`` once ``θ_y + m`` would pass π
(keeps the target logit monotonic in θ).

The pure functions ``cosface_margin`` and ``arcface_margin`` take cosines and
return margined cosines (not scaled), for tests and for reuse.
"""

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["cosine_logits", "cosface_margin", "arcface_margin",
           "MarginHead", "CosFace", "ArcFace", "get_head"]


def cosine_logits(embeddings: torch.Tensor, weight: torch.Tensor,
                  eps: float = 1e-12) -> torch.Tensor:
    """cos θ = normalize(embeddings) @ normalize(weight).T, clamped to [-1, 1]."""
    cos = F.linear(F.normalize(embeddings, dim=1, eps=eps),
                   F.normalize(weight, dim=1, eps=eps))
    return cos.clamp(-1.0, 1.0)


def _target_mask(cos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Boolean [N, C] mask, True at (i, labels[i]) for labels[i] != -1."""
    labels = labels.view(-1).long()
    if labels.numel() != cos.shape[0]:
        raise ValueError(f"{labels.numel()} labels for {cos.shape[0]} rows")
    valid = labels != -1
    mask = torch.zeros_like(cos, dtype=torch.bool)
    rows = torch.nonzero(valid, as_tuple=False).view(-1)
    mask[rows, labels[rows]] = True
    return mask


def cosface_margin(cos: torch.Tensor, labels: torch.Tensor, m: float = 0.4) -> torch.Tensor:
    """cos θ_j − m·[j = y]; rows with label −1 unchanged. Not in place."""
    mask = _target_mask(cos, labels)
    return cos - m * mask.to(cos.dtype)


def arcface_margin(cos: torch.Tensor, labels: torch.Tensor, m: float = 0.5) -> torch.Tensor:
    """cos(θ_y + m) at the target, InsightFace's fallback past π − m. Not in place."""
    mask = _target_mask(cos, labels)
    sin = torch.sqrt((1.0 - cos * cos).clamp_min(1e-12))
    cos_theta_m = cos * math.cos(m) - sin * math.sin(m)
    # θ + m > π  <=>  cos θ < cos(π − m): use the linear fallback there.
    fallback = cos - math.sin(math.pi - m) * m
    target = torch.where(cos > math.cos(math.pi - m), cos_theta_m, fallback)
    return torch.where(mask, target, cos)


class MarginHead(nn.Module):
    """Class-weight matrix + scaled cosine logits; subclasses add the margin."""

    def __init__(self, embedding_size: int = 512, num_classes: int = 4, s: float = 64.0):
        super().__init__()
        self.embedding_size = embedding_size
        self.num_classes = num_classes
        self.s = float(s)
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_size))
        nn.init.normal_(self.weight, 0.0, 0.01)

    def margin(self, cos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return cos

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        return cosine_logits(embeddings, self.weight)

    def forward(self, embeddings: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        cos = self.cosine(embeddings)
        if labels is not None:
            cos = self.margin(cos, labels)
        return self.s * cos

    def extra_repr(self) -> str:
        return f"embedding_size={self.embedding_size}, num_classes={self.num_classes}, s={self.s}"


class CosFace(MarginHead):
    """Large-margin cosine loss head: logits s·(cos θ_j − m·[j = y])."""

    def __init__(self, s: float = 64.0, m: float = 0.4, embedding_size: int = 512,
                 num_classes: int = 4):
        super().__init__(embedding_size, num_classes, s)
        self.m = float(m)

    def margin(self, cos, labels):
        return cosface_margin(cos, labels, self.m)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", m={self.m}"


class ArcFace(MarginHead):
    """Additive angular margin head: target logit s·cos(θ_y + m)."""

    def __init__(self, s: float = 64.0, m: float = 0.5, embedding_size: int = 512,
                 num_classes: int = 4):
        super().__init__(embedding_size, num_classes, s)
        self.m = float(m)

    def margin(self, cos, labels):
        return arcface_margin(cos, labels, self.m)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", m={self.m}"


def get_head(name: str, **kwargs) -> MarginHead:
    """``get_head('cosface', s=64, m=0.4, num_classes=4)``; names: cosface, arcface."""
    heads = {"cosface": CosFace, "arcface": ArcFace}
    if name.lower() not in heads:
        raise ValueError(f"unknown head {name!r}; known: {sorted(heads)}")
    return heads[name.lower()](**kwargs)
