"""Metrics of the study's table and of the app's use of the model.

Photo level: accuracy, per-class precision/recall/F1, macro-F1, balanced
accuracy, confusion matrix, mean ± SD across folds. Patient level: the same
after fusing each child's photos by every rule of the app
(src/screening/fusion.ts). Both at exactly the TTA the app runs
(src/pipeline/tta.ts), with the app's inconclusive rule
(src/pipeline/uncertainty.ts), patient-resampled bootstrap intervals and
subgroup cells. JSON and Markdown reports.
"""

import csv
import json
import math
import os
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .calibrate import nll_at
from .dataset import normalize

__all__ = ["confusion_matrix", "classification_metrics", "summarize_folds", "fmt_mean_sd",
           "markdown_report", "write_reports", "expected_calibration_error",
           "TTA_MODES", "FUSION_RULES", "CONFIDENCE_LIMITS", "MIN_SUBGROUP_PATIENTS",
           "grey", "tta_views", "view_outputs", "tta_probabilities", "fuse", "photo_fold_indices",
           "choose_fusion", "evaluate_fold", "cv_evaluation", "bootstrap_intervals", "age_band",
           "evaluation_markdown", "EVALUATION_HEADING", "VIEWS"]

TTA_MODES = ("none", "flip", "flip-grey")
# Simplest first: a tie in macro-F1 goes to the earlier rule.
FUSION_RULES = ("mean-probability", "mean-log-probability", "mean-embedding")
# src/pipeline/uncertainty.ts DEFAULT_CONFIDENCE_LIMITS: top < 0.5 or top − runner-up < 0.15 is inconclusive.
CONFIDENCE_LIMITS = (0.5, 0.15)
MIN_SUBGROUP_PATIENTS = 10
LOG_FLOOR = 1e-12  # src/screening/fusion.ts FLOOR
AGE_BANDS = ((0.0, 2.0, "0-2"), (2.0, 6.0, "2-6"), (6.0, 12.0, "6-12"), (12.0, math.inf, "12+"))
EVALUATION_HEADING = "## Photo and patient level side by side"
SUBGROUP_PREFIX = "subgroup_"  # a labels-sheet column subgroup_<name> declares the subgroup <name>


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """rows = true class, columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int],
                           class_ids: Sequence[str]) -> dict:
    """Per-class precision/recall/F1; precision is None for a class never predicted
    (undefined, not 0); F1 = 2TP / (2TP + FP + FN), 0 for a class never predicted."""
    cm = confusion_matrix(y_true, y_pred, len(class_ids))
    per_class = {}
    for i, cid in enumerate(class_ids):
        tp, predicted, support = cm[i, i], cm[:, i].sum(), cm[i, :].sum()
        per_class[cid] = {"precision": float(tp) / predicted if predicted else None,
                          "recall": _div(tp, support), "f1": _div(2 * tp, predicted + support),
                          "support": int(support)}
    present = [c for c in class_ids if per_class[c]["support"]]
    return {
        "n": int(cm.sum()),
        "accuracy": _div(np.trace(cm), cm.sum()),
        "macro_f1": float(np.mean([per_class[c]["f1"] for c in class_ids])),
        "balanced_accuracy": float(np.mean([per_class[c]["recall"] for c in present])) if present else 0.0,
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
    }


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    conf = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def _mean_sd(values: List[float]) -> Dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "sd": float(a.std(ddof=1)) if len(a) > 1 else 0.0}


def summarize_folds(folds: List[dict], class_ids: Sequence[str]) -> dict:
    """Mean ± SD (sample SD over folds) of every metric, plus the pooled confusion matrix.

    A class never predicted in a fold has no precision there: its mean is over the
    other folds, ``precision_undefined_folds`` counts them, and precision is None
    when no fold defines it."""
    per_class = {}
    for c in class_ids:
        defined = [f["per_class"][c]["precision"] for f in folds if f["per_class"][c]["precision"] is not None]
        per_class[c] = {"precision": _mean_sd(defined) if defined else None,
                        "precision_undefined_folds": len(folds) - len(defined),
                        "recall": _mean_sd([f["per_class"][c]["recall"] for f in folds]),
                        "f1": _mean_sd([f["per_class"][c]["f1"] for f in folds])}
    return {"folds": len(folds),
            "accuracy": _mean_sd([f["accuracy"] for f in folds]),
            "macro_f1": _mean_sd([f["macro_f1"] for f in folds]),
            "balanced_accuracy": _mean_sd([f["balanced_accuracy"] for f in folds]),
            "per_class": per_class,
            "confusion_matrix": np.sum([f["confusion_matrix"] for f in folds], axis=0).tolist()}


def fmt_mean_sd(ms: Optional[Dict[str, float]], percent: bool = True) -> str:
    if ms is None:
        return "undefined"
    k = 100.0 if percent else 1.0
    return f"{ms['mean'] * k:.1f} ± {ms['sd'] * k:.1f}"


def markdown_report(title: str, folds: List[dict], summary: dict, class_ids: Sequence[str],
                    notes: Sequence[str] = ()) -> str:
    lines = [f"# {title}", ""]
    lines += [n for n in notes] + ([""] if notes else [])
    lines += ["## Photo level: mean ± SD over folds (%)", "",
              "| Metric | " + " | ".join(class_ids) + " |",
              "|---|" + "---|" * len(class_ids)]
    for k in ("precision", "recall", "f1"):
        lines.append(f"| {k} | " + " | ".join(fmt_mean_sd(summary["per_class"][c][k]) for c in class_ids) + " |")
    lines += ["", f"Accuracy: **{fmt_mean_sd(summary['accuracy'])}**, "
                  f"macro-F1: **{fmt_mean_sd(summary['macro_f1'])}**"
              + (f", balanced accuracy: **{fmt_mean_sd(summary['balanced_accuracy'])}**"
                 if "balanced_accuracy" in summary else "") + f" ({summary['folds']} folds)", ""]
    undefined = [f"{c} in {summary['per_class'][c]['precision_undefined_folds']}" for c in class_ids
                 if summary["per_class"][c].get("precision_undefined_folds")]
    if undefined:
        lines += ["Precision undefined (class never predicted) in folds: " + ", ".join(undefined)
                  + "; left out of the mean.", ""]
    lines += ["## Per fold", "", "| Fold | n | Accuracy | Macro-F1 | Temperature |", "|---|---|---|---|---|"]
    for i, f in enumerate(folds):
        t = f.get("temperature")
        lines.append(f"| {i} | {f['n']} | {100 * f['accuracy']:.1f} | {100 * f['macro_f1']:.1f} | "
                     f"{'' if t is None else f'{t:.3f}'} |")
    lines += ["", "## Confusion matrix, all folds pooled (rows: true, columns: predicted)", "",
              "| | " + " | ".join(class_ids) + " |", "|---|" + "---|" * len(class_ids)]
    for c, row in zip(class_ids, summary["confusion_matrix"]):
        lines.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_reports(prefix: str, payload: dict, markdown: str) -> None:
    def clean(o):
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o

    with open(prefix + ".json", "w", encoding="utf-8") as fh:
        json.dump(clean(payload), fh, indent=2)
        fh.write("\n")
    with open(prefix + ".md", "w", encoding="utf-8") as fh:
        fh.write(markdown)


# --- The app's test-time augmentation (src/pipeline/tta.ts) ---------------------------------------

VIEWS = {"none": 1, "flip": 2, "flip-grey": 4}


def grey(images_u8: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma in all three channels, rounded half up as the app's Math.round."""
    r, g, b = images_u8.to(torch.float64).unbind(1)
    y = torch.floor(0.299 * r + 0.587 * g + 0.114 * b + 0.5).clamp(0, 255).to(torch.uint8)
    return y.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def tta_views(images_u8: torch.Tensor, mode: str) -> List[torch.Tensor]:
    """none → [crop]; flip → [crop, mirror]; flip-grey → [crop, mirror, grey, grey mirror]."""
    if mode not in VIEWS:
        raise ValueError(f"tta must be one of {', '.join(TTA_MODES)}, got {mode!r}")
    views = [images_u8, images_u8.flip(3)]
    if mode == "flip-grey":
        g = grey(images_u8)
        views += [g, g.flip(3)]
    return views[:VIEWS[mode]]


