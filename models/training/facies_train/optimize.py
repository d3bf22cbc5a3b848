"""Deterministic post-export optimisation of a Facies ONNX model.

    /usr/bin/python3 -m facies_train.optimize IN.onnx OUT.onnx [--weights float16|float32]
        [--keep-float32 NODE_PREFIX ...] [--expect-sha256 HEX] [--report OUT.json]

Run after ``export.py``; the input is checked against ``--expect-sha256`` (the
hash the export printed), so an optimised file always names the exact export
it came from. Steps, each exact or bounded:

1. ``fold-bn-into-gemm``: the BatchNormalization after the embedding Gemm
   (``features``) and the one before Flatten -> Gemm (``bn2``) are per-feature
   affine maps next to a linear layer with no padding in between, so they fold
   into the Gemm's weight and bias exactly (up to float32 rounding). The
   exporter already folds every BN that follows a convolution; the
   pre-activation BNs in front of padded 3x3 convolutions cannot be folded
   exactly (the zero padding would move) and stay.
2. ``float16-weight-storage``: every float32 initializer with at least 1024
   elements (convolutions, fc, class centres) is stored as float16 and cast
   back to float32 by a ``Cast`` node. ONNX Runtime folds those casts into
   float32 constants while it creates the session, so the network still
   computes in float32 (WASM has no float16 kernels) while the download is
   half the size. BN and PReLU parameters stay float32 (a few kB).

The output depends only on the input bytes and the options: no timestamps,
paths or host names are written.
"""

import argparse
import json
import os
import sys
from typing import Dict, List

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .export import sha256_hex

FLOAT16_MIN_ELEMENTS = 1024


