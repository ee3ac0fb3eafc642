#!/usr/bin/env python3
"""Diagnostic: how much of an inpainting sample's error is imprecise latents, and how sensitive the first stage's
decoder is to them.

    cd Scripts/train && python experiments/latent_precision.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

For the first --limit held-out 256² crops and quality.py's two masks: samples with DDIM 50 from pure noise (as
prefill_strength.py at strength 1, seed 0), then decodes (a) the sampled latent, (b) the same with a k×k box filter
applied inside the hole (latent pixels the mask touches), k = 3, 5, (c) the encoded ground truth; pasted into the
hole, prints hole PSNR, detail and seam (quality.py's measures), means over the crops. Then, on all crops, the
reconstruction PSNR when Gaussian noise of σ 0.1 / 0.3 (in scaled-latent units) is added to the encoded truth.
"""
import numpy as np
import torch
import torch.nn.functional as F

from inpaint_lab import Lab, arguments, cases, to_tensor
from quality import detail, psnr, seam  # Scripts/eval, on the path through inpaint_lab


def box(z, k):
    """k×k mean of a latent [N, C, H, W] (replicate padding) → same shape."""
    return F.avg_pool2d(F.pad(z, (k // 2,) * 4, mode="replicate"), k, 1)


@torch.no_grad()
def main():
    args = arguments(__doc__).parse_args()
    torch.manual_seed(0)
    lab = Lab.load(args)
    figures, noisy = {}, {0.1: [], 0.3: []}
    for name, gt, kind, mask, hole in cases(args.pool, args.limit):
        z_true = lab.encode(to_tensor(gt))
        if kind == "centre":   # once per crop
            for sigma in noisy:
                noisy[sigma].append(psnr(lab.decode(z_true + sigma * torch.randn_like(z_true)), gt))
        cond = lab.condition(gt, hole)
        z = lab.ddim(torch.randn(z_true.shape, generator=torch.Generator().manual_seed(0)), cond)
        m = torch.from_numpy(hole.astype(np.float32))[None, None]
        touched = F.interpolate(m, size=z.shape[-2:], mode="area") > 0
        for label, latent in (("as sampled", z), ("3×3 box in the hole", torch.where(touched, box(z, 3), z)),
                              ("5×5 box in the hole", torch.where(touched, box(z, 5), z)), ("encoded truth", z_true)):
            rgb = np.where(hole[..., None], lab.decode(latent), gt)
            figures.setdefault((kind, label), []).append(
                (psnr(rgb[hole], gt[hole]), detail(rgb, hole) / detail(gt, hole), seam(rgb, gt, mask)))
        print(f"{name} {kind} done", flush=True)
    print("| mask | latent decoded | hole PSNR | detail | seam |\n|---|---|---:|---:|---:|")
    for (kind, label), rows in figures.items():
        p, d, s = np.mean(rows, axis=0)
        print(f"| {kind} | {label} | {p:.2f} | {d:.2f} | {s:.2f} |")
    for sigma, values in noisy.items():
        print(f"encoded truth + noise σ {sigma}: reconstruction PSNR {np.mean(values):.2f} dB")


if __name__ == "__main__":
    main()
