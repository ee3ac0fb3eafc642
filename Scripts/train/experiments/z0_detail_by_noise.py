#!/usr/bin/env python3
"""Diagnostic: how much detail the SR U-Net's one-step z₀ estimate keeps at each noise level, against the
ceiling of the first stage itself (the encoded ground truth, decoded).

    cd Scripts/train && python experiments/z0_detail_by_noise.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-sr.safetensors --ldm-edit ../../.build/release/ldm-edit [--limit 8]

For the first --limit held-out 256² crops (quality.py's), their 4x bicubic downscales and t in a fixed list:
z_t = √ᾱ·z₀ + √(1 − ᾱ)·ε, ẑ₀ = √ᾱ·z_t − √(1 − ᾱ)·v̂, decoded; prints quality.py's detail ratio and the 8-bit
PSNR of decode(ẑ₀) and the high-frequency energy of ẑ₀ over z₀'s (latent minus its 3×3 mean). Seed 0.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import eval_crops  # noqa: E402
from export import load_shipped  # noqa: E402
from train_autoencoder import psnr_8bit  # noqa: E402
from train_decoder import detail  # noqa: E402
from unets import alphas_cumprod_for  # noqa: E402


def high_frequency(z):
    """Mean squared difference of a latent [N, C, H, W] from its 3×3 local mean."""
    return (z - F.avg_pool2d(F.pad(z, (1, 1, 1, 1), mode="replicate"), 3, 1)).pow(2).mean()


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--limit", type=int, default=8)
    args = ap.parse_args()
    torch.manual_seed(0)
    ae, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("sr")
    x = eval_crops(args.pool)[:args.limit]
    lr = F.interpolate(x, scale_factor=0.25, mode="bicubic", antialias=True, align_corners=False)
    lr = ((lr.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1
    z = ae.encode(x) * scale
    truth = detail(x)
    rec = ae.decode(z / scale)
    print(f"encoded truth, decoded: detail {(detail(rec) / truth).mean():.3f}, PSNR {psnr_8bit(rec, x).mean():.2f} dB")
    for t in (10, 30, 60, 100, 200, 300, 500, 700, 999):
        a = alphas_cumprod[t]
        zt = a.sqrt() * z + (1 - a).sqrt() * torch.randn_like(z)
        v = unet(torch.cat([zt, lr], 1), torch.full((len(x),), t)).sample
        z0 = a.sqrt() * zt - (1 - a).sqrt() * v
        out = ae.decode(z0 / scale)
        print(f"t {t:4d} (SNR {a / (1 - a):7.3f}): detail {(detail(out) / truth).mean():.3f}, "
              f"PSNR {psnr_8bit(out, x).mean():.2f} dB, latent high-frequency energy {high_frequency(z0) / high_frequency(z):.3f}")


if __name__ == "__main__":
    main()
