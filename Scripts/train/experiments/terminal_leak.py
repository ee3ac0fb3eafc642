#!/usr/bin/env python3
"""Diagnostic: does the inpainting U-Net lean on the signal its schedule leaves at the last step?

    cd Scripts/train && python experiments/terminal_leak.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

The LDM linear schedules end at ᾱ_999 ≈ 1e-4, not 0: every z_t seen in training, even at the top step, holds
√ᾱ·z₀ (≈ 1 % of the truth), and a hole's mean colour can be read from it when averaged over the hole. Sampling
starts from pure noise, which holds none (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps Are
Flawed", §3.1). If the model leaned on that leak, its fills would take their hue from the noise. For the first
--limit held-out 256² crops (quality.py's crops and masks), DDIM 50 (η 0, the CompVis timesteps 981 … 1, as
ldm-edit) is started twice from the same noise ε: from ε itself (what ldm-edit does) and from the training
distribution's z_981 = √ᾱ·z₀ + √(1 − ᾱ)·ε, which carries the truth's leak. Also the one-step ẑ₀ at t = 981 from
both. Prints hole PSNR and detail (quality.py's measures) per mask and start, over --seeds seeds.
"""
import numpy as np
import torch

from inpaint_lab import Lab, arguments, cases, to_tensor
from quality import detail, psnr  # Scripts/eval, on the path through inpaint_lab


@torch.no_grad()
def main():
    ap = arguments(__doc__)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    lab = Lab.load(args)
    first = lab.timesteps[0]
    top = lab.alphas_cumprod[first]
    figures = {}
    for name, gt, kind, mask, hole in cases(args.pool, args.limit):
        z_true = lab.encode(to_tensor(gt))
        cond = lab.condition(gt, hole)
        for seed in range(args.seeds):
            noise = torch.randn(z_true.shape, generator=torch.Generator().manual_seed(seed))
            for start_kind, start in (("pure noise", noise), ("noise + leak", top.sqrt() * z_true + (1 - top).sqrt() * noise)):
                v = lab.unet(torch.cat([start, cond], 1), torch.tensor([first])).sample
                one_step = lab.decode(top.sqrt() * start - (1 - top).sqrt() * v)
                sample = lab.decode(lab.ddim(start, cond))
                for what, rgb in (("one-step ẑ₀", one_step), ("DDIM 50", sample)):
                    figures.setdefault((kind, what, start_kind), []).append(
                        (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole)))
        print(f"{name} {kind} done", flush=True)
    print(f"ᾱ at t = {first}: {float(top):.3g} (leak √ᾱ = {float(top.sqrt()):.4f})")
    print("| mask | output | start | hole PSNR | detail |\n|---|---|---|---:|---:|")
    for (kind, what, start_kind), rows in sorted(figures.items()):
        p, d = np.mean(rows, axis=0)
        print(f"| {kind} | {what} | {start_kind} | {p:.2f} | {d:.2f} |")


if __name__ == "__main__":
    main()