@torch.no_grad()
def view_outputs(backbone, head, data, normalization, mode: str, batch_size: int = 64):
    """(logits ``s·cos θ`` [V, N, C], L2-normalised embeddings [V, N, D]) of every TTA view, float64."""
    backbone.eval()
    logits, embeddings = [], []
    for view in tta_views(data.images, mode):
        lv, ev = [], []
        for i in range(0, view.shape[0], batch_size):
            e = backbone(normalize(view[i:i + batch_size], normalization))
            lv.append(head(e).double())
            ev.append(F.normalize(e.double(), dim=1))
        logits.append(torch.cat(lv))
        embeddings.append(torch.cat(ev))
    return torch.stack(logits), torch.stack(embeddings)


def tta_probabilities(logits: torch.Tensor, temperature: float) -> np.ndarray:
    """The app's output: softmax(logits / T) of every view, averaged over the views."""
    return torch.softmax(logits / temperature, dim=-1).mean(0).numpy()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def fuse(probs: np.ndarray, rule: str, embeddings: Optional[np.ndarray] = None,
         class_weights: Optional[np.ndarray] = None, scale: float = 64.0, temperature: float = 1.0) -> np.ndarray:
    """One child's photos [n, C] → one result, as src/screening/fusion.ts ``fuse``."""
    if len(probs) == 1 and rule != "mean-embedding":
        return np.asarray(probs[0], dtype=np.float64)
    if rule == "mean-probability":
        return probs.mean(0)
    if rule == "mean-log-probability":
        return _softmax(np.log(np.maximum(probs, LOG_FLOOR)).mean(0))
    if rule == "mean-embedding":
        mean = embeddings.mean(0)
        return _softmax(scale * (class_weights @ (mean / np.linalg.norm(mean))) / temperature)
    raise ValueError(f"unknown fusion rule {rule!r}")


