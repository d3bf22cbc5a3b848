"""Tests of the training kit's model code.

Run from the repository root:

    /usr/bin/python3 -m unittest discover -s models/training/tests -t models/training -v

IR-100 is only instantiated (and run once on a batch of 2); exports use the
tiny network so the suite stays well under a minute on 2 cores.
"""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(TRAINING_DIR))
DEMO_CONFIG = os.path.join(REPO_ROOT, "models", "demo", "config.json")
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

import make_demo_model  # noqa: E402
from facies_train.backbones import IBasicBlock, IResNet, get_model  # noqa: E402
from facies_train.backbones.iresnet import ARCH_LAYERS  # noqa: E402
from facies_train.export import (EXPECTED_OP_TYPES, INPUT_NAME, OPSET,  # noqa: E402
                                 OUTPUT_NAME, export_onnx,
                                 onnx_op_types, sha256_hex)
from facies_train.losses import (ArcFace, CosFace, arcface_margin,  # noqa: E402
                                 cosface_margin, cosine_logits, get_head)

BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def demo_config():
    with open(DEMO_CONFIG, encoding="utf-8") as fh:
        return json.load(fh)


def expected_state_dict_keys(layers):
    """The InsightFace iresnet key list, written out from its naming scheme."""
    keys = ["conv1.weight", "prelu.weight", "fc.weight", "fc.bias"]
    keys += [f"bn1.{s}" for s in BN_SUFFIXES]
    keys += [f"bn2.{s}" for s in BN_SUFFIXES]
    keys += [f"features.{s}" for s in BN_SUFFIXES]
    for stage, blocks in enumerate(layers, start=1):
        for i in range(blocks):
            p = f"layer{stage}.{i}"
            keys += [f"{p}.conv1.weight", f"{p}.conv2.weight", f"{p}.prelu.weight"]
            for bn in ("bn1", "bn2", "bn3"):
                keys += [f"{p}.{bn}.{s}" for s in BN_SUFFIXES]
            if i == 0:
                keys.append(f"{p}.downsample.0.weight")
                keys += [f"{p}.downsample.1.{s}" for s in BN_SUFFIXES]
    return keys


