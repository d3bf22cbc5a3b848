"""Tests of the post-export optimisation (structure, determinism, hash check).

The numerical check (optimised vs float32 probabilities in onnxruntime) is in
tests/tools/model-optimize.test.ts, where onnxruntime-node is available.
"""

import os
import sys
import tempfile
import unittest

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING_DIR = os.path.dirname(HERE)
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

import torch  # noqa: E402

from facies_train.backbones import get_model  # noqa: E402
from facies_train.export import ScreeningModel, export_onnx, sha256_hex  # noqa: E402
from facies_train.optimize import main, optimize  # noqa: E402


def tiny_export() -> bytes:
    torch.manual_seed(3)
    backbone = get_model("iresnet_tiny")
    for m in backbone.modules():
        if isinstance(m, torch.nn.BatchNorm2d) or isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model = ScreeningModel(backbone.eval(), torch.randn(4, backbone.num_features))
    return export_onnx(model.eval())


class OptimizeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.source = tiny_export()

    def test_folds_the_linear_layer_batch_norms_and_halves_the_weights(self):
        out, record = optimize(self.source, "float16")
        before = onnx.load_from_string(self.source).graph
        after = onnx.load_from_string(out).graph
        count = lambda g, op: sum(n.op_type == op for n in g.node)  # noqa: E731
        self.assertEqual(count(before, "BatchNormalization") - count(after, "BatchNormalization"), 2)
        self.assertEqual(len(record["steps"][0]["folded"]), 2)
        self.assertEqual(count(after, "Cast"), record["steps"][1]["initializers"])
        self.assertLess(len(out), 0.55 * len(self.source))
        self.assertEqual(record["source"]["sha256"], sha256_hex(self.source))
        self.assertEqual(record["sha256"], sha256_hex(out))

    def test_is_deterministic(self):
        self.assertEqual(optimize(self.source, "float16")[0], optimize(self.source, "float16")[0])

    def test_float32_mode_keeps_float32_weights(self):
        out, _ = optimize(self.source, "float32")
        initializers = onnx.load_from_string(out).graph.initializer
        self.assertFalse(any(t.data_type == onnx.TensorProto.FLOAT16 for t in initializers))

    def test_keeps_the_named_nodes_weights_in_float32(self):
        out, record = optimize(self.source, "float16", keep_float32=["/backbone/layer3/"])
        graph = onnx.load_from_string(out).graph
        inits = {t.name: t for t in graph.initializer}
        weight = lambda name: next(n for n in graph.node if n.name == name).input[1]  # noqa: E731
        kept = inits[weight("/backbone/layer3/layer3.0/conv2/Conv")]  # 32·32·3·3 weights, stored as they are
        self.assertEqual(kept.data_type, onnx.TensorProto.FLOAT)
        halved = weight("/backbone/layer4/layer4.0/conv2/Conv")  # the output of a Cast from float16
        self.assertNotIn(halved, inits)
        self.assertEqual(inits[halved + ".fp16"].data_type, onnx.TensorProto.FLOAT16)
        step = record["steps"][1]
        self.assertEqual(step["keptFloat32"], ["/backbone/layer3/"])
        layer3 = {i for n in graph.node if n.name.startswith("/backbone/layer3/") for i in n.input if i in inits}
        sizes = [int(np.prod(inits[i].dims)) for i in layer3 if inits[i].data_type == onnx.TensorProto.FLOAT]
        self.assertEqual(step["keptFloat32Elements"], sum(n for n in sizes if n >= 1024))
        self.assertGreater(len(out), len(optimize(self.source, "float16")[0]))

    def test_refuses_an_input_that_is_not_the_expected_export(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "in.onnx"), os.path.join(d, "out.onnx")
            with open(src, "wb") as f:
                f.write(self.source)
            self.assertEqual(main([src, dst, "--expect-sha256", "0" * 64]), 1)
            self.assertFalse(os.path.exists(dst))
            self.assertEqual(main([src, dst, "--expect-sha256", sha256_hex(self.source)]), 0)
            self.assertTrue(os.path.exists(dst))


if __name__ == "__main__":
    unittest.main()