def photo_fold_indices(labels: Sequence[int], k: int, seed: int):
    """The study's photo-level split: folds stratified by class but not grouped by patient,
    so a child's photos can sit in training and test. For comparison only."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), dtype=np.int64)
    start = 0
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        fold[idx] = (start + np.arange(len(idx))) % k
        start += len(idx)
    return [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]


def _conclusive(probs: np.ndarray, labels: np.ndarray, limits=CONFIDENCE_LIMITS) -> dict:
    """Counts under the app's rule (assessConfidence): conclusive iff top ≥ min and top − runner-up ≥ margin."""
    top2 = -np.sort(-probs, axis=1)[:, :2]
    ok = (top2[:, 0] >= limits[0]) & (top2[:, 0] - top2[:, 1] >= limits[1])
    return {"n": int(len(labels)), "conclusive": int(ok.sum()),
            "conclusive_correct": int((ok & (probs.argmax(1) == labels)).sum())}


def _headline(m: dict) -> dict:
    return {k: m[k] for k in ("accuracy", "macro_f1", "balanced_accuracy")}


def evaluate_fold(backbone, head, test, normalization, temperature: float, classes: Sequence[str],
                  tta: str = "flip", compare_tta: Sequence[str] = ("flip", "flip-grey"),
                  test_index: Optional[Sequence[int]] = None) -> dict:
    """Photo- and patient-level results of one held-out fold at the app's TTA ``tta``.

    The photo metrics are at the top level (as classification_metrics); ``patient_level``
    holds each fusion rule's metrics, ``tta_comparison`` the headline figures of the
    other TTA modes (same temperature), ``photos`` the per-photo results for pooling."""
    modes = [m for m in TTA_MODES if m == tta or m in compare_tta]
    logits, emb = view_outputs(backbone, head, test, normalization, modes[-1])
    y = test.labels.numpy()
    lg = logits[:VIEWS[tta]]
    probs = {m: tta_probabilities(logits[:VIEWS[m]], temperature) for m in modes}
    p = probs[tta]
    raw = tta_probabilities(lg, 1.0)
    out = classification_metrics(y, p.argmax(1), classes)
    out.update(tta=tta, nll_uncalibrated=nll_at(lg, test.labels, 1.0),
               nll_calibrated=nll_at(lg, test.labels, temperature),
               ece_uncalibrated=expected_calibration_error(raw, y),
               ece_calibrated=expected_calibration_error(p, y),
               inconclusive=_conclusive(p, y),
               tta_comparison={m: _headline(classification_metrics(y, probs[m].argmax(1), classes)) for m in modes},
               test_patients=sorted(set(test.patients)))
    # A photo's embedding is the renormalised mean of its passes' embeddings (FusionInput.embedding).
    photo_emb = F.normalize(emb[:VIEWS[tta]].mean(0), dim=1).numpy()
    weights = F.normalize(head.weight.detach().double(), dim=1).numpy()
    groups: Dict[str, List[int]] = defaultdict(list)
    for i, pid in enumerate(test.patients):
        groups[pid].append(i)
    names = sorted(groups)
    py = np.array([y[groups[n][0]] for n in names])
    out["patient_level"] = {}
    for rule in FUSION_RULES:
        fused = np.stack([fuse(p[groups[n]], rule, photo_emb[groups[n]], weights, head.s, temperature)
                          for n in names])
        m = classification_metrics(py, fused.argmax(1), classes)
        m.update(inconclusive=_conclusive(fused, py), patients=names, labels=py.tolist(),
                 probabilities=fused.tolist())
        out["patient_level"][rule] = m
    out["photos"] = {"index": [int(i) for i in (test_index if test_index is not None else range(len(y)))],
                     "patient": list(test.patients), "label": y.tolist(), "probabilities": p.tolist()}
    return out


