#!/usr/bin/env python3
"""Experiment (not a run.sh phase): fine-tune the shipped SR U-Net adversarially on the output of its own default
sampler — DPM-Solver++(2M) on the Karras σ ramp, 8 steps — rather than on one-step estimates, to test whether the
detail it lacks (0.40 of the target's 0.6, docs/quality.md) can be trained into the trajectory.

    cd Scripts/train && python experiments/sr_trajectory_adversarial.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-sr.safetensors --ldm-edit ../../.build/release/ldm-edit \
        --out /tmp/sr-traj [--steps 600] [--warmup 100] [--adv-weight 0.5] [--grad-steps 8] [--threads 1]
    python Scripts/eval/quality.py ... --sr-model /tmp/sr-traj.safetensors --only upscale --limit 8

Why: unet_adversarial.py put the adversarial term on ẑ₀ = α·z_t − σ·v̂ at a random t; its discriminator stayed at
chance and whatever texture the single estimates gained was averaged away again over the sampler's steps. Here the
generator *is* the sampler: each step samples a batch of 64² crops from noise (diffusers' scheduler, the reference
of Sources/LDMPipelines/Sampling/DPMSolverSampler.swift, as Scripts/fixtures/make_sampler_fixtures.py uses it),
back-propagating through the last --grad-steps U-Net calls (the earlier ones run without a graph), and decodes the
result with the frozen first stage. As in adversarial diffusion distillation (Sauer et al. 2023) the critic judges
what the sampler returns; unlike it there is no teacher, so the fidelity terms are the model's own:

    loss = v loss (train_diffusion.py's min-SNR-γ, a fresh random t: keeps it a denoiser at every noise level)
         + --lr-weight · L1(bicubic 4x downscale of the output, the low-res input)   (LR-consistency)
         + λ · hinge generator loss of train_decoder.py's PatchDiscriminator on the decoded output,

λ = --adv-weight × taming's adaptive weight at the U-Net's conv_out (train_decoder.hinge_gan_update); the
discriminator alone for --warmup steps. Adam (β 0.5, 0.9) --lr for the U-Net, --disc-lr for the discriminator. Exports
the EMA weights (and OUT-raw.safetensors, the last weights). No ground-truth pixel loss on the output: that is the
regression that returns the posterior mean, the smoothness being fought; the low-res image fixes what a 4x
upscale's content must be.

Results (2026-12-05, docs/quality.md, four 45-minute arms at one thread, EMA through ldm-edit, 8 eval crops, Y-PSNR /
LR-consistency / detail; shipped 25.32 / 35.85 / 0.400): --adv-weight 0 (the control) 26.02 / 39.25 / 0.291, 0.5
25.32 / 38.27 / 0.414, 2 25.02 / 36.22 / 0.465, 5 24.99 / 35.59 / 0.471. The discriminator stayed at chance; the
detail gained is what sharpening the control gives. Not shipped. Why at chance: the discriminator alone against
the fixed shipped model (experiments/sr_disc_probe.py) reaches a hinge loss of 1.79 after 225 steps at --disc-lr
1e-4 and 1.51 at 4e-4, still falling; the arms started the generator after 100 steps at 1e-4 (1.94). With
--disc-lr 4e-4 --warmup 400 --adv-weight 2 (hinge 1.38 at the start) it was back at chance within ~100 generator
steps: 25.08 / 36.61 / 0.457.
--adv-weight 0 --warmup 0 --energy-weight 100 --energy-ycbcr (44 min, ~700 steps): 25.40 / 37.48 / 0.424, within a few
tenths of a dB of the control sharpened to that detail; not shipped.
"""
import argparse
import copy
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
from common import EMA, Photos, finetuned_provenance, seed_everything  # noqa: E402
from export import export_model, load_shipped  # noqa: E402
from train_decoder import PatchDiscriminator, detail, hinge_gan_update  # noqa: E402
from texture import texture_energy_error  # noqa: E402
from train_diffusion import degrade, loss_weights  # noqa: E402
from unets import LINEAR_END, alphas_cumprod_for, karras_dpm_scheduler  # noqa: E402


def sample(unet, lr, steps, grad_steps, generator):
    """lr: [N, 3, h, w] in [−1, 1] → the sampler's final latent [N, 4, h, w] (scaled, as the U-Net sees it), with a
    graph through the last `grad_steps` U-Net calls."""
    scheduler = karras_dpm_scheduler("sr", steps)
    z = torch.randn((len(lr), 4) + tuple(lr.shape[2:]), generator=generator) * scheduler.init_noise_sigma
    for i, t in enumerate(scheduler.timesteps):
        with torch.set_grad_enabled(i >= steps - grad_steps):
            v = unet(torch.cat([z, lr], 1), t.expand(len(z))).sample
            z = scheduler.step(v, t, z).prev_sample
    return z


