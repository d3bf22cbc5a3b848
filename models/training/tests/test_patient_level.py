"""Evaluation as the app uses the model (synthetic data, NOT clinical photos): its TTA and
fusion rules reproduced, precision left undefined for a class never predicted, NLL without
clamping, patient-resampled bootstrap, subgroup cells, the photo-split comparison, and the
manifest's validation block."""

import csv
import math
import os
import tempfile
import unittest

import numpy as np
import torch

from facies_train.calibrate import fit_temperature, nll_at
from facies_train.dataset import class_ids, load_model_config
from facies_train.evaluate import (FUSION_RULES, age_band, bootstrap_intervals,
                                   choose_fusion, classification_metrics, fuse, grey,
                                   photo_fold_indices, summarize_folds, tta_views)
from facies_train.experiment import cross_validate_compared
from facies_train.package import validation_report
from facies_train.synthetic import write_synthetic_dataset
from facies_train.train import REPO_ROOT, TRAINING_DIR, load_config

DEMO_CONFIG = os.path.join(REPO_ROOT, "models", "demo", "config.json")
TINY_CONFIG = os.path.join(TRAINING_DIR, "configs", "synthetic_tiny.py")
CLASSES = class_ids(load_model_config(DEMO_CONFIG))


class TestAppInference(unittest.TestCase):
    def test_grey_is_bt601_luma_rounded_half_up(self):
        rgb = torch.tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30], [200, 100, 50]],
                           dtype=torch.uint8).view(5, 1, 1, 3).permute(0, 3, 1, 2)
        g = grey(rgb)
        self.assertEqual(g.shape, (5, 3, 1, 1))
        # 0.299 r + 0.587 g + 0.114 b = 76.245, 149.685, 29.07, 18.15, 124.2
        self.assertEqual(g[:, 0, 0, 0].tolist(), [76, 150, 29, 18, 124])
        self.assertTrue(torch.equal(g[:, 0], g[:, 2]))

    def test_tta_views_in_the_apps_order(self):
        x = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).view(2, 3, 4, 4)
        v = tta_views(x, "flip-grey")
        self.assertEqual(len(v), 4)
        self.assertTrue(torch.equal(v[0], x))
        self.assertTrue(torch.equal(v[1], x.flip(3)))
        self.assertTrue(torch.equal(v[2], grey(x)))
        self.assertTrue(torch.equal(v[3], grey(x).flip(3)))
        self.assertEqual([len(tta_views(x, m)) for m in ("none", "flip")], [1, 2])
        with self.assertRaises(ValueError):
            tta_views(x, "grey")

    def test_fusion_rules_as_the_app(self):
        p = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])
        np.testing.assert_allclose(fuse(p, "mean-probability"), [0.4, 0.4, 0.2])
        g = np.sqrt(p[0] * p[1])
        np.testing.assert_allclose(fuse(p, "mean-log-probability"), g / g.sum())
        np.testing.assert_allclose(fuse(p[:1], "mean-log-probability"), p[0])  # one photo: unchanged
        # A zero probability is floored at 1e-12, not -inf.
        z = fuse(np.array([[1.0, 0.0], [0.5, 0.5]]), "mean-log-probability")
        self.assertTrue(np.all(np.isfinite(z)) and z[0] > 0.99)
        emb = np.array([[1.0, 0.0], [0.0, 1.0]])
        w = np.array([[1.0, 0.0], [math.sqrt(0.5), math.sqrt(0.5)]])
        out = fuse(p[:, :2], "mean-embedding", emb, w, scale=64.0, temperature=2.0)
        logits = 64.0 * np.array([math.sqrt(0.5), 1.0]) / 2.0
        np.testing.assert_allclose(out, np.exp(logits) / np.exp(logits).sum())

    def test_fusion_choice_ties_and_candidates(self):
        def s(f1):
            return {"macro_f1": {"mean": f1, "sd": 0.0}}
        self.assertEqual(choose_fusion({"mean-probability": s(0.8), "mean-log-probability": s(0.8),
                                        "mean-embedding": s(0.8)}, FUSION_RULES), "mean-probability")
        scores = {"mean-probability": s(0.7), "mean-log-probability": s(0.8), "mean-embedding": s(0.9)}
        self.assertEqual(choose_fusion(scores), "mean-embedding")
        self.assertEqual(choose_fusion(scores, ("mean-probability", "mean-log-probability")), "mean-log-probability")


