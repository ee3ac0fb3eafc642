#!/usr/bin/env python3
"""Experiment: can a blur guidance at sampling time give the shipped SR model the detail it lacks, and is that any
better than sharpening its output?

    cd Scripts/train && python experiments/sr_blur_guidance.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-sr.safetensors --ldm-edit ../../.build/release/ldm-edit \
        --space x0 --scale 0 0.1 0.2 [--blur 1.0] [--steps 8] [--limit 8] [--unsharp 0.5 1 1.5] [--save DIR]

The sampler is ldm-edit's SR default, DPM-Solver++(2M) on the Karras σ ramp, as diffusers' scheduler (the
reference of Sources/LDMPipelines/Sampling/DPMSolverSampler.swift). At each step the model's data prediction
ẑ₀ = α·z − σ·v̂ gets a second evaluation on a degraded input, ẑ₀ blurred (Gaussian, --blur σ in latent pixels) and
renoised with the step's own ε̂: z' = α·blur(ẑ₀) + σ·ε̂ (the degraded branch of self-attention guidance, Hong et
al. 2023, sag pipeline in diffusers, over the whole latent instead of the attention mask), and
  --space eps: ε̂_g = ε̂ + s·(ε̂ − ε̂')       (SAG's form)
  --space x0:  ẑ₀_g = ẑ₀ + s·(ẑ₀ − ẑ₀')     (the same push expressed on the data prediction)
the guided prediction then going through the unchanged DPM-Solver update. s = 0 is the plain sampler.

Measured like Scripts/eval/quality.py (same crops, PIL bicubic 4x downscale, its Y-PSNR / LR-consistency / detail
functions). The honest baseline for any detail gained is sharpening: --unsharp A... also reports the s = 0 output
through an unsharp mask (out + A·(out − Gaussian(out, 1 px))) in pixel space. Guidance is worth having only if it
beats the unsharp mask at equal detail. Costs two U-Net evaluations per step when s ≠ 0.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "eval"))
from export import load_shipped  # noqa: E402
from quality import crops, upscale_figures  # noqa: E402
from unets import karras_dpm_scheduler  # noqa: E402


def gaussian_blur(z, sigma):
    """z: [N, C, H, W] → the same, each channel blurred by a Gaussian of std `sigma` pixels (reflect padding)."""
    radius = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, dtype=z.dtype)
    k = torch.exp(-x * x / (2 * sigma * sigma))
    k = k / k.sum()
    c = z.shape[1]
    z = F.pad(z, (radius, radius, radius, radius), mode="reflect")
    z = F.conv2d(z, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(z, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@torch.no_grad()
def sample(unet, lr, shape, steps, space, scale, blur, seed):
    """DPM-Solver++(2M) Karras with blur guidance → the final latent [N, 4, h, w]. lr: [N, 3, h, w] in [−1, 1].
    The scheduler is diffusers' own, as ldm-edit's sampler fixtures are (Scripts/fixtures/make_sampler_fixtures.py);
    only the model output it is handed changes."""
    scheduler = karras_dpm_scheduler("sr", steps)
    z = torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scheduler.init_noise_sigma
    for i, t in enumerate(scheduler.timesteps):
        sigma = scheduler.sigmas[i]
        a, s = 1 / (sigma ** 2 + 1).sqrt(), sigma / (sigma ** 2 + 1).sqrt()   # the VP α, σ of the step
        v = unet(torch.cat([z, lr], 1), t.expand(len(z))).sample
        if scale != 0:
            x0, eps = a * z - s * v, s * z + a * v
            degraded = a * gaussian_blur(x0, blur) + s * eps
            v2 = unet(torch.cat([degraded, lr], 1), t.expand(len(z))).sample
            if space == "x0":
                x0 = x0 + scale * (x0 - (a * degraded - s * v2))
            else:
                eps = eps + scale * (eps - (s * degraded + a * v2))
                x0 = (z - s * eps) / a
            v = (a * z - x0) / s   # the guided prediction, handed back as the v the scheduler expects
        z = scheduler.step(v, t, z).prev_sample
    return z


def unsharp(image, amount):
    """uint8 [H, W, 3] → out + amount·(out − Gaussian(out, 1 px)), rounded and clipped."""
    soft = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.0))).astype(np.float64)
    return np.clip(np.rint(image + amount * (image - soft)), 0, 255).astype(np.uint8)


def measure(outs, gts, lrs, crop):
    """Means of quality.py's upscale figures: Y-PSNR (4-px shave), LR-consistency, detail ratio."""
    rows = [upscale_figures(out, gt, lr, crop) for out, gt, lr in zip(outs, gts, lrs)]
    return np.mean(rows, axis=0)[[0, 2, 3]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--space", choices=["eps", "x0"], default="x0")
    ap.add_argument("--scale", type=float, nargs="+", default=[0.0])
    ap.add_argument("--blur", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--unsharp", type=float, nargs="*", default=[])
    ap.add_argument("--save", help="write each output beside its ground truth here")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ae, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    scale_factor = ae.config["scaling_factor"]
    named = list(crops(args.pool, args.crop, args.limit))
    gts = [gt for _, gt in named]
    lrs = [np.asarray(Image.fromarray(gt).resize((args.crop // 4, args.crop // 4), Image.BICUBIC)) for gt in gts]
    for s in args.scale:
        outs = []
        for index, lr in enumerate(lrs):
            cond = torch.from_numpy(lr.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
            z = sample(unet, cond, (1, 4) + tuple(cond.shape[2:]), args.steps, args.space, s, args.blur, index)
            with torch.no_grad():
                x = ae.decode(z / scale_factor)
            outs.append(((x[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy())
        y, lrc, d = measure(outs, gts, lrs, args.crop)
        print(f"{args.space} s={s:g} blur={args.blur:g} K{args.steps}: Y-PSNR {y:.2f}  LR {lrc:.2f}  detail {d:.3f}",
              flush=True)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for (name, gt), out in zip(named, outs):
                Image.fromarray(np.concatenate([out, gt], 1)).save(
                    os.path.join(args.save, f"{os.path.splitext(name)[0]}_{args.space}_{s:g}.png"))
        if s == 0:
            for amount in args.unsharp:
                y, lrc, d = measure([unsharp(o, amount) for o in outs], gts, lrs, args.crop)
                print(f"  s=0 + unsharp {amount:g}: Y-PSNR {y:.2f}  LR {lrc:.2f}  detail {d:.3f}", flush=True)


if __name__ == "__main__":
    main()
