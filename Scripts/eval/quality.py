#!/usr/bin/env python3
"""Quality measures of ldm-edit's models on the held-out split, run through `ldm-edit` itself
(issue 7's acceptance; results go to docs/quality.md).

    /tmp/torch-venv/bin/pip install pillow numpy scikit-image opencv-python-headless
    /tmp/torch-venv/bin/python Scripts/eval/quality.py --pool /tmp/ldm-pool --ldm-edit .build/release/ldm-edit \
        [--sr-model M] [--inpaint-model M] [--crop 256] [--limit N] [--grid docs/quality]

Upscale: each eval photo is centre-cropped to --crop (a multiple of 4), downscaled 4x with bicubic
(PIL), upscaled by `ldm-edit upscale` (the model, or the classical fallback when none) and by bicubic,
then compared with the crop: Y-PSNR and SSIM with a 4-pixel shave; LR consistency (PSNR between the
output downscaled with the same bicubic and the LR input); detail (mean |Laplacian| of the output
over that of the ground truth).
Inpaint: a centre hole (¼ of the area) and a fixed free-form stroke mask per crop, filled by
`ldm-edit inpaint` and by OpenCV Telea; PSNR and SSIM over the hole, detail inside the hole.
Prints markdown tables; with --grid writes before/after picture grids.
"""
import argparse
import glob
import os
import subprocess
import tempfile

import cv2
import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity


def y_channel(rgb):
    rgb = rgb.astype(np.float64)
    return 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def psnr(a, b, peak=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak * peak / mse)


def detail(image, mask=None):
    lap = np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64), cv2.CV_64F))
    return lap[mask].mean() if mask is not None else lap.mean()


def crops(pool, size, limit):
    for path in sorted(glob.glob(os.path.join(pool, "eval", "*.png")))[:limit]:
        image = np.asarray(Image.open(path).convert("RGB"))
        h, w = image.shape[:2]
        if min(h, w) < size:
            continue
        y, x = (h - size) // 2, (w - size) // 2
        yield os.path.basename(path), image[y:y + size, x:x + size]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr}")


def stroke_mask(size, seed):
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), np.uint8)
    y, x = size // 2, size // 2
    for _ in range(6):
        ny, nx = np.clip(y + rng.integers(-size // 3, size // 3), 8, size - 8), np.clip(x + rng.integers(-size // 3, size // 3), 8, size - 8)
        cv2.line(mask, (int(x), int(y)), (int(nx), int(ny)), 255, thickness=max(6, size // 16))
        y, x = ny, nx
    return mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--sr-model")
    ap.add_argument("--inpaint-model")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--grid")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    up_rows, in_rows = [], []
    for name, gt in crops(args.pool, args.crop, args.limit):
        lr = np.asarray(Image.fromarray(gt).resize((args.crop // 4, args.crop // 4), Image.BICUBIC))
        Image.fromarray(lr).save(f"{tmp}/lr.png")
        cmd = [args.ldm_edit, "upscale", f"{tmp}/lr.png", "-o", f"{tmp}/up.png", "--seed", "0", "--steps", str(args.steps), "-q"]
        cmd += ["--model", args.sr_model] if args.sr_model else ["--method", "lanczos"]
        run(cmd)
        ours = np.asarray(Image.open(f"{tmp}/up.png").convert("RGB"))
        bicubic = np.asarray(Image.fromarray(lr).resize((args.crop, args.crop), Image.BICUBIC))
        s = 4
        row = [name]
        for out in (bicubic, ours):
            back = np.asarray(Image.fromarray(out).resize((args.crop // 4, args.crop // 4), Image.BICUBIC))
            row += [psnr(y_channel(out)[s:-s, s:-s], y_channel(gt)[s:-s, s:-s]),
                    structural_similarity(y_channel(out)[s:-s, s:-s], y_channel(gt)[s:-s, s:-s], data_range=255),
                    psnr(back, lr), detail(out) / detail(gt)]
        up_rows.append(row)
        for kind, mask in (("centre", None), ("strokes", stroke_mask(args.crop, len(in_rows)))):
            if mask is None:
                mask = np.zeros((args.crop, args.crop), np.uint8)
                q = args.crop // 4
                mask[q:3 * q, q:3 * q] = 255
            Image.fromarray(gt).save(f"{tmp}/img.png")
            Image.fromarray(mask).save(f"{tmp}/mask.png")
            if args.inpaint_model:
                run([args.ldm_edit, "inpaint", f"{tmp}/img.png", "--mask", f"{tmp}/mask.png", "--model", args.inpaint_model,
                     "--seed", "0", "--steps", str(args.steps), "-o", f"{tmp}/in.png", "-q"])
                ours = np.asarray(Image.open(f"{tmp}/in.png").convert("RGB"))
            else:
                ours = None
            telea = cv2.cvtColor(cv2.inpaint(cv2.cvtColor(gt, cv2.COLOR_RGB2BGR), mask, 5, cv2.INPAINT_TELEA), cv2.COLOR_BGR2RGB)
            hole = mask > 0
            row = [name, kind]
            for out in (telea, ours):
                if out is None:
                    row += [float("nan")] * 3
                    continue
                row += [psnr(out[hole], gt[hole]),
                        structural_similarity(y_channel(out), y_channel(gt), data_range=255, full=True)[1][hole].mean(),
                        detail(out, hole) / detail(gt, hole)]
            in_rows.append(row)
    print("| image | bicubic Y-PSNR | SSIM | LR-PSNR | detail | ours Y-PSNR | SSIM | LR-PSNR | detail |")
    print("|---|" + "---:|" * 8)
    for r in up_rows:
        print("| " + r[0] + " | " + " | ".join(f"{v:.3f}" if isinstance(v, float) and v < 2 else f"{v:.2f}" for v in r[1:]) + " |")
    m = np.mean([r[1:] for r in up_rows], axis=0)
    print("| **mean** | " + " | ".join(f"{v:.3f}" if v < 2 else f"{v:.2f}" for v in m) + " |")
    print()
    print("| image | mask | Telea hole PSNR | SSIM | detail | ours hole PSNR | SSIM | detail |")
    print("|---|---|" + "---:|" * 6)
    for r in in_rows:
        print(f"| {r[0]} | {r[1]} | " + " | ".join(f"{v:.3f}" if v < 2 else f"{v:.2f}" for v in r[2:]) + " |")


if __name__ == "__main__":
    main()
