#!/usr/bin/env python3
"""Does choosing one of K samples by their consensus buy hole PSNR without giving up detail?

    /tmp/torch-venv/bin/python Scripts/train/experiments/consensus_selection.py --pool /tmp/ldm-pool \
        --ldm-edit .build/release/ldm-edit --model Models/ldm-edit-inpaint.safetensors [--seeds 8] [--limit 8] \
        [--cache /tmp/consensus] [--sigma 0 4 8]

sample_spread.py split a sample's hole error into the bias of the model's posterior mean and the spread of its
samples around it: averaging samples removes the spread, and the detail with it. Selecting keeps a whole sample. The
minimum-Bayes-risk choice under squared error (Kumar & Byrne 2004) is the candidate with the least summed distance to
the others, Σ_j ‖x_i − x_j‖², which is the one nearest the K-sample mean; no ground truth is used. Distances are taken
over the hole on the samples low-passed by a Gaussian of σ pixels (σ 0: the full band), so that with σ > 0 the
choice is by composition and not by texture, which no two samples share. For each K ≤ --seeds (seeds 0..K−1) it
prints the mean over crops of hole PSNR, detail and seam: of a single sample (the mean over the K seeds, what one run
scores), of the consensus choice per σ, and of the oracle choice (the best against the ground truth: a bound, not a
method). Samples are cached in --cache (ldm-edit at its defaults, the crops and masks of Scripts/eval/quality.py).

--blend σ_b …: also the chosen sample (consensus at σ 4, what `ldm-edit inpaint --candidates` keeps) with its low
frequencies replaced by the K-sample mean's, blur(mean, σ_b) + sample − blur(sample, σ_b): the posterior mean where
the samples' spread lies (composition, colour) and one sample's texture, which the mean averages away. Outside the
hole every sample is the photo, so the blend leaves it as it is. With --preview-steps, also the mean of the previews
in place of the full samples' (what `--candidates` has at hand without sampling any seed twice).
"""
import argparse
import os
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "eval"))
from quality import centre_mask, crops, detail, psnr, seam, stroke_mask, timed_run  # noqa: E402


def consensus(samples, hole, sigma):
    """Index of the sample with the least summed squared distance to the others over the hole: samples [K, H, W, 3]."""
    x = np.stack([cv2.GaussianBlur(s, (0, 0), sigma) if sigma > 0 else s for s in samples.astype(np.float64)])[:, hole]
    d = ((x[:, None] - x[None]) ** 2).sum(axis=(2, 3))
    return int(np.argmin(d.sum(1)))


def blend(sample, samples, sigma):
    """sample with its Gaussian(σ) low-pass replaced by the samples' mean's: [H, W, 3] uint8 → uint8."""
    mean = samples.astype(np.float64).mean(0)
    x = sample.astype(np.float64)
    out = cv2.GaussianBlur(mean, (0, 0), sigma) + x - cv2.GaussianBlur(x, (0, 0), sigma)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--cache", default="/tmp/consensus")
    ap.add_argument("--sigma", type=float, nargs="+", default=[0, 4, 8])
    ap.add_argument("--args", default="", help="more `ldm-edit inpaint` options (split on spaces)")
    ap.add_argument("--preview-steps", type=int, nargs="*", default=[],
                    help="also choose by previews of each seed sampled with this many steps (the same probability-flow ODE "
                         "solved coarsely), scoring the full-step sample of the chosen seed")
    ap.add_argument("--blend", type=float, nargs="*", default=[],
                    help="also the consensus choice (σ 4) with the K-sample mean's low-pass of this σ in place of its own")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    tag = os.path.basename(args.model).replace(".safetensors", "") + args.args.replace(" ", "")
    ks = [k for k in (2, 4, 8, 16) if k <= args.seeds]
    rows = {}   # (kind, method, K) → list of (psnr, detail, seam) per crop
    for index, (name, gt) in enumerate(crops(args.pool, args.crop, args.limit)):
        Image.fromarray(gt).save(f"{args.cache}/img.png")
        for kind, mask in (("centre", centre_mask(args.crop)), ("strokes", stroke_mask(args.crop, index))):
            Image.fromarray(mask).save(f"{args.cache}/mask.png")
            hole = mask > 0
            def sample(seed, more=""):
                path = f"{args.cache}/{tag}{more.replace(' ', '')}_{name}_{kind}_{seed}.png"
                if not os.path.exists(path):
                    timed_run([args.ldm_edit, "inpaint", f"{args.cache}/img.png", "--mask", f"{args.cache}/mask.png", "--seed",
                               str(seed), "-o", path, "-q", "--model", args.model] + args.args.split() + more.split())
                return np.asarray(Image.open(path).convert("RGB"))
            samples = np.stack([sample(seed) for seed in range(args.seeds)])
            previews = {p: np.stack([sample(seed, f"--steps {p}") for seed in range(args.seeds)]) for p in args.preview_steps}
            gt_detail = detail(gt, hole)

            def figures(s):
                return psnr(s[hole], gt[hole]), detail(s, hole) / gt_detail, seam(s, gt, mask)
            every = [figures(s) for s in samples]
            for k in ks:
                rows.setdefault((kind, "one sample", k), []).append(np.mean(every[:k], axis=0))
                for sigma in args.sigma:
                    rows.setdefault((kind, f"consensus σ {sigma:g}", k), []).append(every[consensus(samples[:k], hole, sigma)])
                    for p, shown in previews.items():
                        rows.setdefault((kind, f"consensus σ {sigma:g} of {p}-step previews", k), []).append(
                            every[consensus(shown[:k], hole, sigma)])
                rows.setdefault((kind, "oracle", k), []).append(max(every[:k], key=lambda f: f[0]))
                chosen = samples[consensus(samples[:k], hole, 4)]
                for sigma in args.blend:
                    rows.setdefault((kind, f"consensus σ 4, low-pass σ {sigma:g} of the mean", k), []).append(
                        figures(blend(chosen, samples[:k], sigma)))
                    # What the previews alone give: the seed they choose, sampled at the full steps, on their mean.
                    for p, shown in previews.items():
                        rows.setdefault((kind, f"consensus σ 4 of {p}-step previews, low-pass σ {sigma:g} of their mean", k), []).append(
                            figures(blend(samples[consensus(shown[:k], hole, 4)], shown[:k], sigma)))
            print(f"{name} {kind}: PSNR per seed " + " ".join(f"{f[0]:.2f}" for f in every), flush=True)
    print("\n| mask | K | method | hole PSNR | detail | seam |\n|---|---:|---|---:|---:|---:|")
    for (kind, method, k), values in rows.items():
        m = np.mean(values, axis=0)
        print(f"| {kind} | {k} | {method} | {m[0]:.2f} | {m[1]:.3f} | {m[2]:.2f} |")


if __name__ == "__main__":
    main()
