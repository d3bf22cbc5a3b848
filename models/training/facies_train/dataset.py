"""Dataset manifest (CSV) and in-memory face-crop tensors.

A manifest lists one aligned 112x112 crop per row (written by the batch
aligner, ``scripts/align-batch.ts``)::

    path,label,patient_id[,age,sex,site]
    crops/p0001_a.png,wbs,p0001,4.5,F,site-a

``path`` is relative to the manifest's folder (or absolute). ``label`` is a
class id of the model config (``models/demo/config.json`` ``classes[].id``):
the class list is never written here, it is read from that JSON, which is the
one the app's manifest is built from.
"""

import csv
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

__all__ = ["Sample", "ManifestError", "load_model_config", "class_ids", "read_manifest",
           "load_crops", "CropTensors", "class_counts", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"]

REQUIRED_COLUMNS = ("path", "label", "patient_id")
OPTIONAL_COLUMNS = ("age", "sex", "site", "date")  # date: when the photo was taken, ISO (YYYY-MM-DD)
CROP_SIZE = 112


class ManifestError(ValueError):
    """The dataset manifest is unusable; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        super().__init__("dataset manifest: " + "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class Sample:
    path: str
    label: int
    patient_id: str
    extra: Dict[str, str] = field(default_factory=dict, compare=False)


def load_model_config(path: str) -> dict:
    """A model config.json or manifest.json (both carry ``classes`` and ``normalization``)."""
    with open(path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    ids = [c.get("id") for c in cfg.get("classes", []) if isinstance(c, dict)]
    if len(ids) < 2 or not all(isinstance(i, str) and i for i in ids) or len(set(ids)) != len(ids):
        raise ValueError(f"{path}: 'classes' must list at least two distinct class ids")
    return cfg


def class_ids(model_config: dict) -> List[str]:
    return [c["id"] for c in model_config["classes"]]


def read_manifest(csv_path: str, classes: Sequence[str], check_files: bool = True) -> List[Sample]:
    """Parse and check a manifest; raises ManifestError listing every problem."""
    root = os.path.dirname(os.path.abspath(csv_path))
    index = {c: i for i, c in enumerate(classes)}
    problems: List[str] = []
    samples: List[Sample] = []
    patient_label: Dict[str, str] = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ManifestError([f"missing column(s) {', '.join(missing)} (header is: {', '.join(header) or 'empty'})"])
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            path, label, pid = row["path"], row["label"], row["patient_id"]
            if not path or not pid:
                problems.append(f"line {line}: empty path or patient_id")
                continue
            if label not in index:
                problems.append(f"line {line}: unknown label {label!r} (classes: {', '.join(classes)})")
                continue
            if patient_label.setdefault(pid, label) != label:
                problems.append(f"line {line}: patient {pid!r} has labels {patient_label[pid]!r} and {label!r}")
                continue
            full = path if os.path.isabs(path) else os.path.join(root, path)
            if check_files and not os.path.isfile(full):
                problems.append(f"line {line}: file not found: {path}")
                continue
            extra = {k: row[k] for k in OPTIONAL_COLUMNS if row.get(k)}
            samples.append(Sample(full, index[label], pid, extra))
    if not samples and not problems:
        problems.append("no rows")
    if problems:
        raise ManifestError(problems)
    return samples


def class_counts(labels: Sequence[int], num_classes: int) -> List[int]:
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).tolist()


@dataclass
class CropTensors:
    """All crops of a dataset as one uint8 tensor [N, 3, 112, 112] (RGB) plus labels.

    3,297 crops take 124 MB: keeping them in memory avoids decoding PNGs every
    epoch and needs no loader workers.
    """
    images: torch.Tensor
    labels: torch.Tensor
    patients: List[str]

    def subset(self, idx: Sequence[int]) -> "CropTensors":
        t = torch.as_tensor(np.asarray(idx, dtype=np.int64))
        return CropTensors(self.images[t], self.labels[t], [self.patients[i] for i in np.asarray(idx)])

    def __len__(self) -> int:
        return self.labels.shape[0]


def load_crop(path: str) -> np.ndarray:
    """A 112x112 crop as uint8 HWC RGB; transparent pixels (outside the photo) read as black, as in the app."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.size != (CROP_SIZE, CROP_SIZE):
            raise ManifestError([f"{path}: crop is {im.size[0]}x{im.size[1]}, expected 112x112 "
                                 "(align photos with scripts/align-batch.ts first)"])
        if im.mode in ("RGBA", "LA", "P"):
            rgba = np.asarray(im.convert("RGBA"))
            rgb = rgba[..., :3] * (rgba[..., 3:4] > 0)
            return rgb.astype(np.uint8)
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def load_crops(samples: Sequence[Sample]) -> CropTensors:
    arr = np.stack([load_crop(s.path) for s in samples]).transpose(0, 3, 1, 2)
    return CropTensors(torch.from_numpy(np.ascontiguousarray(arr)),
                       torch.tensor([s.label for s in samples], dtype=torch.long),
                       [s.patient_id for s in samples])


def normalize(images_u8: torch.Tensor, normalization: Optional[dict]) -> torch.Tensor:
    """uint8 NCHW -> float (x - mean) / std per channel (the manifest's normalisation)."""
    norm = normalization or {"mean": [127.5] * 3, "std": [127.5] * 3}
    mean = torch.tensor(norm["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(norm["std"], dtype=torch.float32).view(1, 3, 1, 1)
    return (images_u8.to(torch.float32) - mean) / std
