"""Export a trained checkpoint as a model package the app loads.

    /usr/bin/python3 -m facies_train.package --checkpoint runs/pfm_cosface/final/checkpoint.pt \\
        --report runs/pfm_cosface/cv_report.json --id hospital-ps-r100 --version 1.0.0 \\
        --name "Hospital PS screening model" --status internal --out ../../models/hospital-ps-r100

Writes ``config.json`` (from the model config the classes came from, with this
model's id, head, CosFace scale, fitted temperature and ``inference``: the TTA
and the fusion rule the validation figures were obtained with), ``model.onnx``
(ScreeningModel: softmax(s·cos/T), opset 17; when the report chose mean-embedding
fusion, also the ``embedding`` output, and the class weights go into
``inference.embedding``), ``validation.{json,md}`` (the
cross-validation report) and then ``manifest.json`` with SHA-256 and the
self-test vector, by the app's own packer (scripts/models/build-manifest.ts,
which validates it with src/model/manifest.ts).
"""

import argparse
import base64
import datetime
import json
import os
import shutil
import subprocess
import sys

import torch

from .export import EMBEDDING_NAME, ScreeningModel, export_onnx, sha256_hex
from .train import REPO_ROOT, load_checkpoint

__all__ = ["build_screening_model", "inference_block", "write_package", "validation_report", "model_card"]


def build_screening_model(checkpoint: str, embedding_output: bool = False):
    backbone, head, ck = load_checkpoint(checkpoint)
    model = ScreeningModel(backbone, head.weight, scale=head.s, temperature=ck["temperature"],
                           embedding_output=embedding_output).eval()
    return model, ck


def inference_block(ev: dict, model: ScreeningModel) -> dict:
    """How the app must run the model for the validation figures to hold: the TTA and fusion rule
    they were obtained with, and for mean-embedding the embedding output and the head that fuses it."""
    block = {"tta": ev["tta"], "fusion": ev["fusion"]["chosen"]}
    if block["fusion"] == "mean-embedding":
        w = model.class_weights().detach().to(torch.float32).numpy().astype("<f4")  # [C, D] row-major
        block["embedding"] = {"output": EMBEDDING_NAME, "dimension": int(w.shape[1]),
                              "classWeightsBase64": base64.b64encode(w.tobytes()).decode("ascii")}
    return block


def _spread(ms: dict) -> dict:
    return {"mean": ms["mean"], "sd": ms["sd"]}


def _class_metrics(pc: dict) -> dict:
    """ClassMetrics: precision left out where no fold defines it, undefined folds counted."""
    out = {"recall": _spread(pc["recall"]), "f1": _spread(pc["f1"])}
    if pc.get("precision") is not None:
        out["precision"] = _spread(pc["precision"])
    if pc.get("precision_undefined_folds"):
        out["precisionUndefinedFolds"] = int(pc["precision_undefined_folds"])
    return out


def _inconclusive(inc: dict) -> dict:
    return {"minTopProbability": inc["min_top_probability"], "minMargin": inc["min_margin"],
            "coverage": _spread(inc["coverage"]), "accuracyConclusive": _spread(inc["accuracy_conclusive"])}


def _level(s: dict, classes) -> dict:
    """LevelFigures of one summarize_folds result."""
    out = {"accuracy": _spread(s["accuracy"]), "macroF1": _spread(s["macro_f1"]),
           "balancedAccuracy": _spread(s["balanced_accuracy"]),
           "perClass": {c: _class_metrics(s["per_class"][c]) for c in classes},
           "confusionMatrix": s["confusion_matrix"]}
    if s.get("inconclusive"):
        out["inconclusive"] = _inconclusive(s["inconclusive"])
    return out


def _intervals(b: dict) -> dict:
    return {"accuracy": b["accuracy"], "macroF1": b["macro_f1"], "recall": b["recall"]}


def _headline(r: dict) -> dict:
    return {"accuracy": _spread(r["accuracy"]), "macroF1": _spread(r["macro_f1"]),
            "balancedAccuracy": _spread(r["balanced_accuracy"])}


