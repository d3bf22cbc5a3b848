"""Int8 quantisation of a Facies ONNX export (explored for WASM speed; the app ships float16-stored weights).

    /usr/bin/python3 -m facies_train.quantize IN.onnx OUT.onnx --mode weights-int8|qdq-int8
        [--calibration ranges.json] [--report OUT.json]
    /usr/bin/python3 -m facies_train.quantize IN.onnx OUT.onnx --expose-for-calibration [--report OUT.json]

Both modes first fold the two linear-layer BatchNorms into the fc Gemm (``optimize.fold_bn_into_gemm``) and
quantise the weights of every Conv and of the fc Gemm per output channel, symmetric int8 (zero point 0, scale
max|w| / 127). The head (L2 normalisation, class-centre MatMul, scale, Softmax) stays float32 in both: it is
tiny and the cosine of the embedding with the class centres is what the probabilities are made of.

``weights-int8``: weights stored int8 and expanded by ``DequantizeLinear`` nodes; activations float32. ONNX
Runtime does not constant-fold DequantizeLinear (unless the session sets ``session.disable_quant_qdq``), so
the weights are dequantised on every run: a smaller file, no integer compute.

``qdq-int8``: static quantisation in QDQ form. Every Conv reads its input through QuantizeLinear ->
DequantizeLinear (uint8, per-tensor scale and zero point from calibration min/max), its weight through an int8
per-channel DequantizeLinear and its bias as int32 with scale input_scale x weight_scale, and its output goes
through QuantizeLinear -> DequantizeLinear again, so ONNX Runtime's QDQ transformer fuses each Conv into
QLinearConv. The fc Gemm gets the same input and weight treatment and no output quantisation (QGemm with a
float output), because its output is the embedding the head normalises. Activations are uint8 and weights int8
because on x86 and WASM (not ARM) ORT only fuses int8 activations after rewriting them to uint8
(``QDQIsInt8Allowed``, ``QDQS8ToU8Transformer``). BatchNorm, PReLU and the residual Adds stay float32 between
the quantised convolutions.

``--expose-for-calibration`` writes the float32 model after the same BN folding with every tensor whose range
``qdq-int8`` needs added as a graph output; ``scripts/models/calibrate-int8.ts`` runs it and writes the
``ranges.json`` that ``--calibration`` reads (``{"source": {"sha256"}, "tensors": {name: [min, max]}}``; the
source hash must be the input's).

The output depends only on the input bytes, the calibration ranges and the mode.
"""

import argparse
import json
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from facies_train.optimize import Graph, fold_bn_into_gemm, sha256_hex, write_model

MODES = ("weights-int8", "qdq-int8")
QUANTISED_OPS = ("Conv", "Gemm")
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def quantised_nodes(graph: Graph) -> List[onnx.NodeProto]:
    """The Conv and Gemm nodes with a constant weight: the backbone and the fc embedding layer."""
    return [n for n in graph.g.node if n.op_type in QUANTISED_OPS and len(n.input) > 1 and n.input[1] in graph.inits]


def output_channel_axis(node: onnx.NodeProto) -> int:
    if node.op_type == "Conv":
        return 0
    trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
    return 0 if trans_b else 1  # Gemm weight is [out, in] with transB=1, [in, out] without


