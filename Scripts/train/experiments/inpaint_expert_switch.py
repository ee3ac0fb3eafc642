#!/usr/bin/env python3
"""Experiment: sample the inpainting default (DPM-Solver++(2M) Karras 15) with model A for the first K steps and model
B for the rest, on the eval's 8 crops and masks, to see whether the high-noise steps (the hole's composition) and the
low-noise ones (its texture) can come from different U-Nets — A trained through the sampler toward the photo
(inpaint_trajectory.py: hole PSNR up, detail gone), B the kept model (detail).

    cd Scripts/train && python experiments/inpaint_expert_switch.py --pool /tmp/ldm-pool --a /tmp/inptraj-a.safetensors \
        --b ../../Models/ldm-edit-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit --switch 0,3,5,8,15

Sampled in PyTorch (diffusers' scheduler, the reference of ldm-edit's sampler; the initial noise is torch's, not
ldm-edit's, so K = 0 and K = 15 are the baselines to compare with, not ldm-edit's own figures). Figures as
Scripts/eval/quality.py computes them: hole PSNR and the hole's detail ratio, per mask, means over the crops.
Results (2026-12-05, docs/quality.md, "Trained through the sampler toward the photo"; A = inpaint_trajectory.py's
--pool-px 8 arm, B = the kept model; centre hole PSNR / detail): K = 0 / 3 / 5 / 8 / 15 → 13.05 / 0.640, 13.09 / 0.626,
13.21 / 0.599, 13.87 / 0.507, 15.20 / 0.171; with --renoise K = 3 / 5 / 8 → 12.66 / 0.685, 12.86 / 0.663, 13.88 /
0.515. All on one PSNR-for-detail line.
"""
import argparse
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "eval"))
from export import load_shipped  # noqa: E402
from quality import centre_mask, crops, detail, psnr, stroke_mask  # noqa: E402
from train_diffusion import inpaint_inputs  # noqa: E402
from unets import karras_dpm_scheduler  # noqa: E402


@torch.no_grad()
def fill(unet_a, unet_b, ae, photo, mask, switch, steps, seed, renoise=False):
    """photo [H, W, 3] uint8, mask [H, W] uint8 (255 = repaint) → the composited fill [H, W, 3] uint8."""
    scale = ae.config["scaling_factor"]
    hr = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1
    m = torch.from_numpy(mask > 0)[None, None].float()
    _, cond = inpaint_inputs(ae, scale, hr, m)
    scheduler = karras_dpm_scheduler("inpaint", steps)
    z = torch.randn((1, 4) + tuple(cond.shape[2:]), generator=torch.Generator().manual_seed(seed))
    if renoise:
        # A's whole run, its result noised afresh to step `switch`'s level, B from there (SDEdit at that strength).
        for t in scheduler.timesteps:
            z = scheduler.step(unet_a(torch.cat([z, cond], 1), t[None]).sample, t, z).prev_sample
        if switch == steps:
            return decoded(ae, z, scale, photo, mask)
        fresh = torch.randn(z.shape, generator=torch.Generator().manual_seed(seed + 1))
        scheduler = karras_dpm_scheduler("inpaint", steps)
        z = scheduler.add_noise(z, fresh, scheduler.timesteps[switch:switch + 1])
    for i, t in enumerate(scheduler.timesteps):
        if renoise and i < switch:
            continue
        unet = unet_a if i < switch else unet_b
        z = scheduler.step(unet(torch.cat([z, cond], 1), t[None]).sample, t, z).prev_sample
    return decoded(ae, z, scale, photo, mask)


def decoded(ae, z, scale, photo, mask):
    """The final latent z [1, 4, h, w] (scaled) decoded and pasted into the hole of photo → [H, W, 3] uint8."""
    out = ((ae.decode(z / scale)[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    return np.where((mask > 0)[..., None], out, photo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--a", required=True, help="the model of the first K steps")
    ap.add_argument("--b", required=True, help="the model of the rest")
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--switch", default="0,3,5,8,15", help="values of K")
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--renoise", action="store_true",
                    help="A runs all the steps, its result is noised afresh to step K's level, B runs the steps from K")
    args = ap.parse_args()
    ae, unet_a = load_shipped(args.a, "inpaint-192", args.ldm_edit)
    _, unet_b = load_shipped(args.b, "inpaint-192", args.ldm_edit)
    images = list(crops(args.pool, 256, args.limit))
    print("| K (steps of A) | centre hole PSNR / detail | strokes hole PSNR / detail |\n|---:|---|---|")
    for switch in [int(k) for k in args.switch.split(",")]:
        figures = {"centre": [], "strokes": []}
        for index, (_, gt) in enumerate(images):
            for kind, mask in (("centre", centre_mask(256)), ("strokes", stroke_mask(256, index))):
                out = fill(unet_a, unet_b, ae, gt, mask, switch, args.steps, args.seed, args.renoise)
                hole = mask > 0
                figures[kind].append((psnr(out[hole], gt[hole]), detail(out, hole) / detail(gt, hole)))
        cells = [f"{np.mean([f[0] for f in figures[k]]):.2f} / {np.mean([f[1] for f in figures[k]]):.3f}"
                 for k in ("centre", "strokes")]
        print(f"| {switch} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