def validation_report(report: dict, description: str) -> dict:
    """The manifest's ``validation`` block (src/model/manifest.ts ValidationReport) from cv_report.json."""
    s, classes = report["summary"], report["classes"]
    ev = report.get("evaluation")
    cm = s["confusion_matrix"]
    grouping = "by photo (the study's split: a child's photos can sit in training and test)" \
        if ev and ev["split"] == "photo" else "grouped by patient"
    tta = f"; {ev['tta']} test-time augmentation, as the app runs it" if ev else ""
    calibration = ("held-out training patients" if report["config"].get("calibration", "holdout") == "holdout"
                   else "inner out-of-fold logits of the training patients")
    v = {"protocol": f"{s['folds']}-fold cross-validation, folds {grouping} and stratified by class; "
                     f"temperature fitted on {calibration}{tta}",
         "folds": s["folds"],
         "dataset": {"perClass": {c: int(sum(row)) for c, row in zip(classes, cm)},
                     "patients": report["patients"], "description": description},
         "perClass": {c: _class_metrics(s["per_class"][c]) for c in classes},
         "accuracy": _spread(s["accuracy"]), "macroF1": _spread(s["macro_f1"]), "confusionMatrix": cm}
    if ev:
        b, sg = ev["bootstrap"], ev["subgroups"]
        v.update(
            balancedAccuracy=_spread(s["balanced_accuracy"]), split=ev["split"], tta=ev["tta"],
            # The fusion rule (and the arm, in the study) are picked on these same folds.
            estimate="same-folds",
            patientLevel={"fusion": ev["fusion"]["chosen"],
                          "rules": {r: _level(f, classes) for r, f in ev["patient"].items()}},
            bootstrap={"resamples": b["resamples"], "seed": b["seed"], "confidence": b["confidence"],
                       "photo": _intervals(b["photo"]), "patient": _intervals(b["patient"])},
            subgroups={"minPatients": sg["min_patients"],
                       "cells": [{"attribute": c["attribute"], "group": c["group"], "patients": c["patients"],
                                  "photos": c["photos"], "tooFew": c["too_few"],
                                  **({} if c["too_few"] else {"accuracy": c["accuracy"], "macroF1": c["macro_f1"],
                                                              "balancedAccuracy": c["balanced_accuracy"]})}
                                 for c in sg["cells"]]},
            comparisons=[{"tta": c["tta"], "split": c["split"], **_headline(c)} for c in ev["comparisons"]])
        if ev["photo"].get("inconclusive"):
            v["inconclusive"] = _inconclusive(ev["photo"]["inconclusive"])
    if report.get("repeats"):
        r = report["repeats"]
        v["repeats"] = {"count": r["count"], "seeds": r["seeds"], "accuracy": _spread(r["accuracy"]),
                        "macroF1": _spread(r["macro_f1"])}
    if report.get("sites"):
        v["dataset"]["sites"] = report["sites"]
    if report.get("age_range"):
        v["dataset"]["ageRangeYears"] = report["age_range"]
    return v


