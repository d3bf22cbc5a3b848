"""Leakage checks of the training protocol: a backbone the kit trained on some patients is refused for a
cross-validation of the same patients; crops of one child filed under two patient ids are listed."""

import csv
import json
import os
import tempfile
import unittest

import numpy as np
import torch

from facies_train.dataset import load_crops, read_manifest
from facies_train.duplicates import crop_embeddings, near_duplicates
from facies_train.experiment import run_study
from facies_train.package import model_card, validation_report
from facies_train.synthetic import write_synthetic_dataset
from facies_train.losses import get_head
from facies_train.train import (PretrainedMismatch, _fit_and_calibrate, build_backbone, cross_validate, load_config,
                                param_groups, recipe, refuse_pretrained_overlap, train_final, train_model,
                                trained_patients_path)

from tests.test_training_kit import CLASSES, DEMO_CONFIG, TINY_CONFIG


def quiet(*_):
    pass


class TestProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        cls.manifest = write_synthetic_dataset(os.path.join(root, "data"), CLASSES, (3, 3, 3, 3), 2, seed=11)
        # The same child filed twice: synthetic-wbs-000's photos again under another id.
        with open(cls.manifest, encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        cls.copied = [r for r in rows[1:] if r[2] == "synthetic-wbs-000"]
        cls.with_copy = os.path.join(root, "data", "with_copy.csv")
        with open(cls.with_copy, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows + [[r[0], r[1], "MRN-0042"] + r[3:] for r in cls.copied])
        cls.cfg = load_config(TINY_CONFIG, epochs=1, folds=2)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_a_backbone_trained_on_these_patients_is_refused_for_their_cross_validation(self):
        out = os.path.join(self.tmp.name, "final")
        checkpoint = train_final(self.cfg, self.manifest, DEMO_CONFIG, out, log=quiet)
        backbone = os.path.join(os.path.dirname(checkpoint), "backbone.pth")
        with open(trained_patients_path(backbone), encoding="utf-8") as fh:
            record = json.load(fh)
        self.assertEqual(len(record["patient_sha256"]), 12)
        self.assertNotIn("synthetic-wbs-000", json.dumps(record))  # digests, not the hospital's ids
        with self.assertRaises(PretrainedMismatch) as caught:
            cross_validate(self.cfg, self.manifest, DEMO_CONFIG, os.path.join(self.tmp.name, "cv-leak"), backbone,
                           log=quiet)
        self.assertIn("12 of the 12 patients", str(caught.exception))
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "cv-leak", "cv_report.json")))
        refuse_pretrained_overlap(backbone, ["another-hospital-1", "another-hospital-2"])  # no overlap: accepted

    def test_crops_of_one_child_under_two_patient_ids_are_listed(self):
        samples = read_manifest(self.with_copy, CLASSES)
        data = load_crops(samples)
        torch.manual_seed(0)
        emb = crop_embeddings(build_backbone(self.cfg), data, None)
        paths = [s.path for s in samples]
        exact = near_duplicates(emb, data.patients, paths, threshold=1 - 1e-6)
        want = {(s.path, "synthetic-wbs-000", s.path, "MRN-0042") for s in samples if s.patient_id == "MRN-0042"}
        self.assertEqual(len(want), len(self.copied))
        # Each copy matches its original, and the child's two photos match each other's copies (same id never).
        self.assertTrue(want <= {(p["photo_a"], p["patient_a"], p["photo_b"], p["patient_b"]) for p in exact})
        self.assertTrue(all(p["patient_a"] != p["patient_b"] for p in exact))
        self.assertTrue(all({p["patient_a"], p["patient_b"]} == {"synthetic-wbs-000", "MRN-0042"} for p in exact))

        # In a cross-validation from a pretrained backbone (here: an untrained one, saved without a patient record),
        # the pairs are counted in the report and listed in possible_duplicates.csv, the copies first.
        pretrained = os.path.join(self.tmp.name, "random_backbone.pth")
        torch.save(build_backbone(self.cfg).state_dict(), pretrained)
        out = os.path.join(self.tmp.name, "cv-copy")
        rep = cross_validate(dict(self.cfg, duplicate_threshold=0.999), self.with_copy, DEMO_CONFIG, out, pretrained,
                             log=quiet)
        self.assertTrue(rep["possible_duplicates"]["checked"])
        self.assertGreaterEqual(rep["possible_duplicates"]["pairs"], len(want))
        with open(os.path.join(out, "possible_duplicates.csv"), encoding="utf-8") as fh:
            listed = list(csv.DictReader(fh))
        self.assertEqual({frozenset((r["patient_a"], r["patient_b"])) for r in listed[:len(want)]},
                         {frozenset(("synthetic-wbs-000", "MRN-0042"))})
        with open(os.path.join(out, "cv_report.md"), encoding="utf-8") as fh:
            self.assertIn("Possible duplicates across patient ids", fh.read())

    def test_repeated_cross_validation_reports_the_spread_across_repeats(self):
        cfg = dict(self.cfg, repeat_seeds=[3, 4], bootstrap_resamples=20)
        rep = cross_validate(cfg, self.manifest, DEMO_CONFIG, os.path.join(self.tmp.name, "cv-repeats"), log=quiet)
        r = rep["repeats"]
        self.assertEqual((r["count"], r["seeds"]), (3, [int(cfg["seed"]), 3, 4]))
        self.assertAlmostEqual(r["per_repeat"][0]["accuracy"], rep["summary"]["accuracy"]["mean"])
        accs = [x["accuracy"] for x in r["per_repeat"]]
        self.assertAlmostEqual(r["accuracy"]["mean"], float(np.mean(accs)))
        self.assertAlmostEqual(r["accuracy"]["sd"], float(np.std(accs, ddof=1)))
        self.assertEqual(len(rep["folds"]), 2)  # the tables stay the first repeat's
        v = validation_report(rep, "synthetic")
        self.assertEqual(v["repeats"]["count"], 3)
        self.assertEqual(set(v["repeats"]), {"count", "seeds", "accuracy", "macroF1"})
        with open(os.path.join(self.tmp.name, "cv-repeats", "cv_report.md"), encoding="utf-8") as fh:
            self.assertIn("Repeated cross-validation (3 × 2 folds", fh.read())

    def test_inner_out_of_fold_temperature_lets_the_model_train_on_every_patient(self):
        data = load_crops(read_manifest(self.manifest, CLASSES))
        cfg = dict(self.cfg, calibration="inner-oof", inner_folds=2)
        backbone, _, _, t_oof, n_oof = _fit_and_calibrate(cfg, data, None, 4, None, quiet, 5)
        self.assertEqual(n_oof, len(data))  # every training photo has an out-of-fold logit
        full, _, _ = train_model(cfg, data, None, 4, log=quiet)
        for k, v in full.state_dict().items():  # the fold's model is the one trained on all of its patients
            self.assertTrue(torch.equal(v, backbone.state_dict()[k]), k)
        held, _, _, t_held, n_held = _fit_and_calibrate(dict(cfg, calibration="holdout"), data, None, 4, None,
                                                        quiet, 5)
        self.assertLess(n_held, len(data))  # the hold-out costs training patients
        self.assertFalse(torch.equal(held.state_dict()["conv1.weight"], backbone.state_dict()["conv1.weight"]))
        self.assertTrue(0 < t_oof and 0 < t_held)
        with self.assertRaises(ValueError):
            _fit_and_calibrate(dict(cfg, calibration="test-fold"), data, None, 4, None, quiet, 5)

    def test_a_locked_held_out_set_is_scored_once_by_the_arm_chosen_without_it(self):
        root = os.path.join(self.tmp.name, "held")
        manifest = write_synthetic_dataset(os.path.join(root, "data"), CLASSES, (6, 6, 6, 6), 2, seed=13)
        with open(manifest, encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        # Photos of every third child taken in 2024: those children are the locked set.
        dated = os.path.join(root, "data", "dated.csv")
        with open(dated, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([rows[0] + ["date"]] + [
                r + ["2024-03-01" if int(r[2][-3:]) % 3 == 0 else "2022-06-01"] for r in rows[1:]])
        late = {r[2] for r in rows[1:] if int(r[2][-3:]) % 3 == 0}
        out = os.path.join(root, "study")
        payload = run_study(TINY_CONFIG, dated, DEMO_CONFIG, out, None, arms=["none_cosface", "none_arcface"],
                            log=quiet, held_out={"column": "date", "from": "2024-01-01"}, epochs=1, folds=2,
                            bootstrap_resamples=20)
        with open(os.path.join(out, "development.csv"), encoding="utf-8") as fh:
            dev = {r["patient_id"] for r in csv.DictReader(fh)}
        with open(os.path.join(out, "held_out.csv"), encoding="utf-8") as fh:
            test = {r["patient_id"] for r in csv.DictReader(fh)}
        self.assertEqual(test, late)
        self.assertFalse(dev & test)
        h = payload["held_out"]
        self.assertEqual(h["patients"], len(late))
        self.assertIn(h["arm"], ("none_cosface", "none_arcface"))
        for arm in payload["arms"]:  # the arms never saw the locked children
            with open(os.path.join(out, arm["key"], "cv_report.json"), encoding="utf-8") as fh:
                self.assertEqual(json.load(fh)["patients"], len(dev))
        with open(os.path.join(out, "comparison.md"), encoding="utf-8") as fh:
            self.assertIn("Locked held-out set", fh.read())
        with open(os.path.join(out, h["arm"], "cv_report.json"), encoding="utf-8") as fh:
            chosen = json.load(fh)
        config = {"name": "x", "id": "x", "version": "0", "architecture": "tiny", "head": "cosface", "cosfaceScale": 64,
                  "cosfaceMargin": 0.4, "temperature": 1.0, "created": "2026-12-02", "publisher": {"name": "CI"},
                  "classes": [{"id": c, "displayName": {"en": c}} for c in CLASSES],
                  "validation": validation_report(chosen, "synthetic"),
                  "clinicalValidation": {"status": "none", "summary": "synthetic"}}
        card = model_card(config, chosen, None)
        self.assertIn("Locked held-out set", card)
        self.assertIn("optimistic", card)


class TestFineTuningRecipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.TemporaryDirectory()
        manifest = write_synthetic_dataset(os.path.join(cls.tmp.name, "data"), CLASSES, (2, 2, 2, 2), 2, seed=3)
        cls.data = load_crops(read_manifest(manifest, CLASSES))
        cls.cfg = load_config(TINY_CONFIG, epochs=2)
        torch.manual_seed(1)
        cls.pretrained = os.path.join(cls.tmp.name, "backbone.pth")
        torch.save(build_backbone(cls.cfg).state_dict(), cls.pretrained)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_pretrained_arms_take_the_finetune_recipe_and_scratch_arms_do_not(self):
        ft, scratch = recipe(self.cfg, self.pretrained), recipe(self.cfg, None)
        self.assertEqual((ft["head_epochs"], ft["backbone_lr_mult"], ft["decay_norm_and_bias"]), (2, 0.1, False))
        self.assertEqual((scratch["head_epochs"], scratch["backbone_lr_mult"], scratch["decay_norm_and_bias"]),
                         (0, 1.0, True))
        backbone = build_backbone(self.cfg)
        head = get_head("cosface", embedding_size=backbone.num_features, num_classes=4)
        groups = {g["name"]: g for g in param_groups(backbone, head, ft)}
        lr = float(self.cfg["lr"])
        self.assertAlmostEqual(groups["backbone"]["lr"], 0.1 * lr)
        self.assertAlmostEqual(groups["head"]["lr"], lr)
        self.assertEqual((groups["backbone-no-decay"]["weight_decay"], groups["head"]["weight_decay"]), (0.0, 0.0))
        self.assertGreater(groups["backbone"]["weight_decay"], 0)
        no_decay = {id(p) for p in groups["backbone-no-decay"]["params"]}
        for name, m in backbone.named_modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.PReLU)):
                self.assertTrue(all(id(p) in no_decay for p in m.parameters() if p.requires_grad), name)
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                self.assertNotIn(id(m.weight), no_decay, name)
        every = [p for g in groups.values() for p in g["params"]]
        self.assertEqual(len(every), len({id(p) for p in every}))
        trainable = [p for p in backbone.parameters() if p.requires_grad]  # features.weight is frozen, as InsightFace's
        self.assertEqual(len(every), len(trainable) + len(list(head.parameters())))

    def weights(self, backbone):
        return {k: v for k, v in backbone.state_dict().items() if v.dim() > 1}  # conv/linear weights, not BN stats

    def test_the_probe_trains_the_head_alone_then_the_backbone_moves(self):
        start = self.weights(build_backbone(self.cfg))
        start.update({k: v for k, v in torch.load(self.pretrained).items() if v.dim() > 1})
        frozen, head, _ = train_model(dict(self.cfg, finetune=dict(self.cfg["finetune"], head_epochs=2)), self.data,
                                      None, 4, self.pretrained, log=quiet)
        for k, v in self.weights(frozen).items():
            self.assertTrue(torch.equal(v, start[k]), k)
        moved, _, _ = train_model(dict(self.cfg, finetune=dict(self.cfg["finetune"], head_epochs=1)), self.data,
                                  None, 4, self.pretrained, log=quiet)
        self.assertGreater(max((v - start[k]).abs().max().item() for k, v in self.weights(moved).items()), 1e-4)


if __name__ == "__main__":
    unittest.main()
