"""The study's experiment: four arms (pretrained face foundation model or none x
CosFace or ArcFace), each cross-validated over the same patient-grouped folds,
and one comparison table in the study's format.

    /usr/bin/python3 -m facies_train.experiment --config configs/study.py \\
        --manifest data/manifest.csv --pretrained pretrained/ms1mv3_r100/backbone.pth --out runs/study

Writes ``<out>/<arm>/cv_report.{json,md}`` and ``<out>/comparison.{json,md}``.
"""

import argparse
import os
import runpy
import sys

from .dataset import class_ids, load_model_config
from .evaluate import fmt_mean_sd, write_reports
from .train import DEFAULT_MARGIN, REPO_ROOT, TRAINING_DIR, cross_validate, load_config

__all__ = ["run_study", "comparison_markdown"]


def comparison_markdown(rows, classes, title="Comparison of the four arms") -> str:
    lines = [f"# {title}", "",
             "Mean ± SD over folds (%). Folds are grouped by patient and identical for every arm.", "",
             "| Model | Accuracy | Macro-F1 | " + " | ".join(f"F1 {c}" for c in classes) + " |",
             "|---|---|---|" + "---|" * len(classes)]
    for r in rows:
        s = r["summary"]
        lines.append(f"| {r['name']} | {fmt_mean_sd(s['accuracy'])} | {fmt_mean_sd(s['macro_f1'])} | "
                     + " | ".join(fmt_mean_sd(s["per_class"][c]["f1"]) for c in classes) + " |")
    lines += ["", "| Model | " + " | ".join(f"Precision {c} | Recall {c}" for c in classes) + " |",
              "|---|" + "---|---|" * len(classes)]
    for r in rows:
        pc = r["summary"]["per_class"]
        lines.append(f"| {r['name']} | " + " | ".join(
            f"{fmt_mean_sd(pc[c]['precision'])} | {fmt_mean_sd(pc[c]['recall'])}" for c in classes) + " |")
    return "\n".join(lines) + "\n"


def run_study(config_path: str, manifest: str, model_config: str, out: str, pretrained=None,
              arms=None, log=print, **overrides) -> dict:
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
        rep = cross_validate(cfg, manifest, model_config, os.path.join(out, arm["key"]),
                             pretrained if arm["pretrained"] else None, log)
        rows.append({"name": arm["name"], "key": arm["key"], "summary": rep["summary"],
                     "pretrained": rep["pretrained"]})
    payload = {"classes": classes, "arms": rows}
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
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    payload = run_study(a.config, a.manifest, a.model_config, a.out, a.pretrained,
                        a.arms.split(",") if a.arms else None, epochs=a.epochs, folds=a.folds)
    print(comparison_markdown(payload["arms"], payload["classes"]))
    print(f"-> {os.path.join(a.out, 'comparison.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