def model_card(config: dict, report: dict, pretrained) -> str:
    v = config["validation"]
    pc = v["perClass"]
    pct = lambda ms: "undefined" if ms is None else f"{100 * ms['mean']:.1f} ± {100 * ms['sd']:.1f}"  # noqa: E731
    lines = [f"# {config['name']} ({config['id']} {config['version']})", "",
             "## Intended use",
             "Screening aid for children with pulmonary stenosis: how much a face resembles "
             + ", ".join(c["displayName"]["en"] for c in config["classes"])
             + ". Not a diagnosis: genetic testing decides.", "",
             "## Model",
             f"{config['architecture']} backbone, {config['head']} head (s = {config['cosfaceScale']}, "
             f"m = {config['cosfaceMargin']}), calibration temperature {config['temperature']:.4f}; "
             f"pretrained backbone: {pretrained or 'none'}. "
             f"Trained {config['created']} by {config['publisher']['name']}.", "",
             "## Data", v["dataset"]["description"],
             f"{sum(v['dataset']['perClass'].values())} photos of {v['dataset'].get('patients', '?')} patients: "
             + ", ".join(f"{c} {n}" for c, n in v["dataset"]["perClass"].items()) + ".", "",
             "## Validation", v["protocol"] + ".",
             f"Accuracy {pct(v['accuracy'])} %, macro-F1 {pct(v['macroF1'])} % (mean ± SD over folds, per photo)."]
    if "patientLevel" in v:
        p = v["patientLevel"]["rules"][v["patientLevel"]["fusion"]]
        lines += [f"Per child (photos fused by {v['patientLevel']['fusion']}, TTA {v['tta']}): accuracy "
                  f"{pct(p['accuracy'])} %, macro-F1 {pct(p['macroF1'])} %, balanced accuracy "
                  f"{pct(p['balancedAccuracy'])} %."]
    if "repeats" in v:
        r = v["repeats"]
        lines += [f"Repeated {r['count']} times (seeds {', '.join(map(str, r['seeds']))}): accuracy "
                  f"{pct(r['accuracy'])} %, macro-F1 {pct(r['macroF1'])} % (mean ± SD across the repeats' means)."]
    if report.get("held_out"):
        h = report["held_out"]
        lines += ["The figures above are cross-validated on the development children, on the folds the arm and the "
                  "fusion rule were chosen on (optimistic). "
                  f"Locked held-out set ({h['patients']} children, {h['photos']} photos; rule {h['rule']}), scored "
                  f"once: per photo accuracy {100 * h['photo']['accuracy']:.1f} %, macro-F1 "
                  f"{100 * h['photo']['macro_f1']:.1f} %; per child accuracy {100 * h['patient']['accuracy']:.1f} %, "
                  f"macro-F1 {100 * h['patient']['macro_f1']:.1f} %."]
    lines += ["", "| Class | Precision | Recall | F1 |", "|---|---|---|---|"]
    lines += [f"| {c} | {pct(m.get('precision'))} | {pct(m['recall'])} | {pct(m['f1'])} |" for c, m in pc.items()]
    lines += ["", "## Clinical validation", f"{config['clinicalValidation']['status']}: "
              f"{config['clinicalValidation']['summary']}", ""]
    return "\n".join(lines)