class TestMetricsDetails(unittest.TestCase):
    def test_never_predicted_class_has_undefined_precision(self):
        a = classification_metrics([0, 1, 2, 2], [0, 1, 1, 1], ["a", "b", "c"])
        self.assertIsNone(a["per_class"]["c"]["precision"])
        self.assertEqual(a["per_class"]["c"]["f1"], 0.0)
        self.assertAlmostEqual(a["balanced_accuracy"], (1 + 1 + 0) / 3)
        b = classification_metrics([0, 1, 2, 2], [0, 1, 2, 1], ["a", "b", "c"])
        s = summarize_folds([a, b], ["a", "b", "c"])
        self.assertEqual(s["per_class"]["c"]["precision_undefined_folds"], 1)
        self.assertEqual(s["per_class"]["c"]["precision"], {"mean": 1.0, "sd": 0.0})  # fold b only
        self.assertEqual(s["per_class"]["a"]["precision_undefined_folds"], 0)
        s = summarize_folds([a], ["a", "b", "c"])
        self.assertIsNone(s["per_class"]["c"]["precision"])

    def test_nll_not_clamped_and_tta_mean(self):
        logits = torch.tensor([[0.0, 2000.0]], dtype=torch.float64)
        self.assertAlmostEqual(nll_at(logits, torch.tensor([0]), 1.0), 2000.0)  # clamping would say 27.6
        views = torch.tensor([[[2.0, 0.0]], [[0.0, 1.0]]], dtype=torch.float64)
        p = (torch.softmax(views[0] / 2, 1) + torch.softmax(views[1] / 2, 1)) / 2
        self.assertAlmostEqual(nll_at(views, torch.tensor([0]), 2.0), -math.log(p[0, 0].item()))

    def test_temperature_fitted_on_the_mean_of_passes(self):
        g = torch.Generator().manual_seed(1)
        base = torch.randn(3000, 4, generator=g, dtype=torch.float64) * 6
        views = torch.stack([base, base + torch.randn(3000, 4, generator=g, dtype=torch.float64)])
        p = torch.softmax(views / 2.0, -1).mean(0)
        labels = torch.multinomial(p, 1, generator=g).view(-1)
        self.assertAlmostEqual(fit_temperature(views, labels), 2.0, delta=0.2)

    def test_bootstrap_resamples_patients_within_class(self):
        patients = ["a", "a", "b", "c", "c", "d"]
        labels = [0, 0, 0, 1, 1, 1]
        perfect = bootstrap_intervals(patients, labels, labels, ["x", "y"], resamples=200, seed=3)
        self.assertEqual(perfect["accuracy"], {"estimate": 1.0, "low": 1.0, "high": 1.0})
        preds = [0, 1, 0, 1, 1, 0]
        one = bootstrap_intervals(patients, labels, preds, ["x", "y"], resamples=500, seed=3)
        self.assertEqual(one, bootstrap_intervals(patients, labels, preds, ["x", "y"], resamples=500, seed=3))
        self.assertAlmostEqual(one["accuracy"]["estimate"], 4 / 6)
        for iv in [one["accuracy"], one["macro_f1"], *one["recall"].values()]:
            self.assertLessEqual(iv["low"], iv["estimate"])
            self.assertLessEqual(iv["estimate"], iv["high"])
        self.assertLess(one["accuracy"]["low"], one["accuracy"]["high"])

    def test_photo_split_mixes_a_childs_photos(self):
        labels = [c for c in range(4) for _ in range(12)]
        patients = [f"p{i // 3}" for i in range(len(labels))]
        folds = photo_fold_indices(labels, 3, seed=0)
        self.assertEqual(sorted(np.concatenate([t for _, t in folds]).tolist()), list(range(len(labels))))
        for _, test in folds:
            self.assertEqual(np.bincount(np.asarray(labels)[test]).tolist(), [4, 4, 4, 4])
        shared = [{patients[i] for i in tr} & {patients[i] for i in te} for tr, te in folds]
        self.assertTrue(any(shared))

    def test_age_bands(self):
        self.assertEqual([age_band(a) for a in (0, 1.99, 2, 5.9, 6, 12, 17)],
                         ["0-2", "0-2", "2-6", "2-6", "6-12", "12+", "12+"])


