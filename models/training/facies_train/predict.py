"""PyTorch probabilities of a trained checkpoint on aligned crops (exactly the exported graph),
one pass and after the app's test-time augmentation.

    /usr/bin/python3 -m facies_train.predict --checkpoint runs/x/final/checkpoint.pt [--tta flip-grey] crops/*.png
"""

import argparse
import json
import sys

import torch

from .dataset import Sample, load_crops, normalize
from .evaluate import TTA_MODES, VIEWS, tta_views

__all__ = ["predict_files"]


@torch.no_grad()
def predict_files(checkpoint: str, paths, tta=None):
    """``tta`` defaults to the one the checkpoint was calibrated for (its config's, else flip)."""
    from .package import build_screening_model

    model, ck = build_screening_model(checkpoint)
    tta = tta or ck["config"].get("tta", "flip")
    data = load_crops([Sample(p, 0, p) for p in paths])
    norm = ck.get("normalization")
    # As the app (src/pipeline/tta.ts): every pass through the graph, probabilities averaged.
    passes = torch.stack([model(normalize(v, norm)).double() for v in tta_views(data.images, "flip-grey")])
    mean = passes[:VIEWS[tta]].mean(0)
    return {"classes": ck["classes"], "temperature": ck["temperature"], "tta": tta,
            "probabilities": {p: row.tolist() for p, row in zip(paths, passes[0])},
            "flip_tta": {p: row.tolist() for p, row in zip(paths, passes[:2].mean(0))},
            "tta_probabilities": {p: row.tolist() for p, row in zip(paths, mean)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--tta", choices=TTA_MODES, help="default: the TTA the checkpoint was calibrated for")
    ap.add_argument("crops", nargs="+")
    a = ap.parse_args(argv)
    json.dump(predict_files(a.checkpoint, a.crops, a.tta), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
