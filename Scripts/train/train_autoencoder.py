#!/usr/bin/env python3
"""Train the bundled VQ-f4 autoencoder (shared by both tasks) on photo-pool crops.

    /tmp/torch-venv/bin/python Scripts/train/train_autoencoder.py --pool /tmp/ldm-pool --out /tmp/ldm-train/vq \
        [--steps 20000] [--batch 16] [--crop 128] [--width 64] [--seed 0]
Resumable: rerunning continues from OUT/checkpoint.pt. Objective: L1 + a gradient (edge) term
standing in for the perceptual loss (no pretrained VGG can be had offline) + the VQ commitment loss.
Writes OUT/vqvae (diffusers VQModel) when done.
"""
import argparse
import os

import torch
import torch.nn.functional as F
from diffusers import VQModel

from common import Photos, device, load_checkpoint, save_checkpoint, seed_everything


def gradients(x):
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--codes", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-every", type=int, default=500, help="checkpoint interval in steps (resume point)")
    args = ap.parse_args()
    seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)
    dev = device()
    w = args.width
    vq = VQModel(in_channels=3, out_channels=3, block_out_channels=[w, 2 * w, 2 * w], layers_per_block=1, latent_channels=3,
                 down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
                 num_vq_embeddings=args.codes, norm_num_groups=32, mid_block_add_attention=True).to(dev)
    opt = torch.optim.AdamW(vq.parameters(), lr=args.lr, betas=(0.5, 0.9))
    ckpt = os.path.join(args.out, "checkpoint.pt")
    step = load_checkpoint(ckpt, {"vq": vq}, {"opt": opt})
    photos = Photos(args.pool, args.crop, seed=args.seed + step)
    while step < args.steps:
        x = photos.batch(args.batch).to(dev)
        h = vq.encode(x).latents
        out = vq.decode(h)                      # decode() quantises, returns the commitment loss
        rec = out.sample
        gy, gx = gradients(rec)
        ty, tx = gradients(x)
        loss = F.l1_loss(rec, x) + 0.5 * (F.l1_loss(gy, ty) + F.l1_loss(gx, tx)) + out.commit_loss.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0 or step == args.steps:
            with torch.no_grad():
                psnr = 10 * torch.log10(4 / F.mse_loss(rec.clamp(-1, 1), x))
            print(f"step {step} loss {loss.item():.4f} psnr {psnr.item():.2f} dB", flush=True)
        if step % args.save_every == 0 or step == args.steps:
            save_checkpoint(ckpt, step, {"vq": vq}, {"opt": opt})
    vq.save_pretrained(os.path.join(args.out, "vqvae"), safe_serialization=True)


if __name__ == "__main__":
    main()
