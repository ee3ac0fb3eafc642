#!/usr/bin/env python3
"""How much of the inpainting model's hole error is the spread of its samples, and how much its mean being wrong.

    /tmp/torch-venv/bin/python Scripts/train/experiments/sample_spread.py --pool /tmp/ldm-pool \
        --ldm-edit .build/release/ldm-edit --model Models/ldm-edit-inpaint.safetensors [--seeds 4] [--limit 8]

Issue 16 asks for hole PSNR ≥ Telea − 1 dB *and* detail 0.6–1.3. A sample from a posterior has error
E‖x − gt‖² = ‖μ − gt‖² (bias: the posterior mean μ is wrong) + E‖x − μ‖² (spread: what differs from sample to sample);
a smooth fill such as Telea's carries no spread but no detail either. With K samples x_1..x_K (seeds 0..K−1, same
crops and masks as Scripts/eval/quality.py, ldm-edit at its defaults), per hole:
  spread  s² = K/(K−1) · mean_i ‖x_i − x̄‖²        (unbiased estimate of E‖x − μ‖²)
  bias    b² = ‖x̄ − gt‖² − s²/K                   (x̄'s error less the spread left in a K-sample mean)
and each is reported as a PSNR over the hole (mean over crops, as quality.py averages): a single sample, the K-sample
mean, the posterior mean (b² alone: the best any sampler of this model could score by averaging), and Telea.
If the posterior-mean PSNR clears Telea − 1 but single samples do not, the gap is the spread that detail costs; if
it does not, the model's mean is wrong and only a better model closes it.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "eval"))
from quality import centre_mask, crops, detail, stroke_mask, telea, timed_run  # noqa: E402


def to_psnr(mse):
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    rows = []
    for index, (name, gt) in enumerate(crops(args.pool, args.crop, args.limit)):
        Image.fromarray(gt).save(f"{tmp}/img.png")
        for kind, mask in (("centre", centre_mask(args.crop)), ("strokes", stroke_mask(args.crop, index))):
            Image.fromarray(mask).save(f"{tmp}/mask.png")
            hole = mask > 0
            samples = []
            for seed in range(args.seeds):
                timed_run([args.ldm_edit, "inpaint", f"{tmp}/img.png", "--mask", f"{tmp}/mask.png", "--seed", str(seed),
                           "-o", f"{tmp}/in.png", "--overwrite", "-q", "--model", args.model])
                samples.append(np.asarray(Image.open(f"{tmp}/in.png").convert("RGB")).astype(np.float64))
            x = np.stack(samples)                      # [K, H, W, 3]
            g = gt.astype(np.float64)
            mean = x.mean(0)
            k = args.seeds
            single = np.mean([np.mean((s[hole] - g[hole]) ** 2) for s in x])
            spread = k / (k - 1) * np.mean((x[:, hole] - mean[hole]) ** 2)
            mean_err = np.mean((mean[hole] - g[hole]) ** 2)
            bias = max(mean_err - spread / k, 1e-12)
            telea_err = np.mean((telea(gt, mask)[hole].astype(np.float64) - g[hole]) ** 2)
            d_single = np.mean([detail(s.round().astype(np.uint8), hole) for s in x]) / detail(gt, hole)
            d_mean = detail(mean.round().astype(np.uint8), hole) / detail(gt, hole)
            rows.append((name, kind, to_psnr(single), to_psnr(mean_err), to_psnr(bias), to_psnr(spread), to_psnr(telea_err),
                         d_single, d_mean))
            print(f"{name} {kind}: single {rows[-1][2]:.2f} dB, {k}-mean {rows[-1][3]:.2f}, posterior mean {rows[-1][4]:.2f}, "
                  f"spread {rows[-1][5]:.2f}, Telea {rows[-1][6]:.2f}; detail {d_single:.2f} / {d_mean:.2f}", flush=True)
    print(f"\n| mask | one sample | {args.seeds}-sample mean | posterior mean (bias only) | spread as PSNR | Telea | Telea − 1 "
          f"| detail: one sample | detail: {args.seeds}-sample mean |\n|---|" + "---:|" * 8)
    for kind in ("centre", "strokes"):
        m = np.mean([r[2:] for r in rows if r[1] == kind], axis=0)
        print(f"| {kind} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.2f} | {m[4]:.2f} | {m[4] - 1:.2f} | {m[5]:.2f} | {m[6]:.2f} |")


if __name__ == "__main__":
    main()
