#!/usr/bin/env python3
"""Experiment: does a first stage with more latent channels raise the detail it reaches at a given PSNR?

    cd Scripts/train
    python train_autoencoder.py --pool P --state /tmp/aez4 --steps 1500 --latent-channels 4 --eval-every 1e9
    python train_autoencoder.py --pool P --state /tmp/aez8 --steps 1500 --latent-channels 8 --eval-every 1e9
    python train_decoder.py --pool P --state /tmp/decz4 --autoencoder /tmp/aez4/autoencoder --steps 700
    python train_decoder.py --pool P --state /tmp/decz8 --autoencoder /tmp/aez8/autoencoder --steps 700
    python experiments/first_stage_latents.py --pool P --pair z4 /tmp/aez4 /tmp/decz4 --pair z8 /tmp/aez8 /tmp/decz8

(docs/quality.md, "More latent channels, measured": one thread each, the pairs side by side; then both first stages
copied and resumed with --steps 3000, and the decoders again from those.)

Why: both detail targets still missed (SR's, the inpainting strokes') sit at the shipped first stage's own ceiling
(experiments/first_stage_hole_ceiling.py), and a decoder with more blocks moved along the same PSNR–detail line
(experiments/decoder_capacity.py). If the line is set by what the latents carry, more latent channels (z = 8 against
the shipped 4, the same widths) should move it up: more detail at the same reconstruction PSNR. Each pair is a first
stage as trained (train_autoencoder.py's STATE) and its adversarially fine-tuned decoder (train_decoder.py's STATE:
the EMA end, read from its state.pt, not the exported mix). Prints, on the 16 eval crops, each first stage's line
(1 − α)·first + α·fine-tuned decoder at α = 0, 1/8, …, 1 (train_decoder.mix_decoder), and the detail each line
keeps at ≥ a given PSNR (linear interpolation between neighbouring α, as train_decoder.choose_mix picks).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import eval_crops  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from train_decoder import evaluate, mix_decoder  # noqa: E402


def tuned_end(first, decoder_state):
    """The fine-tune's EMA weights (train_decoder.py saves them as module "ema" in its state.pt)."""
    tuned = ConvAutoencoder.load(first)
    saved = torch.load(os.path.join(decoder_state, "state.pt"), map_location="cpu", weights_only=False)
    tuned.load_state_dict(saved["modules"]["ema"])
    return tuned.eval()


def line(first_state, decoder_state, crops, points=9):
    first = ConvAutoencoder.load(os.path.join(first_state, "autoencoder")).eval()
    tuned = tuned_end(os.path.join(first_state, "autoencoder"), decoder_state)
    out = []
    for alpha in np.linspace(0, 1, points):
        psnr, ratio = evaluate(mix_decoder(first, tuned, float(alpha)), crops, torch.device("cpu"))
        out.append((float(alpha), psnr, ratio))
    return first.config["latent_channels"], out


def detail_at(points, psnr):
    """The most detail a line keeps at ≥ `psnr`: walking down from α = 1 (PSNR first rises a little with α, then
    falls), the first segment that crosses `psnr`, interpolated linearly; what choose_mix would pick on a fine grid.
    None when no point reaches `psnr`."""
    if points[-1][1] >= psnr:
        return points[-1][2]
    for (a0, p0, d0), (a1, p1, d1) in zip(reversed(points[:-1]), reversed(points[1:])):
        if p0 >= psnr > p1:
            w = (p0 - psnr) / (p0 - p1)
            return d0 + w * (d1 - d0)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--pair", nargs=3, action="append", required=True, metavar=("LABEL", "AE_STATE", "DECODER_STATE"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    crops = eval_crops(args.pool)
    lines = {}
    for label, ae_state, dec_state in args.pair:
        z, points = line(ae_state, dec_state, crops)
        lines[label] = points
        print(f"\n{label} (z = {z}): α → reconstruction PSNR / detail on {len(crops)} eval crops")
        print("| α | " + " | ".join(f"{a:.3f}" for a, _, _ in points) + " |")
        print("|---|" + "---:|" * len(points))
        print("| PSNR | " + " | ".join(f"{p:.2f}" for _, p, _ in points) + " |")
        print("| detail | " + " | ".join(f"{d:.3f}" for _, _, d in points) + " |")
    low = min(min(p for _, p, _ in pts) for pts in lines.values())
    high = max(max(p for _, p, _ in pts) for pts in lines.values())
    print("\nthe most detail each line keeps at ≥ a reconstruction PSNR (— : the line never reaches it):")
    print("| PSNR ≥ | " + " | ".join(lines) + " |")
    print("|---:|" + "---:|" * len(lines))
    for psnr in np.linspace(low, high, 7):
        cells = [detail_at(pts, psnr) for pts in lines.values()]
        print(f"| {psnr:.2f} | " + " | ".join("—" if d is None else f"{d:.3f}" for d in cells) + " |")


if __name__ == "__main__":
    main()
