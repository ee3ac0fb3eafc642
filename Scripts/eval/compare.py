#!/usr/bin/env python3
"""Two quality.py runs on the same crops, compared image by image.

    python Scripts/eval/compare.py A.json B.json [--label-a kept --label-b step-55000]

A and B are `quality.py --json` files of two models (or two settings) measured on the same images, masks and seed.
The 8 eval crops differ from one another far more than two checkpoints differ on any one of them (centre hole PSNR
per crop spans 9–20 dB), so two means are compared through the paired differences B − A: their mean, its standard
error sd / √n, a 95 % interval from Student's t with n − 1 degrees of freedom, and on how many images B is higher.
An interval that holds 0 means the 8 crops cannot tell the two apart. Then each run's targets (issue 16,
Scripts/eval/targets.py), met or short, and the sum of the shortfalls Scripts/train/ship.py ranks by (without the
first stage's, which quality.py does not measure).
"""
import argparse
import json
import math
import sys

from targets import named_shortfalls

# Two-sided 95 % quantiles of Student's t for 1 … 30 degrees of freedom (any statistics table); 1.96 beyond.
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
FIGURES = {"inpaint": ("psnr", "detail", "seam"), "upscale": ("y_psnr", "lr_psnr", "detail")}


def paired(a, b):
    """(mean of b − a, standard error of that mean, half-width of its 95 % interval, count of b > a) over pairs."""
    d = [y - x for x, y in zip(a, b)]
    n = len(d)
    mean = sum(d) / n
    if n < 2:
        return mean, float("nan"), float("nan"), sum(x > 0 for x in d)
    se = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1) / n)
    return mean, se, se * (T95[n - 2] if n - 1 <= len(T95) else 1.96), sum(x > 0 for x in d)


def rows_by_key(summary, path):
    """{(task, image, mask): row} of a quality.py summary; exits naming the file if it has no per-image figures."""
    if "images" not in summary:
        sys.exit(f"error: {path}: no per-image figures (written by Scripts/eval/quality.py --json since 2026-12-04); "
                 f"measure it again")
    return {(r["task"], r["image"], r.get("mask", "")): r for r in summary["images"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--label-a", default="A")
    ap.add_argument("--label-b", default="B")
    args = ap.parse_args()
    runs = []
    for path in (args.a, args.b):
        try:
            with open(path) as f:
                runs.append(json.load(f))
        except (OSError, ValueError) as e:
            sys.exit(f"error: {path}: {e}")
    a, b = (rows_by_key(s, p) for s, p in zip(runs, (args.a, args.b)))
    if a.keys() != b.keys():
        only = sorted(a.keys() ^ b.keys())
        sys.exit(f"error: {args.a} and {args.b} were not measured on the same images and masks "
                 f"(in one only: {', '.join('/'.join(filter(None, k[1:])) for k in only[:6])}{' …' if len(only) > 6 else ''})")
    groups = sorted({(k[0], k[2]) for k in a})
    print(f"| task | mask | figure | {args.label_a} | {args.label_b} | {args.label_b} − {args.label_a} | SE | 95 % interval "
          f"| higher in {args.label_b} |")
    print("|---|---|---|---:|---:|---:|---:|---|---:|")
    for task, mask in groups:
        keys = sorted(k for k in a if k[0] == task and k[2] == mask)
        for figure in FIGURES[task]:
            xa, xb = [a[k][figure] for k in keys], [b[k][figure] for k in keys]
            mean, se, half, wins = paired(xa, xb)
            print(f"| {task} | {mask or '—'} | {figure} | {sum(xa) / len(xa):.3f} | {sum(xb) / len(xb):.3f} | {mean:+.3f} "
                  f"| {se:.3f} | {mean - half:+.3f} … {mean + half:+.3f} | {wins} of {len(keys)} |")
    print()
    for label, summary in ((args.label_a, runs[0]), (args.label_b, runs[1])):
        for task in ("upscale", "inpaint"):
            if not any(k[0] == task for k in a):
                continue
            named = named_shortfalls(task, summary)
            short = [f"{name} {f:.3f}" for name, f in named if f > 0]
            print(f"{label}, {task}: {sum(f == 0 for _, f in named)} of {len(named)} targets met; shortfall "
                  f"{sum(f for _, f in named):.3f}{' (' + ', '.join(short) + ')' if short else ''}")


if __name__ == "__main__":
    main()