class TestSyntheticCrossValidationReport(unittest.TestCase):
    """One short synthetic cross-validation, patient split plus the photo split beside it."""

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.TemporaryDirectory()
        manifest = write_synthetic_dataset(os.path.join(cls.tmp.name, "data"), CLASSES, (5, 6, 5, 8), 3, seed=5)
        # A column the labels sheet declares as a subgroup: one value per child.
        with open(manifest, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        rows[0].append("subgroup_Camera")
        for r in rows[1:]:
            r.append("phone" if int(r[2][-3:]) % 2 else "dslr")
        with open(manifest, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
        cls.photos = len(rows) - 1
        cls.patients = len({r[2] for r in rows[1:]})
        cfg = load_config(TINY_CONFIG, epochs=2, folds=2, bootstrap_resamples=400)
        cls.out = os.path.join(cls.tmp.name, "cv")
        cls.report = cross_validate_compared(cfg, manifest, DEMO_CONFIG, cls.out, log=lambda *a: None,
                                             photo_split=True)
        cls.ev = cls.report["evaluation"]
        with open(os.path.join(cls.out, "cv_report.md"), encoding="utf-8") as fh:
            cls.md = fh.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_both_levels_count_their_units(self):
        self.assertEqual(int(np.sum(self.ev["photo"]["confusion_matrix"])), self.photos)
        for rule in FUSION_RULES:
            self.assertEqual(int(np.sum(self.ev["patient"][rule]["confusion_matrix"])), self.patients, rule)
        self.assertIn(self.ev["fusion"]["chosen"], FUSION_RULES)
        self.assertEqual((self.ev["split"], self.ev["tta"]), ("patient", "flip"))
        for f in self.report["folds"]:
            self.assertEqual(len(f["patient_level"]["mean-probability"]["patients"]), len(f["test_patients"]))

    def test_bootstrap_intervals_contain_the_estimates(self):
        b = self.ev["bootstrap"]
        self.assertEqual(b["resamples"], 400)
        for level in ("photo", "patient"):
            ivs = [b[level]["accuracy"], b[level]["macro_f1"]] + [b[level]["recall"][c] for c in CLASSES]
            for iv in ivs:
                self.assertTrue(0 <= iv["low"] <= iv["estimate"] <= iv["high"] <= 1, (level, iv))
        cm = np.array(self.ev["patient"][self.ev["fusion"]["chosen"]]["confusion_matrix"])
        self.assertAlmostEqual(b["patient"]["accuracy"]["estimate"], np.trace(cm) / cm.sum())

    def test_subgroup_cells(self):
        cells = self.ev["subgroups"]["cells"]
        self.assertEqual({c["attribute"] for c in cells}, {"age_band", "sex", "site", "camera"})
        for attribute in ("age_band", "sex", "site", "camera"):
            mine = [c for c in cells if c["attribute"] == attribute]
            self.assertEqual(sum(c["patients"] for c in mine), self.patients, attribute)
            self.assertEqual(sum(c["photos"] for c in mine), self.photos, attribute)
        for c in cells:
            self.assertEqual(c["too_few"], c["patients"] < 10)
            if c["too_few"]:
                self.assertNotIn("accuracy", c)
            else:
                self.assertTrue(0 <= c["accuracy"] <= 1 and 0 <= c["macro_f1"] <= 1)
        self.assertTrue(any(c["too_few"] for c in cells) and not all(c["too_few"] for c in cells))
        site = next(c for c in cells if c["attribute"] == "site")
        self.assertAlmostEqual(site["accuracy"], self.ev["bootstrap"]["patient"]["accuracy"]["estimate"])

    def test_comparisons_and_markdown(self):
        kinds = {(c["tta"], c["split"]) for c in self.ev["comparisons"]}
        self.assertEqual(kinds, {("flip-grey", "patient"), ("flip", "photo")})
        self.assertTrue(os.path.isfile(os.path.join(self.out, "photo_split", "cv_report.json")))
        for heading in ("## Photo and patient level side by side", "## Bootstrap 95 % intervals",
                        "## Subgroups", "| flip | photo |", "| flip-grey | patient |", "| camera | dslr |",
                        "too few", "**" + self.ev["fusion"]["chosen"] + "**"):
            self.assertIn(heading, self.md)
        self.assertEqual(self.md.count("## Photo and patient level side by side"), 1)

    def test_manifest_validation_block(self):
        v = validation_report(self.report, "synthetic")
        self.assertEqual((v["tta"], v["split"], v["estimate"]), ("flip", "patient", "same-folds"))
        self.assertEqual(v["patientLevel"]["fusion"], self.ev["fusion"]["chosen"])
        self.assertEqual(set(v["patientLevel"]["rules"]), set(FUSION_RULES))
        self.assertEqual({(c["tta"], c["split"]) for c in v["comparisons"]},
                         {("flip-grey", "patient"), ("flip", "photo")})
        for c in v["subgroups"]["cells"]:
            self.assertEqual("accuracy" in c, not c["tooFew"])
        for m in v["perClass"].values():
            self.assertEqual("precision" in m, m.get("precisionUndefinedFolds", 0) < self.report["summary"]["folds"])


if __name__ == "__main__":
    unittest.main()
