"""The inference graph shipped to the app, and its deterministic ONNX export.

``ScreeningModel`` is what the browser runs (cf. InsightFace ``torch2onnx.py``,
which exports the bare backbone; Facies also bakes in the class head):

    embedding     = backbone(input)                       # [N, D]
    cos           = normalize(embedding) @ normalize(W).T # [N, C]
    probabilities = softmax(scale * cos / temperature)    # [N, C]

Input ``input``: float32 [N, 3, 112, 112], RGB, ``(x - 127.5) / 127.5``.
Output ``probabilities``: float32 [N, C]; N is dynamic. With ``embedding_output``
(a model validated with mean-embedding fusion) a second output ``embedding``:
the L2-normalised embedding [N, D], which the app averages over a child's photos
and puts through the head (the manifest's ``inference.embedding``).

The class weights are L2-normalised in Python before tracing, so the graph
holds one constant ``[D, C]`` matrix. The embedding normalisation is written
with plain element-wise/reduction operators (Mul, ReduceSum, Max, Sqrt, Div)
that onnxruntime-web implements on both its WASM and WebGPU execution
providers. In eval mode the exporter folds every BatchNorm that directly
follows a convolution into that convolution; the pre-activation BNs, ``bn2``
and ``features`` remain ``BatchNormalization`` nodes.

Determinism: the exported bytes depend only on the weights, the torch/onnx
versions and the arguments. Doc strings are cleared and nothing
machine-specific (paths, host names, times) is written.
"""

import hashlib
import io
from typing import Dict, Iterable, Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ScreeningModel", "export_onnx", "strip_doc_strings",
           "inline_initializer_identities", "onnx_op_types",
           "sha256_hex", "EXPECTED_OP_TYPES", "OPSET", "INPUT_NAME", "OUTPUT_NAME", "EMBEDDING_NAME"]

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
EMBEDDING_NAME = "embedding"
NORM_EPS = 1e-12

# Operator types of an exported ScreeningModel over an IResNet backbone (any
# depth or width). The app's runtime checks and the parity tests rely on the
# small test model having exactly the operator set of IR-100.
EXPECTED_OP_TYPES = ("Add", "BatchNormalization", "Constant", "Conv", "Div", "Flatten",
                     "Gemm", "MatMul", "Max", "Mul", "PRelu", "ReduceSum", "Softmax", "Sqrt")


class ScreeningModel(nn.Module):
    """backbone -> cosine to normalised class centres -> softmax(scale·cos/T)."""

    def __init__(self, backbone: nn.Module, class_weight: torch.Tensor,
                 scale: float = 64.0, temperature: float = 1.0, embedding_output: bool = False):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.backbone = backbone
        w = class_weight.detach().to(torch.float32)
        if w.dim() != 2:
            raise ValueError(f"class_weight must be [C, D], got {tuple(w.shape)}")
        w = F.normalize(w, dim=1, eps=NORM_EPS)
        # Stored transposed so the graph is a plain MatMul [N, D] x [D, C].
        self.register_buffer("class_centres", w.t().contiguous())
        self.register_buffer("norm_eps_sq", torch.tensor(NORM_EPS * NORM_EPS))
        self.register_buffer("logit_scale", torch.tensor(float(scale) / float(temperature)))
        self.scale = float(scale)
        self.temperature = float(temperature)
        self.embedding_output = embedding_output

    @property
    def num_classes(self) -> int:
        return self.class_centres.shape[1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised embedding: e / sqrt(max(sum(e²), eps²))."""
        e = self.backbone(x)
        sq = torch.sum(e * e, dim=1, keepdim=True)
        return e / torch.sqrt(torch.maximum(sq, self.norm_eps_sq))

    def class_weights(self) -> torch.Tensor:
        """The L2-normalised class centres [C, D], as the manifest's ``inference.embedding`` carries them."""
        return self.class_centres.t().contiguous()

    def forward(self, x: torch.Tensor):
        e = self.embed(x)
        p = torch.softmax(torch.matmul(e, self.class_centres) * self.logit_scale, dim=1)
        return (p, e) if self.embedding_output else p


def strip_doc_strings(model_proto) -> None:
    """Clear every doc_string (they can hold source paths and stack traces)."""
    model_proto.doc_string = ""

    def walk(graph):
        graph.doc_string = ""
        for coll in (graph.input, graph.output, graph.value_info):
            for v in coll:
                v.doc_string = ""
        for t in graph.initializer:
            t.doc_string = ""
        for node in graph.node:
            node.doc_string = ""
            for attr in node.attribute:
                attr.doc_string = ""
                if attr.HasField("g"):
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model_proto.graph)
    for fn in model_proto.functions:
        fn.doc_string = ""
        for node in fn.node:
            node.doc_string = ""


