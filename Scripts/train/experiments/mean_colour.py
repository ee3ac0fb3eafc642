#!/usr/bin/env python3
"""Experiment: a sample's coarse colours from the model's own conditional mean, its fine detail kept.

    cd Scripts/train && python experiments/mean_colour.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

The one-step ẑ₀ of DDIM's first step (t = 981) estimates the model's conditional mean, which scores ~2.5 dB above
the finished sample in the hole (terminal_leak.py) and carries no detail; the sample's error is mostly its own
coarse deviation from that mean (sample_spread.py). For the first --limit held-out 256² crops and quality.py's masks,
DDIM 50 (η 0, seed 0, as prefill_strength.py) records ẑ₀ at a few of its steps; each decoded ẑ₀ (the "mean") then
replaces the sample's low frequencies: out = sample + G_σ ∗ (mean − sample) in pixels (Gaussian of σ pixels), the
hole pasted into the truth as ldm-edit does. Prints hole PSNR / detail / seam per mask, step of the mean and σ.
"""
import cv2
import numpy as np
import torch

from inpaint_lab import Lab, arguments, cases
from quality import detail, grid, psnr, seam  # Scripts/eval, on the path through inpaint_lab

MEAN_STEPS = (0, 9, 19, 29)      # DDIM step indices whose ẑ₀ is kept: t = 981, 801, 601, 401
SIGMAS = (0, 2, 4, 8, 16)        # 0: the sample as it is


def decode(lab, z):
    """Scaled latent [1, 4, h, w] → float RGB [H, W, 3] in 0…255 (unrounded: the sum below rounds once)."""
    return ((lab.ae.decode(z / lab.scale)[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).numpy().astype(np.float64)


@torch.no_grad()
def main():
    ap = arguments(__doc__)
    ap.add_argument("--grid", help="folder for one picture per crop and mask: masked / sample / σ 4 / σ 8 / mean / truth")
    args = ap.parse_args()
    lab = Lab.load(args)
    first = lab.timesteps[0]
    figures = {}
    for name, gt, kind, mask, hole in cases(args.pool, args.limit):
        cond = lab.condition(gt, hole)
        means = {}

        def keep_mean(i, t, z0):
            if i in MEAN_STEPS:
                means[t] = decode(lab, z0)

        z = lab.ddim(torch.randn((1, 4) + cond.shape[-2:], generator=torch.Generator().manual_seed(0)), cond,
                     on_z0=keep_mean)
        sample, tiles = decode(lab, z), {}
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
            mean = np.where(hole[..., None], means[first].clip(0, 255).round(), gt).astype(np.uint8)
            grid([shown, tiles[(first, 0)], tiles[(first, 4)], tiles[(first, 8)], mean, gt], f"{args.grid}/{kind}_{name}",
                 ["masked", "sample", f"σ 4 from t {first}", f"σ 8 from t {first}", f"mean (t {first})", "truth"])
        print(f"{name} {kind} done", flush=True)
    print("| mask | mean from ẑ₀ at t | σ (px) | hole PSNR | detail | seam |\n|---|---:|---:|---:|---:|---:|")
    for (kind, t, sigma), rows in sorted(figures.items(), key=lambda kv: (kv[0][0], -kv[0][1], kv[0][2])):
        if sigma == 0 and t != first:
            continue   # the plain sample: printed once
        p, d, s = np.mean(rows, axis=0)
        print(f"| {kind} | {t if sigma else '— (the sample)'} | {sigma} | {p:.2f} | {d:.2f} | {s:.2f} |")


if __name__ == "__main__":
    main()
