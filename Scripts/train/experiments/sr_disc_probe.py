#!/usr/bin/env python3
"""Experiment: how fast does train_decoder.py's PatchDiscriminator learn to tell real 64² crops from the shipped SR
model's own outputs (DPM-Solver++(2M) Karras 8, the model fixed)? sr_trajectory_adversarial.py's arms kept theirs
at chance; this measures the discriminator alone.

    cd Scripts/train && python experiments/sr_disc_probe.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-sr.safetensors --ldm-edit ../../.build/release/ldm-edit --disc-lr 4e-4 --minutes 6

Prints the hinge loss (2 = chance) and the share of real / fake patches classified right, over every 25 steps.
Results (2026-12-05, one thread, training beside it, docs/quality.md): after 225 steps the hinge loss is 1.79 at
--disc-lr 1e-4 (the arms' rate) and 1.51 at 4e-4, both still falling; the arms started their generator after 100.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
from common import Photos, seed_everything  # noqa: E402
from export import load_shipped  # noqa: E402
from sr_trajectory_adversarial import sample  # noqa: E402
from train_decoder import PatchDiscriminator  # noqa: E402
from train_diffusion import degrade  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--disc-lr", type=float, default=1e-4)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    ae, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    scale = ae.config["scaling_factor"]
    disc = PatchDiscriminator(32)
    opt = torch.optim.Adam(disc.parameters(), lr=args.disc_lr, betas=(0.5, 0.9))
    photos = Photos(args.pool, args.crop, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    t0, history, step = time.monotonic(), [], 0
    while time.monotonic() - t0 < 60 * args.minutes:
        hr = photos.batch(args.batch)
        with torch.no_grad():
            fake = ae.decode(sample(unet, degrade(hr, rng), 8, 0, generator) / scale)
        real_logits, fake_logits = disc(hr), disc(fake)
        loss = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append((loss.item(), (real_logits > 0).float().mean().item(), (fake_logits < 0).float().mean().item()))
        step += 1
        if step % 25 == 0:
            hinge, real, fake_right = np.mean(history[-25:], axis=0)
            print(f"step {step} hinge {hinge:.3f} real right {real:.2f} fake right {fake_right:.2f}", flush=True)


if __name__ == "__main__":
    main()
