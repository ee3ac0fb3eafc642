#!/usr/bin/env python3
"""Experiment (not a run.sh phase): fine-tune the shipped SR U-Net with a patch adversarial term on its one-step
z₀ estimate, decoded by the frozen first stage, to test whether that raises the detail of ldm-edit's outputs.

    cd Scripts/train && python experiments/unet_adversarial.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-sr.safetensors --ldm-edit ../../.build/release/ldm-edit \
        --out /tmp/adv [--steps 1200] [--warmup 200] [--adv-weight 0.5]
    python Scripts/eval/quality.py ... --sr-model /tmp/adv.safetensors --only upscale --limit 8

Loss per step (batch 8 of 64² crops, t uniform): the U-Net's own min-SNR-γ v loss (train_diffusion.py) +
λ · hinge generator loss of train_decoder.py's PatchDiscriminator on decode(ẑ₀), ẑ₀ = √ᾱ·z_t − √(1 − ᾱ)·v̂,
λ = --adv-weight × taming's adaptive weight at the U-Net's conv_out; the discriminator alone for --warmup
steps. Adam 5e-5 (β 0.5, 0.9) for the U-Net, 1e-4 for the discriminator; exports the EMA weights. Results
(2026-12-02, docs/quality.md): no detail gained at either weight tried.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import EMA, Photos, seed_everything  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from export import export_model, init_unet_from_shipped  # noqa: E402
from train_autoencoder import adopt_shipped  # noqa: E402
from train_decoder import PatchDiscriminator, hinge_gan_update  # noqa: E402
from train_diffusion import degrade, loss_weights  # noqa: E402
from unets import CANDIDATES, LINEAR_END, alphas_cumprod_for, build  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True, help="a shipped SR model (ldm-edit .safetensors)")
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--out", required=True, help="export folder; OUT.safetensors is the model")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--adv-weight", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    seed_everything(args.seed)
    folder = tempfile.mkdtemp()
    adopt_shipped(args.model, folder)
    ae = ConvAutoencoder.load(folder).eval().requires_grad_(False)
    unet = build(*CANDIDATES["sr-48"])
    init_unet_from_shipped(unet, args.model, args.ldm_edit)
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("sr")
    snr = alphas_cumprod / (1 - alphas_cumprod)
    weights = loss_weights(snr, "min-snr", "v")
    disc = PatchDiscriminator(32)
    opt_g = torch.optim.Adam(unet.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.5, 0.9))
    photos = Photos(args.pool, 64, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    ema = EMA(unet)
    t0 = time.monotonic()
    for step in range(args.steps):
        hr = photos.batch(args.batch)
        with torch.no_grad():
            z = ae.encode(hr) * scale
            lr = degrade(hr, rng)
        t = torch.randint(0, 1000, (args.batch,))
        noise = torch.randn_like(z)
        a = alphas_cumprod[t].view(-1, 1, 1, 1)
        zt = a.sqrt() * z + (1 - a).sqrt() * noise
        adversarial = step >= args.warmup
        with torch.set_grad_enabled(adversarial):
            v = unet(torch.cat([zt, lr], 1), t).sample
            target = a.sqrt() * noise - (1 - a).sqrt() * z
            rec_loss = (weights[t] * F.mse_loss(v, target, reduction="none").mean(dim=(1, 2, 3))).mean()
            fake = ae.decode((a.sqrt() * zt - (1 - a).sqrt() * v) / scale)
        adv_loss, lam, d_loss = hinge_gan_update(rec_loss, fake, hr, disc, opt_g, opt_d, unet.conv_out.weight, args.adv_weight,
                                                 adversarial, ema, unet, step - args.warmup)
        if (step + 1) % 25 == 0:
            print(f"step {step + 1} rec {rec_loss.item():.4f} adv {adv_loss.item():+.3f} λ {lam.item():.3f} "
                  f"disc {d_loss.item():.3f} {(step + 1) / (time.monotonic() - t0):.2f} steps/s", flush=True)
    provenance = {"training_command": "Scripts/train/experiments/unet_adversarial.py", "task": "sr", "size": "sr-48",
                  "prediction": "v", "adversarial_steps": args.steps, "adv_weight": args.adv_weight}
    print(export_model(args.out, ema.module, ae, "sr", LINEAR_END["sr"], provenance, ldm_edit=args.ldm_edit), flush=True)


if __name__ == "__main__":
    main()
