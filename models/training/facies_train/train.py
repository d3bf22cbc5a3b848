"""Training: IResNet backbone + CosFace/ArcFace head, k-fold cross-validation
grouped by patient, temperature scaling on held-out patients.

    # 5-fold cross-validation (the study's protocol) -> <out>/cv_report.{json,md}
    /usr/bin/python3 -m facies_train.train --config configs/base.py \\
        --manifest data/manifest.csv --pretrained pretrained/backbone.pth --out runs/pfm_cosface
    # the model to ship: every patient (T from inner out-of-fold logits) -> <out>/final/checkpoint.pt
    /usr/bin/python3 -m facies_train.train ... --final

(run from ``models/training``). A config is a Python file defining ``config``
(a dict, see ``configs/base.py``); command-line flags override it.
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import pickle
import runpy
import sys
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import distributed
from .backbones import get_model
from .augment import augment_batch
from .batchnorm import reestimate_batchnorm
from .calibrate import fit_temperature
from .duplicates import DEFAULT_THRESHOLD, crop_embeddings, near_duplicates, write_duplicates_csv
from .dataset import (CropTensors, class_counts, class_ids, load_crops, load_model_config,
                      normalize, read_manifest)
from .evaluate import (cv_evaluation, evaluate_fold, evaluation_markdown, markdown_report,
                       photo_fold_indices, summarize_folds, view_outputs, write_reports)
from .folds import assign_patient_folds, calibration_split, fold_indices, patients_by_class, write_folds_csv
from .losses import MarginHead, get_head

__all__ = ["load_config", "build_backbone", "load_pretrained", "PretrainedMismatch", "train_model",
           "trained_patients_path", "refuse_pretrained_overlap",
           "predict_logits", "save_checkpoint", "load_checkpoint", "cross_validate", "train_final",
           "TRAINING_DIR", "REPO_ROOT"]

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(os.path.dirname(TRAINING_DIR))
DEFAULT_MARGIN = {"cosface": 0.4, "arcface": 0.5}


def load_config(path: str, **overrides) -> dict:
    """Run a config file (``configs/*.py``) and return its ``config`` dict, with overrides."""
    if TRAINING_DIR not in sys.path:
        sys.path.insert(0, TRAINING_DIR)
    cfg = dict(runpy.run_path(path)["config"])
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if cfg.get("margin") is None:
        cfg["margin"] = DEFAULT_MARGIN[cfg["head"]]
    return cfg


def build_backbone(cfg: dict) -> torch.nn.Module:
    kwargs = dict(cfg.get("network_kwargs") or {})
    kwargs.setdefault("dropout", cfg.get("dropout", 0.0))
    return get_model(cfg["network"], **kwargs)


class PretrainedMismatch(ValueError):
    pass


def load_pretrained(backbone: torch.nn.Module, path: str) -> None:
    """Strictly load an InsightFace backbone checkpoint (``backbone.pth``).

    Accepts a bare ``state_dict`` (InsightFace's format) or a Facies checkpoint
    (its ``backbone`` entry); ``module.`` prefixes from DataParallel are removed.
    Any missing, unexpected or differently shaped tensor is an error naming them:
    a half-loaded foundation model would silently train from scratch. Only tensors
    and plain containers are unpickled: a downloaded file cannot run code. (torch
    1.13's weights-only loader cannot read floats, hence not a whole Facies
    checkpoint there: give the ``backbone.pth`` written beside it.)
    """
    if not os.path.isfile(path):
        raise PretrainedMismatch(f"pretrained checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # objects other than tensors and containers
        raise PretrainedMismatch(f"{path} is not a PyTorch checkpoint of tensors only (a Facies checkpoint.pt: "
                                 f"give the backbone.pth beside it): {e}") from e
    except Exception as e:  # zip or truncation errors
        raise PretrainedMismatch(f"{path} is not a PyTorch checkpoint: {e}") from e
    if isinstance(state, dict) and isinstance(state.get("backbone"), dict):
        state = state["backbone"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise PretrainedMismatch(f"{path} does not hold a state_dict of tensors")
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    own = backbone.state_dict()
    state = _with_batch_counters(state, own)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
                    for k in set(own) & set(state) if state[k].shape != own[k].shape)
    if missing or unexpected or shapes:
        def few(xs):
            return ", ".join(xs[:5]) + (f" … ({len(xs)} in all)" if len(xs) > 5 else "")
        parts = []
        if missing:
            parts.append(f"missing {few(missing)}")
        if unexpected:
            parts.append(f"unexpected {few(unexpected)}")
        if shapes:
            parts.append(f"different shapes (checkpoint vs network) {few(shapes)}")
        raise PretrainedMismatch(
            f"{path} does not match the configured backbone: " + "; ".join(parts)
            + ". Check --network (e.g. iresnet100 for an InsightFace r100 backbone.pth).")
    backbone.load_state_dict(state, strict=True)


def trained_patients_path(backbone_path: str) -> str:
    """The record, beside a backbone the kit wrote, of the patients it has seen (``backbone.patients.json``)."""
    return os.path.splitext(backbone_path)[0] + ".patients.json"


def _patient_digest(patient_id: str) -> str:
    # Digests, not the ids: a backbone shared with another team should not carry the hospital's patient numbers.
    return hashlib.sha256(patient_id.encode("utf-8")).hexdigest()


def _write_trained_patients(backbone_path: str, patients: List[str], manifest: str) -> None:
    with open(manifest, "rb") as fh:
        manifest_sha256 = hashlib.sha256(fh.read()).hexdigest()
    with open(trained_patients_path(backbone_path), "w", encoding="utf-8") as fh:
        json.dump({"format": "facies-trained-patients/1", "manifest_sha256": manifest_sha256,
                   "patient_sha256": sorted({_patient_digest(p) for p in patients})}, fh, indent=1)
        fh.write("\n")


def refuse_pretrained_overlap(pretrained: Optional[str], patients: List[str]) -> None:
    """Cross-validating from a backbone the kit trained on some of the same patients would test on children
    it has already seen: refuse it. Backbones without a record (a public foundation model) pass."""
    if not pretrained or not os.path.isfile(trained_patients_path(pretrained)):
        return
    with open(trained_patients_path(pretrained), encoding="utf-8") as fh:
        seen = set(json.load(fh)["patient_sha256"])
    overlap = {p for p in set(patients) if _patient_digest(p) in seen}
    if overlap:
        raise PretrainedMismatch(
            f"{pretrained} was trained on {len(overlap)} of the {len(set(patients))} patients in this manifest "
            f"({trained_patients_path(pretrained)}): cross-validating from it would test on children it has "
            "already seen. Pretrain on other patients (or use the public foundation model).")


def _with_batch_counters(state: Dict[str, torch.Tensor], own: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Fill in BatchNorm's ``num_batches_tracked``, absent from checkpoints saved before
    torch 0.4.1 and by converters that drop it; only ``momentum=None`` reads it."""
    return {**{k: v for k, v in own.items() if k.endswith(".num_batches_tracked")}, **state}


def _device(cfg: dict) -> torch.device:
    want = cfg.get("device", "auto")
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    return distributed.local_device(torch.device(want))


BALANCE_MODES = ("patient", "sampler", "sqrt", "logit-adjust", "loss", "none")


def sampling_weights(labels: torch.Tensor, patients: List[str], mode: str) -> Optional[torch.Tensor]:
    """Per-photo sampling weights of a balancing mode (None: a plain shuffle).

    - ``patient``: every class equally likely, every child of a class equally likely, then one of its photos
      (w = 1 / (children of the class × photos of the child)): a child with ten photos is not drawn ten times as
      often, and 51 Alagille children do not stand for a quarter of the data through their photo count.
    - ``sampler``: every class equally likely, photos uniform within it.
    - ``sqrt``: a class drawn in proportion to the square root of its photo count (milder than ``sampler``).
    """
    if mode in ("logit-adjust", "loss", "none"):
        return None
    counts = torch.bincount(labels).double()
    if mode == "sampler":
        return 1.0 / counts[labels]
    if mode == "sqrt":
        return 1.0 / counts[labels].sqrt()
    if mode == "patient":
        by_class, photos = patients_by_class(labels.tolist(), patients)
        children = torch.tensor([len(by_class.get(c, [])) for c in range(len(counts))], dtype=torch.float64)
        return 1.0 / (children[labels] * torch.tensor([photos[p] for p in patients], dtype=torch.float64))
    raise ValueError(f"balance must be one of {', '.join(BALANCE_MODES)}, got {mode!r}")


def _batches(data: CropTensors, cfg: dict, gen: torch.Generator):
    """Global index batches for one epoch, drawn with replacement by the balancing mode's weights, or a
    shuffle. Every rank draws the same batches from the same seed and trains on its share."""
    n = len(data)
    world = distributed.world_size()
    if int(cfg["batch_size"]) % world:
        raise ValueError(f"batch_size {cfg['batch_size']} (the global batch) does not split over {world} ranks")
    bs = min(int(cfg["batch_size"]), n)
    bs -= bs % world
    w = sampling_weights(data.labels, data.patients, cfg.get("balance", "sampler"))
    order = (torch.multinomial(w, n, replacement=True, generator=gen) if w is not None
             else torch.randperm(n, generator=gen))
    return [order[i:i + bs] for i in range(0, n - bs + 1, bs)] or [order]


class _Network(torch.nn.Module):
    """Backbone + margin head as one module, the unit DistributedDataParallel wraps."""

    def __init__(self, backbone: torch.nn.Module, head: MarginHead):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.backbone(x)
        # float16 cosines near ±1 lose the margin's digits: the head runs in float32, as InsightFace casts before it.
        with torch.autocast(device_type=emb.device.type, enabled=False):
            return self.head(emb.float(), y)


def recipe(cfg: dict, pretrained: Optional[str]) -> dict:
    """The config a training runs with: from a pretrained backbone, ``finetune`` (head first, then the backbone at
    a fraction of the learning rate, no weight decay on BN/PReLU/biases/head) overrides the from-scratch recipe."""
    if not pretrained or not cfg.get("finetune"):
        return dict(cfg, head_epochs=0)
    return {**cfg, **cfg["finetune"]}


def param_groups(backbone: torch.nn.Module, head: MarginHead, cfg: dict) -> List[dict]:
    """Optimizer groups. With ``decay_norm_and_bias`` off, BatchNorm and PReLU parameters, biases and the class
    centres get no weight decay: it would pull BN scales and PReLU slopes towards 0 and shrink the centres that the
    cosine normalises anyway. The backbone runs at ``backbone_lr_mult`` × lr."""
    lr, wd = float(cfg["lr"]), float(cfg["weight_decay"])
    blr = lr * float(cfg.get("backbone_lr_mult", 1.0))
    params = [p for p in backbone.parameters() if p.requires_grad]
    if cfg.get("decay_norm_and_bias", True):
        return [{"params": params, "lr": blr, "weight_decay": wd, "name": "backbone"},
                {"params": list(head.parameters()), "lr": lr, "weight_decay": wd, "name": "head"}]
    # Conv and linear weights have ≥ 2 dimensions; BN weights/biases, PReLU slopes and biases have one.
    decay = [p for p in params if p.dim() > 1]
    rest = [p for p in params if p.dim() <= 1]
    return [{"params": decay, "lr": blr, "weight_decay": wd, "name": "backbone"},
            {"params": rest, "lr": blr, "weight_decay": 0.0, "name": "backbone-no-decay"},
            {"params": list(head.parameters()), "lr": lr, "weight_decay": 0.0, "name": "head"}]


def train_model(cfg: dict, data: CropTensors, normalization: Optional[dict], num_classes: int,
                pretrained: Optional[str] = None, log: Callable = print):
    """Train backbone + margin head on ``data``; returns (backbone, head, history). From a pretrained backbone
    with a ``finetune`` recipe, the first ``head_epochs`` train the head alone (the backbone frozen, BN included:
    a linear probe), so that a random s=64 head does not send large gradients into the pretrained features."""
    cfg = recipe(cfg, pretrained)
    torch.manual_seed(int(cfg["seed"]))
    gen = torch.Generator().manual_seed(int(cfg["seed"]))
    device = _device(cfg)
    backbone = build_backbone(cfg)
    if pretrained:
        load_pretrained(backbone, pretrained)
    head = get_head(cfg["head"], s=float(cfg["scale"]), m=float(cfg["margin"]),
                    embedding_size=backbone.num_features, num_classes=num_classes)
    backbone.to(device).train()
    head.to(device).train()
    rank, world = distributed.rank(), distributed.world_size()
    network = _Network(backbone, head)
    if world > 1:
        network = distributed.data_parallel(network, device)

    weight, logit_shift = None, None
    counts = torch.tensor(class_counts(data.labels.tolist(), num_classes), dtype=torch.float32)
    if cfg.get("balance") == "loss":
        weight = (counts.sum() / (num_classes * counts.clamp_min(1))).to(device)
    if cfg.get("balance") == "logit-adjust":
        # Logit adjustment (Menon et al. 2021): train on logits + τ·log prior, predict without it, which targets the
        # balanced error instead of the prior-weighted one.
        prior = counts.clamp_min(1) / counts.sum()
        logit_shift = (float(cfg.get("logit_adjust_tau", 1.0)) * prior.log()).to(device)
    augment = cfg.get("augment") or {}
    params = param_groups(backbone, head, cfg)
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg.get("momentum", 0.9))
    else:
        opt = torch.optim.AdamW(params, lr=cfg["lr"])
    base_lrs = [g["lr"] for g in opt.param_groups]
    epochs = int(cfg["epochs"])
    probe_epochs = min(int(cfg.get("head_epochs", 0)), epochs)
    steps_per_epoch = len(_batches(data, cfg, torch.Generator().manual_seed(0)))
    probe = probe_epochs * steps_per_epoch
    total = max(1, epochs * steps_per_epoch - probe)
    warmup = int(cfg.get("warmup_epochs", 0) * steps_per_epoch)
    amp = bool(cfg.get("amp", True)) and device.type == "cuda"
    scaler = torch.cuda.amp.GradScaler(enabled=amp)
    history: List[float] = []
    step = 0
    t0 = time.perf_counter()
    for epoch in range(epochs):
        losses = []
        probing = epoch < probe_epochs
        if probing:
            backbone.eval()  # frozen, its BN statistics too
        elif epoch == probe_epochs and probe_epochs:
            backbone.train()
            for g in opt.param_groups:  # no momentum carried over from the steps the backbone sat out
                if g["name"] != "head":
                    for p in g["params"]:
                        opt.state.pop(p, None)
        for batch in _batches(data, cfg, gen):
            # Warm-up then cosine decay, per step (cf. InsightFace's PolyScheduler); the probe runs at the head's lr.
            t = step - probe
            cosine = 0.5 * (1 + math.cos(math.pi * (t - warmup) / max(1, total - warmup)))
            f = 1.0 if probing else (t + 1) / warmup if t < warmup else cosine
            for g, lr in zip(opt.param_groups, base_lrs):
                g["lr"] = 0.0 if probing and g["name"] != "head" else lr * f
            # Flips are drawn for the whole global batch so that every rank's generator stays in step.
            flip = torch.rand(len(batch), generator=gen) < 0.5 if cfg.get("flip", True) else None
            idx = distributed.rank_share(batch, rank, world)
            # Augmentation parameters, too, are drawn for the whole global batch: every rank's generator stays in step.
            images = (distributed.rank_share(augment_batch(data.images[batch], augment, gen), rank, world)
                      if augment else data.images[idx])
            x = normalize(images, normalization)
            if flip is not None:
                share = distributed.rank_share(flip, rank, world)
                x[share] = x[share].flip(3)
            x, y = x.to(device), data.labels[idx].to(device)
            with torch.autocast(device_type="cuda", dtype=torch.float16) if amp else contextlib.nullcontext():
                logits = network(x, y)
            # The global batch's (weighted) mean: DDP averages gradients over ranks, hence x world.
            denom = weight[data.labels[batch].to(device)].sum() if weight is not None else len(batch)
            logits = logits.float() if logit_shift is None else logits.float() + logit_shift
            loss = F.cross_entropy(logits, y, weight=weight, reduction="sum") * world / denom
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            # While probing, the backbone's gradients are not applied: they must not shrink the head's by clipping.
            clipped = list(head.parameters()) + ([] if probing else list(backbone.parameters()))
            torch.nn.utils.clip_grad_norm_(clipped, 5.0)
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
            step += 1
        history.append(distributed.mean_over_ranks(float(np.mean(losses))))
        log(f"    epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f} ({time.perf_counter() - t0:.0f} s)")
    if world > 1:  # back to plain BatchNorm: evaluation runs on each rank alone
        trained, backbone = backbone, build_backbone(cfg).to(device)
        backbone.load_state_dict(trained.state_dict())
    precise_batchnorm(backbone, data, normalization, device, int(cfg["batch_size"]), int(cfg["seed"]))
    head.eval()
    return backbone.cpu(), head.cpu(), history


def precise_batchnorm(backbone, data: CropTensors, normalization: Optional[dict], device,
                      batch_size: int, seed: int = 0) -> None:
    """Recompute BN running statistics as exact averages over the training crops
    ("precise BN", ``batchnorm.reestimate_batchnorm``): the exponential averages of a
    short fine-tuning run lag the final weights, and the eval-mode network would see
    mis-scaled activations. Batches are drawn in a seeded random order: a manifest sorted
    by class would otherwise give one-class batches, whose within-batch variances (and,
    through train-mode normalisation, deeper layers' inputs) are not the population's."""
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    batches = (normalize(data.images[order[i:i + batch_size]], normalization)
               for i in range(0, len(data) - 1, batch_size))
    # Train-mode BN cannot normalise a single sample.
    reestimate_batchnorm(backbone, (x.to(device) for x in batches if x.shape[0] > 1))


@torch.no_grad()
def predict_logits(backbone, head: MarginHead, data: CropTensors, normalization: Optional[dict],
                   batch_size: int = 64) -> torch.Tensor:
    """``s · cos θ`` (no margin) for every crop, in eval mode: the app's logits before 1/T."""
    backbone.eval()
    out = [head(backbone(normalize(data.images[i:i + batch_size], normalization)))
           for i in range(0, len(data), batch_size)]
    return torch.cat(out).double()


def save_checkpoint(path: str, backbone, head: MarginHead, cfg: dict, classes: List[str],
                    temperature: float, patients: List[str], manifest: str, extra: Optional[dict] = None) -> None:
    """A Facies checkpoint; ``backbone`` is in InsightFace key layout, so ``backbone.pth``
    written next to it loads as ``--pretrained``, with ``backbone.patients.json`` (digests of
    the patients it has seen) so that a cross-validation from it refuses those patients."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"backbone": backbone.state_dict(), "head": {"weight": head.weight.detach().clone()},
                "config": cfg, "classes": list(classes), "temperature": float(temperature),
                "patient_sha256": sorted({_patient_digest(p) for p in patients}), **(extra or {})}, path)
    backbone_path = os.path.join(os.path.dirname(os.path.abspath(path)), "backbone.pth")
    torch.save(backbone.state_dict(), backbone_path)
    _write_trained_patients(backbone_path, patients, manifest)


def load_checkpoint(path: str):
    # The kit's own output; weights_only cannot be used on torch 1.13, which reads no floats (config, temperature).
    ck = torch.load(path, map_location="cpu")
    cfg = ck["config"]
    backbone = build_backbone(cfg)
    backbone.load_state_dict(_with_batch_counters(ck["backbone"], backbone.state_dict()), strict=True)
    head = get_head(cfg["head"], s=float(cfg["scale"]), m=float(cfg["margin"]),
                    embedding_size=backbone.num_features, num_classes=len(ck["classes"]))
    head.weight.data.copy_(ck["head"]["weight"])
    return backbone.eval(), head.eval(), ck


CALIBRATION_MODES = ("inner-oof", "holdout")


def _fit_and_calibrate(cfg, data: CropTensors, normalization, num_classes, pretrained, log, seed):
    """(backbone, head, history, temperature, photos the temperature was fitted on). The temperature is fitted on
    the TTA the app runs (the averaged passes are what it shows), on logits of patients the model did not train on:

    - ``inner-oof`` (default): inner k-fold (``inner_folds``, grouped by patient) models give every training
      photo an out-of-fold logit; T is fitted on all of them and the model is trained on *every* training patient.
      Costs ``inner_folds`` extra trainings.
    - ``holdout``: ``calibration_fraction`` of each class's training patients is held out of training and T is
      fitted on them (one training; but ~6 of ~41 Alagille children per fold neither train nor calibrate well).
    """
    mode, tta = cfg.get("calibration", "inner-oof"), cfg.get("tta", "flip")
    if mode == "holdout":
        fit_idx, cal_idx = calibration_split(data.labels.tolist(), data.patients,
                                             float(cfg["calibration_fraction"]), seed)
        backbone, head, history = train_model(cfg, data.subset(fit_idx), normalization, num_classes,
                                              pretrained, log)
        cal = data.subset(cal_idx)
        temperature = fit_temperature(view_outputs(backbone, head, cal, normalization, tta)[0], cal.labels)
        return backbone, head, history, temperature, len(cal_idx)
    if mode != "inner-oof":
        raise ValueError(f"calibration must be one of {', '.join(CALIBRATION_MODES)}, got {mode!r}")
    # Every inner fold needs a child of every class: a class with fewer children than inner_folds gets fewer folds.
    fewest = min(len(children) for children in patients_by_class(data.labels.tolist(), data.patients)[0].values())
    k = min(int(cfg.get("inner_folds", 3)), fewest)
    if k < 2:
        raise ValueError("calibration 'inner-oof' needs at least 2 training patients of every class")
    logits, labels = [], []
    for j, (tr, te) in enumerate(fold_indices(data.labels.tolist(), data.patients, k, seed)):
        log(f"    inner fold {j + 1}/{k} (out-of-fold logits for the temperature)")
        b, h, _ = train_model(cfg, data.subset(tr), normalization, num_classes, pretrained, lambda *a: None)
        held = data.subset(te)
        logits.append(view_outputs(b, h, held, normalization, tta)[0])
        labels.append(held.labels)
    temperature = fit_temperature(torch.cat(logits, dim=1), torch.cat(labels))
    backbone, head, history = train_model(cfg, data, normalization, num_classes, pretrained, log)
    return backbone, head, history, temperature, len(data)


def cross_validate(cfg: dict, manifest: str, model_config_path: str, out_dir: str,
                   pretrained: Optional[str] = None, log: Callable = print) -> dict:
    """k folds grouped by patient; per fold: train, fit T on the training patients' out-of-fold
    logits (or a calibration hold-out: ``calibration``), evaluate on the test patients. Writes
    cv_report.{json,md}, folds.csv."""
    model_config = load_model_config(model_config_path)
    classes = class_ids(model_config)
    norm = model_config.get("normalization")
    samples = read_manifest(manifest, classes)
    refuse_pretrained_overlap(pretrained, [s.patient_id for s in samples])
    data = load_crops(samples)
    labels, patients = data.labels.tolist(), data.patients
    k, seed = int(cfg["folds"]), int(cfg["seed"])
    if distributed.is_main():
        os.makedirs(out_dir, exist_ok=True)
        write_folds_csv(os.path.join(out_dir, "folds.csv"), samples,
                        assign_patient_folds(labels, patients, k, seed), classes)
    log(f"{len(samples)} photos of {len(set(patients))} patients, classes "
        + ", ".join(f"{c}={n}" for c, n in zip(classes, class_counts(labels, len(classes)))))
    duplicates = _possible_duplicates(cfg, data, norm, samples, pretrained, out_dir)
    if duplicates["checked"]:
        log(f"  {duplicates['pairs']} pairs of crops of different patient ids look alike (cosine ≥ "
            f"{duplicates['threshold']:g}): check {duplicates['file']}")
    folds = _run_folds(cfg, data, norm, classes, seed, out_dir, pretrained, log)
    summary = summarize_folds(folds, classes)
    repeats = _repeats(cfg, data, norm, classes, seed, folds, out_dir, pretrained, log)
    payload = {"config": cfg, "classes": classes, "manifest": os.path.abspath(manifest),
               "pretrained": pretrained, "photos": len(samples), "patients": len(set(patients)),
               "summary": summary, "folds": folds, "possible_duplicates": duplicates,
               **({"repeats": repeats} if repeats else {}),
               "evaluation": cv_evaluation(folds, samples, classes, cfg, manifest)}
    md = markdown_report(f"Cross-validation: {cfg.get('name', cfg['head'])}", folds, summary, classes,
                         [f"{len(samples)} photos of {len(set(patients))} patients; {k} folds grouped by "
                          f"patient, stratified by class (seed {seed}); backbone {cfg['network']}, "
                          f"head {cfg['head']} (s={cfg['scale']}, m={cfg['margin']}), "
                          f"pretrained: {pretrained or 'none'}."])
    md += "\n" + evaluation_markdown(payload["evaluation"], classes)
    if repeats:
        md += (f"\nRepeated cross-validation ({repeats['count']} × {k} folds, seeds "
               f"{', '.join(map(str, repeats['seeds']))}; the tables above are the first repeat's): accuracy "
               f"{100 * repeats['accuracy']['mean']:.1f} ± {100 * repeats['accuracy']['sd']:.1f} %, macro-F1 "
               f"{100 * repeats['macro_f1']['mean']:.1f} ± {100 * repeats['macro_f1']['sd']:.1f} "
               "(mean ± SD across the repeats' means).\n")
    md += "\n" + (f"Possible duplicates across patient ids (pretrained backbone, cosine ≥ "
                  f"{duplicates['threshold']:g}): **{duplicates['pairs']}** pairs, listed in "
                  "`possible_duplicates.csv` for a person to check.\n"
                  if duplicates["checked"] else "Possible duplicates across patient ids: not checked (no pretrained "
                  "backbone; run `python -m facies_train.duplicates` with a trained checkpoint).\n")
    if distributed.is_main():
        write_reports(os.path.join(out_dir, "cv_report"), payload, md)
    return payload


def _run_folds(cfg, data: CropTensors, norm, classes, seed: int, out_dir: str, pretrained, log) -> List[dict]:
    """Train and evaluate the k folds that ``seed`` assigns (grouped by patient, or by photo for comparison)."""
    k, labels = int(cfg["folds"]), data.labels.tolist()
    split = (photo_fold_indices(labels, k, seed) if cfg.get("split") == "photo"
             else fold_indices(labels, data.patients, k, seed))
    # --spread-folds: this rank trains folds i ≡ RANK (mod WORLD_SIZE); all read every fold's result back.
    me, ranks = distributed.launched() if cfg.get("spread_folds") else (0, 1)
    shared = [os.path.join(out_dir, "fold_results", f"seed{seed}-fold{i + 1}.json") for i in range(k)]
    folds = []
    for i, (train_idx, test_idx) in enumerate(split):
        if i % ranks != me:
            continue
        log(f"  fold {i + 1}/{k}: train {len(train_idx)} photos, test {len(test_idx)}")
        backbone, head, history, temperature, n_cal = _fit_and_calibrate(
            cfg, data.subset(train_idx), norm, len(classes), pretrained, log, seed + i)
        m = evaluate_fold(backbone, head, data.subset(test_idx), norm, temperature, classes,
                          cfg.get("tta", "flip"), cfg.get("compare_tta", ("flip", "flip-grey")), test_idx)
        m.update(temperature=temperature, calibration_photos=n_cal, loss_history=history)
        log(f"    fold {i + 1}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, T {temperature:.3f}")
        folds.append(m)
        if ranks > 1:
            distributed.publish(shared[i], m)
    if ranks > 1:
        log(f"  waiting for the other ranks' folds ({ranks} ranks)")
        folds = distributed.collect(shared)
    return folds


def _repeats(cfg, data, norm, classes, seed: int, first: List[dict], out_dir, pretrained, log) -> Optional[dict]:
    """Repeated cross-validation (``repeat_seeds``: the folds re-drawn with each further seed): the spread across
    the repeats' means, which one seed's mean ± SD over folds does not show. None without further seeds."""
    seeds = [seed] + [int(x) for x in cfg.get("repeat_seeds") or [] if int(x) != seed]
    if len(seeds) == 1:
        return None
    per_repeat = [summarize_folds(first, classes)]
    for r in seeds[1:]:
        log(f"  repeat with seed {r}")
        per_repeat.append(summarize_folds(_run_folds(cfg, data, norm, classes, r, out_dir, pretrained, log), classes))

    def spread(key):
        xs = np.array([s[key]["mean"] for s in per_repeat])
        return {"mean": float(xs.mean()), "sd": float(xs.std(ddof=1))}

    return {"count": len(seeds), "seeds": seeds, "accuracy": spread("accuracy"), "macro_f1": spread("macro_f1"),
            "per_repeat": [{"seed": r, "accuracy": s["accuracy"]["mean"], "macro_f1": s["macro_f1"]["mean"]}
                           for r, s in zip(seeds, per_repeat)]}


def _possible_duplicates(cfg, data: CropTensors, norm, samples, pretrained, out_dir) -> dict:
    """Crops of different patient ids that the pretrained backbone sees as near-identical (the same child under
    two ids would cross folds). Without a pretrained backbone there are no meaningful embeddings before training."""
    threshold = float(cfg.get("duplicate_threshold", DEFAULT_THRESHOLD))
    if not pretrained:
        return {"checked": False, "threshold": threshold}
    backbone = build_backbone(cfg)
    load_pretrained(backbone, pretrained)
    pairs = near_duplicates(crop_embeddings(backbone, data, norm), data.patients, [s.path for s in samples],
                            threshold)
    if distributed.is_main():
        os.makedirs(out_dir, exist_ok=True)
        write_duplicates_csv(os.path.join(out_dir, "possible_duplicates.csv"), pairs)
    # Counts only in the report (it may travel with a model package); the names are in the CSV beside it.
    return {"checked": True, "threshold": threshold, "pairs": len(pairs), "file": "possible_duplicates.csv"}


def train_final(cfg: dict, manifest: str, model_config_path: str, out_dir: str,
                pretrained: Optional[str] = None, log: Callable = print) -> str:
    """The model to ship: trained on every patient, T fitted as ``calibration`` says (``_fit_and_calibrate``)."""
    model_config = load_model_config(model_config_path)
    classes = class_ids(model_config)
    data = load_crops(read_manifest(manifest, classes))
    backbone, head, history, temperature, n_cal = _fit_and_calibrate(
        cfg, data, model_config.get("normalization"), len(classes), pretrained, log, int(cfg["seed"]))
    path = os.path.join(out_dir, "final", "checkpoint.pt")
    if distributed.is_main():
        save_checkpoint(path, backbone, head, cfg, classes, temperature, list(data.patients), manifest,
                        {"loss_history": history, "calibration_photos": n_cal,
                         "normalization": model_config.get("normalization"), "pretrained": pretrained})
    log(f"wrote {path}: temperature {temperature:.4f} (fitted on {n_cal} photos the model had not trained on)")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train and cross-validate a Facies screening model.")
    ap.add_argument("--config", required=True, help="configs/*.py")
    ap.add_argument("--manifest", required=True, help="CSV: path,label,patient_id[,age,sex,site]")
    ap.add_argument("--model-config", default=os.path.join(REPO_ROOT, "models", "demo", "config.json"),
                    help="model config/manifest JSON giving the ordered classes and normalisation")
    ap.add_argument("--repeat-seeds", type=lambda v: [int(x) for x in v.split(",")],
                    help="repeated cross-validation: further seeds to re-draw the folds with, e.g. 2025,2026")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pretrained", help="InsightFace backbone.pth (face-recognition foundation model)")
    ap.add_argument("--head", choices=["cosface", "arcface"])
    ap.add_argument("--network")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--folds", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--final", action="store_true", help="train the model to export instead of cross-validating")
    ap.add_argument("--threads", type=int, help="CPU threads for torch (per rank under torchrun)")
    ap.add_argument("--dist-timeout", type=float, default=distributed.DEFAULT_TIMEOUT_S,
                    help="seconds a rank waits for the others before the run fails (torchrun only)")
    ap.add_argument("--spread-folds", action="store_true",
                    help="under torchrun: share out the folds, each trained by one rank alone, instead of "
                         "splitting every step over the ranks")
    a = ap.parse_args(argv)
    if a.spread_folds and a.final:
        ap.error("--spread-folds shares out cross-validation folds; --final trains one model")
    if a.threads:
        torch.set_num_threads(a.threads)
    if not a.spread_folds:
        distributed.init_from_env(a.dist_timeout)
    try:
        with distributed.failures_reported(a.dist_timeout):
            _run(a)
    finally:
        distributed.shutdown()
    return 0


def _run(a: argparse.Namespace) -> None:
    cfg = load_config(a.config, head=a.head, network=a.network, epochs=a.epochs, folds=a.folds, seed=a.seed,
                      spread_folds=a.spread_folds or None, repeat_seeds=a.repeat_seeds)
    if a.head and a.head != load_config(a.config)["head"]:
        cfg["margin"] = DEFAULT_MARGIN[a.head]
    pretrained = a.pretrained or cfg.get("pretrained")
    log = print if distributed.is_main() else (lambda *args: None)
    if a.final:
        train_final(cfg, a.manifest, a.model_config, a.out, pretrained, log)
    else:
        rep = cross_validate(cfg, a.manifest, a.model_config, a.out, pretrained, log)
        s = rep["summary"]
        log(f"accuracy {100 * s['accuracy']['mean']:.1f} ± {100 * s['accuracy']['sd']:.1f} %, "
            f"macro-F1 {100 * s['macro_f1']['mean']:.1f} ± {100 * s['macro_f1']['sd']:.1f} % "
            f"-> {os.path.join(a.out, 'cv_report.md')}")


if __name__ == "__main__":
    sys.exit(main())
