#!/usr/bin/env python3
"""Build the bundled demonstration model (untrained, seeded) as ONNX.

    /usr/bin/python3 models/training/make_demo_model.py \\
        --config models/demo/config.json --out models/demo/model.onnx
    /usr/bin/python3 models/training/make_demo_model.py \\
        --config models/demo/config.json --arch tiny --out models/test-tiny/model.onnx

Reads from the model config: ``seed``, ``architecture`` (overridden by
``--arch``), ``classes`` (only its length), ``cosfaceScale``, ``temperature``.

The weights are random, so the output means nothing clinically; the model
exists so that the app, its tests and cross-runtime parity checks have a real
IR-100-shaped graph to run. To make those checks meaningful the network is
made *well-scaled* rather than merely random:

1. seeded Kaiming-normal initialisation of every convolution and of ``fc``;
2. BatchNorm calibration (``facies_train.batchnorm.reestimate_batchnorm``, the
   kit's precise BN): a few forward passes in train mode, with cumulative
   running averages (``momentum=None``, accumulated in float64), over seeded
   synthetic 112x112 images in [-1, 1] (half smooth multi-scale random fields,
   half uniform noise), so that in eval mode every BN sees inputs of roughly
   zero mean / unit variance and the embedding is centred;
3. class weights drawn around a shared random direction, with the per-class
   part sized so that ``scale·cos/temperature`` differs between classes by
   about ``--logit-spread`` (default 1.5) standard deviation: the four
   probabilities are spread out instead of one-hot, and vary between inputs.

Everything is seeded from ``seed``; for a given torch version and machine the
output file is byte-identical between runs (the script prints its sha256).
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from facies_train.backbones import get_model  # noqa: E402
from facies_train.batchnorm import reestimate_batchnorm  # noqa: E402
from facies_train.export import (EXPECTED_OP_TYPES, ScreeningModel,  # noqa: E402
                                 export_onnx, onnx_op_types, sha256_hex)

ARCH_ALIASES = {"tiny": "iresnet_tiny", "iresnet_tiny": "iresnet_tiny",
                "iresnet100": "iresnet100", "r100": "iresnet100",
                "iresnet50": "iresnet50", "r50": "iresnet50",
                "iresnet34": "iresnet34", "r34": "iresnet34",
                "iresnet18": "iresnet18", "r18": "iresnet18"}
INPUT_SIZE = 112


def init_weights(model: nn.Module) -> None:
    """Kaiming-normal convs and fc (fan-in, PReLU slope 0.25), BN to identity."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=0.25, mode="fan_in", nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
            m.reset_running_stats()
        elif isinstance(m, nn.PReLU):
            nn.init.constant_(m.weight, 0.25)


def synthetic_images(n: int, generator: torch.Generator, size: int = INPUT_SIZE) -> torch.Tensor:
    """n seeded images in [-1, 1]: first half smooth multi-scale fields, rest uniform noise."""
    n_smooth = n // 2
    out = torch.empty(n, 3, size, size)
    if n_smooth:
        field = torch.zeros(n_smooth, 3, size, size)
        for res, amp in ((2, 1.0), (7, 0.7), (28, 0.4), (size, 0.15)):
            coarse = torch.randn(n_smooth, 3, res, res, generator=generator)
            field += amp * F.interpolate(coarse, size=(size, size), mode="bilinear",
                                         align_corners=False)
        # Colour channels of real photos are strongly correlated.
        luma = field.mean(dim=1, keepdim=True)
        field = 0.7 * luma + 0.3 * field
        out[:n_smooth] = torch.tanh(field)
    out[n_smooth:] = torch.rand(n - n_smooth, 3, size, size, generator=generator) * 2 - 1
    return out


def class_weights(num_classes: int, dim: int, logit_scale: float, logit_spread: float,
                  generator: torch.Generator) -> torch.Tensor:
    """Seeded [C, D] weights: shared unit direction u plus beta * per-class Gaussian.

    For an embedding direction e roughly independent of the weights, the
    per-class part of ``logit_scale * cos`` has standard deviation
    ``logit_scale * f / sqrt(D)`` with ``f = beta / sqrt(1 + beta^2)``; beta is
    chosen so this equals ``logit_spread``. The shared part adds the same
    amount to every logit and cancels in the softmax. ``logit_spread <= 0``
    gives plain independent Gaussian rows.
    """
    per_class = torch.randn(num_classes, dim, generator=generator) / dim ** 0.5
    if logit_spread <= 0:
        return per_class
    u = torch.randn(dim, generator=generator)
    u = u / u.norm()
    f = min(logit_spread * dim ** 0.5 / logit_scale, 0.999)
    beta = f / (1 - f * f) ** 0.5
    return u.unsqueeze(0) + beta * per_class


