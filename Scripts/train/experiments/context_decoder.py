#!/usr/bin/env python3
"""Experiment: an inpainting decoder that also sees the known pixels (the masked image and the mask).

    cd Scripts/train
    # arms with the same seed and batches, one thread each (the control differs only in having no context branch;
    # add --freeze-decoder to the first for the branch alone):
    python experiments/context_decoder.py train --pool /tmp/ldm-pool --model ../../Models/ldm-edit-inpaint.safetensors \
        --disc /tmp/decgrow0/state.pt --out /tmp/ctxdec --context --seconds 2400 &
    python experiments/context_decoder.py train --pool /tmp/ldm-pool --model ../../Models/ldm-edit-inpaint.safetensors \
        --disc /tmp/decgrow0/state.pt --out /tmp/ctxdec0 --seconds 2400 &
    wait
    python experiments/context_decoder.py eval --pool /tmp/ldm-pool --model ../../Models/ldm-edit-inpaint.safetensors \
        --ldm-edit ../../.build/release/ldm-edit --decoders /tmp/ctxdec0 /tmp/ctxdec [--limit 8]

Why: both remaining inpainting detail figures stand at the first stage's ceiling (docs/quality.md, "The same ceiling in
the inpainting holes": the truth encoded and decoded scores 0.535 detail in the eval's 16-pixel strokes), and the
decoder rebuilds every pixel of the hole from four latent channels, though the pixels beside a thin hole hold the
texture it lacks. Zhu et al. 2023 ("Designing a Better Asymmetric VQGAN for StableDiffusion", §3.2) give Stable
Diffusion's inpainting decoder a conditional branch on the masked image for this. Here the branch is small and our own:
[masked image (the hole black, as the U-Net's conditioning is made), mask in ±1] at full resolution → a conv and a
ResBlock per decoder level (widths --context-widths, stride-2 convs between levels) → a zero-initialised 1×1 conv added
to the decoder's features at that level before its blocks, and once more at full resolution before `conv_out`. Zero
initialisation makes the context decoder start as the shipped decoder exactly; the encoder, the latents and the U-Net
are untouched (an inpainting model would carry this decoder, the SR model the shared one).

Objective, the same in both arms: the decoder phase's (train_decoder.py: the first stage's L1 + edge loss on the whole
reconstruction + λ · hinge loss of a patch discriminator, λ the adaptive weight × 0.5), plus the same L1 + edge loss on
the composite (the known pixels pasted back, as ldm-edit returns a fill) normalised by the hole's area, so that the hole
and its seam count as much as the rest; the discriminator judges composites. Latents: the encoded truth (what a perfect
U-Net would place), masks: train_diffusion.random_masks at the crop size. The discriminator starts from --disc's
(a decoder phase's state) and learns alone for --disc-warmup steps.

`eval` measures each decoder on quality.py's held-out crops and masks (centre square, strokes 16 and 8 pixels): the
truth's latents decoded and pasted (the ceiling), and the kept U-Net's own fills (DPM-Solver++(2M) Karras 15,
ldm-edit's default, seed 0; the latents cached in --cache, the same for every decoder) decoded and pasted; hole PSNR,
detail and seam as quality.py computes them. The shipped decoder is the first row.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from common import EMA, Photos, seed_everything  # noqa: E402
from conv_autoencoder import ConvAutoencoder, ResBlock  # noqa: E402
from train_autoencoder import adopt_shipped, loss_fn  # noqa: E402
from train_decoder import PatchDiscriminator, hinge_gan_update  # noqa: E402
from train_diffusion import random_masks  # noqa: E402


class ContextBranch(nn.Module):
    """[N, 4, H, W] (masked image, mask in ±1) → per decoder level l: [N, widths[l], H/2^l, W/2^l] (zero at the start),
    and one more full-resolution map [N, widths[0], H, W] for before the decoder's conv_out."""

    def __init__(self, widths, context_widths):
        super().__init__()
        self.conv_in = nn.Conv2d(4, context_widths[0], 3, padding=1)
        self.blocks = nn.ModuleList(ResBlock(c) for c in context_widths)
        self.down = nn.ModuleList(nn.Conv2d(context_widths[i], context_widths[i + 1], 3, stride=2, padding=1)
                                  for i in range(len(context_widths) - 1))
        self.inject = nn.ModuleList(nn.Conv2d(c, w, 1) for c, w in zip(context_widths, widths))
        self.inject_out = nn.Conv2d(context_widths[0], widths[0], 1)
        for conv in [*self.inject, self.inject_out]:
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

    def forward(self, x):
        h = self.conv_in(x)
        feats = []
        for level, block in enumerate(self.blocks):
            h = block(h)
            feats.append(h)
            if level < len(self.down):
                h = self.down[level](h)
        return [inj(f) for inj, f in zip(self.inject, feats)], self.inject_out(feats[0])


