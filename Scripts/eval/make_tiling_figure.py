#!/usr/bin/env python3
"""Draws docs/images/tiling-seams.jpg: the same 4x upscale untiled and on U-Net tiles, and their
difference, to show where tile seams would appear.

    /tmp/torch-venv/bin/python Scripts/eval/make_tiling_figure.py [--model DIR] [--tile 24 --overlap 8]

Uses the built .build/release/ldm-edit and the tiny parity SR model by default (random weights:
the pictures show texture, not a real upscale; the point is the difference panel). Needs Pillow
and NumPy.
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "Tests/LDMModelsTests/Fixtures/parity/sr"))
    ap.add_argument("--input", default=os.path.join(ROOT, "Samples/lowres/coffee.png"))
    ap.add_argument("--tile", type=int, default=24)
    ap.add_argument("--overlap", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/images/tiling-seams.jpg"))
    args = ap.parse_args()
    binary = os.path.join(ROOT, ".build/release/ldm-edit")
    with tempfile.TemporaryDirectory() as tmp:
        outs = {}
        for name, tile in [("untiled", ["--tile", "4096"]), ("tiled", ["--tile", str(args.tile), "--tile-overlap", str(args.overlap)])]:
            path = os.path.join(tmp, name + ".png")
            subprocess.run([binary, "upscale", args.input, "-o", path, "--model", args.model, "--steps", str(args.steps),
                            "--seed", "1", "--no-metadata", "-q"] + tile, check=True)
            outs[name] = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
    a, b = outs["untiled"], outs["tiled"]
    mse = np.mean((a - b) ** 2)
    psnr = 10 * np.log10(255 ** 2 / mse) if mse > 0 else float("inf")
    diff = np.clip(np.abs(a - b) * 8, 0, 255).astype(np.uint8)
    h, w, _ = a.shape
    canvas = Image.new("RGB", (3 * w + 40, h + 30), "white")
    for i, panel in enumerate([a.astype(np.uint8), b.astype(np.uint8), diff]):
        canvas.paste(Image.fromarray(panel), (10 + i * (w + 10), 25))
    draw = ImageDraw.Draw(canvas)
    labels = ["untiled", f"U-Net tiles {args.tile}/{args.overlap}", f"|difference| x8  (PSNR {psnr:.1f} dB)"]
    for i, label in enumerate(labels):
        draw.text((10 + i * (w + 10), 6), label, fill="black")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    canvas.save(args.out, quality=85, optimize=True)
    print(f"{args.out}: PSNR tiled vs untiled {psnr:.2f} dB ({w}x{h})")


if __name__ == "__main__":
    main()
