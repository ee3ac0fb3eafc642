#!/usr/bin/env python3
"""Train a bundled LDM U-Net (super-resolution or inpainting) on latents of the bundled autoencoder.

    python Scripts/train/train_diffusion.py --task sr|inpaint --autoencoder STATE/ae/autoencoder --pool /tmp/ldm-pool \
        --state STATE/sr [--steps N] [--batch B] [--latent S] [--init Models/ldm-edit-sr.safetensors] \
        [--export DIR --ldm-edit .build/release/ldm-edit] [--device auto] [--prediction v|epsilon]
Objective: L2 with the LDM linear schedule (β 0.0015 → 0.0155 for SR, → 0.0205 for inpainting, as the
released models), timesteps uniform in 0..999, weighted by min-SNR-γ (γ = 5; Hang et al. 2023: the
weight is min(SNR, γ) / SNR for ε-prediction, min(SNR, γ) / (SNR + 1) for v-prediction).
The target is v = √ᾱ·ε − √(1 − ᾱ)·z₀ (Salimans & Ho 2022; diffusers prediction_type "v_prediction")
by default, not the paper's ε: these schedules end at ᾱ ≈ 1e-4, where z₀ = (x − √(1 − ᾱ)·ε̂) / √ᾱ
multiplies any error of an ε-predictor by √((1 − ᾱ) / ᾱ) ≈ 100 (for v: by √(1 − ᾱ) ≤ 1; with min-SNR
weights both losses weigh the z₀ error alike, min(SNR, γ)), so a small ε model never gets the hole's
colours right at high noise — a step-20,787 ε inpainting model filled holes with the masked image's black (hole PSNR
11.1 dB against Telea's 15.0; Scripts/train/README.md). At high noise v ≈ −z₀: the network outputs z₀ itself. A state trained with ε switches when resumed with --prediction v (recorded in
its history, the EMA restarting there); the exported scheduler config carries the prediction type, which ldm-edit's samplers read.
- sr: pairs are HR crops and their 4x bicubic downscales with mild blur, noise and 8-bit
  quantisation; the U-Net sees [z_t, LR] at latent = LR resolution (docs/ldm-spec.md §4). The latents of
  every training photo under its 8 flips/rotations are encoded once by the frozen autoencoder and
  cached in STATE/latents.pt (SR needs no encoder at run time; see README "Choosing sizes").
- inpaint: random boxes and free-form strokes as masks (the paper's training masks); the U-Net sees
  [z_t, encode(masked image), mask] with the mask in {−1, +1} (docs/ldm-spec.md §3), as ldm-edit feeds it.
Resumable at any moment from STATE/state.pt (atomic, every --save-every seconds), or, with no state,
from the shipped model given by --init, continuing its schedule at the step its provenance records (a
shipped model already at --steps is just re-exported). EMA weights (with warm-up) are what is exported.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import add_run_arguments, decayed_lr, EMA, Photos, StateMismatch, TrainState, device, dihedral, manifest_hash, seed_everything, shipped_metadata
from conv_autoencoder import ConvAutoencoder
from export import export_model, init_unet_from_shipped
from precision import CHOICES as PRECISIONS, autocast, keep_fp32, resolve as resolve_precision
from unets import CANDIDATES, DEFAULT, LINEAR_END, alphas_cumprod_for, build
from widen import widen

# Steps of linear learning-rate warm-up after a widening: the fresh AdamW moments and the new channels start together.
WIDEN_WARMUP = 500

MIN_SNR_GAMMA = 5.0

# The peak learning rate every phase trained at until 2026-12-06 (run.sh sets the inpainting phase's since: README.md,
# "Batch 8 and its learning rate").
DEFAULT_LR = 2e-4


def degrade(hr, rng):
    """4x bicubic downscale with mild blur, noise and 8-bit quantisation (SR training pairs)."""
    x = hr
    if rng.random() < 0.5:
        sigma = rng.uniform(0.2, 1.2)
        k = torch.arange(-3, 4, dtype=torch.float32)
        g = torch.exp(-(k ** 2) / (2 * sigma ** 2))
        g = (g / g.sum()).to(x)
        x = F.conv2d(F.pad(x, (3, 3, 0, 0), mode="reflect"), g.view(1, 1, 1, 7).repeat(3, 1, 1, 1), groups=3)
        x = F.conv2d(F.pad(x, (0, 0, 3, 3), mode="reflect"), g.view(1, 1, 7, 1).repeat(3, 1, 1, 1), groups=3)
    lr = F.interpolate(x, scale_factor=0.25, mode="bicubic", antialias=True, align_corners=False)
    if rng.random() < 0.5:
        lr = lr + torch.randn_like(lr) * rng.uniform(0, 0.02)
    return ((lr.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1


# The smallest holes in pixels, whatever the crop: the 128-pixel crops' lower ends (box side 128 / 6, stroke radius
# 128 / 32). Scaled with a 256 crop they doubled, and the model trained there lost the thin strokes (eval strokes at
# 8 / 16 pixels wide −0.46 / −0.34 dB against the model it started from, at 32 pixels +0.06: docs/quality.md, "Thin
# strokes at 256-pixel crops"); users' masks come at every width.
MIN_BOX_SIDE, MIN_STROKE_RADIUS = 21, 4.0


def mask_ranges(size):
    """(box side low, high), (stroke radius low, high) of random_masks for a crop of `size` pixels: up to 3/4 of the
    side and size/10, down to size/6 and size/32 or the pixel floors above, whichever is smaller."""
    return (min(size // 6, MIN_BOX_SIDE), size * 3 // 4), (min(size / 32, MIN_STROKE_RADIUS), size / 10)


def random_masks(n, size, rng):
    """Boxes and thick free-form strokes covering ~5–50 % (1 = repaint): [n, 1, size, size]."""
    masks = np.zeros((n, 1, size, size), np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    (box_low, box_high), (radius_low, radius_high) = mask_ranges(size)
    for i in range(n):
        if rng.random() < 0.5:
            h, w = rng.integers(box_low, box_high, 2)
            y, x = rng.integers(0, size - h), rng.integers(0, size - w)
            masks[i, 0, y:y + h, x:x + w] = 1
        else:
            y, x = rng.uniform(0, size, 2)
            for _ in range(rng.integers(3, 8)):
                angle, length, radius = rng.uniform(0, 2 * math.pi), rng.uniform(size / 8, size / 3), rng.uniform(radius_low, radius_high)
                for t in np.linspace(0, 1, 12):
                    cy, cx = y + t * length * math.sin(angle), x + t * length * math.cos(angle)
                    masks[i, 0][(yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2] = 1
                y, x = np.clip(y + length * math.sin(angle), 0, size), np.clip(x + length * math.cos(angle), 0, size)
    return torch.from_numpy(masks)


def loss_weights(snr, weighting, prediction):
    """Per-timestep loss weights [1000] for the target's MSE (see --weighting): snr [1000] → [1000]."""
    if weighting == "uniform":
        return torch.ones_like(snr)
    # z₀ weight min(SNR, γ); truncated: clamp(SNR, 1, γ), min-SNR-γ's cap and below SNR 1 the floor of Salimans & Ho's
    # "truncated SNR" weighting (2022, §4: max(SNR, 1)), so the high-noise steps, where min-SNR's weight falls to
    # SNR ≈ 1e-4 at t = 999, still train the z₀ estimate that fixes a hole's coarse content.
    z0_weight = torch.clamp(snr, min=1.0 if weighting == "truncated-min-snr" else None, max=MIN_SNR_GAMMA)
    return z0_weight / (snr + 1 if prediction == "v" else snr)


