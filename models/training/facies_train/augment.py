"""Light training augmentation matched to what varies between two aligned crops of one child: the alignment's own
noise (a few degrees of roll, a few per cent of scale, a few pixels of shift: BlazeFace keypoints move by about
that much between photos), lighting, focus and JPEG compression. Each is switched on by its key in the config's
``augment`` dict; absent or 0 is off:

    augment=dict(rotate_deg=5, scale=0.05, shift_px=3, colour=0.1, blur=0.2, jpeg=0.2)

``rotate_deg``, ``scale``, ``shift_px`` and ``colour`` are the largest change (uniform in ±); ``blur`` and ``jpeg``
are the share of crops blurred (Gaussian σ 0.3–1.2 px) or re-encoded (quality 60–95). The horizontal flip stays
``flip`` in the config. Random draws come from the training generator, for the whole global batch.
"""

import io
import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["AUGMENTATIONS", "augment_batch"]

AUGMENTATIONS = ("rotate_deg", "scale", "shift_px", "colour", "blur", "jpeg")


def _uniform(n: int, half_width: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * half_width


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = (k / k.sum()).to(x.dtype)
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _jpeg(img_u8: torch.Tensor, quality: int) -> torch.Tensor:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img_u8.permute(1, 2, 0).numpy()).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1)


def augment_batch(images: torch.Tensor, spec: Optional[dict], gen: torch.Generator) -> torch.Tensor:
    """uint8 [N, 3, H, W] crops → augmented uint8 crops (a copy; ``images`` is not changed)."""
    spec = {k: float(v) for k, v in (spec or {}).items() if v}
    unknown = set(spec) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(sorted(unknown))} (known: {', '.join(AUGMENTATIONS)})")
    if not spec:
        return images.clone()
    n, _, h, w = images.shape
    x = images.double()
    if any(k in spec for k in ("rotate_deg", "scale", "shift_px")):
        a = _uniform(n, math.radians(spec.get("rotate_deg", 0.0)), gen)
        s = 1 + _uniform(n, spec.get("scale", 0.0), gen)
        # affine_grid maps output to input in [-1, 1] coordinates: a shift of d pixels is 2d / size.
        shift = spec.get("shift_px", 0.0)
        tx, ty = _uniform(n, shift, gen) * 2 / w, _uniform(n, shift, gen) * 2 / h
        theta = torch.stack([torch.stack([a.cos() / s, -a.sin() / s, tx], 1),
                             torch.stack([a.sin() / s, a.cos() / s, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        # Outside the crop is black, as the app's crop of a face near the photo's edge.
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if "colour" in spec:
        c = spec["colour"]
        grey = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        sat = (1 + _uniform(n, c, gen)).view(n, 1, 1, 1)
        x = grey + (x - grey) * sat
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = mean + (x - mean) * (1 + _uniform(n, c, gen)).view(n, 1, 1, 1)
        x = x * (1 + _uniform(n, c, gen)).view(n, 1, 1, 1)
    if "blur" in spec:
        chosen = torch.rand(n, generator=gen) < spec["blur"]
        sigmas = 0.3 + 0.9 * torch.rand(n, generator=gen)
        for i in torch.nonzero(chosen).flatten().tolist():
            x[i:i + 1] = _gaussian_blur(x[i:i + 1], float(sigmas[i]))
    out = x.round().clamp(0, 255).to(torch.uint8)
    if "jpeg" in spec:
        chosen = torch.rand(n, generator=gen) < spec["jpeg"]
        qualities = torch.randint(60, 96, (n,), generator=gen)
        for i in torch.nonzero(chosen).flatten().tolist():
            out[i] = _jpeg(out[i], int(qualities[i]))
    return out
