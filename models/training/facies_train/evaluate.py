"""Metrics of the study's table: accuracy, per-class precision/recall/F1,
macro-F1, confusion matrix; mean ± SD across folds; JSON and Markdown reports."""

import json
import math
from typing import Dict, List, Sequence

import numpy as np

__all__ = ["confusion_matrix", "classification_metrics", "summarize_folds", "fmt_mean_sd",
           "markdown_report", "write_reports", "expected_calibration_error"]


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """rows = true class, columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int],
                           class_ids: Sequence[str]) -> dict:
    """Per-class precision/recall/F1 (0 where undefined, as scikit-learn's zero_division=0)."""
    cm = confusion_matrix(y_true, y_pred, len(class_ids))
    per_class = {}
    for i, cid in enumerate(class_ids):
        tp = cm[i, i]
        precision = _div(tp, cm[:, i].sum())
        recall = _div(tp, cm[i, :].sum())
        f1 = _div(2 * precision * recall, precision + recall)
        per_class[cid] = {"precision": precision, "recall": recall, "f1": f1, "support": int(cm[i, :].sum())}
    return {
        "n": int(cm.sum()),
        "accuracy": _div(np.trace(cm), cm.sum()),
        "macro_f1": float(np.mean([per_class[c]["f1"] for c in class_ids])),
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
    """Mean ± SD (sample SD over folds) of every metric, plus the pooled confusion matrix."""
    out = {"folds": len(folds),
           "accuracy": _mean_sd([f["accuracy"] for f in folds]),
           "macro_f1": _mean_sd([f["macro_f1"] for f in folds]),
           "per_class": {c: {k: _mean_sd([f["per_class"][c][k] for f in folds])
                             for k in ("precision", "recall", "f1")} for c in class_ids},
           "confusion_matrix": np.sum([f["confusion_matrix"] for f in folds], axis=0).tolist()}
    return out


def fmt_mean_sd(ms: Dict[str, float], percent: bool = True) -> str:
    k = 100.0 if percent else 1.0
    return f"{ms['mean'] * k:.1f} ± {ms['sd'] * k:.1f}"


def markdown_report(title: str, folds: List[dict], summary: dict, class_ids: Sequence[str],
                    notes: Sequence[str] = ()) -> str:
    lines = [f"# {title}", ""]
    lines += [n for n in notes] + ([""] if notes else [])
    lines += ["## Mean ± SD over folds (%)", "",
              "| Metric | " + " | ".join(class_ids) + " |",
              "|---|" + "---|" * len(class_ids)]
    for k in ("precision", "recall", "f1"):
        lines.append(f"| {k} | " + " | ".join(fmt_mean_sd(summary["per_class"][c][k]) for c in class_ids) + " |")
    lines += ["", f"Accuracy: **{fmt_mean_sd(summary['accuracy'])}**, "
                  f"macro-F1: **{fmt_mean_sd(summary['macro_f1'])}** ({summary['folds']} folds)", ""]
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