def write_package(checkpoint: str, out_dir: str, model_id: str, version: str, name: str,
                  model_config_path: str, report_path: str, publisher: str, data_description: str,
                  clinical: dict, display_name=None, created=None, zip_path=None, sign_key=None,
                  log=print) -> dict:
    with open(model_config_path, encoding="utf-8") as fh:
        base = json.load(fh)
    with open(report_path, encoding="utf-8") as fh:
        report = json.load(fh)
    ev = report.get("evaluation")
    by_embedding = bool(ev) and ev["fusion"]["chosen"] == "mean-embedding"
    model, ck = build_screening_model(checkpoint, embedding_output=by_embedding)
    base_classes = [c["id"] for c in base["classes"]]
    if base_classes != ck["classes"]:
        raise SystemExit(f"the checkpoint was trained on classes {ck['classes']} but {model_config_path} "
                         f"lists {base_classes}")
    # The app normalises pixels as the manifest says: a config that differs from what the network was trained
    # with would feed it inputs it never saw, silently.
    trained = ck.get("normalization")
    if trained is not None and trained != base["normalization"]:
        raise SystemExit(f"{model_config_path} normalises with {base['normalization']} but the checkpoint was trained "
                         f"with {trained}: package with the model config used for training")
    if report["classes"] != base_classes:
        raise SystemExit(f"{report_path} reports classes {report['classes']}, not {base_classes}")
    cfg = ck["config"]
    if ev and cfg.get("tta", "flip") != ev["tta"]:
        raise SystemExit(f"the checkpoint's temperature was fitted for TTA {cfg.get('tta', 'flip')!r} but "
                         f"{report_path} reports TTA {ev['tta']!r}: train and cross-validate with the same TTA")
    config = {
        "id": model_id, "version": version, "name": name,
        "displayName": display_name or {"en": name},
        "created": created or datetime.date.today().isoformat(),
        "publisher": {"name": publisher},
        "demonstration": False,
        "architecture": cfg["network"] if cfg["network"] != "tiny" else "iresnet_tiny",
        "head": cfg["head"], "seed": int(cfg["seed"]),
        "input": base["input"], "normalization": base["normalization"], "output": base["output"],
        "classes": base["classes"],
        "cosfaceScale": float(cfg["scale"]), "cosfaceMargin": float(cfg["margin"]),
        "temperature": float(ck["temperature"]),
        "validation": validation_report(report, data_description),
        # How the app must run the model for the validation figures to hold.
        **({"inference": inference_block(ev, model)} if ev else {}),
        "clinicalValidation": clinical,
        "bundled": False,
    }
    os.makedirs(out_dir, exist_ok=True)
    data = export_onnx(model, metadata={"facies.generator": "models/training/facies_train/package.py",
                                        "facies.architecture": config["architecture"],
                                        "facies.head": cfg["head"], "facies.trained": "true",
                                        "facies.temperature": repr(float(ck["temperature"]))})
    with open(os.path.join(out_dir, "model.onnx"), "wb") as fh:
        fh.write(data)
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    with open(os.path.join(out_dir, "MODEL_CARD.md"), "w", encoding="utf-8") as fh:
        fh.write(model_card(config, report, ck.get("pretrained")))
    shutil.copyfile(report_path, os.path.join(out_dir, "validation.json"))
    _node(["scripts/models/build-manifest.ts", os.path.abspath(out_dir)])
    if zip_path:
        _node(["scripts/model-pack.ts", os.path.abspath(out_dir), "--out", os.path.abspath(zip_path)]
              + (["--sign-key", os.path.abspath(sign_key)] if sign_key else []))
    with open(os.path.join(out_dir, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    log(f"wrote {out_dir}: model.onnx {len(data):,} bytes sha256 {sha256_hex(data)}, "
        f"T {config['temperature']:.4f}, self-test {manifest['selfTest']['expected']}"
        + (f"; package {zip_path}" if zip_path else ""))
    return manifest


def _node(args) -> None:
    """The app's own packer and validator (src/model/manifest.ts, src/model/package/)."""
    res = subprocess.run(["npx", "tsx"] + args, cwd=REPO_ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{res.stdout}{res.stderr}")
    print(res.stdout, end="")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Export a trained checkpoint as a Facies model package.")
    ap.add_argument("--checkpoint", required=True, help="<run>/final/checkpoint.pt")
    ap.add_argument("--report", required=True, help="<run>/cv_report.json (the cross-validation of the same config)")
    ap.add_argument("--out", required=True, help="model folder (e.g. models/<id>)")
    ap.add_argument("--zip", help="also write the .facies-model.zip with npm run model:pack")
    ap.add_argument("--sign-key", help="private key .pem for model:pack (npm run model:keygen)")
    ap.add_argument("--id", required=True, help="a-z, 0-9, '.', '_', '-'")
    ap.add_argument("--version", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--name-zh", required=True, help="Simplified Chinese display name (the app shows both languages)")
    ap.add_argument("--publisher", required=True, help="hospital or team that trained the model")
    ap.add_argument("--created", help="ISO date of training (default: today)")
    ap.add_argument("--data", required=True, help="one sentence on the training photos (who, where, when)")
    ap.add_argument("--model-config", default=os.path.join(REPO_ROOT, "models", "demo", "config.json"),
                    help="the config the classes were read from (classes, normalisation, input, output)")
    ap.add_argument("--status", default="none", choices=["none", "internal", "external"],
                    help="clinical validation status; internal/external need --validated-by and --validation-dataset")
    ap.add_argument("--summary", default="Not clinically validated: cross-validated on the training data only.")
    ap.add_argument("--validated-by")
    ap.add_argument("--validation-dataset")
    a = ap.parse_args(argv)
    clinical = {"status": a.status, "summary": a.summary}
    if a.validated_by:
        clinical["by"] = a.validated_by
    if a.validation_dataset:
        clinical["dataset"] = a.validation_dataset
    display = {"en": a.name, "zh-CN": a.name_zh}
    write_package(a.checkpoint, a.out, a.id, a.version, a.name, a.model_config, a.report, a.publisher,
                  a.data, clinical, display, a.created, a.zip, a.sign_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
