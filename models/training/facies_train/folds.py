"""Cross-validation folds stratified by class and grouped by patient.

Every photo of a child lands in the same fold (the study had 3,297 photos of
1,666 children: photo-level splits put the same face in training and test).
Within each class, patients are shuffled with the seed and then dealt, largest
photo count first, to the fold holding the fewest photos of that class, so each
fold keeps the class proportions as closely as whole patients allow.
"""

import csv
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

import numpy as np

__all__ = ["assign_patient_folds", "fold_indices", "calibration_split", "write_folds_csv",
           "FoldError", "patients_by_class"]


class FoldError(ValueError):
    pass


def patients_by_class(labels: Sequence[int], patients: Sequence[str]):
    """({class: sorted patient ids}, {patient: photo count}); a patient with two labels is an error."""
    photos: Dict[str, int] = defaultdict(int)
    label_of: Dict[str, int] = {}
    for y, p in zip(labels, patients):
        if label_of.setdefault(p, int(y)) != int(y):
            raise FoldError(f"patient {p!r} has photos with different labels")
        photos[p] += 1
    by_class: Dict[int, List[str]] = defaultdict(list)
    for p in sorted(label_of):
        by_class[label_of[p]].append(p)
    return by_class, photos


def assign_patient_folds(labels: Sequence[int], patients: Sequence[str], k: int,
                         seed: int) -> Dict[str, int]:
    """patient id -> fold in [0, k)."""
    if k < 2:
        raise FoldError(f"need at least 2 folds, got {k}")
    by_class, photos = patients_by_class(labels, patients)
    rng = np.random.default_rng(seed)
    fold_of: Dict[str, int] = {}
    for cls in sorted(by_class):
        group = list(by_class[cls])
        if len(group) < k:
            raise FoldError(f"class {cls} has {len(group)} patient(s), fewer than the {k} folds: "
                            "every test fold needs at least one child of every class")
        rng.shuffle(group)
        group.sort(key=lambda p: -photos[p])  # stable: shuffled order breaks ties
        load = np.zeros(k, dtype=np.int64)
        count = np.zeros(k, dtype=np.int64)
        for p in group:
            f = int(np.lexsort((rng.random(k), count, load))[0])
            fold_of[p] = f
            load[f] += photos[p]
            count[f] += 1
    return fold_of


def fold_indices(labels: Sequence[int], patients: Sequence[str], k: int,
                 seed: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """[(train_idx, test_idx)] per fold, as photo indices."""
    fold_of = assign_patient_folds(labels, patients, k, seed)
    f = np.array([fold_of[p] for p in patients])
    return [(np.flatnonzero(f != i), np.flatnonzero(f == i)) for i in range(k)]


def calibration_split(labels: Sequence[int], patients: Sequence[str], fraction: float,
                      seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """(fit_idx, calibration_idx): hold out about ``fraction`` of each class's patients.

    The calibration set (temperature scaling) is disjoint from training by
    patient too, and keeps at least one patient of every class that has two.
    """
    by_class, _ = patients_by_class(labels, patients)
    rng = np.random.default_rng(seed)
    held = set()
    for cls in sorted(by_class):
        group = list(by_class[cls])
        rng.shuffle(group)
        n = int(round(fraction * len(group)))
        if len(group) >= 2:
            n = min(max(n, 1), len(group) - 1)
        held.update(group[:n])
    mask = np.array([p in held for p in patients])
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def write_folds_csv(path: str, samples, fold_of: Dict[str, int], class_ids: Sequence[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "patient_id", "fold"])
        for s in samples:
            w.writerow([s.path, class_ids[s.label], s.patient_id, fold_of[s.patient_id]])
