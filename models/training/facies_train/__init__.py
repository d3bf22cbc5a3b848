"""Facies offline training kit (model part).

Layout follows InsightFace ``recognition/arcface_torch``: one concern per file.

- ``backbones/iresnet.py``  IResNet backbones with InsightFace-compatible
  ``state_dict`` keys, so published checkpoints load unchanged.
- ``losses.py``             CosFace / ArcFace margin heads.
- ``export.py``             the inference graph (``ScreeningModel``) and its
  deterministic ONNX export.
"""

__all__ = ["backbones", "losses", "export"]
