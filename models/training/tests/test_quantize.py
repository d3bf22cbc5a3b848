"""Tests of the int8 quantisation's graph structure and determinism, on a tiny IResNet export.

Whether ONNX Runtime really fuses the QDQ graph into integer kernels, and how far the probabilities move, is
checked in tests/unit/model-quantize.test.ts, where onnxruntime-node is available.
"""

import os
import sys
import tempfile
import unittest
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING_DIR = os.path.dirname(HERE)
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

from facies_train.optimize import sha256_hex  # noqa: E402
from facies_train.quantize import (  # noqa: E402
    expose_for_calibration, main, per_channel_int8, quantize, uint8_params)
from tests.test_optimize import tiny_export  # noqa: E402


def ops(model_bytes: bytes) -> Counter:
    return Counter(n.op_type for n in onnx.load_from_string(model_bytes).graph.node)


class QuantizeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.source = tiny_export()
        exposed, record = expose_for_calibration(cls.source)
        cls.exposed, cls.exposed_record = exposed, record
        # Stand-in ranges (the real ones come from scripts/models/calibrate-int8.ts running the exposed model).
        cls.calibration = {"source": {"sha256": sha256_hex(cls.source)},
                           "tensors": {n: [-1.0 - i / 10, 2.0 + i / 10] for i, n in enumerate(record["tensors"])}}

    def test_per_channel_weights_round_trip_within_half_a_step(self):
        w = np.random.default_rng(0).normal(size=(8, 4, 3, 3)).astype(np.float32)
        w[3] = 0
        q, scale = per_channel_int8(w, 0)
        self.assertEqual(q.dtype, np.int8)
        self.assertEqual(scale.shape, (8,))
        self.assertEqual(int(np.abs(q).max()), 127)
        err = np.abs(q.astype(np.float64) * scale[:, None, None, None] - w)
        self.assertTrue(np.all(err <= scale[:, None, None, None] / 2 + 1e-7))
        self.assertTrue(np.all(q[3] == 0))

    def test_activation_range_includes_zero_and_maps_it_exactly(self):
        scale, zp = uint8_params(0.5, 3.0)  # widened to [0, 3]
        self.assertEqual(zp, 0)
        self.assertAlmostEqual(float(scale), 3.0 / 255, places=7)
        scale, zp = uint8_params(-1.0, 1.0)
        self.assertEqual(int(zp), 128)

    def test_expose_for_calibration_adds_each_quantised_input_and_conv_output(self):
        before = onnx.load_from_string(self.source).graph
        model = onnx.load_from_string(self.exposed)
        convs = sum(n.op_type == "Conv" for n in before.node)
        # Every Conv input and output plus the fc input; the graph input is read by the calibrator itself.
        self.assertEqual(len(self.exposed_record["tensors"]), len(set(self.exposed_record["tensors"])))
        self.assertIn("input", self.exposed_record["tensors"])
        # probabilities, plus every tensor but the graph input
        self.assertEqual(len(model.graph.output), len(self.exposed_record["tensors"]))
        self.assertGreaterEqual(len(self.exposed_record["tensors"]), convs + 1)
        self.assertEqual(len(self.exposed_record["foldedBatchNorms"]), 2)

    def test_weights_int8_stores_int8_weights_and_keeps_float_activations(self):
        out, record = quantize(self.source, "weights-int8")
        graph = onnx.load_from_string(out).graph
        counts = ops(out)
        self.assertEqual(record["quantised"], {"Conv": counts["Conv"], "Gemm": 1})
        self.assertEqual(counts["DequantizeLinear"], counts["Conv"] + 1)
        self.assertNotIn("QuantizeLinear", counts)
        int8 = [t for t in graph.initializer if t.data_type == TensorProto.INT8 and len(t.dims) > 1]
        self.assertEqual(len(int8), counts["Conv"] + 1)
        self.assertFalse([t.name for t in graph.initializer
                          if t.data_type == TensorProto.FLOAT and np.prod(t.dims) > 4096])
        self.assertLess(len(out), 0.3 * len(self.source))

    def test_qdq_int8_wraps_each_conv_for_qlinearconv_and_keeps_the_head_float(self):
        out, record = quantize(self.source, "qdq-int8", self.calibration)
        model = onnx.load_from_string(out)
        g = model.graph
        producer = {o: n for n in g.node for o in n.output}
        inits = {t.name: t for t in g.initializer}
        convs = [n for n in g.node if n.op_type == "Conv"]
        self.assertEqual(record["quantised"]["Conv"], len(convs))
        for conv in convs:
            x, w, b = (producer[i] for i in conv.input)
            self.assertEqual([x.op_type, w.op_type, b.op_type], ["DequantizeLinear"] * 3)
            self.assertEqual(producer[x.input[0]].op_type, "QuantizeLinear")
            self.assertEqual(inits[x.input[2]].data_type, TensorProto.UINT8)
            self.assertEqual(inits[w.input[0]].data_type, TensorProto.INT8)
            self.assertEqual(inits[b.input[0]].data_type, TensorProto.INT32)
            # Bias scale = input scale x weight scale, channel by channel: what QLinearConv rescales by.
            x_scale = numpy_helper.to_array(inits[x.input[1]])
            w_scale = numpy_helper.to_array(inits[w.input[1]])
            np.testing.assert_array_equal(numpy_helper.to_array(inits[b.input[1]]),
                                          (x_scale * w_scale).astype(np.float32))
            readers = [n for n in g.node if conv.output[0] in n.input]
            self.assertEqual([n.op_type for n in readers], ["QuantizeLinear"])
        gemm = next(n for n in g.node if n.op_type == "Gemm")
        self.assertEqual(producer[gemm.input[0]].op_type, "DequantizeLinear")
        self.assertNotIn("QuantizeLinear", [n.op_type for n in g.node if gemm.output[0] in n.input])
        matmul = next(n for n in g.node if n.op_type == "MatMul")
        self.assertEqual(inits[matmul.input[1]].data_type, TensorProto.FLOAT)

    def test_is_deterministic_and_refuses_ranges_of_another_model(self):
        self.assertEqual(quantize(self.source, "qdq-int8", self.calibration)[0],
                         quantize(self.source, "qdq-int8", self.calibration)[0])
        self.assertEqual(quantize(self.source, "weights-int8")[0], quantize(self.source, "weights-int8")[0])
        other = {**self.calibration, "source": {"sha256": "0" * 64}}
        with self.assertRaisesRegex(ValueError, "different model"):
            quantize(self.source, "qdq-int8", other)
        missing = {**self.calibration, "tensors": dict(list(self.calibration["tensors"].items())[1:])}
        with self.assertRaisesRegex(ValueError, "no calibration range"):
            quantize(self.source, "qdq-int8", missing)

    def test_cli_writes_the_model_and_refuses_qdq_without_ranges(self):
        with tempfile.TemporaryDirectory() as d:
            src, out = os.path.join(d, "m.onnx"), os.path.join(d, "q.onnx")
            with open(src, "wb") as f:
                f.write(self.source)
            self.assertEqual(main([src, out, "--mode", "weights-int8"]), 0)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), quantize(self.source, "weights-int8")[0])
            self.assertEqual(main([src, out + "2", "--mode", "qdq-int8"]), 1)
            self.assertFalse(os.path.exists(out + "2"))


if __name__ == "__main__":
    unittest.main()