def inline_initializer_identities(model_proto) -> int:
    """Drop ``Identity`` nodes that merely alias an initializer.

    torch's exporter de-duplicates initializers with equal values (e.g. every
    PReLU slope still at its 0.25 init) and re-creates the aliases with
    ``Identity`` nodes. Consumers can share one initializer directly, which
    keeps the operator set independent of the weight values. Returns the
    number of nodes removed.
    """
    graph = model_proto.graph
    initializers = {t.name for t in graph.initializer}
    graph_outputs = {o.name for o in graph.output}
    alias = {}
    keep = []
    for node in graph.node:
        if (node.op_type == "Identity" and len(node.input) == 1
                and node.input[0] in initializers and node.output[0] not in graph_outputs):
            alias[node.output[0]] = node.input[0]
        else:
            keep.append(node)
    if not alias:
        return 0
    for node in keep:
        for i, name in enumerate(node.input):
            if name in alias:
                node.input[i] = alias[name]
    del graph.node[:]
    graph.node.extend(keep)
    # Value infos of removed aliases would now describe nothing.
    kept_vi = [v for v in graph.value_info if v.name not in alias]
    del graph.value_info[:]
    graph.value_info.extend(kept_vi)
    return len(alias)


def export_onnx(model: nn.Module, input_size: int = 112,
                metadata: Optional[Dict[str, str]] = None,
                check: bool = True) -> bytes:
    """Export ``model`` (eval mode, opset 17, dynamic batch); return the file bytes."""
    import onnx  # imported lazily: only export needs it

    was_training = model.training
    model.eval()
    dummy = torch.zeros(1, 3, input_size, input_size, dtype=torch.float32)
    outputs = [OUTPUT_NAME] + ([EMBEDDING_NAME] if getattr(model, "embedding_output", False) else [])
    buf = io.BytesIO()
    try:
        with torch.no_grad():
            torch.onnx.export(
                model, (dummy,), buf,
                export_params=True,
                opset_version=OPSET,
                do_constant_folding=True,
                input_names=[INPUT_NAME],
                output_names=outputs,
                dynamic_axes={INPUT_NAME: {0: "batch"}, **{name: {0: "batch"} for name in outputs}},
                training=torch.onnx.TrainingMode.EVAL,
                verbose=False,
            )
    finally:
        model.train(was_training)

    proto = onnx.load_model_from_string(buf.getvalue())
    del buf
    strip_doc_strings(proto)
    inline_initializer_identities(proto)
    del proto.metadata_props[:]
    for key in sorted(metadata or {}):
        entry = proto.metadata_props.add()
        entry.key, entry.value = str(key), str(metadata[key])
    if check:
        onnx.checker.check_model(proto)
    return proto.SerializeToString()


def onnx_op_types(model_bytes_or_proto) -> Iterable[str]:
    """Sorted set of operator types in the main graph."""
    import onnx

    proto = model_bytes_or_proto
    if isinstance(proto, (bytes, bytearray)):
        proto = onnx.load_model_from_string(bytes(proto))
    return sorted({n.op_type for n in proto.graph.node})


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
