"""The study's experiment: four arms (pretrained face foundation model or none x
CosFace or ArcFace), each cross-validated over the same patient-grouped folds,
and one comparison table in the study's format.

    /usr/bin/python3 -m facies_train.experiment --config configs/study.py \\
        --manifest data/manifest.csv --pretrained pretrained/ms1mv3_r100/backbone.pth --out runs/study

Writes ``<out>/<arm>/cv_report.{json,md}`` and ``<out>/comparison.{json,md}``;
with ``--photo-split`` also ``<out>/<arm>/photo_split/``, the study's photo-level
split of the same arm, reported in the arm's cv_report beside the patient split.
"""

import argparse
import os
import runpy
import sys

from . import distributed
from .dataset import class_ids, load_model_config
from .evaluate import EVALUATION_HEADING, TTA_MODES, evaluation_markdown, fmt_mean_sd, write_reports
from .train import DEFAULT_MARGIN, REPO_ROOT, TRAINING_DIR, cross_validate, load_config

__all__ = ["run_study", "comparison_markdown", "cross_validate_compared"]


def cross_validate_compared(cfg: dict, manifest: str, model_config: str, out: str, pretrained=None,
                            log=print, photo_split: bool = False) -> dict:
    """cross_validate with folds by patient; with ``photo_split`` the same config again with the
    study's folds by photo (``<out>/photo_split``), added to the report's comparisons."""
    rep = cross_validate(cfg, manifest, model_config, out, pretrained, log)
    if not photo_split:
        return rep
    log("  the study's photo-level split, for comparison")
    photo = cross_validate(dict(cfg, split="photo"), manifest, model_config, os.path.join(out, "photo_split"),
                           pretrained, log)
    ev = rep["evaluation"]
    ev["comparisons"].append(dict(tta=photo["evaluation"]["tta"], split="photo",
                                  **{k: photo["summary"][k] for k in ("accuracy", "macro_f1", "balanced_accuracy")}))
    if distributed.is_main():
        prefix = os.path.join(out, "cv_report")
        with open(prefix + ".md", encoding="utf-8") as fh:
            head = fh.read().split(EVALUATION_HEADING)[0]
        write_reports(prefix, rep, head + evaluation_markdown(ev, rep["classes"]))
    return rep


def comparison_markdown(rows, classes, title="Comparison of the four arms") -> str:
    lines = [f"# {title}", "",
             "Mean ± SD over folds (%). Folds are grouped by patient and identical for every arm.", "",
             "| Model | Accuracy | Macro-F1 | " + " | ".join(f"F1 {c}" for c in classes) + " |",
             "|---|---|---|" + "---|" * len(classes)]
    for r in rows:
        s = r["summary"]
        lines.append(f"| {r['name']} | {fmt_mean_sd(s['accuracy'])} | {fmt_mean_sd(s['macro_f1'])} | "
                     + " | ".join(fmt_mean_sd(s["per_class"][c]["f1"]) for c in classes) + " |")
    lines += ["", "Patient level (each child's photos fused by the rule cross-validation picked):", "",
              "| Model | Fusion | Accuracy | Macro-F1 | Balanced accuracy |", "|---|---|---|---|---|"]
    for r in rows:
        ev = r.get("evaluation")
        if ev:
            p = ev["patient"][ev["fusion"]["chosen"]]
            lines.append(f"| {r['name']} | {ev['fusion']['chosen']} | {fmt_mean_sd(p['accuracy'])} | "
                         f"{fmt_mean_sd(p['macro_f1'])} | {fmt_mean_sd(p['balanced_accuracy'])} |")
    lines += ["", "| Model | " + " | ".join(f"Precision {c} | Recall {c}" for c in classes) + " |",
              "|---|" + "---|---|" * len(classes)]
    for r in rows:
        pc = r["summary"]["per_class"]
        lines.append(f"| {r['name']} | " + " | ".join(
            f"{fmt_mean_sd(pc[c]['precision'])} | {fmt_mean_sd(pc[c]['recall'])}" for c in classes) + " |")
    return "\n".join(lines) + "\n"


def run_study(config_path: str, manifest: str, model_config: str, out: str, pretrained=None,
              arms=None, log=print, photo_split=False, **overrides) -> dict:
    if TRAINING_DIR not in sys.path:
        sys.path.insert(0, TRAINING_DIR)
    all_arms = runpy.run_path(config_path)["arms"]
    chosen = [a for a in all_arms if not arms or a["key"] in arms]
    if any(a["pretrained"] for a in chosen) and not pretrained:
        raise SystemExit("the PFM arms need --pretrained <InsightFace backbone.pth> "
                         "(or choose arms with --arms none_cosface,none_arcface)")
    classes = class_ids(load_model_config(model_config))
    rows = []
    for arm in chosen:
        log(f"== {arm['name']}")
        cfg = load_config(config_path, **overrides)
        cfg.update(name=arm["name"], head=arm["head"], margin=DEFAULT_MARGIN[arm["head"]])
        rep = cross_validate_compared(cfg, manifest, model_config, os.path.join(out, arm["key"]),
                                      pretrained if arm["pretrained"] else None, log, photo_split)
        rows.append({"name": arm["name"], "key": arm["key"], "summary": rep["summary"],
                     "evaluation": {k: rep["evaluation"][k] for k in ("fusion", "patient", "comparisons")},
                     "pretrained": rep["pretrained"]})
    payload = {"classes": classes, "arms": rows}
    if distributed.is_main():
        write_reports(os.path.join(out, "comparison"), payload, comparison_markdown(rows, classes))
    return payload


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run the study's four arms and compare them.")
    ap.add_argument("--config", default=os.path.join(TRAINING_DIR, "configs", "study.py"))
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--model-config", default=os.path.join(REPO_ROOT, "models", "demo", "config.json"))
    ap.add_argument("--pretrained", help="InsightFace backbone.pth for the PFM arms")
    ap.add_argument("--arms", help="comma-separated subset: pfm_cosface,pfm_arcface,none_cosface,none_arcface")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--folds", type=int)
    ap.add_argument("--tta", choices=TTA_MODES, help="the TTA the app will run (default: the config's, else flip)")
    ap.add_argument("--bootstrap", type=int, dest="bootstrap_resamples", help="bootstrap resamples (default 1000)")
    ap.add_argument("--photo-split", action="store_true",
                    help="also cross-validate with the study's folds by photo, for comparison")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dist-timeout", type=float, default=distributed.DEFAULT_TIMEOUT_S,
                    help="seconds a rank waits for the others before the run fails (torchrun only)")
    ap.add_argument("--spread-folds", action="store_true",
                    help="under torchrun: share out each arm's folds over the ranks instead of splitting every step")
    a = ap.parse_args(argv)
    if not a.spread_folds:
        distributed.init_from_env(a.dist_timeout)
    log = print if distributed.is_main() else (lambda *args: None)
    try:
        with distributed.failures_reported(a.dist_timeout):
            payload = run_study(a.config, a.manifest, a.model_config, a.out, a.pretrained,
                                a.arms.split(",") if a.arms else None, log=log, photo_split=a.photo_split,
                                epochs=a.epochs, folds=a.folds, tta=a.tta, bootstrap_resamples=a.bootstrap_resamples,
                                spread_folds=a.spread_folds or None)
    finally:
        distributed.shutdown()
    log(comparison_markdown(payload["arms"], payload["classes"]))
    log(f"-> {os.path.join(a.out, 'comparison.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