class ContextDecoder(nn.Module):
    """The first stage's decoder with a ContextBranch (or without one: the control, which is the decoder alone).
    z: [N, z, H/4, W/4] (unscaled), masked: [N, 3, H, W] in [−1, 1], mask: [N, 1, H, W] (1 = repaint) → [N, 3, H, W]."""

    def __init__(self, decoder, widths, context_widths=None):
        super().__init__()
        self.decoder = decoder
        self.branch = ContextBranch(widths, context_widths) if context_widths else None

    def forward(self, z, masked, mask):
        d = self.decoder
        if self.branch is None:
            return d(z)
        feats, out_feat = self.branch(torch.cat([masked, mask * 2 - 1], 1))
        h = d.conv_in(z)
        for level in reversed(range(len(d.blocks))):
            h = h + feats[level]
            for b in d.blocks[level]:
                h = b(h)
            if level > 0:
                h = d.up[level - 1](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return d.conv_out(F.silu(h + out_feat))

    def save(self, folder, record):
        os.makedirs(folder, exist_ok=True)
        torch.save(self.state_dict(), os.path.join(folder, "decoder.pt"))
        json.dump(record, open(os.path.join(folder, "record.json"), "w"), indent=1)


def masked_image(x, mask):
    """As the U-Net's conditioning is made (train_diffusion.inpaint_inputs): the hole black. [N, 3, H, W] → same."""
    return (1 - mask) * ((x + 1) / 2) * 2 - 1


def first_stage(model, folder):
    if not os.path.exists(os.path.join(folder, "config.json")):
        adopt_shipped(model, folder)
    return ConvAutoencoder.load(folder).eval()


def build(ae, context_widths):
    return ContextDecoder(ae.decoder, ae.config["widths"], context_widths)


def train(args):
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    ae = first_stage(args.model, os.path.join(args.out, "first_stage"))
    ae.requires_grad_(False)
    net = build(ae, args.context_widths if args.context else None)
    net.requires_grad_(True)
    if args.freeze_decoder:   # the shared decoder stays as shipped; only the context branch learns
        net.decoder.requires_grad_(False)
    disc = PatchDiscriminator(32)
    disc.load_state_dict(torch.load(args.disc, map_location="cpu", weights_only=False)["modules"]["disc"])
    opt_g = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=args.lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.9))
    ema = EMA(net)
    photos = Photos(args.pool, args.crop, seed=args.seed)
    mask_rng = np.random.default_rng(args.seed + 1)
    t0, step, log = time.monotonic(), 0, []
    # The adaptive weight's reference layer: the last one that learns.
    last = net.branch.inject_out.weight if args.freeze_decoder else net.decoder.conv_out.weight
    while time.monotonic() - t0 < args.seconds and step < args.steps:
        x = photos.batch(args.batch)
        m = random_masks(args.batch, args.crop, mask_rng)
        with torch.no_grad():
            z = ae.encode(x)
        masked = masked_image(x, m)
        adversarial = step >= args.disc_warmup
        with torch.set_grad_enabled(adversarial):
            rec = net(z, masked, m)
            comp = m * rec + (1 - m) * x
            area = m.mean().clamp(min=1e-3)
            rec_loss = loss_fn(rec, x) + loss_fn(comp, x) / area
        adv_loss, weight, d_loss = hinge_gan_update(rec_loss, comp, x, disc, opt_g, opt_d, last, args.adv_weight, adversarial,
                                                    ema, net, step - args.disc_warmup)
        step += 1
        if step % 25 == 0:
            entry = {"step": step, "s": round(time.monotonic() - t0), "rec": rec_loss.item(), "adv": adv_loss.item(),
                     "lambda": weight.item(), "disc": d_loss.item()}
            log.append(entry)
            print(json.dumps(entry), flush=True)
    ema.module.save(args.out, {"context": bool(args.context), "decoder_frozen": bool(args.freeze_decoder),
                               "context_widths": args.context_widths if args.context else None,
                               "steps": step, "adversarial_steps": max(0, step - args.disc_warmup), "crop": args.crop,
                               "batch": args.batch, "seconds": round(time.monotonic() - t0), "log": log[-20:]})
    print(f"saved {args.out} after {step} steps", flush=True)


