#!/usr/bin/env python3
"""Train the bundled first stage (conv_autoencoder.ConvAutoencoder, shared by both tasks) on photo-pool crops.

    python Scripts/train/train_autoencoder.py --pool /tmp/ldm-pool --state ~/.cache/ldm-edit-train/ae \
        [--steps 8000] [--batch 16] [--crop 64] [--init Models/ldm-edit-sr.safetensors] [--device auto] \
        [--latent-channels 4]
Resumable at any moment: STATE/state.pt is rewritten atomically every --save-every seconds; rerun the same
command to continue. With no state and --init (a fresh machine), the shipped autoencoder is adopted as the
finished first stage and written out unchanged: the shipped U-Nets were trained on exactly its latents, so
retraining it would orphan them.
Objective: L1 + 0.5 × L1 of image gradients (an edge term standing in for a perceptual loss: no
pretrained VGG offline). Adam, lr 4e-4, decayed linearly to 10 % over the last 20 % of the steps.
Evaluates the EMA weights on the held-out 256² centre crops every --eval-every seconds (PSNR), and when
done writes STATE/autoencoder/ (config.json with the latent scaling factor + model.safetensors).
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from common import (add_run_arguments, decayed_lr, EMA, Photos, TrainState, device, eval_crops, first_stage_state, seed_everything,
                    shipped_metadata)
from conv_autoencoder import ConvAutoencoder

TARGET_PSNR = 28.0   # issue 16: "Autoencoder: reconstruction PSNR ≥ 28 dB on the 256² eval crops"


def gradients(x):
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


def loss_fn(rec, x):
    gy, gx = gradients(rec)
    ty, tx = gradients(x)
    return F.l1_loss(rec, x) + 0.5 * (F.l1_loss(gy, ty) + F.l1_loss(gx, tx))


def psnr_8bit(rec, x):
    """PSNR (dB, RGB in [0, 1]) of each reconstruction, quantised to 8 bits as ldm-edit writes it. [N, 3, H, W] → [N]."""
    q = lambda t: ((t.clamp(-1, 1) + 1) * 127.5).round() / 255
    return 10 * torch.log10(1 / ((q(rec) - q(x)) ** 2).mean(dim=(1, 2, 3)))


@torch.no_grad()
def evaluate(ae, crops, dev):
    """Mean PSNR of the 8-bit reconstructions of the eval crops."""
    psnrs = []
    for x in crops.split(4):
        x = x.to(dev)
        psnrs += psnr_8bit(ae(x), x).tolist()
    return sum(psnrs) / len(psnrs)


@torch.no_grad()
def latent_scale(ae, photos, dev, batches=16):
    """1 / std of the latents of random training crops: makes the diffusion latents unit-variance."""
    zs = [ae.encode(photos.batch(8, 256).to(dev)) for _ in range(batches)]
    return float(1 / torch.cat(zs).std())


def adopt_shipped(path, folder):
    """Writes the shipped autoencoder (its `ae.*` tensors and config, latent scaling factor included) to folder."""
    cfg = shipped_metadata(path)["config"]["convAutoencoder"]
    ae = ConvAutoencoder(cfg["widths"], cfg["encoder_blocks"], cfg["decoder_blocks"], cfg["latent_channels"],
                         cfg["scaling_factor"])
    ae.load_state_dict(first_stage_state(load_file(path)))
    ae.save(folder)
    print(f"no training state: adopted the shipped autoencoder of {path} as {folder} "
          f"(scaling factor {cfg['scaling_factor']:.4f})", flush=True)


def main():
    ap = argparse.ArgumentParser()
    add_run_arguments(ap)
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--init", help="shipped .safetensors to fine-tune from when there is no state")
    ap.add_argument("--eval-every", type=float, default=900, help="seconds between evaluations")
    ap.add_argument("--latent-channels", type=int, default=4,
                    help="z; the shipped first stage's 4 (a different z is for experiments: the U-Nets take 4)")
    args = ap.parse_args()
    seed_everything(args.seed)
    os.makedirs(args.state, exist_ok=True)
    dev = device(args.device)
    ae = ConvAutoencoder(z=args.latent_channels).to(dev)
    opt = torch.optim.Adam(ae.parameters(), lr=args.lr)
    photos = Photos(args.pool, args.crop, seed=args.seed)
    state = TrainState(os.path.join(args.state, "state.pt"), every_s=args.save_every)
    ema = EMA(ae)
    modules = {"ae": ae, "ema": ema.module}
    if state.load(modules, {"opt": opt}, photos.rng):
        print(f"resumed {state.path} at step {state.step}", flush=True)
    elif args.init and os.path.exists(args.init):
        adopt_shipped(args.init, os.path.join(args.state, "autoencoder"))
        return
    crops = eval_crops(args.pool)
    ae.train()
    t0, s0 = time.monotonic(), state.step
    last_eval = time.monotonic()
    state.trap_signals()
    while state.step < args.steps:
        progress = state.step / args.steps
        for g in opt.param_groups:
            g["lr"] = decayed_lr(args.lr, progress)
        x = photos.batch(args.batch).to(dev)
        loss = loss_fn(ae(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(ae, state.step)
        state.step += 1
        if state.step % 50 == 0:
            rate = (state.step - s0) * args.batch / (time.monotonic() - t0)
            eta = (args.steps - state.step) * args.batch / rate / 3600
            print(f"ae step {state.step}/{args.steps} loss {loss.item():.4f} {rate:.1f} samples/s ETA {eta:.2f} h "
                  f"cpu {state.spent_cpu_hours():.2f} h", flush=True)
        final = state.step == args.steps
        if final or time.monotonic() - last_eval >= args.eval_every:
            psnr = evaluate(ema.module, crops, dev)
            state.history.append({"step": state.step, "cpu_hours": state.spent_cpu_hours(), "psnr_db": psnr})
            print(f"ae eval step {state.step}: EMA reconstruction PSNR {psnr:.2f} dB on {len(crops)} eval crops", flush=True)
            last_eval = time.monotonic()
        if final or state.due():
            state.save(modules, {"opt": opt}, photos.rng)
    scale = latent_scale(ema.module, photos, dev)
    ema.module.config["scaling_factor"] = scale
    ema.module.save(os.path.join(args.state, "autoencoder"))
    json.dump(state.history, open(os.path.join(args.state, "history.json"), "w"), indent=1)
    print(f"ae done: {args.state}/autoencoder (scaling factor {scale:.4f}), last eval {state.history[-1]['psnr_db']:.2f} dB",
          flush=True)


if __name__ == "__main__":
    main()
