"""Balancing modes (per child, per class, square root, logit adjustment) and the training augmentation."""

import math
import unittest

import torch

from facies_train.augment import augment_batch
from facies_train.dataset import CropTensors
from facies_train.train import BALANCE_MODES, load_config, sampling_weights, train_model

from tests.test_training_kit import TINY_CONFIG

# Class 0: child A with 10 photos, child B with 1; class 1: child C with 2 photos.
LABELS = torch.tensor([0] * 11 + [1] * 2)
PATIENTS = ["A"] * 10 + ["B"] + ["C"] * 2


def totals(w, keys):
    out = {}
    for k, x in zip(keys, w.tolist()):
        out[k] = out.get(k, 0.0) + x
    return out


class TestBalancing(unittest.TestCase):
    def test_per_child_sampling_weighs_children_not_photos(self):
        w = sampling_weights(LABELS, PATIENTS, "patient")
        by_child = totals(w, PATIENTS)
        self.assertAlmostEqual(by_child["A"], by_child["B"])  # ten photos or one: the same child weight
        by_class = totals(w, LABELS.tolist())
        self.assertAlmostEqual(by_class[0], by_class[1])
        # Per photo (the previous default), child A would be drawn ten times as often as child B.
        photo = totals(sampling_weights(LABELS, PATIENTS, "sampler"), PATIENTS)
        self.assertAlmostEqual(photo["A"] / photo["B"], 10.0)

    def test_square_root_balancing_and_the_modes_without_weights(self):
        by_class = totals(sampling_weights(LABELS, PATIENTS, "sqrt"), LABELS.tolist())
        self.assertAlmostEqual(by_class[0] / by_class[1], math.sqrt(11 / 2))
        for mode in ("logit-adjust", "loss", "none"):
            self.assertIsNone(sampling_weights(LABELS, PATIENTS, mode))
        with self.assertRaises(ValueError):
            sampling_weights(LABELS, PATIENTS, "oversample")

    def test_every_mode_trains(self):
        gen = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (12, 3, 112, 112), generator=gen, dtype=torch.uint8)
        data = CropTensors(images, torch.tensor([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3]),
                           [f"p{i // 2}" for i in range(10)] + ["p5", "p6"])  # one label per child
        cfg = load_config(TINY_CONFIG, epochs=1)
        for mode in BALANCE_MODES:
            _, head, history = train_model(dict(cfg, balance=mode, batch_size=4), data, None, 4, log=lambda *a: None)
            self.assertTrue(math.isfinite(history[0]), mode)


def disc(n=4, size=112, r=20, cx=56, cy=56):
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    img = (((x - cx) ** 2 + (y - cy) ** 2) <= r * r).to(torch.uint8) * 200 + 20
    return img.expand(n, 3, size, size).clone()


def centroid(img):
    m = (img[0] > 110).double()  # the disc (220) against the background (20), and the black edge a shift leaves
    y, x = torch.meshgrid(torch.arange(img.shape[1]), torch.arange(img.shape[2]), indexing="ij")
    return (m * x).sum() / m.sum(), (m * y).sum() / m.sum()


class TestAugment(unittest.TestCase):
    def test_off_unknown_and_deterministic(self):
        x = disc()
        self.assertTrue(torch.equal(augment_batch(x, None, torch.Generator().manual_seed(1)), x))
        self.assertTrue(torch.equal(augment_batch(x, {"rotate_deg": 0}, torch.Generator().manual_seed(1)), x))
        with self.assertRaises(ValueError):
            augment_batch(x, {"rotation": 5}, torch.Generator())
        spec = dict(rotate_deg=5, scale=0.05, shift_px=3, colour=0.1, blur=0.5, jpeg=0.5)
        a = augment_batch(x, spec, torch.Generator().manual_seed(7))
        b = augment_batch(x, spec, torch.Generator().manual_seed(7))
        self.assertTrue(torch.equal(a, b))
        self.assertFalse(torch.equal(a, x))
        self.assertEqual((a.dtype, a.shape), (torch.uint8, x.shape))

    def test_geometry_stays_within_the_alignment_noise(self):
        x = disc(n=32, cx=60, cy=50)
        out = augment_batch(x, dict(shift_px=3), torch.Generator().manual_seed(2))
        for img in out:
            cx, cy = centroid(img)
            self.assertLessEqual(abs(float(cx) - 60), 3.2)
            self.assertLessEqual(abs(float(cy) - 50), 3.2)
        # A centred disc is unchanged in position by rotation and scale about the centre.
        out = augment_batch(disc(n=8, cx=56, cy=56), dict(rotate_deg=5, scale=0.05), torch.Generator().manual_seed(3))
        for img in out:
            cx, cy = centroid(img)
            self.assertLessEqual(max(abs(float(cx) - 55.5), abs(float(cy) - 55.5)), 0.6)

    def test_blur_and_jpeg_change_detail_not_content(self):
        x = disc(n=2)
        blurred = augment_batch(x, dict(blur=1.0), torch.Generator().manual_seed(4)).double()
        edges = lambda t: (t[..., 1:] - t[..., :-1]).abs().sum()  # noqa: E731
        self.assertLess(edges(blurred), edges(x.double()))
        jpeg = augment_batch(x, dict(jpeg=1.0), torch.Generator().manual_seed(5)).double()
        mse = ((jpeg - x.double()) ** 2).mean()
        self.assertGreater(mse, 0)
        self.assertGreater(10 * math.log10(255 ** 2 / mse), 25)  # PSNR: still the same picture


if __name__ == "__main__":
    unittest.main()