class TestIResNet100(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.model = get_model("iresnet100")

    def test_parameter_count(self):
        # All nn.Parameters, including features.weight (frozen at 1.0);
        # BN running statistics are buffers and not counted.
        n = sum(p.numel() for p in self.model.parameters())
        self.assertEqual(n, 65_156_160)
        self.assertAlmostEqual(n / 1e6, 65.2, delta=0.1)
        trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        self.assertEqual(n - trainable, 512)

    def test_block_counts(self):
        counts = [len(getattr(self.model, f"layer{k}")) for k in range(1, 5)]
        self.assertEqual(counts, [3, 13, 30, 3])
        for k in range(1, 5):
            stage = getattr(self.model, f"layer{k}")
            self.assertTrue(all(isinstance(b, IBasicBlock) for b in stage))
            self.assertIsNotNone(stage[0].downsample)
            self.assertEqual(stage[0].conv2.stride, (2, 2))
            self.assertTrue(all(b.downsample is None for b in stage[1:]))

    def test_state_dict_keys_match_insightface(self):
        sd = self.model.state_dict()
        expected = expected_state_dict_keys([3, 13, 30, 3])
        self.assertEqual(len(expected), len(set(expected)))
        self.assertEqual(set(sd), set(expected))
        for key in ("layer3.29.prelu.weight", "layer1.0.downsample.0.weight",
                    "layer4.0.downsample.1.running_mean", "features.running_var",
                    "layer2.12.bn3.weight", "bn2.running_mean", "fc.bias"):
            self.assertIn(key, sd)
        for key in ("layer3.30.prelu.weight", "layer1.1.downsample.0.weight", "dropout.p"):
            self.assertNotIn(key, sd)
        pattern = re.compile(
            r"^(conv1\.weight|prelu\.weight|fc\.(weight|bias)|(bn1|bn2|features)\.\w+"
            r"|layer[1-4]\.\d+\.((bn1|bn2|bn3)\.\w+|(conv1|conv2|prelu)\.weight"
            r"|downsample\.0\.weight|downsample\.1\.\w+))$")
        self.assertEqual([k for k in sd if not pattern.match(k)], [])

    def test_shapes(self):
        sd = self.model.state_dict()
        self.assertEqual(tuple(sd["conv1.weight"].shape), (64, 3, 3, 3))
        self.assertEqual(tuple(sd["prelu.weight"].shape), (64,))
        self.assertEqual(tuple(sd["layer1.0.downsample.0.weight"].shape), (64, 64, 1, 1))
        self.assertEqual(tuple(sd["layer2.0.conv1.weight"].shape), (128, 64, 3, 3))
        self.assertEqual(tuple(sd["layer3.29.conv2.weight"].shape), (256, 256, 3, 3))
        self.assertEqual(tuple(sd["layer4.2.bn3.weight"].shape), (512,))
        self.assertEqual(tuple(sd["bn2.weight"].shape), (512,))
        self.assertEqual(tuple(sd["fc.weight"].shape), (512, 512 * 7 * 7))
        self.assertEqual(tuple(sd["features.running_var"].shape), (512,))

    def test_features_weight_frozen(self):
        f = self.model.features
        self.assertIsInstance(f, torch.nn.BatchNorm1d)
        self.assertFalse(f.weight.requires_grad)
        self.assertTrue(torch.all(f.weight == 1.0))
        self.assertEqual(f.eps, 1e-5)
        self.assertTrue(all(m.eps == 1e-5 for m in self.model.modules()
                            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)))

    def test_output_shape(self):
        x = torch.rand(2, 3, 112, 112) * 2 - 1
        with torch.no_grad():
            self.model.eval()
            self.assertEqual(tuple(self.model(x[:1]).shape), (1, 512))
            # InsightFace's N(0, 0.1) init is only well-scaled with batch
            # statistics (eval mode overflows before BN calibration).
            self.model.train()
            out = self.model(x)
            self.model.eval()
        self.assertEqual(tuple(out.shape), (2, 512))
        self.assertTrue(torch.isfinite(out).all())

    def test_state_dict_round_trip(self):
        other = get_model("r100")
        other.load_state_dict(self.model.state_dict(), strict=True)