def build(config: dict, arch: str, calib_batches: int, calib_batch_size: int,
          logit_spread: float, log=print) -> ScreeningModel:
    seed = int(config["seed"])
    num_classes = len(config["classes"])
    scale = float(config.get("cosfaceScale", 64))
    temperature = float(config.get("temperature", 1))

    torch.manual_seed(seed)  # nn.init uses the global generator
    backbone = get_model(ARCH_ALIASES.get(arch, arch))
    init_weights(backbone)

    t = time.perf_counter()
    calib_gen = torch.Generator().manual_seed(seed + 1)
    reestimate_batchnorm(backbone, (synthetic_images(calib_batch_size, calib_gen) for _ in range(calib_batches)))
    log(f"  BN calibration: {calib_batches} x {calib_batch_size} images "
        f"in {time.perf_counter() - t:.1f} s")

    head_gen = torch.Generator().manual_seed(seed + 2)
    weight = class_weights(num_classes, backbone.num_features, scale / temperature,
                           logit_spread, head_gen)
    model = ScreeningModel(backbone, weight, scale=scale, temperature=temperature)
    return model.eval()


@torch.no_grad()
def probe(model: ScreeningModel, seed: int, log=print) -> None:
    """Print eval-mode probabilities for a few seeded inputs (a sanity check)."""
    gen = torch.Generator().manual_seed(seed + 3)
    x = torch.cat([synthetic_images(2, gen), torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)])
    emb = model.backbone(x)
    probs = model(x)
    e = F.normalize(emb, dim=1)
    log(f"  probe embedding std per dim {emb.std(dim=0).mean():.3f}, "
        f"cosine between probe embeddings {(e[0] @ e[1]):.3f}, {(e[0] @ e[2]):.3f}")
    for name, p in zip(("smooth", "noise", "zeros"), probs):
        log(f"  probe {name:6s} p = [" + ", ".join(f"{v:.4f}" for v in p.tolist()) + "]")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="model config JSON (models/demo/config.json)")
    ap.add_argument("--out", required=True, help="output .onnx path")
    ap.add_argument("--arch", default=None,
                    help="iresnet100 (default: config 'architecture') or tiny")
    ap.add_argument("--calib-batches", type=int, default=4)
    ap.add_argument("--calib-batch-size", type=int, default=8)
    ap.add_argument("--logit-spread", type=float, default=1.5,
                    help="target std of scale*cos/T across classes (<=0: plain Gaussian class weights)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: all cores)")
    ap.add_argument("--no-probe", action="store_true", help="skip the sanity-check forward pass")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    with open(args.config, encoding="utf-8") as fh:
        config = json.load(fh)
    arch = args.arch or config.get("architecture", "iresnet100")
    print(f"make_demo_model: arch={arch} seed={config['seed']} classes={len(config['classes'])} "
          f"scale={config.get('cosfaceScale', 64)} temperature={config.get('temperature', 1)} "
          f"torch={torch.__version__} threads={torch.get_num_threads()}")

    model = build(config, arch, args.calib_batches, args.calib_batch_size, args.logit_spread)
    n_params = sum(p.numel() for p in model.backbone.parameters())
    print(f"  backbone parameters: {n_params:,}")
    if not args.no_probe:
        probe(model, int(config["seed"]))

    t = time.perf_counter()
    metadata = {
        "facies.generator": "models/training/make_demo_model.py",
        "facies.architecture": ARCH_ALIASES.get(arch, arch),
        "facies.seed": str(config["seed"]),
        "facies.trained": "false",
    }
    data = export_onnx(model, input_size=INPUT_SIZE, metadata=metadata)
    op_types = onnx_op_types(data)
    print(f"  ONNX export: {time.perf_counter() - t:.1f} s, op types: {', '.join(op_types)}")
    if tuple(op_types) != EXPECTED_OP_TYPES:
        print(f"error: operator set differs from EXPECTED_OP_TYPES {EXPECTED_OP_TYPES}",
              file=sys.stderr)
        return 1

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}: {len(data):,} bytes, sha256 {sha256_hex(data)}, "
          f"total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
