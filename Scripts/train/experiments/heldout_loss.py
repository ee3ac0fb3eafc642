#!/usr/bin/env python3
"""The inpainting U-Net's training loss on the held-out eval crops: a cheap, sampler-free trend figure between evals.

    python Scripts/train/experiments/heldout_loss.py --pool /tmp/ldm-pool \
        --autoencoder ~/.cache/ldm-edit-train/decoder/autoencoder \
        --model Models/ldm-edit-inpaint.safetensors --model ~/.cache/ldm-edit-train/inpaint/state.pt

Each --model is a shipped .safetensors (its U-Net) or a training state.pt (its EMA weights; `state.pt:raw` for the
trained weights themselves), or several of these joined by commas: the uniform average of their weights, a post-hoc
stand-in for a longer EMA (snapshots of one lineage, as in Karras et al. 2024, "Analyzing and improving the training
dynamics of diffusion models", §3: post-hoc EMA from stored snapshots). Every model sees the same
inputs: the 16 held-out 256² centre crops (common.eval_crops, as Scripts/eval/quality.py), each under 16 timesteps
spread over 0..999 with a fixed mask (train_diffusion.random_masks, seed 1234) and fixed noise, in fp32. Printed: the
truncated-min-SNR-weighted v loss train_diffusion.py minimises, its mean over three noise bands (t < 250, 250–749,
≥ 750), and for each model after the first the paired difference against the first with its standard error over the
16 crops. Lower is better; it measures one-step denoising, not the sampled fills (quality.py measures those).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import eval_crops, shipped_metadata  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from export import init_unet_from_shipped  # noqa: E402
from train_diffusion import inpaint_inputs, loss_weights, random_masks  # noqa: E402
from unets import CANDIDATES, alphas_cumprod_for, build  # noqa: E402

TIMESTEPS = 16
BANDS = ((0, 250), (250, 750), (750, 1000))


def load(spec, ae, ldm_edit):
    """The U-Net of a --model spec → (module, label); a comma-separated spec averages its parts' weights."""
    parts = [os.path.expanduser(p) for p in spec.split(",")]
    if len(parts) > 1:
        loaded = [load_one(p, ae, ldm_edit) for p in parts]
        unet = loaded[0][0]
        mean = {k: sum(m.state_dict()[k].float() for m, _ in loaded) / len(loaded) for k in unet.state_dict()}
        unet.load_state_dict(mean)
        return unet, "mean of [" + "; ".join(label for _, label in loaded) + "]"
    return load_one(parts[0], ae, ldm_edit)


def load_one(path, ae, ldm_edit):
    """The U-Net of a shipped file, a state's EMA or (`state.pt:raw`) a state's trained weights → (module, label)."""
    raw = path.endswith(".pt:raw")
    if raw or path.endswith(".pt"):
        path = path.removesuffix(":raw")
        state = torch.load(path, weights_only=False, map_location="cpu")
        unet = build(*CANDIDATES[state["extra"]["size"]], latent=ae.config["latent_channels"])
        unet.load_state_dict(state["modules"]["unet" if raw else "ema"])
        return unet, f"{path} ({'raw' if raw else 'EMA'}, step {state['step']})"
    provenance = shipped_metadata(path)["provenance"]
    unet = build(*CANDIDATES[provenance["size"]], latent=ae.config["latent_channels"])
    init_unet_from_shipped(unet, path, ldm_edit)
    return unet, f"{path} (step {provenance['steps']})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--autoencoder", required=True)
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--ldm-edit", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../.build/release/ldm-edit"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ae = ConvAutoencoder.load(args.autoencoder).eval().requires_grad_(False)
    crops = eval_crops(args.pool)
    n = len(crops)
    ac = alphas_cumprod_for("inpaint")
    weights = loss_weights(ac / (1 - ac), "truncated-min-snr", "v")
    gen = torch.Generator().manual_seed(1234)
    masks = random_masks(n, crops.shape[-1], np.random.default_rng(1234))
    with torch.no_grad():
        z, cond = inpaint_inputs(ae, ae.config["scaling_factor"], crops, masks)
    t = torch.linspace(0, 999, TIMESTEPS).round().long()
    noise = torch.randn((TIMESTEPS,) + tuple(z.shape), generator=gen)
    first = None
    for path in args.model:
        unet, label = load(path, ae, args.ldm_edit)
        unet.eval()
        per = torch.empty(n, TIMESTEPS)   # per crop and timestep, weighted
        with torch.no_grad():
            for j, tj in enumerate(t.tolist()):
                a = ac[tj]
                zt = a.sqrt() * z + (1 - a).sqrt() * noise[j]
                target = a.sqrt() * noise[j] - (1 - a).sqrt() * z
                out = unet(torch.cat([zt, cond], 1), torch.full((n,), tj)).sample
                per[:, j] = weights[tj] * F.mse_loss(out, target, reduction="none").mean(dim=(1, 2, 3))
        bands = " ".join(f"t {lo}–{hi - 1}: {per[:, (t >= lo) & (t < hi)].mean():.5f}" for lo, hi in BANDS)
        line = f"{label}: loss {per.mean():.5f} ({bands})"
        if first is None:
            first = per
        else:
            d = (per - first).mean(dim=1)
            line += f"; against the first {d.mean():+.5f} ± {d.std() / n ** 0.5:.5f} ({int((d < 0).sum())} of {n} crops lower)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
