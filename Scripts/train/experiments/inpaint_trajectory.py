#!/usr/bin/env python3
"""Experiment (not a run.sh phase): fine-tune the inpainting U-Net through its own default sampler —
DPM-Solver++(2M) on the Karras σ ramp, 15 steps — on the hole's error against the photo, low-passed, to test whether
the centre hole's PSNR (0.92 dB under the target on the kept model, docs/quality.md) can be trained into the
trajectory the way sr_trajectory_adversarial.py's control trained the SR U-Net's fidelity (+0.70 dB Y-PSNR).

    cd Scripts/train && python experiments/inpaint_trajectory.py --pool /tmp/ldm-pool \
        --model ../../Models/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit \
        --out /tmp/inp-traj [--pool-px 8] [--fid-weight 1] [--texture-weight 20] [--energy-weight 20] \
        [--lr 4e-5] [--minutes 45] [--threads 1]
    python Scripts/eval/quality.py ... --inpaint-model /tmp/inp-traj.safetensors --only inpaint --limit 8

Why: the one-step z₀ at high noise is trained toward the conditional mean (truncated min-SNR-γ), but what ldm-edit
returns is where the sampler's 15 steps end, and a trajectory commits to a composition the mean does not have; the
hole PSNR is paid there. Here each step samples a batch of 256² crops with train_diffusion.random_masks from noise
(diffusers' scheduler, the reference of Sources/LDMPipelines/Sampling/DPMSolverSampler.swift), back-propagating through
every U-Net call (the early, high-noise ones decide the composition) and the frozen decoder:

    loss = v loss (train_diffusion.py's truncated min-SNR-γ, a fresh random t: keeps it a denoiser at every level)
         + --fid-weight · mean over the batch of ‖avgpool_k(mask · (decoded − photo))‖² / mean(mask),  k = --pool-px
         + --texture-weight · the same of high_pass_k(decoded) − high_pass_k(the starting model's fill, same noise)
         + --energy-weight · texture.texture_energy_error(decoded, photo): the hole's texture amplitude per
           --energy-block pixels against the photo's

With k > 1 only the hole's coarse content (k-pixel block means) is pulled toward the photo: the composition, where
PSNR is lost, and not the texture, which a pixel regression would average away (k = 1 is that regression, the
control). The texture term holds the rest where the starting model had it; the energy term asks for as much texture
as the photo has, not for the photo's own (no sampler can place that). Adam --lr; exports the EMA weights (and
OUT-raw.safetensors, the last weights), with the starting model's provenance and this run appended to its
"trajectory_finetunes" (what run.sh continues from, should the result be kept).

Results (2026-12-05, docs/quality.md, "Trained through the sampler toward the photo"; from the kept bursts' model,
--lr 4e-5, 50 minutes each at one thread, ~146 steps; EMA through ldm-edit, 8 eval crops, Karras 15, hole PSNR /
detail, centre and strokes; kept 13.05 / 0.640, 17.27 / 0.542): --pool-px 8 15.20 / 0.171, 18.31 / 0.346; --pool-px 1
15.30 / 0.103, 18.69 / 0.225; --pool-px 8 --texture-weight 2 (28 min at two threads, 106 steps) 14.57 / 0.421,
17.73 / 0.515 (a better trade, the centre's detail still under 0.6). The centre passes Telea (14.97) and its fills turn smooth; every mix with the kept model
(unet_soup.py, inpaint_expert_switch.py) stays on one PSNR-for-detail line. Not kept. --texture-weight 20 (48 min at
one thread, 114 steps): 14.06 / 0.550, 17.69 / 0.486; with --energy-weight 20 (e): 13.80 / 0.628, 17.65 / 0.540, the
kept model's detail at +0.76 / +0.39 dB; e + 95 steps at --energy-weight 20 / 60 (--seed 8): 14.25 / 0.683, 17.66 /
0.585; 14.02 / 0.828, 17.58 / 0.673 — all four numeric targets, also on all 16 crops — with fills of colour confetti
(docs/quality.md, "The texture's amount asked for"): not kept. --energy-ycbcr, from e, weight 60, 73 steps: 14.21 /
0.769, 17.49 / 0.635, the same confetti (its texture term holds e's speckled fills). From the kept model,
--energy-ycbcr at weight 20 / 60: 13.86 / 0.510, 17.63 / 0.506 and (B) 13.82 / 0.609, 17.68 / 0.532 (e's figures);
B + 100 steps at 60, seed 8: 14.26 / 0.663, 17.79 / 0.563 (three targets) with the confetti back: the colour held to
the photo's amount, but of the wrong hue. Not kept.
B2 + --chroma-weight 100 / 400 (27 min, ~60 steps): 14.27 / 0.694, 17.62 / 0.558; 14.47 / 0.494, 17.76 / 0.449 — the
colour goes at 400 and the detail with it (the speckle was the detail). Not kept.
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
from train_decoder import detail  # noqa: E402
from texture import chroma_error, high_pass, texture_energy_error  # noqa: E402
from train_diffusion import inpaint_inputs, loss_weights, random_masks  # noqa: E402
from unets import LINEAR_END, alphas_cumprod_for, karras_dpm_scheduler  # noqa: E402


def sample(unet, cond, noise, steps):
    """cond: [N, 5, h, w] (inpaint_inputs' conditioning), noise [N, 4, h, w] → the sampler's final latent
    [N, 4, h, w] (scaled, as the U-Net sees it), ldm-edit's inpainting default as diffusers builds it for this model's
    schedule, with a graph through every U-Net call (where grad is enabled)."""
    scheduler = karras_dpm_scheduler("inpaint", steps)
    z = noise * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        v = unet(torch.cat([z, cond], 1), t.expand(len(z))).sample
        z = scheduler.step(v, t, z).prev_sample
    return z


def hole_error(out, photo, mask, k):
    """Mean squared k-pixel block mean of the hole's error, per hole pixel. out, photo: [N, 3, H, W]; mask
    [N, 1, H, W] (1 = repaint) → scalar."""
    e = mask * (out - photo)
    if k > 1:
        e = F.avg_pool2d(e, k)
    return (e ** 2).mean() / mask.mean().clamp(min=1e-3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True, help="an inpainting model (ldm-edit .safetensors)")
    ap.add_argument("--size", default="inpaint-192", help="its U-Net (unets.CANDIDATES)")
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--out", required=True, help="export folder; OUT.safetensors is the model")
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=0, help="stop after this wall time (0: run every step)")
    ap.add_argument("--fid-weight", type=float, default=1.0)
    ap.add_argument("--pool-px", type=int, default=8, help="block side of the hole error's low-pass (1: none)")
    ap.add_argument("--texture-weight", type=float, default=0.0,
                    help="weight of the hole's high-pass (high_pass, --pool-px) against the starting model's fill "
                         "from the same noise: keeps its texture while the low-pass moves (0: off)")
    ap.add_argument("--energy-weight", type=float, default=0.0,
                    help="weight of texture_energy_error: the hole's texture amplitude per --energy-block pixels "
                         "against the photo's (0: off)")
    ap.add_argument("--energy-block", type=int, default=16)
    ap.add_argument("--chroma-weight", type=float, default=0.0,
                    help="weight of texture.chroma_error: the hole's Cb, Cr high-pass against the photo's (0: off)")
    ap.add_argument("--energy-ycbcr", action="store_true",
                    help="the energy term per Y, Cb, Cr channel (texture.texture_energy_error's per_channel)")
    ap.add_argument("--sampler-steps", type=int, default=15, help="the default's 15 (ldm-edit inpaint)")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    ae, unet = load_shipped(args.model, args.size, args.ldm_edit)
    ae.requires_grad_(False)
    unet.train()
    scale = ae.config["scaling_factor"]
    alphas_cumprod = alphas_cumprod_for("inpaint")
    snr = alphas_cumprod / (1 - alphas_cumprod)
    weights = loss_weights(snr, "truncated-min-snr", "v")
    opt = torch.optim.Adam(unet.parameters(), lr=args.lr)
    photos = Photos(args.pool, args.crop, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    ema = EMA(unet)
    reference = copy.deepcopy(unet).eval().requires_grad_(False) if args.texture_weight else None
    t0 = time.monotonic()
    done = 0   # optimiser steps taken
    for step in range(args.steps):
        if args.minutes and time.monotonic() - t0 > 60 * args.minutes:
            print(f"stopped at step {step} (--minutes {args.minutes:g})", flush=True)
            break
        hr = photos.batch(args.batch)
        mask = random_masks(args.batch, args.crop, rng)
        with torch.no_grad():
            z, cond = inpaint_inputs(ae, scale, hr, mask)
        t = torch.randint(0, 1000, (args.batch,))
        noise = torch.randn_like(z)
        a = alphas_cumprod[t].view(-1, 1, 1, 1)
        v = unet(torch.cat([a.sqrt() * z + (1 - a).sqrt() * noise, cond], 1), t).sample
        target = a.sqrt() * noise - (1 - a).sqrt() * z
        v_loss = (weights[t] * F.mse_loss(v, target, reduction="none").mean(dim=(1, 2, 3))).mean()
        start = torch.randn(z.shape, generator=generator)
        out = ae.decode(sample(unet, cond, start, args.sampler_steps) / scale)
        fid_loss = hole_error(out, hr, mask, args.pool_px)
        texture_loss = torch.zeros(())
        if reference is not None:
            with torch.no_grad():
                kept = ae.decode(sample(reference, cond, start, args.sampler_steps) / scale)
            texture_loss = hole_error(high_pass(out, args.pool_px), high_pass(kept, args.pool_px), mask, 1)
        chroma_loss = chroma_error(out, hr, mask, args.pool_px) if args.chroma_weight else torch.zeros(())
        energy_loss = (texture_energy_error(out, hr, mask, args.pool_px, args.energy_block, args.energy_ycbcr) if args.energy_weight
                       else torch.zeros(()))
        opt.zero_grad(set_to_none=True)
        (v_loss + args.fid_weight * fid_loss + args.texture_weight * texture_loss
         + args.energy_weight * energy_loss + args.chroma_weight * chroma_loss).backward()
        opt.step()
        ema.update(unet, step)
        done = step + 1
        if (step + 1) % 5 == 0:
            with torch.no_grad():
                full = hole_error(out, hr, mask, 1).item()
                ratio = detail(out, mask).mean() / detail(hr, mask).mean()
            print(f"step {step + 1} v {v_loss.item():.4f} hole-lp {fid_loss.item():.4f} texture {texture_loss.item():.4f} "
                  f"energy {energy_loss.item():.4f} chroma {chroma_loss.item():.5f} hole-mse {full:.4f} "
                  f"detail {ratio:.3f} {(step + 1) / (time.monotonic() - t0):.4f} steps/s", flush=True)
    finetune = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "trajectory_steps": done, "lr": args.lr,
                "batch": args.batch, "crop": args.crop, "seed": args.seed, "fid_weight": args.fid_weight,
                "pool_px": args.pool_px, "texture_weight": args.texture_weight, "energy_weight": args.energy_weight,
                "energy_block": args.energy_block, "energy_ycbcr": args.energy_ycbcr, "chroma_weight": args.chroma_weight, "sampler_steps": args.sampler_steps,
                "cpu_hours": round(time.process_time() / 3600, 2)}
    provenance = finetuned_provenance(args.model, "Scripts/train/experiments/inpaint_trajectory.py", "inpaint", args.size,
                                      finetune)
    print(export_model(args.out, ema.module, ae, "inpaint", LINEAR_END["inpaint"], provenance, ldm_edit=args.ldm_edit),
          flush=True)
    raw = copy.deepcopy(unet).eval()
    print(export_model(args.out + "-raw", raw, ae, "inpaint", LINEAR_END["inpaint"], provenance,
                       ldm_edit=args.ldm_edit), flush=True)


if __name__ == "__main__":
    main()
