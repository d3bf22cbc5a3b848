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
import csv
import json
import os
import runpy
import sys

from . import distributed
from .dataset import class_ids, load_crops, load_model_config, read_manifest
from .evaluate import EVALUATION_HEADING, TTA_MODES, evaluate_fold, evaluation_markdown, fmt_mean_sd, write_reports
from .train import (DEFAULT_MARGIN, REPO_ROOT, TRAINING_DIR, cross_validate, load_checkpoint, load_config,
                    train_final)

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


def split_held_out(manifest: str, rule: dict, classes, out_dir: str):
    """(development manifest, held-out manifest) written to ``out_dir``. ``rule``: ``{"column": "site",
    "values": [...]}`` or ``{"column": "date", "from": "2023-01-01"}`` (ISO dates compare as text). A child goes
    to the held-out set when any of its photos matches, so that no child is on both sides."""
    column = rule["column"]
    samples = read_manifest(manifest, classes)

    def matches(s) -> bool:
        v = s.extra.get(column, "")
        return v in rule["values"] if "values" in rule else bool(v) and v >= str(rule["from"])

    held = {s.patient_id for s in samples if matches(s)}
    with open(manifest, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not held or len(held) == len({s.patient_id for s in samples}):
        raise SystemExit(f"the held-out rule {rule} leaves {'no' if not held else 'every'} child held out")
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, keep in (("development", False), ("held_out", True)):
        path = os.path.join(out_dir, f"{name}.csv")
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            root = os.path.dirname(os.path.abspath(manifest))
            for r in rows:
                if (r["patient_id"].strip() in held) == keep:
                    p = r["path"].strip()
                    w.writerow({**r, "path": p if os.path.isabs(p) else os.path.join(root, p)})
        paths.append(path)
    return paths[0], paths[1]


def _held_out_scores(cfg, arm, dev: str, test: str, model_config: str, out: str, pretrained, log) -> dict:
    """The arm picked on the development folds, trained on every development patient, scored once on the
    locked held-out children (same TTA and fusion rule as the development report chose)."""
    ck = train_final(cfg, dev, model_config, out, pretrained, log)
    backbone, head, checkpoint = load_checkpoint(ck)
    mc = load_model_config(model_config)
    classes = class_ids(mc)
    data = load_crops(read_manifest(test, classes))
    tta = cfg.get("tta", "flip")
    m = evaluate_fold(backbone, head, data, mc.get("normalization"), checkpoint["temperature"], classes, tta,
                      (tta,), list(range(len(data))))
    rule = arm["evaluation"]["fusion"]["chosen"]
    child = m["patient_level"][rule]
    return {"arm": arm["key"], "name": arm["name"], "photos": len(data), "patients": len(set(data.patients)),
            "tta": tta, "fusion": rule,
            "photo": {k: m[k] for k in ("accuracy", "macro_f1", "balanced_accuracy")},
            "patient": {k: child[k] for k in ("accuracy", "macro_f1", "balanced_accuracy")}}


def run_study(config_path: str, manifest: str, model_config: str, out: str, pretrained=None,
              arms=None, log=print, photo_split=False, held_out=None, **overrides) -> dict:
    """Cross-validate each arm. With ``held_out`` (or the config's), the children it selects are locked away
    first: the arms are cross-validated on the others, the best by patient-level macro-F1 is trained on all of
    them and scored once on the held-out children — the one figure not chosen on the data it is scored on."""
    if TRAINING_DIR not in sys.path:
        sys.path.insert(0, TRAINING_DIR)
    all_arms = runpy.run_path(config_path)["arms"]
    chosen = [a for a in all_arms if not arms or a["key"] in arms]
    if any(a["pretrained"] for a in chosen) and not pretrained:
        raise SystemExit("the PFM arms need --pretrained <InsightFace backbone.pth> "
                         "(or choose arms with --arms none_cosface,none_arcface)")
    classes = class_ids(load_model_config(model_config))
    held_out = held_out or load_config(config_path, **overrides).get("held_out")
    test = None
    if held_out:
        manifest, test = split_held_out(manifest, held_out, classes, out)
        log(f"held out (locked): {test}; the arms are cross-validated on {manifest}")
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
    if test:
        def child_f1(r):
            return r["evaluation"]["patient"][r["evaluation"]["fusion"]["chosen"]]["macro_f1"]["mean"]
        best = max(rows, key=child_f1)
        arm = next(a for a in chosen if a["key"] == best["key"])
        cfg = load_config(config_path, **overrides)
        cfg.update(name=arm["name"], head=arm["head"], margin=DEFAULT_MARGIN[arm["head"]])
        payload["held_out"] = dict(_held_out_scores(cfg, best, manifest, test, model_config,
                                                    os.path.join(out, best["key"]),
                                                    pretrained if arm["pretrained"] else None, log), rule=held_out)
        # The chosen arm's report carries it too: the model packaged from it says which figure is which.
        if distributed.is_main():
            report = os.path.join(out, best["key"], "cv_report.json")
            with open(report, encoding="utf-8") as fh:
                rep_json = json.load(fh)
            rep_json["held_out"] = payload["held_out"]
            with open(report, "w", encoding="utf-8") as fh:
                json.dump(rep_json, fh, indent=1)
    if distributed.is_main():
        md = comparison_markdown(rows, classes)
        if test:
            h = payload["held_out"]
            pct = lambda x: f"{100 * x:.1f}"  # noqa: E731
            md += (f"\n## Locked held-out set\n\nThe arms above are cross-validated on the development children, and "
                   f"the best arm is chosen on those same folds, so their figures are optimistic. **{h['name']}** was "
                   f"then trained on every development child and scored once on {h['patients']} held-out children "
                   f"({h['photos']} photos; rule {h['rule']}), TTA {h['tta']}: per photo accuracy "
                   f"{pct(h['photo']['accuracy'])} %, macro-F1 {pct(h['photo']['macro_f1'])} %; per child "
                   f"({h['fusion']}) accuracy {pct(h['patient']['accuracy'])} %, macro-F1 "
                   f"{pct(h['patient']['macro_f1'])} %, balanced accuracy {pct(h['patient']['balanced_accuracy'])} "
                   "%. This is the figure to quote.\n")
        write_reports(os.path.join(out, "comparison"), payload, md)
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
    ap.add_argument("--held-out-column", help="lock away the children whose photos have, in this labels column, "
                                              "one of --held-out-values or a value from --held-out-from on")
    ap.add_argument("--held-out-values", help="comma-separated values (e.g. a site)")
    ap.add_argument("--held-out-from", help="a first value, compared as text (an ISO date: 2023-01-01)")
    ap.add_argument("--repeat-seeds", type=lambda v: [int(x) for x in v.split(",")],
                    help="repeated cross-validation: further seeds to re-draw the folds with, e.g. 2025,2026")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dist-timeout", type=float, default=distributed.DEFAULT_TIMEOUT_S,
                    help="seconds a rank waits for the others before the run fails (torchrun only)")
    ap.add_argument("--spread-folds", action="store_true",
                    help="under torchrun: share out each arm's folds over the ranks instead of splitting every step")
    a = ap.parse_args(argv)
    held_out = None
    if a.held_out_column:
        if bool(a.held_out_values) == bool(a.held_out_from):
            ap.error("--held-out-column needs exactly one of --held-out-values and --held-out-from")
        held_out = ({"column": a.held_out_column, "values": a.held_out_values.split(",")} if a.held_out_values
                    else {"column": a.held_out_column, "from": a.held_out_from})
    if not a.spread_folds:
        distributed.init_from_env(a.dist_timeout)
    log = print if distributed.is_main() else (lambda *args: None)
    try:
        with distributed.failures_reported(a.dist_timeout):
            payload = run_study(a.config, a.manifest, a.model_config, a.out, a.pretrained,
                                a.arms.split(",") if a.arms else None, log=log, photo_split=a.photo_split,
                                held_out=held_out, epochs=a.epochs, folds=a.folds, tta=a.tta,
                                bootstrap_resamples=a.bootstrap_resamples, spread_folds=a.spread_folds or None,
                                repeat_seeds=a.repeat_seeds)
    finally:
        distributed.shutdown()
    log(comparison_markdown(payload["arms"], payload["classes"]))
    log(f"-> {os.path.join(a.out, 'comparison.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