class TestIResNetVariants(unittest.TestCase):
    def test_published_block_counts(self):
        for name, layers in (("iresnet18", [2, 2, 2, 2]), ("iresnet34", [3, 4, 6, 3]),
                             ("iresnet50", [3, 4, 14, 3]), ("iresnet100", [3, 13, 30, 3])):
            self.assertEqual(ARCH_LAYERS[name], layers)

    def test_custom_layers_and_width(self):
        m = get_model("iresnet", layers=[1, 2, 1, 1], base_width=8, num_features=32)
        self.assertEqual([len(getattr(m, f"layer{k}")) for k in range(1, 5)], [1, 2, 1, 1])
        self.assertEqual(tuple(m.conv1.weight.shape), (8, 3, 3, 3))
        self.assertEqual(tuple(m.fc.weight.shape), (32, 64 * 49))
        self.assertEqual(set(m.state_dict()), set(expected_state_dict_keys([1, 2, 1, 1])))
        m.eval()
        with torch.no_grad():
            self.assertEqual(tuple(m(torch.zeros(3, 3, 112, 112)).shape), (3, 32))
        half = IResNet([1, 1, 1, 1], width_mult=0.25)
        self.assertEqual(half.base_width, 16)

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            get_model("iresnet101")
        with self.assertRaises(ValueError):
            get_model("iresnet100", layers=[1, 1, 1, 1])
        with self.assertRaises(ValueError):
            IResNet([1, 1, 1])

    def test_block_structure(self):
        torch.manual_seed(1)
        m = get_model("tiny").eval()
        blk = m.layer2[0]
        for bn in (blk.bn1, blk.bn2, blk.bn3, blk.downsample[1]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
        x = torch.randn(2, 8, 28, 28)
        with torch.no_grad():
            ref = blk.bn3(blk.conv2(blk.prelu(blk.bn2(blk.conv1(blk.bn1(x))))))
            ref = ref + blk.downsample[1](blk.downsample[0](x))
            self.assertTrue(torch.allclose(blk(x), ref, atol=1e-6))
        self.assertEqual(blk.conv1.stride, (1, 1))
        self.assertEqual(blk.conv2.stride, (2, 2))
        self.assertIsNone(blk.conv1.bias)


class TestMarginHeads(unittest.TestCase):
    # Embeddings and class weights chosen so the cosines are easy by hand:
    # row 0 = (1, 0) -> cos with (1, 0) is 1, with (1, 1)/sqrt2 is 0.70711;
    # row 1 = (0, 2) -> 0 and 0.70711; row 2 = (-3, 0) -> -1 and -0.70711.
    EMB = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    W = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    COS = [[1.0, 0.70710678], [0.0, 0.70710678], [-1.0, -0.70710678]]

    def make(self, cls, **kw):
        head = cls(embedding_size=2, num_classes=2, **kw)
        with torch.no_grad():
            head.weight.copy_(self.W)
        return head

    def test_cosine(self):
        cos = cosine_logits(self.EMB, self.W)
        self.assertTrue(torch.allclose(cos, torch.tensor(self.COS), atol=1e-6))

    def test_cosface(self):
        head = self.make(CosFace, s=64.0, m=0.4)
        labels = torch.tensor([0, 1, -1])
        logits = head(self.EMB, labels)
        expected = [[64 * 0.6, 64 * 0.70710678],        # target 0: 1 - 0.4
                    [0.0, 64 * (0.70710678 - 0.4)],     # target 1: 0.70711 - 0.4
                    [-64.0, -64 * 0.70710678]]          # label -1: no margin
        self.assertTrue(torch.allclose(logits, torch.tensor(expected), atol=1e-4))
        self.assertTrue(torch.allclose(head(self.EMB), 64 * torch.tensor(self.COS), atol=1e-4))

    def test_arcface(self):
        head = self.make(ArcFace, s=64.0, m=0.5)
        labels = torch.tensor([0, 1, 0])
        logits = head(self.EMB, labels)
        # row 0: theta 0         -> cos(0.5)             = 0.87758256
        # row 1: theta pi/4      -> cos(pi/4 + 0.5)      = 0.28153953
        #        (= 0.70711 * 0.87758 - 0.70711 * 0.47943)
        # row 2: theta pi (> pi - m) -> fallback -1 - sin(pi - 0.5) * 0.5 = -1.23971277
        expected = [[64 * 0.87758256, 64 * 0.70710678],
                    [0.0, 64 * 0.28153953],
                    [64 * -1.23971277, 64 * -0.70710678]]
        self.assertTrue(torch.allclose(logits, torch.tensor(expected), atol=1e-3))
        self.assertAlmostEqual(math.cos(math.pi / 4 + 0.5), 0.28153953, places=7)
        self.assertTrue(torch.allclose(head(self.EMB), 64 * torch.tensor(self.COS), atol=1e-4))

    def test_margins_not_in_place(self):
        cos = torch.tensor(self.COS)
        before = cos.clone()
        cosface_margin(cos, torch.tensor([0, 1, 0]))
        arcface_margin(cos, torch.tensor([0, 1, 0]))
        self.assertTrue(torch.equal(cos, before))

    def test_defaults_and_training_step(self):
        cos_head, arc_head = CosFace(), ArcFace()
        self.assertEqual((cos_head.s, cos_head.m), (64.0, 0.4))
        self.assertEqual((arc_head.s, arc_head.m), (64.0, 0.5))
        self.assertEqual(tuple(cos_head.weight.shape), (4, 512))
        head = get_head("cosface", num_classes=4)
        emb = torch.randn(6, 512, requires_grad=True)
        loss = F.cross_entropy(head(emb, torch.tensor([0, 1, 2, 3, 0, 1])),
                               torch.tensor([0, 1, 2, 3, 0, 1]))
        loss.backward()
        self.assertTrue(torch.isfinite(head.weight.grad).all())
        self.assertTrue(torch.isfinite(emb.grad).all())


class TestScreeningModelAndExport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = demo_config()
        cls.model = make_demo_model.build(cls.config, "tiny", 2, 8, 1.5, log=lambda *a: None)
        cls.data = export_onnx(cls.model)

    def test_forward_matches_head(self):
        x = make_demo_model.synthetic_images(4, torch.Generator().manual_seed(5))
        with torch.no_grad():
            p = self.model(x)
            emb = self.model.backbone(x)
        w = self.model.class_centres.t()
        ref = torch.softmax(64.0 * cosine_logits(emb, w) / 1.0, dim=1)
        self.assertTrue(torch.allclose(p, ref, atol=1e-5))
        self.assertTrue(torch.allclose(p.sum(1), torch.ones(4), atol=1e-6))

    def test_probabilities_spread_and_input_dependent(self):
        x = make_demo_model.synthetic_images(8, torch.Generator().manual_seed(6))
        with torch.no_grad():
            p = self.model(x)
        self.assertEqual(tuple(p.shape), (8, len(self.config["classes"])))
        self.assertLess(p.max().item(), 0.99)           # not one-hot
        self.assertGreater(p.min().item(), 1e-4)
        self.assertGreater((p[0] - p[1]).abs().max().item(), 0.01)  # differs by input

    def test_eval_batchnorm_well_scaled(self):
        stds = []
        hooks = [m.register_forward_hook(lambda m, i, o: stds.append(o.std().item()))
                 for m in self.model.backbone.modules()
                 if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        try:
            with torch.no_grad():
                self.model(make_demo_model.synthetic_images(8, torch.Generator().manual_seed(7)))
        finally:
            for h in hooks:
                h.remove()
        self.assertTrue(all(0.5 < s < 2.0 for s in stds), stds)

    def test_op_types(self):
        self.assertEqual(tuple(onnx_op_types(self.data)), EXPECTED_OP_TYPES)

    def test_graph_interface(self):
        import onnx
        proto = onnx.load_model_from_string(self.data)
        self.assertEqual([o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")],
                         [OPSET])
        (inp,) = proto.graph.input
        (out,) = proto.graph.output
        self.assertEqual(inp.name, INPUT_NAME)
        self.assertEqual(out.name, OUTPUT_NAME)
        dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
        self.assertEqual(dims, ["batch", 3, 112, 112])
        dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
        self.assertEqual(dims, ["batch", 4])
        self.assertEqual(proto.doc_string, "")
        self.assertTrue(all(n.doc_string == "" for n in proto.graph.node))
        self.assertNotIn(REPO_ROOT.encode(), self.data)
        self.assertNotIn(b"/home/", self.data)

    def test_export_deterministic(self):
        again = export_onnx(self.model)
        self.assertEqual(sha256_hex(again), sha256_hex(self.data))
        rebuilt = make_demo_model.build(self.config, "tiny", 2, 8, 1.5, log=lambda *a: None)
        self.assertEqual(sha256_hex(export_onnx(rebuilt)), sha256_hex(self.data))

    def test_export_independent_of_thread_count(self):
        threads = torch.get_num_threads()
        try:
            digests = set()
            for n in (1, 2):
                torch.set_num_threads(n)
                m = make_demo_model.build(self.config, "tiny", 2, 8, 1.5, log=lambda *a: None)
                digests.add(sha256_hex(export_onnx(m)))
        finally:
            torch.set_num_threads(threads)
        self.assertEqual(len(digests), 1)


class TestGeneratorCli(unittest.TestCase):
    def test_tiny_cli_twice(self):
        script = os.path.join(TRAINING_DIR, "make_demo_model.py")
        with tempfile.TemporaryDirectory() as tmp:
            digests = []
            for i in range(2):
                out = os.path.join(tmp, f"m{i}", "model.onnx")
                res = subprocess.run([sys.executable, script, "--config", DEMO_CONFIG,
                                      "--arch", "tiny", "--out", out, "--no-probe"],
                                     capture_output=True, text=True, timeout=120)
                self.assertEqual(res.returncode, 0, res.stderr)
                with open(out, "rb") as fh:
                    data = fh.read()
                self.assertLess(len(data), 5 * 1024 * 1024)
                self.assertIn(sha256_hex(data), res.stdout)
                digests.append(sha256_hex(data))
            self.assertEqual(digests[0], digests[1])


if __name__ == "__main__":
    unittest.main()
