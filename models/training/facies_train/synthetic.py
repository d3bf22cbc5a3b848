"""Synthetic face-crop dataset for tests and smoke runs. NOT clinical data.

Each "patient" gets a smooth random background (their own "face") and a
class-dependent grating (horizontal or vertical stripes at a low or high
frequency, all unchanged by a horizontal flip); each photo adds its own
brightness, phase and noise. The patterns make a learnable, patient-grouped
task so that the training code can be checked end to end; they say nothing
about any syndrome. Rows are labelled ``site=synthetic``.

    /usr/bin/python3 -m facies_train.synthetic --out /tmp/synth --patients 6,7,5,10 --photos 3
"""

import argparse
import csv
import os
import sys
from typing import List, Sequence

import numpy as np

from .dataset import class_ids, load_model_config

__all__ = ["make_crop", "write_synthetic_dataset"]

SIZE = 112
# (orientation, cycles per crop) per class index; classes beyond four reuse them with other frequencies.
PATTERNS = [("h", 5), ("v", 5), ("h", 11), ("v", 11)]


def make_crop(cls: int, patient_rng: np.random.Generator, photo_rng: np.random.Generator,
              background: np.ndarray) -> np.ndarray:
    orient, cycles = PATTERNS[cls % 4]
    cycles = cycles + 3 * (cls // 4)
    coord = np.arange(SIZE, dtype=np.float64)
    phase = photo_rng.uniform(0, 2 * np.pi)
    wave = np.sin(2 * np.pi * cycles * coord / SIZE + phase)
    grating = np.tile(wave[:, None], (1, SIZE)) if orient == "h" else np.tile(wave[None, :], (SIZE, 1))
    img = background + 60.0 * grating[..., None] + photo_rng.uniform(-15, 15)
    img += photo_rng.normal(0, 5, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _background(rng: np.random.Generator) -> np.ndarray:
    coarse = rng.normal(0, 1, (4, 4, 3))
    idx = np.linspace(0, 3, SIZE)
    i0 = np.floor(idx).astype(int).clip(0, 2)
    f = (idx - i0)[:, None]
    rows = coarse[i0] * (1 - f[..., None]) + coarse[i0 + 1] * f[..., None]           # [112, 4, 3]
    g = (idx - i0)[None, :, None]
    field = rows[:, i0] * (1 - g) + rows[:, i0 + 1] * g                                 # [112, 112, 3]
    skin = np.array([190.0, 150.0, 130.0]) + rng.normal(0, 15, 3)
    return skin + 6.0 * field


def write_synthetic_dataset(out_dir: str, classes: Sequence[str], patients_per_class: Sequence[int],
                            photos_per_patient: int, seed: int = 7) -> str:
    """Writes PNG crops and ``manifest.csv``; returns the manifest path."""
    from PIL import Image

    os.makedirs(os.path.join(out_dir, "crops"), exist_ok=True)
    rng = np.random.default_rng(seed)
    rows: List[List[str]] = []
    for c, (cid, n_patients) in enumerate(zip(classes, patients_per_class)):
        for p in range(n_patients):
            pid = f"synthetic-{cid}-{p:03d}"
            prng = np.random.default_rng(rng.integers(1 << 63))
            bg = _background(prng)
            n_photos = max(1, photos_per_patient + int(prng.integers(-1, 2)))
            for k in range(n_photos):
                img = make_crop(c, prng, np.random.default_rng(prng.integers(1 << 63)), bg)
                rel = f"crops/{pid}_{k}.png"
                Image.fromarray(img, "RGB").save(os.path.join(out_dir, rel))
                rows.append([rel, cid, pid, str(int(prng.integers(1, 15))), "FM"[int(prng.integers(2))], "synthetic"])
    path = os.path.join(out_dir, "manifest.csv")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "patient_id", "age", "sex", "site"])
        w.writerows(rows)
    return path


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Write a synthetic (non-clinical) crop dataset.")
    ap.add_argument("--out", required=True)
    ap.add_argument("--model-config", default=os.path.join(here, "..", "..", "demo", "config.json"))
    ap.add_argument("--patients", default="6,7,5,10", help="patients per class, in class order")
    ap.add_argument("--photos", type=int, default=3, help="photos per patient (±1)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    classes = class_ids(load_model_config(a.model_config))
    counts = [int(x) for x in a.patients.split(",")]
    if len(counts) != len(classes):
        ap.error(f"--patients needs {len(classes)} numbers (classes: {', '.join(classes)})")
    print(write_synthetic_dataset(a.out, classes, counts, a.photos, a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