def per_channel_int8(w: np.ndarray, axis: int) -> Tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output channel: q = round(w / s), s = max|w| / 127 (1 for an all-zero channel)."""
    moved = np.moveaxis(w.astype(np.float64), axis, 0)
    amax = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w.astype(np.float64) / scale.astype(np.float64).reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def uint8_params(lo: float, hi: float) -> Tuple[np.float32, np.uint8]:
    """Asymmetric uint8 scale and zero point for a calibrated [lo, hi], widened to include 0 (exact zero padding)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zero_point = int(np.clip(np.rint(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zero_point)


def calibration_tensors(graph: Graph) -> List[str]:
    """Tensors whose ranges qdq-int8 needs: each quantised node's input, and each Conv's output."""
    names: List[str] = []
    for n in quantised_nodes(graph):
        wanted = [n.input[0]] + ([n.output[0]] if n.op_type == "Conv" else [])
        names.extend(t for t in wanted if t not in names)
    return names


class Quantiser:
    def __init__(self, graph: Graph, ranges: Optional[Dict[str, List[float]]] = None):
        self.graph = graph
        self.ranges = ranges or {}
        self.dequantized: Dict[str, str] = {}  # activation -> its Q/DQ copy, shared by every reader

    def const(self, name: str, value) -> str:
        return self.graph.add_initializer(name, np.asarray(value))

    def weight(self, node: onnx.NodeProto, out: List[onnx.NodeProto]) -> np.ndarray:
        axis = output_channel_axis(node)
        q, scale = per_channel_int8(numpy_helper.to_array(self.graph.inits[node.input[1]]), axis)
        base = f"{node.name}.weight"
        out.append(helper.make_node(
            "DequantizeLinear",
            [self.const(f"{base}.int8", q), self.const(f"{base}.scale", scale),
             self.const(f"{base}.zero_point", np.zeros(scale.shape, np.int8))],
            [f"{base}.dequantized"], name=f"{base}.DequantizeLinear", axis=axis))
        node.input[1] = f"{base}.dequantized"
        return scale

    def activation_params(self, tensor: str) -> Tuple[np.float32, np.uint8]:
        if tensor not in self.ranges:
            raise ValueError(f"no calibration range for {tensor}")
        lo, hi = self.ranges[tensor]
        return uint8_params(lo, hi)

    def qdq(self, tensor: str, source: str, target: str, out: List[onnx.NodeProto]) -> None:
        scale, zero_point = self.activation_params(tensor)
        s = self.const(f"{tensor}.scale", scale)
        z = self.const(f"{tensor}.zero_point", zero_point)
        out.append(helper.make_node("QuantizeLinear", [source, s, z], [f"{tensor}.uint8"],
                                    name=f"{tensor}.QuantizeLinear"))
        out.append(helper.make_node("DequantizeLinear", [f"{tensor}.uint8", s, z], [target],
                                    name=f"{tensor}.DequantizeLinear"))

    def static(self, node: onnx.NodeProto, out: List[onnx.NodeProto]) -> List[onnx.NodeProto]:
        """Input Q/DQ, int8 weight, int32 bias; for a Conv also output Q/DQ. Returns the nodes to emit after it."""
        x = node.input[0]
        if x not in self.dequantized:
            self.dequantized[x] = f"{x}.dequantized"
            self.qdq(x, x, self.dequantized[x], out)
        node.input[0] = self.dequantized[x]
        x_scale, _ = self.activation_params(x)
        w_scale = self.weight(node, out)
        if len(node.input) > 2 and node.input[2]:
            bias = numpy_helper.to_array(self.graph.inits[node.input[2]]).astype(np.float64)
            b_scale = (x_scale * w_scale).astype(np.float32)  # what QLinearConv / QGemm rescale the int32 sum by
            q = np.clip(np.rint(bias / b_scale.astype(np.float64)), INT32_MIN, INT32_MAX).astype(np.int32)
            base = f"{node.name}.bias"
            out.append(helper.make_node(
                "DequantizeLinear", [self.const(f"{base}.int32", q), self.const(f"{base}.scale", b_scale)],
                [f"{base}.dequantized"], name=f"{base}.DequantizeLinear", axis=0))
            node.input[2] = f"{base}.dequantized"
        after: List[onnx.NodeProto] = []
        if node.op_type == "Conv":
            y = node.output[0]
            node.output[0] = f"{y}.float"
            self.qdq(y, f"{y}.float", y, after)
            self.dequantized[y] = y  # a quantised reader of y reads the DQ output directly
        return after


def load_folded(data: bytes) -> Tuple[onnx.ModelProto, Graph, List[str]]:
    model = onnx.load_from_string(data)
    graph = Graph(model)
    return model, graph, fold_bn_into_gemm(graph)


def expose_for_calibration(data: bytes) -> Tuple[bytes, dict]:
    model, graph, folded = load_folded(data)
    names = calibration_tensors(graph)
    existing = {o.name for o in graph.g.output} | {i.name for i in graph.g.input}  # the calibrator reads inputs itself
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    graph.g.output.extend(inferred[n] for n in names if n not in existing)
    onnx.checker.check_model(model)
    out = model.SerializeToString()
    return out, {"source": {"sha256": sha256_hex(data), "bytes": len(data)}, "mode": "expose-for-calibration",
                 "foldedBatchNorms": folded, "tensors": names, "sha256": sha256_hex(out), "bytes": len(out)}


def quantize(data: bytes, mode: str, calibration: Optional[dict] = None) -> Tuple[bytes, dict]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if mode == "qdq-int8":
        if calibration is None:
            raise ValueError("qdq-int8 needs calibration ranges (--calibration)")
        if calibration.get("source", {}).get("sha256") != sha256_hex(data):
            raise ValueError("the calibration ranges were measured on a different model (source.sha256 differs)")
    model, graph, folded = load_folded(data)
    q = Quantiser(graph, calibration["tensors"] if calibration else None)
    targets = {n.output[0] for n in quantised_nodes(graph)}  # by output name: protobuf wrappers have no stable id()
    nodes: List[onnx.NodeProto] = []
    counts: Dict[str, int] = {}
    for node in list(graph.g.node):
        if node.output[0] not in targets:
            nodes.append(node)
            continue
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
        if mode == "weights-int8":
            q.weight(node, nodes)
            nodes.append(node)
        else:
            after = q.static(node, nodes)
            nodes.append(node)
            nodes.extend(after)
    del graph.g.node[:]
    graph.g.node.extend(nodes)
    graph.prune_initializers()
    onnx.checker.check_model(model)
    out = model.SerializeToString()
    record = {
        "source": {"sha256": sha256_hex(data), "bytes": len(data)},
        "mode": mode,
        "foldedBatchNorms": folded,
        "quantised": dict(sorted(counts.items())),
        "weights": "int8 symmetric per output channel",
        "activations": "uint8 per tensor, calibration min/max" if mode == "qdq-int8" else "float32",
        "float32": "BatchNormalization, PRelu, Add, the head (normalisation, class-centre MatMul, Softmax)",
        "sha256": sha256_hex(out),
        "bytes": len(out),
    }
    if mode == "qdq-int8":
        record["calibration"] = {"inputs": calibration.get("inputs"), "tensors": len(q.dequantized)}
    return out, record


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--mode", choices=MODES)
    p.add_argument("--calibration", help="ranges.json from scripts/models/calibrate-int8.ts (qdq-int8)")
    p.add_argument("--expose-for-calibration", action="store_true",
                   help="write the float32 model with the tensors qdq-int8 needs ranges for as extra outputs")
    p.add_argument("--report", help="write the quantisation record (hashes, counts) as JSON")
    a = p.parse_args(argv)
    if a.expose_for_calibration == bool(a.mode):
        p.error("give either --mode or --expose-for-calibration")
    with open(a.input, "rb") as f:
        data = f.read()
    calibration = None
    if a.calibration:
        with open(a.calibration) as f:
            calibration = json.load(f)
    try:
        out, record = expose_for_calibration(data) if a.expose_for_calibration else quantize(data, a.mode, calibration)
    except ValueError as e:
        print(f"{a.input}: {e}", file=sys.stderr)
        return 1
    write_model(a.output, out, record, a.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
