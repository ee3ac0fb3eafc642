#!/usr/bin/env python3
"""How far each (sampler, steps) point lands from the solution its samplers approximate (issue 18, point 2).

    /tmp/torch-venv/bin/python Scripts/eval/sampler_convergence.py --pool /tmp/ldm-pool --ldm-edit .build/release/ldm-edit \
        --model M [--task inpaint|upscale] [--limit 8] [--points ddim@50,dpmpp-2m-karras@8,…] \
        [--reference dpmpp-2m-karras@100] [--work DIR] [--json out.json]

The deterministic samplers (DDIM with η = 0, DPM-Solver++(2M), Euler) are all solvers of one probability-flow ODE
(Song et al. 2021, "Score-Based Generative Modeling through SDEs", eq. 13; DDIM as its first-order solver: Song et al.
2021, "DDIM", §4.3; DPM-Solver++: Lu et al. 2022), started here from the same seed's noise. With more steps each one
converges to that ODE's solution, so two samplers at different step counts that give different fills are not two
equal choices: one is nearer the solution than the other. This script inpaints the quality.py eval crops (centre
square and strokes, seed 0) at every point and at a many-step --reference, and prints per point: hole PSNR and
detail against the ground truth (quality.py's measures) and the hole PSNR against the reference's fill (the
discretisation error: higher is nearer the ODE's solution). Putting a second many-step point of another sampler in
--points (ddim@200) checks that the reference has converged: the two should agree far more closely than any of the
candidates do. Outputs are cached in --work per point, so a cut-off run resumes. With --task upscale the same for
super-resolution: each crop downscaled 4x (bicubic) and upscaled, measured by Y-PSNR (4-pixel shave) and detail
against the ground truth and Y-PSNR against the reference's output. The JSON also holds the reference's own figures;
--plot draws the three measures against U-Net calls per sampler (--from-json redraws a saved run without running
anything).
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quality  # noqa: E402  (the crops, masks and measures of the eval)


def fill(args, point, stem, kind, gt, mask):
    """The ldm-edit fill of one crop and mask at `point` ("sampler@steps"), cached in --work."""
    sampler, steps = point.split("@")
    out = os.path.join(args.work, point, f"{stem}_{kind}.png")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        Image.fromarray(gt).save(f"{args.work}/img.png")
        Image.fromarray(mask).save(f"{args.work}/mask.png")
        quality.timed_run([args.ldm_edit, "inpaint", f"{args.work}/img.png", "--mask", f"{args.work}/mask.png", "--seed", "0",
                           "-o", out, "--overwrite", "-q", "--steps", steps, "--sampler", sampler, "--model", args.model])
    return np.asarray(Image.open(out).convert("RGB"))


def upscaled(args, point, stem, lr):
    """The ldm-edit 4x upscale of one low-res crop at `point`, cached in --work."""
    sampler, steps = point.split("@")
    out = os.path.join(args.work, point, f"{stem}_up.png")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        Image.fromarray(lr).save(f"{args.work}/lr.png")
        quality.timed_run([args.ldm_edit, "upscale", f"{args.work}/lr.png", "--seed", "0", "-o", out, "--overwrite", "-q",
                           "--steps", steps, "--sampler", sampler, "--model", args.model])
    return np.asarray(Image.open(out).convert("RGB"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--model", required=True, help="an inpainting or (--task upscale) super-resolution model")
    ap.add_argument("--task", choices=["inpaint", "upscale"], default="inpaint")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--points", default="ddim@25,ddim@50,ddim@100,ddim@200,dpmpp-2m-karras@5,dpmpp-2m-karras@6,dpmpp-2m-karras@8,dpmpp-2m-karras@10,dpmpp-2m-karras@15,dpmpp-2m-karras@20,dpmpp-2m-karras@25,dpmpp-2m-karras@50",
                    help="sampler@steps points (default: those of docs/quality.md's tables)")
    ap.add_argument("--reference", default="dpmpp-2m-karras@100",
                    help="the many-step run taken as the ODE's solution (default: DPM-Solver++(2M), Karras σ, 100 steps)")
    ap.add_argument("--work", default="/tmp/sampler_convergence", help="cache of the fills, one folder per point")
    ap.add_argument("--json", help="also write the per-point means here")
    ap.add_argument("--plot", help="also draw the measures against U-Net calls here (PNG)")
    ap.add_argument("--from-json", help="take the means from this file (a --json of an earlier run) instead of running")
    ap.add_argument("--default", help="with --plot: the point to mark as the default (sampler@steps)")
    ap.add_argument("--recipe", help="with --plot: the reference recipe's point, whose distance to the solution bounds the "
                                     "default's (ddim@100 for upscale, ddim@50 for inpaint)")
    args = ap.parse_args()
    if args.from_json:
        saved = json.load(open(args.from_json))
        plot(saved, args.plot, args.default, args.recipe)
        return
    points = args.points.split(",")
    rows = {p: [] for p in points}
    rows[args.reference] = []
    for index, (name, gt) in enumerate(quality.crops(args.pool, args.crop, args.limit)):
        stem = os.path.splitext(name)[0]
        if args.task == "upscale":
            lr = np.asarray(Image.fromarray(gt).resize((args.crop // 4, args.crop // 4), Image.BICUBIC))
            y = lambda a: quality.y_channel(a)[4:-4, 4:-4]
            reference = upscaled(args, args.reference, stem, lr)
            rows[args.reference].append([quality.psnr(y(reference), y(gt)), quality.detail(reference) / quality.detail(gt), float("inf")])
            for p in points:
                out = upscaled(args, p, stem, lr)
                rows[p].append([quality.psnr(y(out), y(gt)), quality.detail(out) / quality.detail(gt), quality.psnr(y(out), y(reference))])
            print(f"{stem} done", file=sys.stderr, flush=True)
            continue
        for kind, mask in (("centre", quality.centre_mask(args.crop)), ("strokes", quality.stroke_mask(args.crop, index))):
            hole = mask > 0
            reference = fill(args, args.reference, stem, kind, gt, mask)
            rows[args.reference].append([quality.psnr(reference[hole], gt[hole]), quality.detail(reference, hole) / quality.detail(gt, hole),
                                         float("inf")])
            for p in points:
                out = fill(args, p, stem, kind, gt, mask)
                rows[p].append([quality.psnr(out[hole], gt[hole]), quality.detail(out, hole) / quality.detail(gt, hole),
                                quality.psnr(out[hole], reference[hole])])
            print(f"{stem} {kind} done", file=sys.stderr, flush=True)
    first = "y_psnr" if args.task == "upscale" else "hole_psnr"
    means = {p: dict(zip([first, "detail", "psnr_to_reference"], map(float, np.mean(r, axis=0)))) for p, r in rows.items()}
    reference_figures = means.pop(args.reference)
    del reference_figures["psnr_to_reference"]
    what = "Y-PSNR" if args.task == "upscale" else "hole PSNR"
    print(f"| point | {what} (GT) | detail | {what} to {args.reference} |")
    print("|---|---:|---:|---:|")
    for p, m in means.items():
        print(f"| {p} | {m[first]:.2f} | {m['detail']:.3f} | {m['psnr_to_reference']:.2f} |")
    print(f"| {args.reference} (reference) | {reference_figures[first]:.2f} | {reference_figures['detail']:.3f} | — |")
    saved = {"task": args.task, "reference": args.reference, "crops": args.limit, "points": means,
             "reference_figures": reference_figures}
    if args.json:
        json.dump(saved, open(args.json, "w"), indent=1)
    if args.plot:
        plot(saved, args.plot, args.default, args.recipe)


def plot(saved, path, default=None, recipe=None):
    """Three panels against U-Net calls (one per step for every sampler here), a line per sampler: the GT PSNR and
    detail with the reference's figures and issue 18's tolerances around them (±0.2 dB, ±5 %), and the PSNR to the
    reference, with the recipe's distance as the bound the default may not fall under."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    task = saved.get("task", "inpaint")  # files from before --task were inpainting runs
    first = "y_psnr" if task == "upscale" else "hole_psnr"
    what = "Y-PSNR" if task == "upscale" else "hole PSNR"
    lines = {}
    for point, m in saved["points"].items():
        sampler, steps = point.split("@")
        lines.setdefault(sampler, []).append((int(steps), m))
    ref = saved.get("reference_figures")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    panels = [(first, f"{what} against the ground truth (dB)", 0.2, False), ("detail", "detail (ratio to the ground truth's)", 0.05, True),
              ("psnr_to_reference", f"{what} to {saved['reference']} (dB)", None, False)]
    for ax, (key, title, tolerance, relative) in zip(axes, panels):
        for sampler, runs in sorted(lines.items()):
            runs.sort(key=lambda r: r[0])
            ax.plot([r[0] for r in runs], [r[1][key] for r in runs], marker="o", label=sampler)
        if ref is not None and tolerance is not None:
            value = ref[key]
            low, high = (value * (1 - tolerance), value * (1 + tolerance)) if relative else (value - tolerance, value + tolerance)
            ax.axhspan(low, high, color="grey", alpha=0.2, label="reference ± tolerance")
            ax.axhline(value, color="grey", lw=1)
        if key == "psnr_to_reference" and recipe in saved["points"]:
            ax.axhline(saved["points"][recipe][key], color="grey", ls="--", lw=1, label=f"the recipe ({recipe})")
            ax.legend(fontsize=8)
        if default and default in saved["points"]:
            sampler, steps = default.split("@")
            ax.plot([int(steps)], [saved["points"][default][key]], marker="*", ms=16, color="black", ls="none", label=f"default ({default})")
        ax.set_xscale("log")
        ax.set_xlabel("steps (U-Net calls)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{task}: convergence to the probability-flow ODE's solution, {saved['crops']} eval crops", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
