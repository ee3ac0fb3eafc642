#!/usr/bin/env python3
"""Experiment: inpainting that starts from a classical fill instead of pure noise (the `strength` of diffusers'
inpainting pipelines, i.e. SDEdit), measured with quality.py's inpainting figures.

    cd Scripts/train && python experiments/prefill_strength.py --pool /tmp/ldm-pool \
        --model ../../Models/training/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit \
        [--limit 8] [--strengths 1,0.8,0.6,0.4]

For the first --limit held-out 256² crops and quality.py's two masks (centre square, strokes): OpenCV Telea fills
the hole from the known pixels only; DDIM (η 0, CompVis uniform spacing of 50 steps, v-prediction) runs the last
round(50·s) of those steps from z = √ᾱ·encode(fill) + √(1 − ᾱ)·ε at the first of them (s = 1: pure noise, as
`ldm-edit` samples), conditioned as the model was trained ([z_t, encode(masked image), mask]); the decoded result is
pasted into the hole. Prints hole PSNR, detail in the hole and the seam figure, means over the crops. Seed 0.
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
from export import load_shipped  # noqa: E402
from quality import centre_mask, crops, detail, psnr, seam, stroke_mask, telea  # noqa: E402
from unets import alphas_cumprod_for  # noqa: E402

STEPS = 50


def to_tensor(rgb):
    """uint8 [H, W, 3] → [1, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(rgb.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]


def ddim_from(unet, z_start, cond, timesteps, alphas_cumprod, generator):
    """DDIM (η 0) on a v-predicting U-Net over `timesteps` (descending), starting at the first of them.
    z_start: [1, 4, h, w] (noise, or a noised encoding); cond: [1, 5, h, w] → z₀ [1, 4, h, w]."""
    z = z_start
    for i, t in enumerate(timesteps):
        a = alphas_cumprod[t]
        a_prev = alphas_cumprod[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0)
        v = unet(torch.cat([z, cond], 1), torch.tensor([t])).sample
        z0 = a.sqrt() * z - (1 - a).sqrt() * v
        eps = (1 - a).sqrt() * z + a.sqrt() * v
        z = a_prev.sqrt() * z0 + (1 - a_prev).sqrt() * eps
    return z


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--strengths", default="1,0.8,0.6,0.4")
    args = ap.parse_args()
    torch.set_num_threads(2)
    strengths = [float(s) for s in args.strengths.split(",")]
    ae, unet = load_shipped(args.model, "inpaint-48", args.ldm_edit)
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("inpaint")
    # CompVis DDIM "uniform" spacing: 1, 21, ..., 981, run from the top.
    timesteps = [t + 1 for t in range(0, 1000, 1000 // STEPS)][::-1]
    figures = {}
    for index, (name, gt) in enumerate(crops(args.pool, 256, args.limit)):
        for kind, mask in (("centre", centre_mask(256)), ("strokes", stroke_mask(256, index))):
            hole = mask > 0
            fill = telea(gt, mask)
            m = torch.from_numpy(hole.astype(np.float32))[None, None]
            masked = (1 - m) * (to_tensor(gt) + 1) - 1   # CompVis: (1 − mask)·image in [0, 1], then to [-1, 1]
            z_fill = ae.encode(to_tensor(fill)) * scale
            cond = torch.cat([ae.encode(masked) * scale, F.interpolate(m, size=z_fill.shape[-2:]) * 2 - 1], 1)
            for s in strengths:
                generator = torch.Generator().manual_seed(0)
                noise = torch.randn(z_fill.shape, generator=generator)
                run = timesteps[STEPS - round(STEPS * s):]
                a = alphas_cumprod[run[0]]
                start = noise if s >= 1 else a.sqrt() * z_fill + (1 - a).sqrt() * noise
                out = ae.decode(ddim_from(unet, start, cond, run, alphas_cumprod, generator) / scale)
                rgb = ((out[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().numpy().astype(np.uint8)
                rgb = np.where(hole[..., None], rgb, gt)
                figures.setdefault((kind, s), []).append(
                    (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole), seam(rgb, gt, mask)))
        print(f"{name} done", flush=True)
    print("| mask | strength | hole PSNR | detail | seam |\n|---|---:|---:|---:|---:|")
    for (kind, s), rows in sorted(figures.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        p, d, sm = np.mean(rows, axis=0)
        print(f"| {kind} | {s:g} | {p:.2f} | {d:.2f} | {sm:.2f} |")


if __name__ == "__main__":
    main()