def load_decoder(ae, folder):
    """(name, decoder) from a train run's folder; the shipped decoder for 'shipped'."""
    if folder == "shipped":
        return "shipped", build(ae, None).eval()
    record = json.load(open(os.path.join(folder, "record.json")))
    net = build(ConvAutoencoder.load(os.path.join(folder, "first_stage")), record["context_widths"])
    net.load_state_dict(torch.load(os.path.join(folder, "decoder.pt"), weights_only=True))
    kind = ("context" if record["context"] else "control") + (", decoder frozen" if record.get("decoder_frozen") else "")
    return f"{os.path.basename(folder)} ({kind}, {record['steps']} steps)", net.eval()


@torch.no_grad()
def evaluate(args):
    torch.set_num_threads(args.threads)
    from inpaint_lab import Lab, to_tensor
    from quality import centre_mask, crops, detail, psnr, seam, stroke_mask
    lab = Lab.load(args)
    decoders = [load_decoder(lab.ae, f) for f in ["shipped", *args.decoders]]
    os.makedirs(args.cache, exist_ok=True)
    rows = {}
    for index, (name, gt) in enumerate(crops(args.pool, 256, args.limit)):
        x = to_tensor(gt)
        z_true = lab.ae.encode(x)
        for kind, mask in (("centre", centre_mask(256)), ("strokes 16 px", stroke_mask(256, index)),
                           ("strokes 8 px", stroke_mask(256, index, 8))):
            hole = mask > 0
            m = torch.from_numpy(hole.astype(np.float32))[None, None]
            path = os.path.join(args.cache, f"{name}-{kind.replace(' ', '')}.pt")
            if not os.path.exists(path):
                noise = torch.randn(z_true.shape, generator=torch.Generator().manual_seed(0))
                torch.save(lab.dpmpp_karras(noise, lab.condition(gt, hole)) / lab.scale, path)
            z_fill = torch.load(path, weights_only=True)
            for dname, net in decoders:
                for source, z in (("truth", z_true), ("fill", z_fill)):
                    rec = ((net(z, masked_image(x, m), m).clamp(-1, 1)[0].permute(1, 2, 0).numpy() + 1) * 127.5).round()
                    out = gt.copy()
                    out[hole] = rec.astype(np.uint8)[hole]
                    rows.setdefault((dname, source, kind), []).append(
                        (psnr(out[hole], gt[hole]), detail(out, hole) / detail(gt, hole), seam(out, gt, mask)))
        print(f"{name} done", flush=True)
    print("| decoder | latents | mask | hole PSNR | detail | seam | PSNR per crop |")
    print("|---|---|---|---:|---:|---:|---|")
    for (dname, source, kind), r in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        p, d, s = np.mean(r, axis=0)
        print(f"| {dname} | {source} | {kind} | {p:.2f} | {d:.3f} | {s:.2f} | {' '.join(f'{v[0]:.1f}' for v in r)} |")
    json.dump({" / ".join(k): v for k, v in rows.items()}, open(os.path.join(args.cache, "figures.json"), "w"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    e = sub.add_parser("eval")
    for p in (t, e):
        p.add_argument("--pool", required=True)
        p.add_argument("--model", required=True, help="the inpainting model file whose first stage is used")
        p.add_argument("--threads", type=int, default=1)
    t.add_argument("--out", required=True)
    t.add_argument("--disc", required=True, help="a decoder phase's state.pt (train_decoder.py) to start the discriminator from")
    t.add_argument("--context", action="store_true", help="add the context branch (without: the control)")
    t.add_argument("--freeze-decoder", action="store_true", help="train the context branch only (with --context)")
    t.add_argument("--context-widths", type=int, nargs="+", default=[16, 32, 32])
    t.add_argument("--steps", type=int, default=100000)
    t.add_argument("--seconds", type=float, default=2400)
    t.add_argument("--disc-warmup", type=int, default=50)
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--crop", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--adv-weight", type=float, default=0.5)
    t.add_argument("--seed", type=int, default=0)
    e.add_argument("--ldm-edit", required=True)
    e.add_argument("--decoders", nargs="*", default=[])
    e.add_argument("--limit", type=int, default=8)
    e.add_argument("--cache", default="/tmp/ctxdec-fills")
    args = ap.parse_args()
    train(args) if args.command == "train" else evaluate(args)


if __name__ == "__main__":
    main()
