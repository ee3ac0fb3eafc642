#!/usr/bin/env python3
"""Diagnostic: does the inpainting U-Net lean on the signal its schedule leaves at the last step?

    cd Scripts/train && python experiments/terminal_leak.py --pool /tmp/ldm-pool \
        --model ../../Models/training/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

The LDM linear schedules end at ᾱ_999 ≈ 1e-4, not 0: every z_t seen in training, even at the top step, holds
√ᾱ·z₀ (≈ 1 % of the truth), and a hole's mean colour can be read from it when averaged over the hole. Sampling
starts from pure noise, which holds none (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps Are
Flawed", §3.1). If the model leaned on that leak, its fills would take their hue from the noise. For the first
--limit held-out 256² crops (quality.py's crops and masks), DDIM 50 (η 0, the CompVis timesteps 981 … 1, as
ldm-edit) is started twice from the same noise ε: from ε itself (what ldm-edit does) and from the training
distribution's z_981 = √ᾱ·z₀ + √(1 − ᾱ)·ε, which carries the truth's leak. Also the one-step ẑ₀ at t = 981 from
both. Prints hole PSNR and detail (quality.py's measures) per mask and start, over --seeds seeds.
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
from quality import centre_mask, crops, detail, psnr, stroke_mask  # noqa: E402
from unets import alphas_cumprod_for  # noqa: E402


def to_rgb(x):
    """[1, 3, H, W] in [-1, 1] → uint8 [H, W, 3]."""
    return ((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().numpy().astype(np.uint8)


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(2)
    ae, unet = load_shipped(args.model, "inpaint-48", args.ldm_edit)
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("inpaint")
    timesteps = [t + 1 for t in range(0, 1000, 1000 // STEPS)][::-1]
    top = alphas_cumprod[timesteps[0]]
    figures = {}
    for index, (name, gt) in enumerate(crops(args.pool, 256, args.limit)):
        for kind, mask in (("centre", centre_mask(256)), ("strokes", stroke_mask(256, index))):
            hole = mask > 0
            m = torch.from_numpy(hole.astype(np.float32))[None, None]
            masked = (1 - m) * (to_tensor(gt) + 1) - 1
            z_true = ae.encode(to_tensor(gt)) * scale
            cond = torch.cat([ae.encode(masked) * scale, F.interpolate(m, size=z_true.shape[-2:]) * 2 - 1], 1)
            for seed in range(args.seeds):
                noise = torch.randn(z_true.shape, generator=torch.Generator().manual_seed(seed))
                for start_kind, start in (("pure noise", noise), ("noise + leak", top.sqrt() * z_true + (1 - top).sqrt() * noise)):
                    v = unet(torch.cat([start, cond], 1), torch.tensor([timesteps[0]])).sample
                    one_step = to_rgb(ae.decode((top.sqrt() * start - (1 - top).sqrt() * v) / scale))
                    sample = to_rgb(ae.decode(ddim_from(unet, start, cond, timesteps, alphas_cumprod, None) / scale))
                    for what, rgb in (("one-step ẑ₀", one_step), ("DDIM 50", sample)):
                        figures.setdefault((kind, what, start_kind), []).append(
                            (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole)))
        print(f"{name} done", flush=True)
    print(f"ᾱ at t = {timesteps[0]}: {float(top):.3g} (leak √ᾱ = {float(top.sqrt()):.4f})")
    print("| mask | output | start | hole PSNR | detail |\n|---|---|---|---:|---:|")
    for (kind, what, start_kind), rows in sorted(figures.items()):
        p, d = np.mean(rows, axis=0)
        print(f"| {kind} | {what} | {start_kind} | {p:.2f} | {d:.2f} |")


if __name__ == "__main__":
    main()
