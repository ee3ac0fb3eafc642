#!/usr/bin/env python3
"""The inpainting U-Net's gradient noise scale at a checkpoint: the batch size past which larger batches stop paying.

    python Scripts/train/experiments/noise_scale.py --pool /tmp/ldm-pool \
        --autoencoder ~/.cache/ldm-edit-train/decoder/autoencoder \
        --model Models/ldm-edit-inpaint.safetensors [--batches 48] [--batch 8] [--latent 64]

McCandlish, Kaplan, Amodei et al., "An Empirical Model of Large-Batch Training" (2018), eq. 2.8 and appendix A.1: with
G the true gradient and Σ the per-sample gradient covariance, a batch of b samples has E|G_b|² = |G|² + tr(Σ)/b, so the
norms of K small batches' gradients and of their mean (a batch of K·b) give both terms, and B_simple = tr(Σ) / |G|². It
predicts the critical batch: well under it, a step's gradient is mostly noise, each sample is used about as well as
it can be but the step size that makes progress shrinks with the batch (ε_opt = ε_max / (1 + B_noise / B), their
eq. 2.7); well over it, extra samples are wasted. The training batches here are train_diffusion.py's (training photos,
its random masks, uniform timesteps, the truncated-min-SNR-weighted v loss) at the training's latent crop, in fp32;
each --model is a shipped .safetensors or a state.pt's EMA (as heldout_loss.py). The ± is the jackknife over the K
batches.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, here)
from common import Photos  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from heldout_loss import load  # noqa: E402
from train_diffusion import inpaint_inputs, loss_weights, random_masks  # noqa: E402
from unets import alphas_cumprod_for  # noqa: E402


def estimates(sq_small, mean_grad_sq, b, k):
    """(|G|², tr Σ, B_simple) from the small batches' squared norms' mean and the K·b batch's squared norm."""
    big = k * b
    g2 = (big * mean_grad_sq - b * sq_small) / (big - b)
    trace = (sq_small - mean_grad_sq) / (1 / b - 1 / big)
    return g2, trace, trace / g2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--autoencoder", required=True)
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--batches", type=int, default=48, help="K small batches (default 48)")
    ap.add_argument("--batch", type=int, default=8, help="b, the small batch (default 8, the CPU's)")
    ap.add_argument("--latent", type=int, default=64, help="latent crop side (default 64, run.sh's)")
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--ldm-edit", default=os.path.join(here, "../../../.build/release/ldm-edit"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ae = ConvAutoencoder.load(args.autoencoder).eval().requires_grad_(False)
    scale = ae.config["scaling_factor"]
    ac = alphas_cumprod_for("inpaint")
    weights = loss_weights(ac / (1 - ac), "truncated-min-snr", "v")
    k, b = args.batches, args.batch
    photos = Photos(args.pool, 4 * args.latent)
    for path in args.model:
        unet, label = load(os.path.expanduser(path), ae, args.ldm_edit)
        unet.train().requires_grad_(True)
        params = [p for p in unet.parameters() if p.requires_grad]
        # Every model sees the same K batches: photos, masks, timesteps and noise from the one seed.
        photos.rng = np.random.default_rng(args.seed)
        rng = np.random.default_rng(args.seed)
        gen = torch.Generator().manual_seed(args.seed)
        grads = torch.empty(k, sum(p.numel() for p in params))
        norms = torch.empty(k, dtype=torch.float64)   # |g_i|², summed in float64 (no float64 copy of all K gradients)
        total = torch.zeros(grads.shape[1], dtype=torch.float64)
        losses = []
        for i in range(k):
            with torch.no_grad():
                hr = photos.batch(b)
                z, cond = inpaint_inputs(ae, scale, hr, random_masks(b, hr.shape[2], rng))
            t = torch.randint(0, 1000, (b,), generator=gen)
            noise = torch.randn(z.shape, generator=gen)
            a = ac[t].view(-1, 1, 1, 1)
            zt = a.sqrt() * z + (1 - a).sqrt() * noise
            target = a.sqrt() * noise - (1 - a).sqrt() * z
            out = unet(torch.cat([zt, cond], 1), t).sample
            loss = (weights[t] * F.mse_loss(out, target, reduction="none").mean(dim=(1, 2, 3))).mean()
            unet.zero_grad(set_to_none=True)
            loss.backward()
            grads[i] = torch.cat([p.grad.reshape(-1) for p in params])
            g = grads[i].double()
            norms[i] = g @ g
            total += g
            losses.append(loss.item())
        g2, trace, bs = estimates(norms.mean().item(), ((total / k) ** 2).sum().item(), b, k)
        # Jackknife: each estimate without batch i (its mean gradient is (total − g_i) / (K − 1)).
        dots = torch.stack([grads[i].double() @ total for i in range(k)])
        loo = []
        for i in range(k):
            rest_sq = ((total ** 2).sum() - 2 * dots[i] + norms[i]).item() / (k - 1) ** 2
            loo.append(estimates((norms.sum() - norms[i]).item() / (k - 1), rest_sq, b, k - 1)[2])
        loo = np.array(loo)
        se = np.sqrt((k - 1) / k * ((loo - loo.mean()) ** 2).sum())
        print(f"{label}: {k} batches of {b} at {args.latent}² latents, loss {np.mean(losses):.5f}; |G|² {g2:.4g}, "
              f"tr Σ {trace:.4g}, B_simple {bs:.0f} ± {se:.0f} samples "
              f"(ε_opt / ε_max at batch {b}: {1 / (1 + bs / b):.3f}; at 256: {1 / (1 + bs / 256):.3f})", flush=True)


if __name__ == "__main__":
    main()