# --- Across folds: both levels, fusion choice, bootstrap, subgroups -------------------------------

def _inconclusive_summary(counts: List[dict], limits=CONFIDENCE_LIMITS) -> Optional[dict]:
    """Coverage and accuracy on the named cases, mean ± SD over folds (folds naming none left out
    of the accuracy); None when no fold names any case."""
    named = [c for c in counts if c["conclusive"]]
    if not named:
        return None
    return {"min_top_probability": limits[0], "min_margin": limits[1],
            "coverage": _mean_sd([c["conclusive"] / c["n"] for c in counts]),
            "accuracy_conclusive": _mean_sd([c["conclusive_correct"] / c["conclusive"] for c in named]),
            "cases": sum(c["n"] for c in counts), "conclusive": sum(c["conclusive"] for c in counts)}


def _level(fold_metrics: List[dict], classes: Sequence[str]) -> dict:
    s = summarize_folds(fold_metrics, classes)
    inc = _inconclusive_summary([f["inconclusive"] for f in fold_metrics])
    if inc:
        s["inconclusive"] = inc
    return s


def choose_fusion(patient: Dict[str, dict], candidates: Sequence[str] = FUSION_RULES) -> str:
    """The candidate rule with the highest cross-validated patient macro-F1; ties go to the simplest."""
    best = None
    for rule in FUSION_RULES:
        if rule in candidates and rule in patient and (
                best is None or patient[rule]["macro_f1"]["mean"] > patient[best]["macro_f1"]["mean"] + 1e-12):
            best = rule
    if best is None:
        raise ValueError(f"none of the fusion rules {list(candidates)} was evaluated")
    return best


def _batch_metrics(cm: np.ndarray):
    """accuracy, macro-F1 and per-class recall of confusion matrices [B, C, C] (classes with
    neither support nor predictions are left out of the macro mean)."""
    diag = np.diagonal(cm, axis1=1, axis2=2)
    support, predicted = cm.sum(2), cm.sum(1)
    denom = support + predicted
    f1 = np.where(denom > 0, 2 * diag / np.maximum(denom, 1), 0.0)
    macro = f1.sum(1) / np.maximum((denom > 0).sum(1), 1)
    return diag.sum(1) / cm.sum((1, 2)), macro, diag / np.maximum(support, 1)


