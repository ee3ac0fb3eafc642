#!/usr/bin/env python3
"""Train a bundled LDM U-Net (super-resolution or inpainting) on latents of the bundled autoencoder.

    /tmp/torch-venv/bin/python Scripts/train/train_diffusion.py --task sr --vq /tmp/ldm-train/vq/vqvae \
        --pool /tmp/ldm-pool --out /tmp/ldm-train/sr [--steps 50000] [--batch 16] [--crop 128] [--width 64] [--seed 0] \
        [--export Models/ldm-edit-sr --ldm-edit .build/release/ldm-edit]
The paper's objective: ε-prediction L2 with the LDM linear schedule (β 0.0015 → 0.0155 for SR,
→ 0.0205 for inpainting, as the released models), timesteps uniform in 0..999.
- sr: pairs are HR crops and their 4x bicubic downscales with mild blur, noise and JPEG-like
  quantisation; the U-Net (6 channels) sees [z_t, LR] at latent = LR resolution (ldm-spec §4).
- inpaint: random boxes and free-form strokes as masks (the paper's training masks); the U-Net (7
  channels) sees [z_t, encode(masked image), mask] with the mask in {−1, +1} (ldm-spec §3).
The same architecture families as the real models: conv resampling and 32-channel heads (sr),
ResBlock resampling and 8 heads (inpaint). Resumable from OUT/checkpoint.pt; --export writes a
diffusers folder and (with --ldm-edit) the canonical f16 .safetensors that ldm-edit ships.
"""
import argparse
import io
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import UNet2DModel, VQModel
from diffusers.models.attention_processor import Attention

from common import Photos, device, export, load_checkpoint, save_checkpoint, seed_everything


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


def random_masks(n, size, rng):
    """Boxes and thick free-form strokes covering ~5–40 % (1 = repaint)."""
    masks = np.zeros((n, 1, size, size), np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        if rng.random() < 0.5:
            h, w = rng.integers(size // 6, size // 2, 2)
            y, x = rng.integers(0, size - h), rng.integers(0, size - w)
            masks[i, 0, y:y + h, x:x + w] = 1
        else:
            y, x = rng.uniform(0, size, 2)
            for _ in range(rng.integers(3, 8)):
                angle, length, radius = rng.uniform(0, 2 * math.pi), rng.uniform(size / 8, size / 3), rng.uniform(size / 32, size / 12)
                for t in np.linspace(0, 1, 12):
                    cy, cx = y + t * length * math.sin(angle), x + t * length * math.cos(angle)
                    masks[i, 0][(yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2] = 1
                y, x = np.clip(y + length * math.sin(angle), 0, size), np.clip(x + length * math.cos(angle), 0, size)
    return torch.from_numpy(masks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["sr", "inpaint"], required=True)
    ap.add_argument("--vq", required=True)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=50000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-every", type=int, default=500, help="checkpoint interval in steps (resume point)")
    ap.add_argument("--export")
    ap.add_argument("--ldm-edit")
    args = ap.parse_args()
    seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)
    dev = device()
    rng = np.random.default_rng(args.seed)
    vq = VQModel.from_pretrained(args.vq).to(dev).eval().requires_grad_(False)
    w = args.width
    if args.task == "sr":
        unet = UNet2DModel(in_channels=6, out_channels=3, block_out_channels=[w, 2 * w, 4 * w], layers_per_block=2,
                           down_block_types=["DownBlock2D", "DownBlock2D", "AttnDownBlock2D"],
                           up_block_types=["AttnUpBlock2D", "UpBlock2D", "UpBlock2D"], attention_head_dim=32,
                           norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0, downsample_padding=1)
        linear_end = 0.0155
    else:
        unet = UNet2DModel(in_channels=7, out_channels=3, block_out_channels=[w, 2 * w, 3 * w], layers_per_block=2,
                           down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
                           up_block_types=["AttnUpBlock2D", "AttnUpBlock2D", "ResnetUpsampleBlock2D"], downsample_type="resnet",
                           upsample_type="resnet", attention_head_dim=8, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0)
        for m in unet.modules():
            if isinstance(m, Attention):
                m.heads = 8
        linear_end = 0.0205
    unet.to(dev)
    betas = torch.linspace(0.0015 ** 0.5, linear_end ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1 - betas, 0).float().to(dev)
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr)
    ckpt = os.path.join(args.out, "checkpoint.pt")
    step = load_checkpoint(ckpt, {"unet": unet}, {"opt": opt})
    photos = Photos(args.pool, args.crop, seed=args.seed + step)
    while step < args.steps:
        hr = photos.batch(args.batch).to(dev)
        with torch.no_grad():
            z = vq.encode(hr).latents
            if args.task == "sr":
                cond = degrade(hr, rng)
            else:
                mask = random_masks(hr.shape[0], hr.shape[2], rng).to(dev)
                c = vq.encode((1 - mask) * ((hr + 1) / 2) * 2 - 1).latents
                cond = torch.cat([c, F.interpolate(mask * 2 - 1, size=c.shape[-2:])], dim=1)
        t = torch.randint(0, 1000, (hr.shape[0],), device=dev)
        noise = torch.randn_like(z)
        a = alphas_cumprod[t].view(-1, 1, 1, 1)
        zt = a.sqrt() * z + (1 - a).sqrt() * noise
        loss = F.mse_loss(unet(torch.cat([zt, cond], 1), t).sample, noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0 or step == args.steps:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
        if step % args.save_every == 0 or step == args.steps:
            save_checkpoint(ckpt, step, {"unet": unet}, {"opt": opt})
    if args.export:
        if args.task == "inpaint":
            unet.register_to_config(ldm_edit_num_heads=8)
        print("exported", export(args.export, unet, vq, "super-resolution" if args.task == "sr" else "inpainting",
                                 linear_end, ldm_edit=args.ldm_edit))


if __name__ == "__main__":
    main()
