# The study's four arms: pretrained face foundation model (PFM) or none x CosFace or ArcFace.
# The PFM arms take the backbone from --pretrained (an InsightFace iresnet100 backbone.pth).
from configs.base import config as base

config = dict(base)
arms = [
    dict(name="PFM + CosFace", key="pfm_cosface", pretrained=True, head="cosface"),
    dict(name="PFM + ArcFace", key="pfm_arcface", pretrained=True, head="arcface"),
    dict(name="None + CosFace", key="none_cosface", pretrained=False, head="cosface"),
    dict(name="None + ArcFace", key="none_arcface", pretrained=False, head="arcface"),
]
