"""PyTorch probabilities of a trained checkpoint on aligned crops (exactly the exported graph).

    /usr/bin/python3 -m facies_train.predict --checkpoint runs/x/final/checkpoint.pt crops/*.png
"""

import argparse
import json
import sys

import torch

from .dataset import Sample, load_crops, normalize

__all__ = ["predict_files"]


@torch.no_grad()
def predict_files(checkpoint: str, paths):
    from .package import build_screening_model

    model, ck = build_screening_model(checkpoint)
    data = load_crops([Sample(p, 0, p) for p in paths])
    x = normalize(data.images, ck.get("normalization"))
    probs = model(x).double()
    # The app's default flip test-time augmentation: the crop and its mirror, probabilities averaged.
    tta = (probs + model(x.flip(3)).double()) / 2
    return {"classes": ck["classes"], "temperature": ck["temperature"],
            "probabilities": {p: row.tolist() for p, row in zip(paths, probs)},
            "flip_tta": {p: row.tolist() for p, row in zip(paths, tta)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("crops", nargs="+")
    a = ap.parse_args(argv)
    json.dump(predict_files(a.checkpoint, a.crops), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
