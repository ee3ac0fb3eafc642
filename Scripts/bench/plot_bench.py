#!/usr/bin/env python3
"""Plot of `ldm-edit bench --tsv --torch PYTHON` output: seconds per call against latent side,
ours and PyTorch's, one panel per model (docs/images/bench.png).

    ldm-edit bench sr-unet-32 sr-unet-64 ... --tsv --torch PYTHON > bench.tsv
    python Scripts/bench/plot_bench.py bench.tsv docs/images/bench.png "machine, threads, date"
Needs matplotlib (in the same virtualenv as torch).
"""
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = defaultdict(list)
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 8:
        continue
    kind, side = f[0].rsplit("-", 1)
    rows[kind].append((int(side), float(f[1]), float(f[4])))
titles = {"sr-unet": "SR U-Net (113.6 M)", "inp-unet": "inpainting U-Net (387.2 M)", "vq-decode": "VQ-f4 decoder"}
kinds = [k for k in titles if k in rows]
fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.6), squeeze=False)
for ax, kind in zip(axes[0], kinds):
    points = sorted(rows[kind])
    sides = [p[0] for p in points]
    ax.plot(sides, [p[1] for p in points], "o-", label="ldm-edit")
    ax.plot(sides, [p[2] for p in points], "s--", label="PyTorch")
    for side, ours, theirs in points:
        ax.annotate(f"{ours / theirs:.2f}×", (side, ours), textcoords="offset points", xytext=(0, -14), ha="center", fontsize=8)
    ax.set_title(titles[kind], fontsize=10)
    ax.set_xlabel("latent side (pixels)")
    ax.set_ylabel("seconds per call")
    ax.set_xticks(sides)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle(sys.argv[3] if len(sys.argv) > 3 else "", fontsize=9)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print("wrote", sys.argv[2])
