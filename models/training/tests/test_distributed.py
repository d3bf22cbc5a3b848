"""Data-parallel training on CPU (gloo): two ranks of ``python -m facies_train.train``,
started with the environment torchrun gives them, match one process step for step;
only rank 0 writes; a rank that dies or hangs makes the other fail, not wait.
Also the numerics around it: precise BN's batch order, the margin head under
autocast, and checkpoint loading that runs no pickled code."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import torch
from torch import nn

from facies_train import distributed
from facies_train.dataset import CropTensors
from facies_train.losses import get_head
from facies_train.synthetic import write_synthetic_dataset
from facies_train.train import (TRAINING_DIR, PretrainedMismatch, _Network, build_backbone, load_config,
                                load_pretrained, precise_batchnorm)

from tests.test_training_kit import CLASSES, TINY_CONFIG

BN_STATS = ("running_mean", "running_var", "num_batches_tracked")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ranks(world, args, cwds, timeout_s=60):
    """``world`` processes of facies_train.train, one thread each, rank r running in ``cwds[r]``."""
    port = str(free_port())
    procs = []
    for r in range(world):
        env = dict(os.environ, PYTHONPATH=TRAINING_DIR, OMP_NUM_THREADS="1")
        if world > 1:
            env.update(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=port, TORCHELASTIC_RUN_ID=f"test-{port}")
        procs.append(subprocess.Popen(
            [sys.executable, "-u", "-m", "facies_train.train", *args, "--threads", "1",
             "--dist-timeout", str(timeout_s)],
            cwd=cwds[r], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


class TestDataParallel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        cls.manifest = write_synthetic_dataset(os.path.join(root, "data"), CLASSES, (4, 4, 4, 4), 3, seed=5)
        # SGD, not the tiny config's AdamW: Adam divides each gradient by its own size, so a
        # bias whose true gradient is zero (every conv/linear bias before a BatchNorm) steps by
        # ±lr on float32 rounding noise; this compares data-parallel arithmetic, not that noise.
        # A small lr for the same reason: the s=64 margin loss is sharp, and larger steps grow
        # rounding differences fast (lr 0.01: 5e-5 after 4 steps; 0.002: ~1e-7 after 6, any seed tried).
        cls.config = os.path.join(root, "sgd_tiny.py")
        with open(cls.config, "w", encoding="utf-8") as fh:
            fh.write("from configs.synthetic_tiny import config as tiny\n"
                     "config = dict(tiny, epochs=3, optimizer='sgd', lr=0.002, momentum=0.9)\n")
        cls.args = ["--config", cls.config, "--manifest", cls.manifest, "--final", "--out", "out"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def folders(self, name, world):
        cwds = [os.path.join(self.tmp.name, f"{name}-rank{r}") for r in range(world)]
        for d in cwds:
            os.makedirs(d)
        return cwds

    def test_two_ranks_match_one_process_and_only_rank_0_writes(self):
        (one,), two = self.folders("single", 1), self.folders("ddp", 2)
        procs = start_ranks(1, self.args, [one]) + start_ranks(2, self.args, two)
        outs = [p.communicate(timeout=180) for p in procs]
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, out + err)
        stdouts = [out for out, _ in outs[1:]]

        def files(d):
            return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)

        self.assertEqual(files(two[0]), files(one))
        self.assertIn(os.path.join("out", "final", "checkpoint.pt"), files(one))
        self.assertEqual(files(two[1]), [])  # rank 1 ran in its own folder and wrote nothing there
        self.assertIn("epoch 3/3", stdouts[0])
        self.assertEqual(stdouts[1], "")

        a = torch.load(os.path.join(one, "out", "final", "checkpoint.pt"))
        b = torch.load(os.path.join(two[0], "out", "final", "checkpoint.pt"))
        weights = {k for k in a["backbone"] if not k.endswith(BN_STATS)}
        diff = max([(a["backbone"][k] - b["backbone"][k]).abs().max().item() for k in weights]
                   + [(a["head"]["weight"] - b["head"]["weight"]).abs().max().item()])
        print(f"  max |Δweight| 2 ranks vs 1 process: {diff:.2e}", file=sys.stderr)
        self.assertLessEqual(diff, 1e-5)
        moved = max((a["backbone"][k] - build_backbone(load_config(self.config)).state_dict()[k]).abs().max().item()
                    for k in weights)
        self.assertGreater(moved, 1e-3)  # the weights trained: equal is not trivially equal
        # Precise-BN statistics are recomputed from these weights over the same crops.
        for k in a["backbone"]:
            if k.endswith(BN_STATS[:2]):
                torch.testing.assert_close(b["backbone"][k], a["backbone"][k], rtol=1e-3, atol=1e-3)
        self.assertAlmostEqual(a["temperature"], b["temperature"], delta=1e-2 * a["temperature"])
        self.assertAlmostEqual(a["loss_history"][-1], b["loss_history"][-1], delta=1e-3)

    def test_spread_folds_give_the_single_process_report(self):
        config = os.path.join(self.tmp.name, "cv_tiny.py")
        with open(config, "w", encoding="utf-8") as fh:
            fh.write("from configs.synthetic_tiny import config as tiny\n"
                     "config = dict(tiny, epochs=1, folds=2, bootstrap_resamples=20)\n")
        one, two = os.path.join(self.tmp.name, "cv-one"), os.path.join(self.tmp.name, "cv-spread")
        args = ["--config", config, "--manifest", self.manifest, "--out"]
        procs = (start_ranks(1, args + [one], [self.tmp.name])
                 + start_ranks(2, args + [two, "--spread-folds"], [self.tmp.name] * 2))
        outs = [p.communicate(timeout=180) for p in procs]
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, out + err)
        self.assertIn("fold 1/2", outs[1][0])
        self.assertNotIn("fold 2/2", outs[1][0])  # rank 1 trained fold 2
        reports = []
        for d in (one, two):
            with open(os.path.join(d, "cv_report.json"), encoding="utf-8") as fh:
                reports.append(json.load(fh))
        self.assertEqual(reports[1]["folds"], reports[0]["folds"])
        self.assertEqual(reports[1]["summary"], reports[0]["summary"])
        self.assertEqual(reports[1]["evaluation"], reports[0]["evaluation"])

    def start_long_run(self, name, timeout_s):
        cwds = self.folders(name, 2)
        args = [a if a != self.config else TINY_CONFIG for a in self.args] + ["--epochs", "1000"]
        procs = start_ranks(2, args, cwds, timeout_s)
        self.addCleanup(lambda: [(p.kill(), p.communicate()) for p in procs])
        return procs

    def wait_for_first_epoch(self, procs):
        line = procs[0].stdout.readline()  # rank 0 logs once the first epoch's collectives ran
        self.assertIn("epoch 1/1000", line, procs[0].stderr.read() if not line else line)

    def assert_survivor_fails(self, proc, within_s):
        t0 = time.perf_counter()
        try:
            _, err = proc.communicate(timeout=within_s)
        except subprocess.TimeoutExpired:
            self.fail(f"rank 0 still running {within_s} s after its peer stopped")
        took = time.perf_counter() - t0
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("rank 0 of 2 failed", err)
        self.assertIn("Another rank died or stopped responding", err)
        self.assertNotIn("Traceback", err)
        return took

    def test_hung_rank_fails_the_run(self):
        # Rank 1 stopped (alive, connections open, never answering): only the 3 s timeout can detect it.
        hung = self.start_long_run("hung", timeout_s=3)
        self.wait_for_first_epoch(hung)
        hung[1].send_signal(signal.SIGSTOP)
        # A generous bound: on a loaded 2-core machine rank 0 may be mid-epoch, seconds from its next collective.
        took = self.assert_survivor_fails(hung[0], within_s=45)
        print(f"\n  rank 0 stopped {took:.1f} s after rank 1 hung", file=sys.stderr)

    def test_killed_rank_fails_the_run(self):
        # Several rounds, killed at different moments of a step: gloo's teardown used to block for
        # ever on the dead pair in about one run in four, after the message was printed.
        for round_ in range(6):
            killed = self.start_long_run(f"killed{round_}", timeout_s=5)
            self.wait_for_first_epoch(killed)
            time.sleep(0.1 * round_)
            killed[1].send_signal(signal.SIGKILL)
            took = self.assert_survivor_fails(killed[0], within_s=45)
            print(f"\n  rank 0 stopped {took:.1f} s after rank 1 was killed", file=sys.stderr)


class TestSampler(unittest.TestCase):
    def test_rank_shares_are_disjoint_and_cover_the_global_batch(self):
        batch = torch.randperm(16)
        shares = [distributed.rank_share(batch, r, 4) for r in range(4)]
        self.assertTrue(torch.equal(torch.cat(shares), batch))
        with self.assertRaisesRegex(ValueError, "does not split over 3 ranks"):
            distributed.rank_share(batch, 0, 3)


class TestHeadUnderAutocast(unittest.TestCase):
    def test_margin_head_runs_in_float32(self):
        backbone = build_backbone(load_config(TINY_CONFIG))
        head = get_head("arcface", s=64.0, m=0.5, embedding_size=backbone.num_features, num_classes=4)
        net = _Network(backbone, head).train()
        x, y = torch.randn(4, 3, 112, 112), torch.tensor([0, 1, 2, 3])
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            self.assertEqual(net.backbone(x).dtype, torch.bfloat16)
            self.assertEqual(net(x, y).dtype, torch.float32)


class TestPreciseBatchNorm(unittest.TestCase):
    def test_class_sorted_and_shuffled_crops_give_the_population_statistics(self):
        # Two classes far apart in brightness: one-class batches would see only the
        # within-class spread (variance ~3e-6 here instead of 0.26).
        g = torch.Generator().manual_seed(0)
        labels = torch.arange(512) // 256
        noise = torch.randint(0, 3, (512, 3, 4, 4), generator=g)
        images = (60 + 130 * labels.view(-1, 1, 1, 1) + noise).to(torch.uint8)
        data = CropTensors(images, labels, [str(i) for i in range(512)])
        shuffled = data.subset(torch.randperm(512, generator=g).tolist())
        pooled = ((images.float() - 127.5) / 127.5).mean((2, 3))
        stats = []
        for d in (data, shuffled):
            bn = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(3))
            precise_batchnorm(bn, d, None, torch.device("cpu"), 16, seed=7)
            stats.append((bn[2].running_mean, bn[2].running_var))
            torch.testing.assert_close(bn[2].running_mean, pooled.mean(0), rtol=0, atol=1e-4)
            torch.testing.assert_close(bn[2].running_var, pooled.var(0), rtol=0.1, atol=0)
        torch.testing.assert_close(stats[0][1], stats[1][1], rtol=0.1, atol=0)


class TestCheckpointLoading(unittest.TestCase):
    def test_pickled_code_is_not_run_and_missing_batch_counters_are_accepted(self):
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "code-ran")
            path = os.path.join(tmp, "backbone.pth")

            class Payload:
                def __reduce__(self):
                    return os.makedirs, (marker,)

            torch.save({"conv1.weight": Payload()}, path)
            backbone = build_backbone(load_config(TINY_CONFIG))
            with self.assertRaisesRegex(PretrainedMismatch, "not a PyTorch checkpoint"):
                load_pretrained(backbone, path)
            self.assertFalse(os.path.exists(marker))

            src = build_backbone(load_config(TINY_CONFIG))
            torch.save({k: v for k, v in src.state_dict().items() if not k.endswith("num_batches_tracked")}, path)
            load_pretrained(backbone, path)
            self.assertTrue(torch.equal(backbone.bn1.running_var, src.bn1.running_var))


if __name__ == "__main__":
    unittest.main()
