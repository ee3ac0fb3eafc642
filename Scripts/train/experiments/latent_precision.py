#!/usr/bin/env python3
"""Diagnostic: how much of an inpainting sample's error is imprecise latents, and how sensitive the first stage's
decoder is to them.

    cd Scripts/train && python experiments/latent_precision.py --pool /tmp/ldm-pool \
        --model ../../Models/training/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

For the first --limit held-out 256² crops and quality.py's two masks: samples with DDIM 50 from pure noise (as
prefill_strength.py at strength 1, seed 0), then decodes (a) the sampled latent, (b) the same with a k×k box filter
applied inside the hole (latent pixels the mask touches), k = 3, 5, (c) the encoded ground truth; pasted into the
hole, prints hole PSNR, detail and seam (quality.py's measures), means over the crops. Then, on all crops, the
reconstruction PSNR when Gaussian noise of σ 0.1 / 0.3 (in scaled-latent units) is added to the encoded truth.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "eval"))
sys.path.insert(0, here)
from export import load_shipped  # noqa: E402
from prefill_strength import STEPS, ddim_from, to_tensor  # noqa: E402
from quality import centre_mask, crops, detail, psnr, seam, stroke_mask  # noqa: E402
from unets import alphas_cumprod_for  # noqa: E402


def box(z, k):
    """k×k mean of a latent [N, C, H, W] (replicate padding) → same shape."""
    return F.avg_pool2d(F.pad(z, (k // 2,) * 4, mode="replicate"), k, 1)


def to_rgb(x):
    return ((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().numpy().astype(np.uint8)


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--limit", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    ae, unet = load_shipped(args.model, "inpaint-48", args.ldm_edit)
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("inpaint")
    timesteps = [t + 1 for t in range(0, 1000, 1000 // STEPS)][::-1]
    figures, noisy = {}, {0.1: [], 0.3: []}
    for index, (name, gt) in enumerate(crops(args.pool, 256, args.limit)):
        z_true = ae.encode(to_tensor(gt)) * scale
        for sigma in noisy:
            noisy[sigma].append(psnr(to_rgb(ae.decode((z_true + sigma * torch.randn_like(z_true)) / scale)), gt))
        for kind, mask in (("centre", centre_mask(256)), ("strokes", stroke_mask(256, index))):
            hole = mask > 0
            m = torch.from_numpy(hole.astype(np.float32))[None, None]
            masked = (1 - m) * (to_tensor(gt) + 1) - 1
            cond = torch.cat([ae.encode(masked) * scale, F.interpolate(m, size=z_true.shape[-2:]) * 2 - 1], 1)
            generator = torch.Generator().manual_seed(0)
            z = ddim_from(unet, torch.randn(z_true.shape, generator=generator), cond, timesteps, alphas_cumprod, generator)
            touched = F.interpolate(m, size=z.shape[-2:], mode="area") > 0
            for label, latent in (("as sampled", z), ("3×3 box in the hole", torch.where(touched, box(z, 3), z)),
                                  ("5×5 box in the hole", torch.where(touched, box(z, 5), z)), ("encoded truth", z_true)):
                rgb = np.where(hole[..., None], to_rgb(ae.decode(latent / scale)), gt)
                figures.setdefault((kind, label), []).append(
                    (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole), seam(rgb, gt, mask)))
        print(f"{name} done", flush=True)
    print("| mask | latent decoded | hole PSNR | detail | seam |\n|---|---|---:|---:|---:|")
    for (kind, label), rows in figures.items():
        p, d, s = np.mean(rows, axis=0)
        print(f"| {kind} | {label} | {p:.2f} | {d:.2f} | {s:.2f} |")
    for sigma, values in noisy.items():
        print(f"encoded truth + noise σ {sigma}: reconstruction PSNR {np.mean(values):.2f} dB")


if __name__ == "__main__":
    main()