def downscale(x):
    """[N, 3, H, W] → [N, 3, H/4, W/4], degrade()'s bicubic with antialiasing (the LR-consistency's operator)."""
    return F.interpolate(x, scale_factor=0.25, mode="bicubic", antialias=True, align_corners=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True, help="a shipped SR model (ldm-edit .safetensors)")
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--out", required=True, help="export folder; OUT.safetensors is the model")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--adv-weight", type=float, default=0.5)
    ap.add_argument("--lr-weight", type=float, default=1.0)
    ap.add_argument("--energy-weight", type=float, default=0.0,
                    help="weight of texture.texture_energy_error over the whole output: its texture amplitude per "
                         "--energy-block pixels against the photo's (0: off)")
    ap.add_argument("--energy-px", type=int, default=4, help="block side of the energy term's high-pass")
    ap.add_argument("--energy-block", type=int, default=16)
    ap.add_argument("--energy-ycbcr", action="store_true",
                    help="the energy term per Y, Cb, Cr channel (texture.texture_energy_error's per_channel)")
    ap.add_argument("--sampler-steps", type=int, default=8, help="the default's 8 (ldm-edit upscale)")
    ap.add_argument("--grad-steps", type=int, default=8, help="U-Net calls at the end of the trajectory with a graph")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--disc-lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=0, help="stop after this wall time (0: run every step)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    ae, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    ae.requires_grad_(False)
    unet.train()
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("sr")
    snr = alphas_cumprod / (1 - alphas_cumprod)
    weights = loss_weights(snr, "min-snr", "v")
    disc = PatchDiscriminator(32)
    opt_g = torch.optim.Adam(unet.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.disc_lr, betas=(0.5, 0.9))
    photos = Photos(args.pool, args.crop, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    ema = EMA(unet)
    t0 = time.monotonic()
    for step in range(args.steps):
        if args.minutes and time.monotonic() - t0 > 60 * args.minutes:
            print(f"stopped at step {step} (--minutes {args.minutes:g})", flush=True)
            break
        hr = photos.batch(args.batch)
        with torch.no_grad():
            z = ae.encode(hr) * scale
            lr = degrade(hr, rng)
        adversarial = step >= args.warmup
        with torch.set_grad_enabled(adversarial):
            t = torch.randint(0, 1000, (args.batch,))
            noise = torch.randn_like(z)
            a = alphas_cumprod[t].view(-1, 1, 1, 1)
            v = unet(torch.cat([a.sqrt() * z + (1 - a).sqrt() * noise, lr], 1), t).sample
            target = a.sqrt() * noise - (1 - a).sqrt() * z
            v_loss = (weights[t] * F.mse_loss(v, target, reduction="none").mean(dim=(1, 2, 3))).mean()
            grad_steps = args.grad_steps if adversarial else 0
            fake = ae.decode(sample(unet, lr, args.sampler_steps, grad_steps, generator) / scale)
            lr_loss = F.l1_loss(downscale(fake), lr)
            energy_loss = (texture_energy_error(fake, hr, torch.ones_like(fake[:, :1]), args.energy_px, args.energy_block,
                                                 args.energy_ycbcr)
                           if args.energy_weight else torch.zeros(()))
            rec_loss = v_loss + args.lr_weight * lr_loss + args.energy_weight * energy_loss
        adv_loss, lam, d_loss = hinge_gan_update(rec_loss, fake, hr, disc, opt_g, opt_d, unet.conv_out.weight,
                                                 args.adv_weight, adversarial, ema, unet, step - args.warmup)
        if (step + 1) % 10 == 0:
            ratio = detail(fake.detach()).mean() / detail(hr).mean()   # of the batch's means: flat crops make per-crop ratios blow up
            print(f"step {step + 1} v {v_loss.item():.4f} lr-L1 {lr_loss.item():.4f} energy {energy_loss.item():.4f} "
                  f"adv {adv_loss.item():+.3f} "
                  f"λ {lam.item():.3f} disc {d_loss.item():.3f} detail {ratio:.3f} "
                  f"{(step + 1) / (time.monotonic() - t0):.3f} steps/s", flush=True)
    finetune = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "trajectory_steps": step + 1,
                "adversarial_steps": step + 1 - args.warmup, "adv_weight": args.adv_weight, "lr_weight": args.lr_weight,
                "grad_steps": args.grad_steps, "energy_weight": args.energy_weight, "energy_px": args.energy_px,
                "energy_block": args.energy_block, "energy_ycbcr": args.energy_ycbcr, "lr": args.lr,
                "batch": args.batch, "crop": args.crop, "seed": args.seed, "sampler_steps": args.sampler_steps,
                "cpu_hours": round(time.process_time() / 3600, 2)}
    provenance = finetuned_provenance(args.model, "Scripts/train/experiments/sr_trajectory_adversarial.py", "sr", "sr-48",
                                      finetune)
    print(export_model(args.out, ema.module, ae, "sr", LINEAR_END["sr"], provenance, ldm_edit=args.ldm_edit), flush=True)
    raw = copy.deepcopy(unet).eval()
    print(export_model(args.out + "-raw", raw, ae, "sr", LINEAR_END["sr"], provenance, ldm_edit=args.ldm_edit),
          flush=True)


if __name__ == "__main__":
    main()
