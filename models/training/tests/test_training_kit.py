"""Training kit on synthetic data (NOT clinical photos): folds, manifest, metrics,
temperature scaling, strict pretrained loading, cross-validation, the four-arm
driver, packaging through the app's packer, and PyTorch vs onnxruntime-node parity."""

import base64
import json
import math
import os
import subprocess
import tempfile
import unittest

import numpy as np
import torch

from facies_train.calibrate import fit_temperature
from facies_train.dataset import (ManifestError, class_ids, load_crops, load_model_config,
                                  normalize, read_manifest)
from facies_train.evaluate import classification_metrics, fuse, summarize_folds
from facies_train.experiment import run_study
from facies_train.folds import (FoldError, assign_patient_folds, calibration_split,
                                fold_indices)
from facies_train.package import build_screening_model, write_package
from facies_train.predict import predict_files
from facies_train.synthetic import write_synthetic_dataset
from facies_train.train import (PretrainedMismatch, REPO_ROOT, TRAINING_DIR, build_backbone,
                                cross_validate, load_config, load_pretrained, train_final)
from facies_train.backbones import get_model

DEMO_CONFIG = os.path.join(REPO_ROOT, "models", "demo", "config.json")
TINY_CONFIG = os.path.join(TRAINING_DIR, "configs", "synthetic_tiny.py")
CLASSES = class_ids(load_model_config(DEMO_CONFIG))


def toy_patients(per_class=(6, 8, 5, 12), seed=0):
    rng = np.random.default_rng(seed)
    labels, patients = [], []
    for c, n in enumerate(per_class):
        for p in range(n):
            for _ in range(int(rng.integers(1, 5))):
                labels.append(c)
                patients.append(f"c{c}p{p}")
    return labels, patients


class TestFolds(unittest.TestCase):
    def test_no_patient_in_two_folds_and_every_class_in_every_fold(self):
        labels, patients = toy_patients()
        folds = fold_indices(labels, patients, 5, seed=3)
        seen = set()
        for train, test in folds:
            test_p = {patients[i] for i in test}
            self.assertFalse(test_p & {patients[i] for i in train})
            self.assertFalse(test_p & seen)
            seen |= test_p
            self.assertEqual({labels[i] for i in test}, {0, 1, 2, 3})
        self.assertEqual(seen, set(patients))
        self.assertEqual(sorted(np.concatenate([t for _, t in folds]).tolist()), list(range(len(labels))))

    def test_stratified(self):
        labels, patients = toy_patients((20, 25, 10, 60), seed=1)
        total = np.bincount(labels) / len(labels)
        for _, test in fold_indices(labels, patients, 5, seed=1):
            share = np.bincount(np.asarray(labels)[test], minlength=4) / len(test)
            self.assertLess(np.abs(share - total).max(), 0.08)

    def test_seeded(self):
        labels, patients = toy_patients()
        a = assign_patient_folds(labels, patients, 5, seed=11)
        self.assertEqual(a, assign_patient_folds(labels, patients, 5, seed=11))
        self.assertNotEqual(a, assign_patient_folds(labels, patients, 5, seed=12))

    def test_refusals(self):
        with self.assertRaisesRegex(FoldError, "different labels"):
            assign_patient_folds([0, 1], ["p", "p"], 2, 0)
        with self.assertRaisesRegex(FoldError, "fewer than the 5 folds"):
            assign_patient_folds([0] * 6 + [1] * 3, [f"a{i}" for i in range(6)] + ["b0", "b1", "b2"], 5, 0)

    def test_calibration_split_by_patient(self):
        labels, patients = toy_patients()
        fit, cal = calibration_split(labels, patients, 0.2, seed=0)
        self.assertFalse({patients[i] for i in fit} & {patients[i] for i in cal})
        self.assertEqual({labels[i] for i in cal}, {0, 1, 2, 3})