def bootstrap_intervals(patients: Sequence[str], y_true: Sequence[int], y_pred: Sequence[int],
                        classes: Sequence[str], resamples: int = 1000, seed: int = 0,
                        confidence: float = 0.95) -> dict:
    """Percentile intervals of accuracy, macro-F1 and per-class recall over pooled held-out
    results (one row per photo, or per fused patient), resampling patients with replacement
    within each class (a child's rows travel together; every class keeps its size)."""
    names = sorted(set(patients))
    pidx = np.searchsorted(names, np.asarray(patients))
    y, yp = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    k = len(classes)
    per_patient = np.zeros((len(names), k, k))
    np.add.at(per_patient, (pidx, y, yp), 1)
    label = np.zeros(len(names), dtype=np.int64)
    label[pidx] = y
    rng = np.random.default_rng(seed)
    w = np.zeros((resamples, len(names)))
    for c in range(k):
        members = np.flatnonzero(label == c)
        if len(members):
            draws = members[rng.integers(0, len(members), size=(resamples, len(members)))]
            np.add.at(w, (np.repeat(np.arange(resamples), len(members)), draws.ravel()), 1)
    acc, macro, recall = _batch_metrics(np.einsum("bp,pij->bij", w, per_patient))
    est_acc, est_macro, est_recall = _batch_metrics(per_patient.sum(0)[None])
    q = ((1 - confidence) / 2, 1 - (1 - confidence) / 2)

    def interval(est, values):
        lo, hi = np.quantile(values, q)
        return {"estimate": float(est), "low": float(lo), "high": float(hi)}

    return {"accuracy": interval(est_acc[0], acc), "macro_f1": interval(est_macro[0], macro),
            "recall": {c: interval(est_recall[0, i], recall[:, i]) for i, c in enumerate(classes)
                       if (label == i).any()}}


def age_band(years: float) -> str:
    for lo, hi, name in AGE_BANDS:
        if lo <= years < hi:
            return name
    raise ValueError(f"age {years} is not in any band")


