#!/usr/bin/env python3
"""Seam crop picture for tiled first-stage decoding (docs/performance.md, "Tiling on trained weights").

    /tmp/torch-venv/bin/python Scripts/eval/make_seam_figure.py DIR OUT.jpg [--side 1024] [--seam 448]

Reads DIR/untiled-SIDE.png and DIR/tiled-SIDE.png (written by LDMPipelinesTests/TrainedFirstStageTilingTests with
LDM_EDIT_TILING_OUT=DIR) and writes three 192-pixel crops centred on a crossing of tile seams, shown at 2x: the
untiled decode, the tiled decode, and |tiled − untiled| × 50. For the f4 autoencoder on 128/32 latent tiles the
owned regions meet in the middle of the overlaps, at latent 112 + 96·k, i.e. pixel 448 + 384·k.
"""
import argparse

import numpy as np
from PIL import Image, ImageDraw

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("out")
ap.add_argument("--side", type=int, default=1024)
ap.add_argument("--seam", type=int, default=448)
args = ap.parse_args()
untiled = np.asarray(Image.open(f"{args.dir}/untiled-{args.side}.png").convert("RGB")).astype(np.int16)
tiled = np.asarray(Image.open(f"{args.dir}/tiled-{args.side}.png").convert("RGB")).astype(np.int16)
half = 96
window = (slice(args.seam - half, args.seam + half), slice(args.seam - half, args.seam + half))
diff = np.clip(np.abs(tiled - untiled) * 50, 0, 255)
panels = [untiled[window], tiled[window], diff[window]]
scale, gap = 2, 8
canvas = Image.new("RGB", (3 * 2 * half * scale + 2 * gap, 2 * half * scale + 20), "white")
draw = ImageDraw.Draw(canvas)
for i, (panel, title) in enumerate(zip(panels, ["untiled", "tiled (seams at the centre lines)", "|tiled - untiled| x 50"])):
    image = Image.fromarray(panel.astype(np.uint8)).resize((2 * half * scale, 2 * half * scale), Image.NEAREST)
    x = i * (2 * half * scale + gap)
    canvas.paste(image, (x, 20))
    draw.text((x + 4, 4), title, fill="black")
canvas.save(args.out)
print(args.out, "max |diff|:", int(np.abs(tiled - untiled).max()), "values differing:", int((tiled != untiled).sum()))