class TestManifest(unittest.TestCase):
    def write(self, tmp, text):
        path = os.path.join(tmp, "manifest.csv")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path

    def test_every_problem_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            open(os.path.join(tmp, "a.png"), "wb").close()
            path = self.write(tmp, "path,label,patient_id,site\n"
                                   "a.png,wbs,p1,x\n"
                                   "a.png,ns,p1,x\n"          # same child, other label
                                   "a.png,turner,p2,x\n"      # not a class of the model
                                   "missing.png,ns,p3,x\n")
            with self.assertRaises(ManifestError) as cm:
                read_manifest(path, CLASSES)
            text = str(cm.exception)
            self.assertIn("line 3: patient 'p1' has labels 'wbs' and 'ns'", text)
            self.assertIn("line 4: unknown label 'turner'", text)
            self.assertIn("line 5: file not found: missing.png", text)
            ok = read_manifest(self.write(tmp, "path,label,patient_id,age\na.png,algs,p9,3\n"), CLASSES)
            self.assertEqual((ok[0].label, ok[0].patient_id, ok[0].extra), (2, "p9", {"age": "3"}))

    def test_missing_column(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(ManifestError, "missing column.*patient_id"):
                read_manifest(self.write(tmp, "path,label\na.png,wbs\n"), CLASSES)

    def test_classes_come_from_the_model_config(self):
        with open(DEMO_CONFIG, encoding="utf-8") as fh:
            self.assertEqual(CLASSES, [c["id"] for c in json.load(fh)["classes"]])


class TestMetricsAndCalibration(unittest.TestCase):
    def test_metrics_by_hand(self):
        m = classification_metrics([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 2], ["a", "b", "c"])
        self.assertAlmostEqual(m["accuracy"], 4 / 6)
        self.assertEqual(m["confusion_matrix"], [[1, 1, 0], [1, 2, 0], [0, 0, 1]])
        self.assertAlmostEqual(m["per_class"]["b"]["precision"], 2 / 3)
        self.assertAlmostEqual(m["per_class"]["b"]["recall"], 2 / 3)
        self.assertAlmostEqual(m["per_class"]["a"]["f1"], 0.5)
        self.assertAlmostEqual(m["macro_f1"], (0.5 + 2 / 3 + 1) / 3)
        s = summarize_folds([m, classification_metrics([0, 1, 2], [0, 1, 2], ["a", "b", "c"])], ["a", "b", "c"])
        self.assertAlmostEqual(s["accuracy"]["mean"], (4 / 6 + 1) / 2)
        self.assertAlmostEqual(s["accuracy"]["sd"], math.sqrt(2) * (1 - 4 / 6) / 2)

    def test_temperature_recovered(self):
        g = torch.Generator().manual_seed(0)
        logits = torch.randn(4000, 4, generator=g) * 6
        labels = torch.multinomial(torch.softmax(logits / 2.5, 1), 1, generator=g).view(-1)
        self.assertAlmostEqual(fit_temperature(logits, labels), 2.5, delta=0.2)


class TestPretrained(unittest.TestCase):
    def test_insightface_layout_loads_strictly_and_mismatch_is_named(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = get_model("tiny")
            path = os.path.join(tmp, "backbone.pth")
            torch.save({f"module.{k}": v for k, v in src.state_dict().items()}, path)  # DataParallel prefix
            dst = build_backbone(load_config(TINY_CONFIG))
            load_pretrained(dst, path)
            for k, v in src.state_dict().items():
                self.assertTrue(torch.equal(v, dst.state_dict()[k]), k)
            with self.assertRaisesRegex(PretrainedMismatch, r"missing layer1\.1\..*iresnet100"):
                load_pretrained(get_model("iresnet", layers=[2, 1, 1, 1], base_width=8, num_features=128), path)
            with open(path, "wb") as fh:
                fh.write(b"not a checkpoint")
            with self.assertRaisesRegex(PretrainedMismatch, "not a PyTorch checkpoint"):
                load_pretrained(dst, path)


class TestTrainingOnSyntheticData(unittest.TestCase):
    """One synthetic dataset, one cross-validation, one final model and package for all checks."""

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        cls.manifest = write_synthetic_dataset(os.path.join(root, "data"), CLASSES, (5, 6, 5, 8), 3, seed=5)
        cls.cfg = load_config(TINY_CONFIG)
        quiet = lambda *a: None  # noqa: E731
        cls.report = cross_validate(cls.cfg, cls.manifest, DEMO_CONFIG, os.path.join(root, "cv"), log=quiet)
        cls.checkpoint = train_final(cls.cfg, cls.manifest, DEMO_CONFIG, os.path.join(root, "cv"), log=quiet)
        cls.package = os.path.join(root, "pkg")
        cls.zip = os.path.join(root, "synthetic.facies-model.zip")
        cls.key = os.path.join(root, "publisher")
        subprocess.run(["npx", "tsx", "scripts/model-keygen.ts", cls.key], cwd=REPO_ROOT, check=True,
                       capture_output=True)
        cls.manifest_json = write_package(
            cls.checkpoint, cls.package, "synthetic-tiny-test", "0.0.1", "Synthetic test model", DEMO_CONFIG,
            os.path.join(root, "cv", "cv_report.json"), "Facies CI",
            "Synthetic crops generated by the test (stripes per class); not clinical photos.",
            {"status": "none", "summary": "Trained on synthetic data: no clinical meaning."},
            {"en": "Synthetic test model", "zh-CN": "合成数据测试模型"}, "2026-01-01", cls.zip, cls.key + ".key.pem", log=quiet)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_loss_falls_and_held_out_folds_beat_chance(self):
        for fold in self.report["folds"]:
            hist = fold["loss_history"]  # per-epoch means: small batches make single epochs noisy
            self.assertLess(hist[-1], hist[0], hist)
            self.assertLess(min(hist[len(hist) // 2:]), 0.6 * hist[0], hist)
        acc = self.report["summary"]["accuracy"]["mean"]
        self.assertGreater(acc, 0.5, f"mean held-out accuracy {acc:.3f} (chance 0.25 to 0.33)")
        folds = [set(f["test_patients"]) for f in self.report["folds"]]
        for i in range(len(folds)):
            for j in range(i + 1, len(folds)):
                self.assertFalse(folds[i] & folds[j])

    def test_reports_written(self):
        with open(os.path.join(self.tmp.name, "cv", "cv_report.md"), encoding="utf-8") as fh:
            md = fh.read()
        self.assertIn("Accuracy: **", md)
        self.assertIn("| f1 |", md)
        self.assertTrue(all(f["temperature"] > 0 for f in self.report["folds"]))

    def test_package_manifest_and_zip(self):
        m = self.manifest_json
        self.assertEqual([c["id"] for c in m["classes"]], CLASSES)
        self.assertFalse(m["demonstration"])
        ck = torch.load(self.checkpoint)
        self.assertAlmostEqual(m["temperature"], ck["temperature"])
        self.assertEqual(m["validation"]["confusionMatrix"], self.report["summary"]["confusion_matrix"])
        self.assertTrue(os.path.getsize(self.zip) > 1_000_000)
        res = subprocess.run(["npx", "tsx", "scripts/model-verify.ts", self.zip,
                              "--trust", self.key + ".pub.pem"], cwd=REPO_ROOT,
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("synthetic-tiny-test", res.stdout)

    def test_package_refuses_a_config_whose_normalisation_differs_from_training(self):
        with open(DEMO_CONFIG, encoding="utf-8") as fh:
            other = json.load(fh)
        other["normalization"] = {"mean": [0, 0, 0], "std": [255, 255, 255]}
        path = os.path.join(self.tmp.name, "other-normalisation.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(other, fh)
        with self.assertRaises(SystemExit) as caught:
            write_package(self.checkpoint, os.path.join(self.tmp.name, "pkg-bad"), "bad", "0.0.1", "Bad", path,
                          os.path.join(self.tmp.name, "cv", "cv_report.json"), "Facies CI", "synthetic",
                          {"status": "none", "summary": "synthetic"}, None, "2026-01-01", None, None,
                          log=lambda *a: None)
        self.assertIn("normalises with", str(caught.exception))
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "pkg-bad", "model.onnx")))

    def test_final_backbone_loads_as_pretrained(self):
        path = os.path.join(os.path.dirname(self.checkpoint), "backbone.pth")
        b = build_backbone(self.cfg)
        load_pretrained(b, path)
        self.assertTrue(torch.equal(b.fc.weight, torch.load(self.checkpoint)["backbone"]["fc.weight"]))

    def test_pytorch_matches_onnxruntime_node(self):
        samples = read_manifest(self.manifest, CLASSES)[:6]
        torch_probs = predict_files(self.checkpoint, [s.path for s in samples])["probabilities"]
        x = normalize(load_crops(samples).images, None).numpy().astype("<f4")
        f32 = os.path.join(self.tmp.name, "input.f32")
        x.tofile(f32)
        res = subprocess.run(["npx", "tsx", "models/training/aligner/ort-run.ts",
                              os.path.join(self.package, "model.onnx"), f32, str(len(samples))],
                             cwd=REPO_ROOT, capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        ort_probs = np.array(json.loads(res.stdout))
        ref = np.array([torch_probs[s.path] for s in samples])
        self.assertLess(np.abs(ort_probs - ref).max(), 1e-4)
        self.assertGreater(ref.max(1).min() - ref.min(), 0.01)  # not a constant output

    def test_mean_embedding_package_is_fused_by_the_app_as_by_the_kit(self):
        # A report that chose mean-embedding: the package gains the embedding output and the head, and the app's
        # own code (validator, session core, fusion) gives the kit's fused probabilities for one child's photos.
        with open(os.path.join(self.tmp.name, "cv", "cv_report.json"), encoding="utf-8") as fh:
            report = json.load(fh)
        report["evaluation"]["fusion"]["chosen"] = "mean-embedding"
        report_path = os.path.join(self.tmp.name, "cv_report_embedding.json")
        with open(report_path, "w", encoding="utf-8") as fh:
            json.dump(report, fh)
        pkg = os.path.join(self.tmp.name, "pkg-embedding")
        m = write_package(self.checkpoint, pkg, "synthetic-embedding-test", "0.0.1", "Synthetic embedding model",
                          DEMO_CONFIG, report_path, "Facies CI", "synthetic",
                          {"status": "none", "summary": "synthetic"},
                          {"en": "Synthetic embedding model", "zh-CN": "合成数据嵌入模型"}, "2026-01-01",
                          log=lambda *a: None)
        self.assertEqual(m["inference"]["fusion"], "mean-embedding")
        self.assertEqual(m["validation"]["patientLevel"]["fusion"], "mean-embedding")
        spec = m["inference"]["embedding"]
        model, _ = build_screening_model(self.checkpoint, embedding_output=True)
        w = np.frombuffer(base64.b64decode(spec["classWeightsBase64"]), dtype="<f4").reshape(len(CLASSES), -1)
        self.assertEqual(spec["dimension"], w.shape[1])
        np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, rtol=1e-6)

        samples = read_manifest(self.manifest, CLASSES)
        child = [s for s in samples if s.patient_id == samples[0].patient_id]
        self.assertGreater(len(child), 1)
        x = normalize(load_crops(child).images, None)
        with torch.no_grad():
            p, e = (t.double().numpy() for t in model(x))
        want = fuse(p, "mean-embedding", e, w.astype(np.float64), scale=m["cosfaceScale"], temperature=m["temperature"])
        f32 = os.path.join(self.tmp.name, "child.f32")
        x.numpy().astype("<f4").tofile(f32)
        res = subprocess.run(["npx", "tsx", "models/training/aligner/fuse-run.ts", pkg, f32, str(len(child))],
                             cwd=REPO_ROOT, capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        app = json.loads(res.stdout)
        self.assertEqual(app["rule"], "mean-embedding")
        np.testing.assert_allclose(app["probabilities"], p, atol=1e-4)
        np.testing.assert_allclose(app["embeddings"], e, atol=1e-4)
        np.testing.assert_allclose(app["fused"], want, atol=1e-4)
        self.assertGreater(np.abs(want - p.mean(0)).max(), 1e-3)  # not the mean of probabilities by another name

    def test_four_arm_driver(self):
        out = os.path.join(self.tmp.name, "study")
        # A stand-in foundation model: an untrained backbone (the final one here has seen these children, and a
        # cross-validation from it is refused: tests/test_protocol.py).
        pretrained = os.path.join(self.tmp.name, "stand-in-foundation.pth")
        torch.manual_seed(0)
        torch.save(build_backbone(self.cfg).state_dict(), pretrained)
        payload = run_study(TINY_CONFIG, self.manifest, DEMO_CONFIG, out, pretrained,
                            arms=["pfm_cosface", "none_arcface"], log=lambda *a: None, epochs=1, folds=2)
        self.assertEqual([a["key"] for a in payload["arms"]], ["pfm_cosface", "none_arcface"])
        self.assertEqual(payload["arms"][0]["pretrained"], pretrained)
        self.assertIsNone(payload["arms"][1]["pretrained"])
        with open(os.path.join(out, "comparison.md"), encoding="utf-8") as fh:
            md = fh.read()
        self.assertIn("| PFM + CosFace |", md)
        self.assertIn("| None + ArcFace |", md)
        with open(os.path.join(out, "none_arcface", "cv_report.json"), encoding="utf-8") as fh:
            arc = json.load(fh)
        self.assertEqual((arc["config"]["head"], arc["config"]["margin"]), ("arcface", 0.5))
        with self.assertRaises(SystemExit):
            run_study(TINY_CONFIG, self.manifest, DEMO_CONFIG, out, None, arms=["pfm_arcface"])


if __name__ == "__main__":
    unittest.main()
