# CI and smoke tests: the tiny IResNet on synthetic crops (no clinical meaning), minutes on 2 CPU cores.
from configs.base import config as base

config = dict(
    base,
    name="tiny-synthetic",
    network="tiny",
    optimizer="adamw",
    lr=1e-2,
    weight_decay=1e-4,
    batch_size=16,
    epochs=8,
    warmup_epochs=0,
    folds=3,
    calibration_fraction=0.2,
    calibration="holdout",  # one training per fold keeps CI fast; tests/test_protocol.py covers inner-oof
)
arms = [
    dict(name="PFM + CosFace", key="pfm_cosface", pretrained=True, head="cosface"),
    dict(name="PFM + ArcFace", key="pfm_arcface", pretrained=True, head="arcface"),
    dict(name="None + CosFace", key="none_cosface", pretrained=False, head="cosface"),
    dict(name="None + ArcFace", key="none_arcface", pretrained=False, head="arcface"),
]
