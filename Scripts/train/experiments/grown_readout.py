#!/usr/bin/env python3
"""Experiment: train only the new output rows of a U-Net grown onto more latent channels (grow_unet_latents.py).

    cd Scripts/train
    python experiments/grown_readout.py --grown /tmp/grown-inpaint --size inpaint-192 --pool P --steps 1500 \
        --ldm-edit ../../.build/release/ldm-edit --out /tmp/readout-inpaint

Why: fine-tuned whole, the grown inpainting U-Net's new channels came out as excess texture after 2,600 CPU steps,
and channels 0–3, which read them through the new input columns, got worse too (docs/quality.md, "The inpainting U-Net
grown onto it"). Here everything but `conv_out`'s new rows (and their biases) stays as grown, so channels 0–3 are the
trained model's prediction exactly and the new channels are a linear readout of its last features: a bound on what the
trained features already know about the new channels, at no risk to the old ones. The body runs without gradients
(its output features are captured at conv_out's input), so a step costs one forward pass.

Loss: train_diffusion.py's (v target, the state's weighting: truncated min-SNR-γ, 128-pixel crops with its masks) on
the new channels only. Writes OUT (export.export_model's folder) and OUT.safetensors.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import Photos, decayed_lr, seed_everything, shipped_metadata  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from export import export_model  # noqa: E402
from train_diffusion import inpaint_inputs, loss_weights, random_masks  # noqa: E402
from unets import CANDIDATES, LINEAR_END, alphas_cumprod_for, build  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grown", required=True, help="grow_unet_latents.py's OUT folder")
    ap.add_argument("--size", required=True)
    ap.add_argument("--old-channels", type=int, default=4)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    seed_everything(args.seed)
    task, widths = CANDIDATES[args.size]
    ae = ConvAutoencoder.load(os.path.join(args.grown, "autoencoder")).eval().requires_grad_(False)
    z, old = ae.config["latent_channels"], args.old_channels
    unet = build(task, widths, latent=z)
    unet.load_state_dict(load_file(os.path.join(args.grown, "unet", "diffusion_pytorch_model.safetensors")))
    unet.eval().requires_grad_(False)
    head = unet.conv_out
    weight = head.weight[old:].clone().requires_grad_(True)
    bias = head.bias[old:].clone().requires_grad_(True)
    opt = torch.optim.Adam([weight, bias], lr=args.lr)
    features = {}
    head.register_forward_pre_hook(lambda _m, inputs: features.__setitem__("h", inputs[0]))
    alphas = alphas_cumprod_for(task)
    weights = loss_weights(alphas / (1 - alphas), "truncated-min-snr", "v")
    photos = Photos(args.pool, args.crop, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    scale = ae.config["scaling_factor"]
    t0 = time.monotonic()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = decayed_lr(args.lr, step / args.steps)
        with torch.no_grad():
            hr = photos.batch(args.batch)
            z0, cond = inpaint_inputs(ae, scale, hr, random_masks(args.batch, hr.shape[2], rng))
            t = torch.randint(0, 1000, (args.batch,))
            noise = torch.randn_like(z0)
            a = alphas[t].view(-1, 1, 1, 1)
            zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
            target = (a.sqrt() * noise - (1 - a).sqrt() * z0)[:, old:]
            unet(torch.cat([zt, cond], 1), t)
        pred = F.conv2d(features["h"], weight, bias, padding=1)
        loss = (weights[t] * F.mse_loss(pred, target, reduction="none").mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{args.steps} loss {loss.item():.4f} {(time.monotonic() - t0) / (step + 1):.2f} s/step",
                  flush=True)
    with torch.no_grad():
        head.weight[old:] = weight
        head.bias[old:] = bias
    provenance = shipped_metadata(args.grown.rstrip("/") + ".safetensors")["provenance"]
    provenance["grown_readout"] = {"steps": args.steps, "batch": args.batch, "crop": args.crop, "lr": args.lr}
    print("wrote", export_model(args.out, unet, ae, task, LINEAR_END[task], provenance, ldm_edit=args.ldm_edit), flush=True)


if __name__ == "__main__":
    main()