class Graph:
    """Producer/consumer index over a GraphProto and its initializers."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.g = model.graph
        self.inits: Dict[str, onnx.TensorProto] = {t.name: t for t in self.g.initializer}

    def producer(self, name: str):
        return next((n for n in self.g.node if name in n.output), None)

    def consumers(self, name: str) -> List[onnx.NodeProto]:
        return [n for n in self.g.node if name in n.input]

    def array(self, name: str) -> np.ndarray:
        return numpy_helper.to_array(self.inits[name]).astype(np.float64)

    def add_initializer(self, name: str, value: np.ndarray) -> str:
        # Always a new name: the exporter shares identical initializers between layers.
        assert name not in self.inits, name
        t = numpy_helper.from_array(value, name)
        self.g.initializer.append(t)
        self.inits[name] = t
        return name

    def bn_affine(self, bn: onnx.NodeProto):
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (self.array(n) for n in bn.input[1:5])
        a = gamma / np.sqrt(var + eps)
        return a, beta - mean * a

    def prune_initializers(self):
        used = {i for n in self.g.node for i in n.input} | {o.name for o in self.g.output}
        keep = [t for t in self.g.initializer if t.name in used]
        del self.g.initializer[:]
        self.g.initializer.extend(keep)
        self.inits = {t.name: t for t in keep}


def gemm_weight_bias(graph: Graph, gemm: onnx.NodeProto):
    attrs = {a.name: helper.get_attribute_value(a) for a in gemm.attribute}
    if attrs.get("transA", 0) != 0 or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
        return None
    if gemm.input[1] not in graph.inits or (len(gemm.input) > 2 and gemm.input[2] not in graph.inits):
        return None
    w = graph.array(gemm.input[1])
    if attrs.get("transB", 0) == 0:
        w = w.T
    b = graph.array(gemm.input[2]) if len(gemm.input) > 2 else np.zeros(w.shape[0])
    return w, b  # y = x @ w.T + b, w: [out, in]


def replace_gemm(graph: Graph, gemm: onnx.NodeProto, w: np.ndarray, b: np.ndarray, output: str, tag: str):
    wn = graph.add_initializer(f"{gemm.input[1]}.{tag}", w.astype(np.float32))
    bn = graph.add_initializer(f"{gemm.name or 'gemm'}.bias.{tag}", b.astype(np.float32))
    new = helper.make_node("Gemm", [gemm.input[0], wn, bn], [output], name=gemm.name, transB=1)
    idx = list(graph.g.node).index(gemm)
    graph.g.node.remove(gemm)
    graph.g.node.insert(idx, new)
    return new


def fold_bn_into_gemm(graph: Graph) -> List[str]:
    folded = []
    for gemm in [n for n in graph.g.node if n.op_type == "Gemm"]:
        # BN after the Gemm (BatchNorm1d on the embedding).
        after = graph.consumers(gemm.output[0])
        if (len(after) == 1 and after[0].op_type == "BatchNormalization"
                and all(i in graph.inits for i in after[0].input[1:])):
            wb = gemm_weight_bias(graph, gemm)
            if wb is not None:
                bn = after[0]
                a, c = graph.bn_affine(bn)
                w, b = wb
                gemm = replace_gemm(graph, gemm, w * a[:, None], b * a + c, bn.output[0], "bn_after")
                graph.g.node.remove(bn)
                folded.append(bn.name or bn.output[0])
        # BN before Flatten -> Gemm (per-channel affine on [N, C, H, W], flattened channel-major).
        flat = graph.producer(gemm.input[0])
        if flat is None or flat.op_type != "Flatten" or len(graph.consumers(flat.output[0])) != 1:
            continue
        bn = graph.producer(flat.input[0])
        if bn is None or bn.op_type != "BatchNormalization" or len(graph.consumers(bn.output[0])) != 1:
            continue
        wb = gemm_weight_bias(graph, gemm)
        if wb is None:
            continue
        w, b = wb
        a, c = graph.bn_affine(bn)
        if w.shape[1] % a.size:
            continue
        spatial = w.shape[1] // a.size
        a_full, c_full = np.repeat(a, spatial), np.repeat(c, spatial)
        flat.input[0] = bn.input[0]
        replace_gemm(graph, gemm, w * a_full[None, :], b + w @ c_full, gemm.output[0], "bn_before")
        graph.g.node.remove(bn)
        folded.append(bn.name or bn.output[0])
    graph.prune_initializers()
    return folded


def initializers_of(graph: Graph, prefixes) -> set:
    """Initializers read by any node whose name starts with one of the prefixes."""
    prefixes = tuple(prefixes)
    if not prefixes:
        return set()
    return {i for n in graph.g.node if n.name.startswith(prefixes) for i in n.input if i in graph.inits}


def float16_weight_storage(graph: Graph, keep_float32=()) -> dict:
    kept = initializers_of(graph, keep_float32)
    casts = []
    converted = 0
    kept_elements = 0
    for t in list(graph.g.initializer):
        if t.data_type != onnx.TensorProto.FLOAT or int(np.prod(t.dims)) < FLOAT16_MIN_ELEMENTS:
            continue  # BN and PReLU parameters: a few kB, left as they are
        if t.name in kept:
            kept_elements += int(np.prod(t.dims))
            continue
        value = numpy_helper.to_array(t)
        if np.abs(value).max() > 65504:
            raise ValueError(f"{t.name} does not fit in float16")
        half = numpy_helper.from_array(value.astype(np.float16), f"{t.name}.fp16")
        graph.g.initializer.remove(t)
        graph.g.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [t.name], name=f"{t.name}.cast", to=onnx.TensorProto.FLOAT))
        converted += 1
    for i, node in enumerate(casts):
        graph.g.node.insert(i, node)
    graph.inits = {t.name: t for t in graph.g.initializer}
    return {"initializers": converted, "keptFloat32": list(keep_float32), "keptFloat32Elements": kept_elements}


def optimize(data: bytes, weights: str = "float16", keep_float32=()):
    model = onnx.load_from_string(data)
    graph = Graph(model)
    steps = []
    folded = fold_bn_into_gemm(graph)
    steps.append({"step": "fold-bn-into-gemm", "folded": folded})
    if weights == "float16":
        steps.append({"step": "float16-weight-storage", **float16_weight_storage(graph, keep_float32),
                      "minElements": FLOAT16_MIN_ELEMENTS})
    onnx.checker.check_model(model)
    out = model.SerializeToString()
    return out, {"source": {"sha256": sha256_hex(data), "bytes": len(data)}, "weights": weights, "steps": steps,
                 "sha256": sha256_hex(out), "bytes": len(out)}


def write_model(path: str, data: bytes, record: dict, report_path=None) -> None:
    """Writes a model file and, if asked, its record; prints what was written."""
    # A new file, renamed into place: the old one may be hard-linked into a build folder.
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    if report_path:
        with open(report_path, "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
    print(f"{path}: {record['bytes']} bytes (from {record['source']['bytes']}), sha256 {record['sha256']}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--weights", choices=["float16", "float32"], default="float16")
    p.add_argument("--keep-float32", action="append", default=[], metavar="NODE_PREFIX",
                   help="keep the weights of nodes whose names start with this in float32 (repeatable)")
    p.add_argument("--expect-sha256", help="refuse an input whose SHA-256 differs (the export's hash)")
    p.add_argument("--report", help="write the optimisation record (hashes, steps) as JSON")
    a = p.parse_args(argv)
    with open(a.input, "rb") as f:
        data = f.read()
    if a.expect_sha256 and sha256_hex(data) != a.expect_sha256:
        print(f"{a.input}: SHA-256 {sha256_hex(data)} is not the expected {a.expect_sha256}", file=sys.stderr)
        return 1
    out, record = optimize(data, a.weights, a.keep_float32)
    write_model(a.output, out, record, a.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