def inpaint_inputs(ae, scale, hr, mask):
    """The inpainting U-Net's training inputs, as ldm-edit feeds it (docs/ldm-spec.md §3): hr [N, 3, H, W] in [−1, 1],
    mask [N, 1, H, W] (1 = repaint) → z₀ [N, 4, H/f, W/f], conditioning [N, 5, H/f, W/f] = [encode(masked photo, the
    hole black), the mask at latent size in {−1, +1}]."""
    z = ae.encode(hr) * scale
    c = ae.encode((1 - mask) * ((hr + 1) / 2) * 2 - 1) * scale
    return z, torch.cat([c, F.interpolate(mask, size=c.shape[-2:]) * 2 - 1], dim=1)


class LatentBank:
    """Scaled latents of every training photo under its 8 flips/rotations (float16), and matching crops."""

    def __init__(self, photos, ae, path, dev):
        self.photos = photos
        if os.path.exists(path):
            self.latents = torch.load(path, weights_only=True)
            return
        scale, self.latents = ae.config["scaling_factor"], []
        t0 = time.monotonic()
        with torch.no_grad():
            for i, image in enumerate(photos.images):
                h, w = image.shape[0] // 4 * 4, image.shape[1] // 4 * 4
                variants = []
                for k in range(8):
                    x = torch.from_numpy(np.array(dihedral(image[:h, :w], k))).permute(2, 0, 1)[None].float()
                    variants.append((ae.encode((x / 127.5 - 1).to(dev)) * scale)[0].half().cpu())
                self.latents.append(variants)
                if i % 20 == 0:
                    print(f"encoding training latents: {i + 1}/{len(photos.images)} photos, {time.monotonic() - t0:.0f} s", flush=True)
        torch.save(self.latents, path + ".tmp")
        os.replace(path + ".tmp", path)

    def batch(self, n, side):
        """HR crops [n, 3, 4·side, 4·side] in [−1, 1] and their latents [n, 4, side, side]."""
        rng, hr, z = self.photos.rng, [], []
        for _ in range(n):
            i, k = int(rng.integers(len(self.latents))), int(rng.integers(8))
            lat = self.latents[i][k]
            y, x = int(rng.integers(lat.shape[1] - side + 1)), int(rng.integers(lat.shape[2] - side + 1))
            image = self.photos.images[i]
            image = dihedral(image[:image.shape[0] // 4 * 4, :image.shape[1] // 4 * 4], k)
            hr.append(image[4 * y:4 * (y + side), 4 * x:4 * (x + side)] / 127.5 - 1)
            z.append(lat[:, y:y + side, x:x + side].float())
        return torch.from_numpy(np.stack(hr).astype(np.float32)).permute(0, 3, 1, 2), torch.stack(z)


def provenance_record(task, extra, steps, batch, latent_crop, cpu_hours, pool, ae):
    """The "ldm_edit_provenance" of an exported U-Net, from its state's `extra` (size, target, weighting, switches,
    widenings, accelerator bursts, crop): what `TrainState.continue_from` reads back on a fresh machine."""
    command = f"bash Scripts/train/run.sh (train_diffusion.py --task {task})"
    if extra.get("device_bursts"):
        command += " with bursts of Scripts/train/device_burst.py train (see device_bursts)"
    if extra.get("trajectory_finetunes"):
        # Entries before 2026-12-05 name no script: inpaint_trajectory.py wrote them all (common.finetuned_provenance).
        scripts = sorted({f.get("script", "Scripts/train/experiments/inpaint_trajectory.py") for f in extra["trajectory_finetunes"]})
        command += f", fine-tuned through its sampler by {' and '.join(scripts)} (see trajectory_finetunes)"
    provenance = {"training_command": command, "task": task, "size": extra["size"], "prediction": extra["prediction"],
                  "prediction_switches": extra.get("switches", []), "weighting": extra.get("weighting", "min-snr"),
                  "weighting_switches": extra.get("weighting_switches", []), "widenings": extra.get("widenings", []),
                  "device_bursts": extra.get("device_bursts", []), "steps": steps, "batch": batch, "latent_crop": latent_crop,
                  "latent_crop_switches": extra.get("latent_crop_switches", []), "cpu_hours": round(cpu_hours, 2),
                  "precision": extra.get("precision", "fp32"), "precision_switches": extra.get("precision_switches", []),
                  "lr": extra.get("lr", DEFAULT_LR), "lr_switches": extra.get("lr_switches", []),
                  **({"latent_growth": extra["latent_growth"]} if extra.get("latent_growth") else {}),
                  **({"trajectory_finetunes": extra["trajectory_finetunes"]} if extra.get("trajectory_finetunes") else {}),
                  # experiments/posthoc_ema.py: the exported EMA is an average of several snapshots' EMAs.
                  **({"posthoc_ema": extra["posthoc_ema"]} if extra.get("posthoc_ema") else {}),
                  "data_manifest_sha256": manifest_hash(pool), "date": time.strftime("%Y-%m-%d", time.gmtime())}
    if ae.config.get("decoder_finetune"):   # the first stage's decoder was fine-tuned (train_decoder.py)
        provenance["decoder_finetune"] = ae.config["decoder_finetune"]
    return provenance


def latest_existing(paths):
    """Of the files that exist, the one whose provenance records the most steps (None when none exists)."""
    found = [(int(shipped_metadata(p)["provenance"].get("steps", 0)), p) for p in paths if os.path.exists(p)]
    return max(found)[1] if found else None


def main():
    ap = argparse.ArgumentParser()
    add_run_arguments(ap)
    ap.add_argument("--task", choices=["sr", "inpaint"], required=True)
    ap.add_argument("--autoencoder", required=True, help="folder written by train_autoencoder.py")
    ap.add_argument("--size", help=f"a candidate of unets.py ({', '.join(CANDIDATES)})")
    ap.add_argument("--steps", type=int, default=50000)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--latent", type=int, help="latent crop side (default: 16 for sr, 32 for inpaint)")
    ap.add_argument("--lr", type=float, default=DEFAULT_LR,
                    help="peak learning rate (default 2e-4; decayed over the phase's last 20 %%, common.decayed_lr)")
    ap.add_argument("--init", action="append", default=[],
                    help="shipped .safetensors to continue from when there is no state (repeatable: of the files that "
                         "exist, the one whose provenance records the most steps)")
    ap.add_argument("--export")
    ap.add_argument("--ldm-edit")
    ap.add_argument("--prediction", choices=["v", "epsilon"], default="v",
                    help="the U-Net's target (default v; a resumed ε state switches to it, see above)")
    ap.add_argument("--weighting", choices=["min-snr", "truncated-min-snr", "uniform"], default="min-snr",
                    help="per-timestep loss weight: min-SNR-γ (default; min(SNR, γ) in z₀ terms), truncated min-SNR-γ "
                         "(clamp(SNR, 1, γ) in z₀ terms: high noise weighed as SNR 1) or none in the target's own "
                         "terms (for v: SNR + 1 in z₀ terms, low noise weighed most)")
    ap.add_argument("--precision", choices=PRECISIONS, default="auto",
                    help="the training forward's arithmetic: bf16 autocast or fp32 (default auto: bf16 on CUDA and on "
                         "CPUs with AMX, where it measured 1.5x faster; fp32 elsewhere; precision.py)")
    args = ap.parse_args()
    seed_everything(args.seed)
    os.makedirs(args.state, exist_ok=True)
    dev = device(args.device)
    default_side = 16 if args.task == "sr" else 32
    side = args.latent or default_side
    batch = args.batch or (16 if args.task == "sr" else 8)
    if dev.type == "cuda":
        batch *= 8
    ae = ConvAutoencoder.load(args.autoencoder).to(dev).eval().requires_grad_(False)
    scale = ae.config["scaling_factor"]
    size = args.size or DEFAULT[args.task]
    unet = keep_fp32(build(*CANDIDATES[size], latent=ae.config["latent_channels"]), dev).to(dev)
    precision = resolve_precision(args.precision, dev)
    alphas_cumprod = alphas_cumprod_for(args.task).to(dev)
    snr = alphas_cumprod / (1 - alphas_cumprod)
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
    photos = Photos(args.pool, 4 * side, seed=args.seed)
    state = TrainState(os.path.join(args.state, "state.pt"), every_s=args.save_every)
    ema = EMA(unet)
    modules = {"unet": unet, "ema": ema.module}
    try:
        resumed = state.load(modules, {"opt": opt}, photos.rng, expect_extra={"size": size})
    except StateMismatch as e:
        raise SystemExit(f"{state.path}: this state is of the {e.held} U-Net, not {size}. Move its folder aside "
                         f"(mv {args.state} {args.state}-{e.held}) and run again: with no state, training continues from "
                         f"the committed weights given by --init, widened to {size} if they are smaller (widen.py).")
    if resumed:
        print(f"resumed {state.path} at step {state.step}", flush=True)
    elif init := latest_existing(args.init):
        provenance = shipped_metadata(init)["provenance"]
        grown_from = provenance.get("size", size)
        if grown_from != size:
            small = build(*CANDIDATES[grown_from], latent=ae.config["latent_channels"])
            init_unet_from_shipped(small, init, args.ldm_edit)
            widen(small, unet.cpu())
            unet.to(dev)
            print(f"widened {grown_from} into {size} (widen.py)", flush=True)
        else:
            init_unet_from_shipped(unet, init, args.ldm_edit)
        ema = EMA(unet)
        modules["ema"] = ema.module
        state.continue_from(provenance)
        if grown_from != size:
            state.extra["size"] = size
            state.extra.setdefault("widenings", []).append({"step": state.step, "from": grown_from, "to": size})
        # A fresh data order: the seed's own would replay the crops of the shipped run's first steps.
        photos.rng = np.random.default_rng(args.seed + state.step)
        print(f"continuing the shipped model's schedule at step {state.step}", flush=True)
    state.extra.setdefault("size", size)
    # States from before the switch carry no "prediction": they were trained on ε.
    was = state.extra.get("prediction", "epsilon" if state.step else args.prediction)
    if was != args.prediction:
        print(f"switching the target from {was} to {args.prediction} at step {state.step}", flush=True)
        state.extra.setdefault("switches", []).append({"step": state.step, "from": was, "to": args.prediction})
        # The average of weights trained for the old target predicts neither: restart the EMA (and its warm-up) here.
        ema.module.load_state_dict(unet.state_dict())
    state.extra["prediction"] = args.prediction
    # The EMA's warm-up restarts at a target switch, a widening or a latent growth (experiments/grow_unet_latents.py):
    # an average across the first two predicts nothing, and after a growth the new channels' outputs start at zero, so
    # a long window would hold the average on the untrained start.
    restarts = [e["step"] for e in state.extra.get("switches", []) + state.extra.get("widenings", [])
                + state.extra.get("latent_growth", [])]
    ema_origin = max(restarts, default=0)
    widened_at = state.extra["widenings"][-1]["step"] if state.extra.get("widenings") else None
    weights = loss_weights(snr, args.weighting, args.prediction)
    if state.step < args.steps:   # an export-only run (a finished phase, keep_partial.sh) keeps the record as trained
        if state.extra.get("weighting", "min-snr") != args.weighting:
            state.extra.setdefault("weighting_switches", []).append({"step": state.step, "to": args.weighting})
        state.extra["weighting"] = args.weighting
        # The crop a state trained at (states from before 2026-12-04 hold none: they trained at the task's default).
        held = state.extra.get("latent_crop", default_side)
        if held != side:
            print(f"switching the latent crop from {held}² to {side}² at step {state.step}", flush=True)
            state.extra.setdefault("latent_crop_switches", []).append({"step": state.step, "from": held, "to": side})
        state.extra["latent_crop"] = side
        # States from before 2026-12-05 hold none: they trained in fp32 (the device bursts in bf16, see device_bursts).
        if state.extra.get("precision", "fp32") != precision:
            print(f"switching the arithmetic from {state.extra.get('precision', 'fp32')} to {precision} at step {state.step}", flush=True)
            state.extra.setdefault("precision_switches", []).append({"step": state.step, "to": precision})
        state.extra["precision"] = precision
        # States from before 2026-12-06 hold none: they trained at the default's peak.
        trained_lr = state.extra.get("lr", DEFAULT_LR)
        if trained_lr != args.lr:
            print(f"switching the peak learning rate from {trained_lr:g} to {args.lr:g} at step {state.step}", flush=True)
            state.extra.setdefault("lr_switches", []).append({"step": state.step, "from": trained_lr, "to": args.lr})
        state.extra["lr"] = args.lr
    rng = np.random.default_rng(args.seed + state.step)
    bank = LatentBank(photos, ae, os.path.join(args.state, "latents.pt"), dev) if args.task == "sr" and state.step < args.steps else None
    t0, s0 = time.monotonic(), state.step
    unet.train()
    state.trap_signals()
    while state.step < args.steps:
        progress = state.step / args.steps
        for g in opt.param_groups:
            g["lr"] = decayed_lr(args.lr, progress)
            if widened_at is not None and state.step - widened_at < WIDEN_WARMUP:
                g["lr"] *= (state.step - widened_at + 1) / WIDEN_WARMUP
        with torch.no_grad():
            if args.task == "sr":
                hr, z = bank.batch(batch, side)
                hr, z = hr.to(dev), z.to(dev)
                cond = degrade(hr, rng)
            else:
                hr = photos.batch(batch).to(dev)
                # In the forward's arithmetic: bf16 encodes err by 0.27 % of the latents' spread, a tenth of the first
                # stage's own error and 1/30 of the U-Net's, and cost a third of fp32's (precision.py).
                with autocast(dev, precision):
                    z, cond = inpaint_inputs(ae, scale, hr, random_masks(batch, hr.shape[2], rng).to(dev))
                z, cond = z.float(), cond.float()
        t = torch.randint(0, 1000, (batch,), device=dev)
        noise = torch.randn_like(z)
        a = alphas_cumprod[t].view(-1, 1, 1, 1)
        zt = a.sqrt() * z + (1 - a).sqrt() * noise
        target = a.sqrt() * noise - (1 - a).sqrt() * z if args.prediction == "v" else noise
        with autocast(dev, precision):
            prediction = unet(torch.cat([zt, cond], 1), t).sample
        per_sample = F.mse_loss(prediction.float(), target, reduction="none").mean(dim=(1, 2, 3))
        loss = (weights[t] * per_sample).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(unet, state.step - ema_origin)
        state.step += 1
        if state.step % 50 == 0:
            rate = (state.step - s0) * batch / (time.monotonic() - t0)
            eta = (args.steps - state.step) * batch / rate / 3600
            state.history.append({"step": state.step, "cpu_hours": state.spent_cpu_hours(), "loss": loss.item()})
            print(f"{args.task} step {state.step}/{args.steps} loss {loss.item():.4f} {rate:.1f} samples/s ETA {eta:.2f} h "
                  f"cpu {state.spent_cpu_hours():.2f} h", flush=True)
        if state.step == args.steps or state.due():
            state.save(modules, {"opt": opt}, photos.rng)
    if state.history:   # a shipped model only re-exported (no state) has none: keep the file its training wrote
        json.dump(state.history, open(os.path.join(args.state, "history.json"), "w"))
    if args.export:
        provenance = provenance_record(args.task, state.extra, state.step, batch, state.extra.get("latent_crop", side),
                                       state.spent_cpu_hours(), args.pool, ae)
        print("exported", export_model(args.export, ema.module, ae, args.task, LINEAR_END[args.task], provenance, prediction=args.prediction,
                                       ldm_edit=args.ldm_edit), flush=True)
    open(os.path.join(args.state, "done"), "w").write(f"{state.step}\n")


if __name__ == "__main__":
    main()