def _declared_subgroups(manifest: Optional[str]) -> Dict[str, Dict[str, str]]:
    """photo path (as read_manifest resolves it) → {subgroup name: value} from subgroup_<name> columns."""
    if not manifest:
        return {}
    root = os.path.dirname(os.path.abspath(manifest))
    out = {}
    with open(manifest, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            cols = {"".join(ch if ch.isalnum() or ch == "_" else "_" for ch in k[len(SUBGROUP_PREFIX):].lower())[:32]: v
                    for k, v in row.items() if k.startswith(SUBGROUP_PREFIX) and len(k) > len(SUBGROUP_PREFIX) and v}
            path = row.get("path", "")
            if cols and path:
                out[path if os.path.isabs(path) else os.path.join(root, path)] = cols
    return out


def _patient_attributes(samples, manifest: Optional[str]) -> Dict[str, Dict[str, str]]:
    """Per child: age band of the mean age over their photos, and the most frequent value of
    sex, site and every declared subgroup (a child's photos normally agree)."""
    declared = _declared_subgroups(manifest)
    ages: Dict[str, List[float]] = defaultdict(list)
    values: Dict[str, Dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for s in samples:
        try:
            ages[s.patient_id].append(float(s.extra["age"]))
        except (KeyError, ValueError):
            pass
        for key in ("sex", "site"):
            if s.extra.get(key):
                values[s.patient_id][key][s.extra[key]] += 1
        for key, v in declared.get(s.path, {}).items():
            values[s.patient_id][key][v] += 1
    out: Dict[str, Dict[str, str]] = defaultdict(dict)
    for pid, a in ages.items():
        if a and float(np.mean(a)) >= 0:
            out[pid]["age_band"] = age_band(float(np.mean(a)))
    for pid, attrs in values.items():
        for key, counter in attrs.items():
            out[pid][key] = counter.most_common(1)[0][0]
    return out


def _subgroup_cells(units: dict, samples, manifest, classes, min_patients: int) -> List[dict]:
    attrs = _patient_attributes(samples, manifest)
    photos = Counter(s.patient_id for s in samples)
    order = ["age_band", "sex", "site"]
    order += sorted({k for a in attrs.values() for k in a} - set(order))
    bands = [b[2] for b in AGE_BANDS]
    cells = []
    for attribute in order:
        groups = sorted({a[attribute] for a in attrs.values() if attribute in a},
                        key=lambda g: (bands.index(g),) if attribute == "age_band" else (0, g))
        for group in groups:
            members = {p for p, a in attrs.items() if a.get(attribute) == group}
            rows = [i for i, p in enumerate(units["patient"]) if p in members]
            cell = {"attribute": attribute, "group": group, "patients": len(members),
                    "photos": int(sum(photos[p] for p in members)), "too_few": len(members) < min_patients}
            if not cell["too_few"] and rows:
                m = classification_metrics([units["label"][i] for i in rows], [units["pred"][i] for i in rows],
                                           classes)
                cell.update(_headline(m))
            cells.append(cell)
    return cells


def _pooled(folds: List[dict], rule: Optional[str]) -> dict:
    """Rows of every fold's held-out results: photos (rule None) or fused patients."""
    rows = {"patient": [], "label": [], "pred": []}
    for f in folds:
        src = f["photos"] if rule is None else f["patient_level"][rule]
        rows["patient"] += src["patient"] if rule is None else src["patients"]
        rows["label"] += src["label"] if rule is None else src["labels"]
        rows["pred"] += np.asarray(src["probabilities"]).argmax(1).tolist()
    return rows


def cv_evaluation(folds: List[dict], samples, classes: Sequence[str], cfg: dict,
                  manifest: Optional[str] = None, fusion_candidates: Sequence[str] = FUSION_RULES) -> dict:
    """Photo and patient level side by side over the folds of evaluate_fold, the fusion rule
    picked among ``fusion_candidates``, bootstrap intervals, subgroup cells and the other TTA
    modes as comparisons. Config keys: tta, split, bootstrap_resamples, bootstrap_seed,
    min_subgroup_patients."""
    tta = folds[0]["tta"]
    patient = {rule: _level([f["patient_level"][rule] for f in folds], classes) for rule in FUSION_RULES}
    chosen = choose_fusion(patient, fusion_candidates)
    resamples = int(cfg.get("bootstrap_resamples", 1000))
    seed = int(cfg.get("bootstrap_seed", cfg.get("seed", 0)))
    boot = {"resamples": resamples, "seed": seed, "confidence": 0.95, "stratified_by_class": True}
    for level, rule in (("photo", None), ("patient", chosen)):
        rows = _pooled(folds, rule)
        boot[level] = bootstrap_intervals(rows["patient"], rows["label"], rows["pred"], classes,
                                          resamples, seed, boot["confidence"])
    min_patients = int(cfg.get("min_subgroup_patients", MIN_SUBGROUP_PATIENTS))
    modes = list(folds[0]["tta_comparison"])
    tta_cmp = {m: {k: _mean_sd([f["tta_comparison"][m][k] for f in folds])
                   for k in ("accuracy", "macro_f1", "balanced_accuracy")} for m in modes}
    split = cfg.get("split", "patient")
    return {
        "split": split, "tta": tta,
        "photo": _level(folds, classes),
        "patient": patient,
        "fusion": {"chosen": chosen, "candidates": [r for r in FUSION_RULES if r in fusion_candidates]},
        "tta_comparison": tta_cmp,
        "bootstrap": boot,
        "subgroups": {"min_patients": min_patients, "fusion": chosen,
                      "cells": _subgroup_cells(_pooled(folds, chosen), samples, manifest, classes, min_patients)},
        "comparisons": [dict(tta=m, split=split, **tta_cmp[m]) for m in modes if m != tta],
    }


def _pct(x: Optional[float]) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _iv(i: dict) -> str:
    return f"{100 * i['estimate']:.1f} [{100 * i['low']:.1f}, {100 * i['high']:.1f}]"


def evaluation_markdown(ev: dict, classes: Sequence[str]) -> str:
    """Photo and patient tables, bootstrap intervals, TTA and split comparisons, subgroup cells."""
    levels = [("photo", ev["photo"])] + [(f"patient, {r}", ev["patient"][r]) for r in FUSION_RULES]
    lines = [EVALUATION_HEADING + ": mean ± SD over folds (%)", "",
             f"TTA {ev['tta']}, folds by {ev['split']}. Patient level: each child's held-out photos fused "
             f"into one result by the rule named.", "",
             "| Metric | " + " | ".join(n for n, _ in levels) + " |", "|---|" + "---|" * len(levels)]
    for key, name in (("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("balanced_accuracy", "balanced accuracy")):
        lines.append(f"| {name} | " + " | ".join(fmt_mean_sd(s[key]) for _, s in levels) + " |")
    for c in classes:
        for k in ("precision", "recall", "f1"):
            lines.append(f"| {k} {c} | " + " | ".join(fmt_mean_sd(s["per_class"][c][k]) for _, s in levels) + " |")
    lines.append("| cases | " + " | ".join(str(int(np.sum(s["confusion_matrix"]))) for _, s in levels) + " |")
    lo, margin = CONFIDENCE_LIMITS
    for key, name in (("coverage", "conclusive share"), ("accuracy_conclusive", "accuracy when conclusive")):
        lines.append(f"| {name} | " + " | ".join(fmt_mean_sd(s["inconclusive"][key]) if "inconclusive" in s else "none"
                                                 for _, s in levels) + " |")
    f = ev["fusion"]
    lines += ["", f"Inconclusive: top < {lo} or top − runner-up < {margin} (the app's defaults). "
              f"Fusion rule picked by cross-validated patient macro-F1 among {', '.join(f['candidates'])} "
              f"(ties: the simplest): **{f['chosen']}**.", ""]
    pcm = ev["patient"][f["chosen"]]["confusion_matrix"]
    lines += [f"### Patient-level confusion matrix, {f['chosen']} (rows: true, columns: predicted)", "",
              "| | " + " | ".join(classes) + " |", "|---|" + "---|" * len(classes)]
    lines += [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(classes, pcm)]
    b = ev["bootstrap"]
    lines += ["", f"## Bootstrap {100 * b['confidence']:.0f} % intervals (%): pooled estimate [low, high]", "",
              f"{b['resamples']} resamples of patients with replacement within each class (seed {b['seed']}); "
              f"patient level under {f['chosen']}.", "",
              "| Metric | photo | patient |", "|---|---|---|",
              f"| accuracy | {_iv(b['photo']['accuracy'])} | {_iv(b['patient']['accuracy'])} |",
              f"| macro-F1 | {_iv(b['photo']['macro_f1'])} | {_iv(b['patient']['macro_f1'])} |"]
    lines += [f"| recall {c} | {_iv(b['photo']['recall'][c])} | {_iv(b['patient']['recall'][c])} |"
              for c in classes if c in b["photo"]["recall"]]
    lines += ["", "## TTA and split comparison, photo level: mean ± SD over folds (%)", "",
              "| TTA | Split | Accuracy | Macro-F1 | Balanced accuracy |", "|---|---|---|---|---|"]
    rows = [dict(tta=m, split=ev["split"], **v) for m, v in ev["tta_comparison"].items()]
    rows += [c for c in ev["comparisons"] if c["split"] != ev["split"]]
    for r in rows:
        mark = " (reported)" if r["tta"] == ev["tta"] and r["split"] == ev["split"] else ""
        lines.append(f"| {r['tta']}{mark} | {r['split']} | {fmt_mean_sd(r['accuracy'])} | "
                     f"{fmt_mean_sd(r['macro_f1'])} | {fmt_mean_sd(r.get('balanced_accuracy'))} |")
    if any(c["split"] == "photo" for c in ev["comparisons"]):
        lines += ["", "The photo split lets a child's photos sit in training and test: its figures are optimistic."]
    sg = ev["subgroups"]
    lines += ["", f"## Subgroups, patient level under {sg['fusion']}, pooled over folds (%)", "",
              f"Cells with fewer than {sg['min_patients']} patients get no figures.", "",
              "| Attribute | Group | Patients | Photos | Accuracy | Macro-F1 | Balanced accuracy |",
              "|---|---|---|---|---|---|---|"]
    for c in sg["cells"]:
        figs = ("too few | | " if c["too_few"] else
                f"{_pct(c.get('accuracy'))} | {_pct(c.get('macro_f1'))} | {_pct(c.get('balanced_accuracy'))}")
        lines.append(f"| {c['attribute']} | {c['group']} | {c['patients']} | {c['photos']} | {figs} |")
    return "\n".join(lines) + "\n"
