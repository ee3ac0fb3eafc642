#!/usr/bin/env python3
"""Experiment: autoguidance, a U-Net guided by a weaker version of itself at sampling time.

    /tmp/torch-venv/bin/python Scripts/train/experiments/autoguidance.py --pool /tmp/ldm-pool \
        --ldm-edit .build/release/ldm-edit --model Models/ldm-edit-inpaint.safetensors \
        --bad /tmp/inp-f7cb48f.safetensors --bad-size inpaint-192 --weights 1 1.25 1.5 2 [--unsharp 0.25 0.5] [--limit 8]
    # the weaker inpainting models are earlier kept partials: git show f7cb48f:Models/training/ldm-edit-inpaint.safetensors
    # (step 42,283, inpaint-192), 2d99bc3 (49,489, inpaint-192), be72423 (30,000, inpaint-48), 5c2a8e6 (16,500, inpaint-48)

    # SR: the guide is a small U-Net trained briefly on the shipped first stage's latents (the lineage's states are gone):
    cd Scripts/train && OMP_NUM_THREADS=1 python train_diffusion.py --task sr --size sr-16 \
        --autoencoder ~/.cache/ldm-edit-train/decoder/autoencoder --pool /tmp/ldm-pool --state /tmp/sr16 --steps 8000
    python experiments/autoguidance.py --task sr --pool /tmp/ldm-pool --ldm-edit ../../.build/release/ldm-edit \
        --model ../../Models/ldm-edit-sr.safetensors --bad /tmp/sr16/state.pt --bad-size sr-16 --weights 1 1.5 2 3 \
        --unsharp 0.5 1
    # the grid in docs/quality.md, from the runs' outputs (tags: the task, the guide file's name or state folder, and w):
    python experiments/autoguidance.py --compose ../../docs/images/autoguidance_inpaint.jpg --columns inpaint_inp-5c2a8e6_w1 \
        inpaint_inp-be72423_w1.5 inpaint_inp-be72423_w2 inpaint_inp-f7cb48f_w2 --rows kodak_I06.png:centre kodak_I19.png:centre kodak_I04.png:strokes

Why: every lever tried on the sampler so far moved the fills along one perception–distortion line (docs/quality.md:
fewer steps, coarse-to-fine and consensus towards PSNR and smoothness, stochastic samplers and the energy terms towards
detail and speckle). Classifier-free guidance leaves that line in image models, but these U-Nets have no unconditional
branch. Autoguidance (Karras, Aittala, Kynkäänniemi, Lehtinen, Laine, Aila, "Guiding a diffusion model with a bad
version of itself", NeurIPS 2024, eq. 1 with the unconditional model replaced) guides with a smaller, less-trained
model of the same task instead: D_w = D_bad + w · (D_good − D_bad). Where both models agree (what the bad one has
already learnt: the coarse, likely content), nothing changes; where the good one has learnt more, the step goes
further that way. The paper reports it as the remedy for exactly the "outlier" samples a model of limited capacity
draws between the data's modes, which is how the patchwork fills read. The weaker models are this project's own
earlier kept partials, trained on the same first stage (the encoder never changed after its phase), schedule and
conditioning.

Both U-Nets of a task predict v; with the same z_t, ẑ₀ = √ᾱ z_t − √(1−ᾱ) v̂ is affine in v̂, so guiding v̂ with weights that sum
to one guides ẑ₀ (the paper's D) identically. Sampled with DPM-Solver++(2M) Karras (`ldm-edit`'s default for these
models: 15 steps inpainting, 8 SR; diffusers' scheduler as unets.karras_dpm_scheduler builds it), decoded by --model's
first stage. Inpainting: seed 0's noise for every case as context_decoder.py draws it (its w = 1 row reproduces
`ldm-edit`'s figures for the kept model), the fill pasted into the hole, hole PSNR, detail and seam as
Scripts/eval/quality.py computes them. SR: seed = the crop's index as sr_blur_guidance.py draws it, Y-PSNR,
LR-consistency and detail as quality.py computes them. w = 1 is the good model alone, w = 0 the bad one; each other w
costs two U-Net calls per step. The honest baseline for detail gained is sharpening (the lesson of
sr_blur_guidance.py): --unsharp A... also reports the w = 1 output through an unsharp mask (inside the hole for
inpainting). Outputs go to --out for the grids.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from inpaint_lab import Lab, arguments, cases  # noqa: E402
from export import load_shipped  # noqa: E402
from quality import detail, psnr, seam  # noqa: E402
from quality import crops, upscale_figures  # noqa: E402
from sr_blur_guidance import unsharp  # noqa: E402
from unets import CANDIDATES, build, karras_dpm_scheduler  # noqa: E402


@torch.no_grad()
def guided_sample(good, bad, w, noise, cond, steps, task):
    """DPM-Solver++(2M) Karras on v̂ = v̂_bad + w (v̂_good − v̂_bad), [z_t, cond] the U-Nets' input.
    noise: [1, 4, h, w]; cond: [1, 5, h, w] (inpainting) or [1, 3, h, w] (SR, the low-res image) → z₀ [1, 4, h, w]."""
    scheduler = karras_dpm_scheduler(task, steps)
    z = noise * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        x = torch.cat([scheduler.scale_model_input(z, t), cond], 1)
        v = good(x, t[None]).sample if w != 0 else 0
        if w != 1:
            v_bad = bad(x, t[None]).sample
            v = v_bad + w * (v - v_bad) if w != 0 else v_bad
        z = scheduler.step(v, t, z).prev_sample
    return z


def load_bad(path, size, ldm_edit):
    """(first stage or None, U-Net) of the guide: a model file in ldm-edit's format, or a train_diffusion.py state
    (its EMA U-Net; it has no first stage of its own: the caller's is the one it trained on)."""
    if path.endswith(".pt"):
        unet = build(*CANDIDATES[size])
        unet.load_state_dict(torch.load(path, weights_only=False)["modules"]["ema"])
        return None, unet.eval()
    return load_shipped(path, size, ldm_edit)


def table(title, header, rows):
    print(f"\n{title}\n| {' | '.join(header)} |\n|{'---|' * len(header)}")
    for key, figures in rows.items():
        print(f"| {' | '.join(key)} | " + " | ".join(f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}" for v in figures) + " |")


def inpaint(args, tag):
    lab = Lab.load(args)
    torch.set_num_threads(args.threads)
    bad_ae, bad = load_bad(args.bad, args.bad_size, args.ldm_edit)
    if bad_ae is not None:
        probe = torch.rand(1, 3, 64, 64) * 2 - 1
        drift = ((bad_ae.encode(probe) - lab.ae.encode(probe)).norm() / lab.ae.encode(probe).norm()).item()
        print(f"encoders' relative difference on a random image: {drift:.2e} (the latents must mean the same)", flush=True)
    rows = {}
    for name, gt, kind, mask, hole in cases(args.pool, args.limit):
        cond = lab.condition(gt, hole)
        noise = torch.randn((1, 4, 64, 64), generator=torch.Generator().manual_seed(0))
        gt_detail = detail(gt, hole)

        def figures(out):
            return psnr(out[hole], gt[hole]), detail(out, hole) / gt_detail, seam(out, gt, mask)
        for w in args.weights:
            out = gt.copy()
            out[hole] = lab.decode(guided_sample(lab.unet, bad, w, noise, cond, args.steps, "inpaint"))[hole]
            Image.fromarray(out).save(os.path.join(args.out, f"{tag}_w{w:g}_{name}_{kind}.png"))
            rows.setdefault((kind, f"w {w:g}"), []).append(figures(out))
            if w == 1:
                for amount in args.unsharp:
                    sharp = gt.copy()
                    sharp[hole] = unsharp(out, amount)[hole]
                    rows.setdefault((kind, f"w 1 + unsharp {amount:g}"), []).append(figures(sharp))
        print(f"{name} {kind}: " + "  ".join(f"{k[1]} {r[-1][0]:.2f}/{r[-1][1]:.3f}" for k, r in rows.items() if k[0] == kind),
              flush=True)
    table(f"guide: {args.bad} ({args.bad_size}); {args.limit} crops, Karras {args.steps}, seed 0",
          ["mask", "arm", "hole PSNR", "detail", "seam"], {k: np.mean(v, axis=0) for k, v in sorted(rows.items())})
    return rows


def upscale(args, tag):
    torch.set_num_threads(args.threads)
    ae, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    _, bad = load_bad(args.bad, args.bad_size, args.ldm_edit)
    scale = ae.config["scaling_factor"]
    named = list(crops(args.pool, 256, args.limit))
    rows = {}
    for index, (name, gt) in enumerate(named):
        lr = np.asarray(Image.fromarray(gt).resize((64, 64), Image.BICUBIC))
        cond = torch.from_numpy(lr.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
        noise = torch.randn((1, 4, 64, 64), generator=torch.Generator().manual_seed(index))
        for w in args.weights:
            z = guided_sample(unet, bad, w, noise, cond, args.steps, "sr")
            out = ((ae.decode(z / scale)[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
            Image.fromarray(out).save(os.path.join(args.out, f"{tag}_w{w:g}_{name}"))
            rows.setdefault(("upscale", f"w {w:g}"), []).append(upscale_figures(out, gt, lr, 256))
            if w == 1:
                for amount in args.unsharp:
                    rows.setdefault(("upscale", f"w 1 + unsharp {amount:g}"), []).append(
                        upscale_figures(unsharp(out, amount), gt, lr, 256))
        print(f"{name}: " + "  ".join(f"{k[1]} {r[-1][0]:.2f}/{r[-1][2]:.2f}/{r[-1][3]:.3f}" for k, r in rows.items()),
              flush=True)
    table(f"guide: {args.bad} ({args.bad_size}); {args.limit} crops, Karras {args.steps}, seed = crop index",
          ["task", "arm", "Y-PSNR", "SSIM", "LR-consistency", "detail"], {k: np.mean(v, axis=0) for k, v in rows.items()})
    return rows


def compose(args):
    """The grid of docs/quality.md: --rows (image:mask) × --columns (output tags of earlier runs in --out), each the
    hole's surroundings (the 256 crop's centre 160²) at 1.5× → a JPEG at --compose."""
    rows = []
    for row in args.rows:
        name, kind = row.split(":")
        tiles = [np.asarray(Image.open(os.path.join(args.out, f"{c}_{name}_{kind}.png")).convert("RGB"))[48:208, 48:208]
                 for c in args.columns]
        rows.append(np.concatenate(tiles, 1))
    grid = Image.fromarray(np.concatenate(rows, 0))
    grid.resize((grid.width * 3 // 2, grid.height * 3 // 2), Image.NEAREST).save(args.compose, quality=90)


@torch.no_grad()
def main():
    if "--compose" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--compose", required=True, help="write the grid of earlier runs' outputs here")
        ap.add_argument("--out", default="/tmp/autoguidance")
        ap.add_argument("--columns", nargs="+", required=True, help="output tags, e.g. inpaint_inp-be72423_w1.5")
        ap.add_argument("--rows", nargs="+", required=True, help="image:mask, e.g. kodak_I06.png:centre")
        return compose(ap.parse_args())
    ap = arguments(__doc__)
    ap.add_argument("--task", choices=["inpaint", "sr"], default="inpaint")
    ap.add_argument("--bad", required=True, help="the weaker model: a file in ldm-edit's format or a train_diffusion.py state.pt")
    ap.add_argument("--bad-size", required=True, help="its U-Net size (unets.CANDIDATES)")
    ap.add_argument("--weights", type=float, nargs="+", default=[1, 1.25, 1.5, 2])
    ap.add_argument("--unsharp", type=float, nargs="*", default=[], help="amounts of the sharpening baseline on w = 1")
    ap.add_argument("--steps", type=int, help="sampling steps (default: ldm-edit's, 15 inpainting, 8 SR)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="/tmp/autoguidance")
    args = ap.parse_args()
    args.steps = args.steps or (15 if args.task == "inpaint" else 8)
    os.makedirs(args.out, exist_ok=True)
    tag = args.task + "_" + os.path.basename(os.path.dirname(args.bad) if args.bad.endswith(".pt") else args.bad).replace(".safetensors", "")
    rows = (inpaint if args.task == "inpaint" else upscale)(args, tag)
    json.dump({" / ".join(k): v for k, v in rows.items()}, open(os.path.join(args.out, f"{tag}_figures.json"), "w"))


if __name__ == "__main__":
    main()
