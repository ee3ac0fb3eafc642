#!/usr/bin/env python3
"""Diagnostic: the inpainting detail a perfect U-Net would reach through a model file's first stage.

    cd Scripts/train && python experiments/first_stage_hole_ceiling.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-inpaint.safetensors [--limit 8] [--stroke-width PX ...]
    (or --autoencoder FOLDER instead of --model: a first stage's folder, e.g. experiments/grow_latents.py's)

For quality.py's first --limit held-out 256² crops and its masks (the centre square, the strokes of each crop's
seed), the ground truth is encoded and decoded by the file's autoencoder (what the U-Net would return if it placed
every latent exactly), pasted into the hole as ldm-edit composites its fills (known pixels kept), and measured as
quality.py measures a fill: hole PSNR and the detail ratio (mean |Laplacian| in the hole over the truth's). The
detail target (≥ 0.6) is out of any U-Net's reach where this ceiling stands under it.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "eval"))
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from quality import centre_mask, crops, detail, psnr, stroke_mask  # noqa: E402
from train_autoencoder import adopt_shipped  # noqa: E402


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a model file (its `ae.*` first stage)")
    which.add_argument("--autoencoder", help="a first stage's folder (config.json + model.safetensors), e.g. an experiment's")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--stroke-width", type=int, nargs="*", default=[None], help="stroke widths to measure (default: quality.py's)")
    args = ap.parse_args()
    folder = args.autoencoder
    if args.model:
        folder = os.path.join("/tmp", f"hole-ceiling-{os.getpid()}")
        adopt_shipped(args.model, folder)
    ae = ConvAutoencoder.load(folder).eval()
    rows = {}
    for index, (name, gt) in enumerate(crops(args.pool, args.crop, args.limit)):
        x = torch.from_numpy(gt).permute(2, 0, 1)[None].float() / 127.5 - 1
        rec = ((ae.decode(ae.encode(x)).clamp(-1, 1)[0].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
        masks = [("centre", centre_mask(args.crop))] + [(f"strokes {w or args.crop // 16} px", stroke_mask(args.crop, index, w))
                                                        for w in args.stroke_width]
        for kind, mask in masks:
            hole = mask > 0
            out = gt.copy()
            out[hole] = rec[hole]
            rows.setdefault(kind, []).append((psnr(out[hole], gt[hole]), detail(out, hole) / detail(gt, hole)))
    print("| mask | hole PSNR of the decoded truth | detail ceiling | per crop |")
    print("|---|---:|---:|---|")
    for kind, r in rows.items():
        p, d = np.mean(r, axis=0)
        print(f"| {kind} | {p:.2f} dB | {d:.3f} | {' '.join(f'{x:.2f}' for _, x in r)} |")


if __name__ == "__main__":
    main()
