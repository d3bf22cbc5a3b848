"""Possible duplicates across patient ids: the same child filed under two ``patient_id`` values would sit in
two folds (its photos in training and test), which no fold assignment can see. Crops of *different* patient ids
whose embeddings are nearly the same are listed for a person to check; nothing is merged automatically.

    /usr/bin/python3 -m facies_train.duplicates --manifest data/manifest.csv --pretrained pretrained/backbone.pth \\
        --out runs/duplicates.csv [--threshold 0.8]
    # or with a trained model's backbone: --checkpoint runs/x/final/checkpoint.pt

Embeddings are the backbone's, mirror-averaged and L2-normalised (as the app's flip TTA sees a crop). With a
face-recognition backbone (InsightFace r100), re-saved or re-cropped copies of one photo score above ~0.9 and
other photos of the same face usually above ~0.5; the default 0.8 lists the former and the closest of the latter.
"""

import argparse
import csv
import sys
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from .dataset import CropTensors, class_ids, load_crops, load_model_config, normalize, read_manifest

__all__ = ["DEFAULT_THRESHOLD", "crop_embeddings", "near_duplicates", "write_duplicates_csv"]

DEFAULT_THRESHOLD = 0.8


@torch.no_grad()
def crop_embeddings(backbone, data: CropTensors, normalization: Optional[dict], batch_size: int = 64) -> torch.Tensor:
    """[N, D] float64: each crop's embedding averaged with its mirror's, L2-normalised."""
    backbone.eval()
    out = []
    for i in range(0, len(data), batch_size):
        x = data.images[i:i + batch_size]
        e = F.normalize(backbone(normalize(x, normalization)).double(), dim=1)
        e = e + F.normalize(backbone(normalize(x.flip(3), normalization)).double(), dim=1)
        out.append(F.normalize(e, dim=1))
    return torch.cat(out)


def near_duplicates(embeddings: torch.Tensor, patients: List[str], paths: List[str],
                    threshold: float = DEFAULT_THRESHOLD, limit: int = 500) -> List[Dict]:
    """Pairs of crops of different patient ids with cosine ≥ ``threshold``, most similar first (at most ``limit``)."""
    pid = {p: i for i, p in enumerate(sorted(set(patients)))}
    owner = torch.tensor([pid[p] for p in patients])
    found = []
    for start in range(0, len(patients), 512):  # one block of rows at a time: N² cosines never held at once
        cos = embeddings[start:start + 512] @ embeddings.T
        rows = torch.arange(start, start + cos.shape[0])
        later = rows[:, None] < torch.arange(len(patients))  # each pair once
        keep = (cos >= threshold) & (owner[rows, None] != owner[None, :]) & later
        for r, c in keep.nonzero().tolist():
            a, b = start + r, c
            found.append({"cosine": float(cos[r, c]), "photo_a": paths[a], "patient_a": patients[a],
                          "photo_b": paths[b], "patient_b": patients[b]})
    found.sort(key=lambda d: -d["cosine"])
    return found[:limit]


def write_duplicates_csv(path: str, pairs: List[Dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["cosine", "patient_a", "photo_a", "patient_b", "photo_b"])
        w.writeheader()
        for p in pairs:
            w.writerow({**p, "cosine": f"{p['cosine']:.4f}"})


def main(argv=None) -> int:
    from .train import build_backbone, load_checkpoint, load_config, load_pretrained

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--model-config", default="../demo/config.json")
    ap.add_argument("--config", default="configs/base.py", help="the network to build for --pretrained")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--pretrained", help="an InsightFace backbone.pth")
    src.add_argument("--checkpoint", help="a Facies checkpoint.pt")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--out", required=True, help="CSV of the pairs to check")
    a = ap.parse_args(argv)
    model_config = load_model_config(a.model_config)
    samples = read_manifest(a.manifest, class_ids(model_config))
    if a.checkpoint:
        backbone = load_checkpoint(a.checkpoint)[0]
    else:
        backbone = build_backbone(load_config(a.config))
        load_pretrained(backbone, a.pretrained)
    data = load_crops(samples)
    pairs = near_duplicates(crop_embeddings(backbone, data, model_config.get("normalization")), data.patients,
                            [s.path for s in samples], a.threshold)
    write_duplicates_csv(a.out, pairs)
    print(f"{len(pairs)} pairs of crops of different patient ids with cosine ≥ {a.threshold:g} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
