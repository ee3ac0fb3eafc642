#!/usr/bin/env python3
"""Experiment: a sample's coarse colours from the model's own conditional mean, its fine detail kept.

    cd Scripts/train && python experiments/mean_colour.py --pool /tmp/ldm-pool \
        --model ../../Models/training/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

The one-step ẑ₀ of DDIM's first step (t = 981) estimates the model's conditional mean, which scores ~2.5 dB above
the finished sample in the hole (terminal_leak.py) and carries no detail; the sample's error is mostly its own
coarse deviation from that mean (sample_spread.py). For the first --limit held-out 256² crops and quality.py's masks,
DDIM 50 (η 0, seed 0, as prefill_strength.py) records ẑ₀ at a few of its steps; each decoded ẑ₀ (the "mean") then
replaces the sample's low frequencies: out = sample + G_σ ∗ (mean − sample) in pixels (Gaussian of σ pixels), the
hole pasted into the truth as ldm-edit does. Prints hole PSNR / detail / seam per mask, step of the mean and σ.
"""
import argparse
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "eval"))
sys.path.insert(0, here)
from export import load_shipped  # noqa: E402
from prefill_strength import STEPS, to_tensor  # noqa: E402
from quality import centre_mask, crops, detail, grid, psnr, seam, stroke_mask  # noqa: E402
from unets import alphas_cumprod_for  # noqa: E402

MEAN_STEPS = (0, 9, 19, 29)      # DDIM step indices whose ẑ₀ is kept: t = 981, 801, 601, 401
SIGMAS = (0, 2, 4, 8, 16)        # 0: the sample as it is


def decode(ae, z, scale):
    """Scaled latent [1, 4, h, w] → float RGB [H, W, 3] in 0…255."""
    return ((ae.decode(z / scale)[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).numpy().astype(np.float64)


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--grid", help="folder for one picture per crop and mask: masked / sample / σ 4 / σ 8 / mean / truth")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ae, unet = load_shipped(args.model, "inpaint-48", args.ldm_edit)
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("inpaint")
    timesteps = [t + 1 for t in range(0, 1000, 1000 // STEPS)][::-1]
    figures = {}
    for index, (name, gt) in enumerate(crops(args.pool, 256, args.limit)):
        for kind, mask in (("centre", centre_mask(256)), ("strokes", stroke_mask(256, index))):
            hole = mask > 0
            m = torch.from_numpy(hole.astype(np.float32))[None, None]
            masked = (1 - m) * (to_tensor(gt) + 1) - 1
            c = ae.encode(masked) * scale
            cond = torch.cat([c, F.interpolate(m, size=c.shape[-2:]) * 2 - 1], 1)
            z = torch.randn(c.shape, generator=torch.Generator().manual_seed(0))
            means = {}
            for i, t in enumerate(timesteps):
                a = alphas_cumprod[t]
                a_prev = alphas_cumprod[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0)
                v = unet(torch.cat([z, cond], 1), torch.tensor([t])).sample
                z0 = a.sqrt() * z - (1 - a).sqrt() * v
                if i in MEAN_STEPS:
                    means[t] = decode(ae, z0, scale)
                z = a_prev.sqrt() * z0 + (1 - a_prev).sqrt() * ((1 - a).sqrt() * z + a.sqrt() * v)
            sample, tiles = decode(ae, z, scale), {}
            for t, mean in means.items():
                for sigma in SIGMAS:
                    out = sample + (cv2.GaussianBlur(mean - sample, (0, 0), sigma) if sigma else 0)
                    rgb = np.where(hole[..., None], out.clip(0, 255).round(), gt).astype(np.uint8)
                    figures.setdefault((kind, t, sigma), []).append(
                        (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole), seam(rgb, gt, mask)))
                    tiles[(t, sigma)] = rgb
            if args.grid:
                shown = gt.copy()
                shown[hole] = (255, 0, 255)
                mean = np.where(hole[..., None], means[timesteps[0]].clip(0, 255).round(), gt).astype(np.uint8)
                t = timesteps[0]
                grid([shown, tiles[(t, 0)], tiles[(t, 4)], tiles[(t, 8)], mean, gt], f"{args.grid}/{kind}_{name}",
                     ["masked", "sample", f"σ 4 from t {t}", f"σ 8 from t {t}", f"mean (t {t})", "truth"])
        print(f"{name} done", flush=True)
    print("| mask | mean from ẑ₀ at t | σ (px) | hole PSNR | detail | seam |\n|---|---:|---:|---:|---:|---:|")
    for (kind, t, sigma), rows in sorted(figures.items(), key=lambda kv: (kv[0][0], -kv[0][1], kv[0][2])):
        if sigma == 0 and t != timesteps[0]:
            continue   # the plain sample: printed once
        p, d, s = np.mean(rows, axis=0)
        print(f"| {kind} | {t if sigma else '— (the sample)'} | {sigma} | {p:.2f} | {d:.2f} | {s:.2f} |")


if __name__ == "__main__":
    main()
