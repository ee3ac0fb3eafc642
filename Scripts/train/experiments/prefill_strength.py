#!/usr/bin/env python3
"""Experiment: inpainting that starts from a classical fill instead of pure noise (the `strength` of diffusers'
inpainting pipelines, i.e. SDEdit), measured with quality.py's inpainting figures.

    cd Scripts/train && python experiments/prefill_strength.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit \
        [--limit 8] [--strengths 1,0.8,0.6,0.4]

For the first --limit held-out 256² crops and quality.py's two masks (centre square, strokes): OpenCV Telea fills
the hole from the known pixels only; DDIM (η 0, CompVis uniform spacing of 50 steps, v-prediction) runs the last
round(50·s) of those steps from z = √ᾱ·encode(fill) + √(1 − ᾱ)·ε at the first of them (s = 1: pure noise, as
`ldm-edit` samples), conditioned as the model was trained ([z_t, encode(masked image), mask]); the decoded result is
pasted into the hole. Prints hole PSNR, detail in the hole and the seam figure, means over the crops. Seed 0.
"""
import numpy as np
import torch

from inpaint_lab import STEPS, Lab, arguments, cases, to_tensor
from quality import detail, psnr, seam, telea  # Scripts/eval, on the path through inpaint_lab


@torch.no_grad()
def main():
    ap = arguments(__doc__)
    ap.add_argument("--strengths", default="1,0.8,0.6,0.4")
    args = ap.parse_args()
    strengths = [float(s) for s in args.strengths.split(",")]
    lab = Lab.load(args)
    figures = {}
    for name, gt, kind, mask, hole in cases(args.pool, args.limit):
        z_fill = lab.encode(to_tensor(telea(gt, mask)))
        cond = lab.condition(gt, hole)
        for s in strengths:
            noise = torch.randn(z_fill.shape, generator=torch.Generator().manual_seed(0))
            run = lab.timesteps[STEPS - round(STEPS * s):]
            a = lab.alphas_cumprod[run[0]]
            start = noise if s >= 1 else a.sqrt() * z_fill + (1 - a).sqrt() * noise
            rgb = np.where(hole[..., None], lab.decode(lab.ddim(start, cond, run)), gt)
            figures.setdefault((kind, s), []).append(
                (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole), seam(rgb, gt, mask)))
        print(f"{name} {kind} done", flush=True)
    print("| mask | strength | hole PSNR | detail | seam |\n|---|---:|---:|---:|---:|")
    for (kind, s), rows in sorted(figures.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        p, d, sm = np.mean(rows, axis=0)
        print(f"| {kind} | {s:g} | {p:.2f} | {d:.2f} | {sm:.2f} |")


if __name__ == "__main__":
    main()
