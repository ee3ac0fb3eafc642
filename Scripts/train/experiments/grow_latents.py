#!/usr/bin/env python3
"""Experiment: grow the shipped first stage from z = 4 to z = 8 latent channels instead of training one from scratch.

    cd Scripts/train
    python experiments/grow_latents.py --pool P --first AE_DIR --out /tmp/grow8 --add 4 --steps 1500 [--freeze-old]
    python experiments/grow_latents.py --pool P --first AE_DIR --out /tmp/grow0 --add 0 --steps 1500   # the control
    python train_decoder.py --pool P --state /tmp/decgrow8 --autoencoder /tmp/grow8/autoencoder --steps 800
    python experiments/first_stage_latents.py --pool P --pair z4 /tmp/grow0 /tmp/decgrow0 --pair z8 /tmp/grow8 /tmp/decgrow8

Why: a first stage with z = 8 keeps +0.10–0.14 more detail at equal reconstruction PSNR (first_stage_latents.py,
docs/quality.md "More latent channels, measured"), but from scratch it orphans both U-Nets (~55 CPU-hours). Grown
from the shipped one, it starts as exactly that first stage: the encoder's conv_out gains `--add` output rows
(default init) and the decoder's conv_in the matching input columns at zero, so the new channels contribute nothing
until they learn to. With --freeze-old the old encoder (every weight, and conv_out's old rows) stays fixed, so the
first four latent channels are bit for bit the shipped latents and a U-Net trained on them keeps its meaning; the
decoder learns freely to use the new channels. Without it everything learns and the old channels may drift (printed).

Training: train_autoencoder.loss_fn, Adam at --lr with the same schedule (decayed to 10 % over the last 20 %), EMA
with warm-up; the same seed gives every arm the same batches. Writes OUT/autoencoder (the EMA weights) with the
shipped scaling factor: each new channel is rescaled in the encoder (and inversely in the decoder, which leaves the
function unchanged) so its standard deviation on training crops equals the old channels' mean one.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import EMA, Photos, decayed_lr, eval_crops, seed_everything  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from train_autoencoder import evaluate, loss_fn  # noqa: E402


def grown(first, add):
    """first with `add` more latent channels: a new encoder conv_out row per channel (default init), zero decoder
    conv_in columns, so grown(first, k)(x) == first(x)."""
    c = first.config
    ae = ConvAutoencoder(c["widths"], c["encoder_blocks"], c["decoder_blocks"], c["latent_channels"] + add,
                         c["scaling_factor"])
    z = c["latent_channels"]
    fresh = ae.state_dict()
    old = first.state_dict()
    for k, v in old.items():
        if k in ("encoder.conv_out.weight", "encoder.conv_out.bias"):
            fresh[k][:z] = v
        elif k == "decoder.conv_in.weight":
            fresh[k].zero_()
            fresh[k][:, :z] = v
        else:
            fresh[k] = v
    ae.load_state_dict(fresh)
    return ae


def freeze_old(ae, z):
    """Fixes the encoder but for conv_out's rows z…: their gradient is masked, so Adam never moves the old rows."""
    for name, p in ae.encoder.named_parameters():
        if not name.startswith("conv_out."):
            p.requires_grad_(False)
    mask_w = torch.ones_like(ae.encoder.conv_out.weight)
    mask_w[:z] = 0
    mask_b = torch.ones_like(ae.encoder.conv_out.bias)
    mask_b[:z] = 0
    ae.encoder.conv_out.weight.register_hook(lambda g: g * mask_w)
    ae.encoder.conv_out.bias.register_hook(lambda g: g * mask_b)


@torch.no_grad()
def balance_new_channels(ae, z, photos, batches=16):
    """Rescales channels z… to the old channels' mean standard deviation (encoder rows × r, decoder columns ÷ r)."""
    zs = torch.cat([ae.encode(photos.batch(8, 256)) for _ in range(batches)])
    std = zs.transpose(0, 1).flatten(1).std(dim=1)
    target = std[:z].mean()
    for ch in range(z, zs.shape[1]):
        r = float(target / std[ch])
        ae.encoder.conv_out.weight[ch] *= r
        ae.encoder.conv_out.bias[ch] *= r
        ae.decoder.conv_in.weight[:, ch] /= r
    return std.tolist()


@torch.no_grad()
def drift(first, ae, crops, z):
    """‖z_new[:, :z] − z_old‖ / ‖z_old‖ over the eval crops: how far the old channels moved."""
    num = den = 0.0
    for x in crops.split(4):
        a, b = first.encode(x), ae.encode(x)[:, :z]
        num += float(((b - a) ** 2).sum())
        den += float((a ** 2).sum())
    return (num / den) ** 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--first", required=True, help="the shipped first stage's folder (config.json + model.safetensors)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--add", type=int, default=4, help="latent channels to add (0: the same continuation, a control)")
    ap.add_argument("--freeze-old", action="store_true")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    first = ConvAutoencoder.load(args.first).eval()
    z = first.config["latent_channels"]
    ae = grown(first, args.add)
    if args.freeze_old:
        freeze_old(ae, z)
    crops = eval_crops(args.pool)
    print(f"start: first stage {evaluate(first, crops, torch.device('cpu')):.2f} dB, grown "
          f"{evaluate(ae.eval(), crops, torch.device('cpu')):.2f} dB (must be equal)", flush=True)
    ae.train()
    opt = torch.optim.Adam([p for p in ae.parameters() if p.requires_grad], lr=args.lr)
    ema = EMA(ae)
    photos = Photos(args.pool, args.crop, seed=args.seed)
    t0 = time.monotonic()
    for step in range(args.steps):
        progress = step / args.steps
        for g in opt.param_groups:
            g["lr"] = decayed_lr(args.lr, progress)
        x = photos.batch(args.batch)
        loss = loss_fn(ae(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(ae, step)
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{args.steps} loss {loss.item():.4f} {(time.monotonic() - t0) / (step + 1):.2f} s/step",
                  flush=True)
    out = ema.module.eval()
    stds = balance_new_channels(out, z, photos) if args.add else None
    psnr = evaluate(out, crops, torch.device("cpu"))
    print(f"end: {psnr:.2f} dB on {len(crops)} eval crops; old channels' drift {drift(first, out, crops, z):.4f}; "
          f"channel stds before balancing {stds}", flush=True)
    out.save(os.path.join(args.out, "autoencoder"))


if __name__ == "__main__":
    main()
