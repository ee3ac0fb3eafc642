#!/usr/bin/env python3
"""Learning curves of the bundled models against CPU-hours, from the training state (docs/quality.md).

    python Scripts/eval/learning_curves.py [--state ~/.cache/ldm-edit-train] [--out docs/images/learning_curves.png]
Reads each phase's eval/loss history from STATE/{ae,sr,inpaint}/state.pt (as the training scripts
record it) and plots: the autoencoder's reconstruction PSNR on the held-out crops, and the U-Nets'
min-SNR-weighted training loss (a running median over 20 records). Also prints them as a table.
CPU-hours are the training process's CPU time (all threads) / 3600: on 2 cores one wall-clock hour of
undisturbed training is ~2 CPU-hours.
"""
import argparse
import os

import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def history(state, phase):
    path = os.path.join(state, phase, "state.pt")
    if not os.path.exists(path):
        return []
    return torch.load(path, map_location="cpu", weights_only=False)["history"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", default=os.path.expanduser("~/.cache/ldm-edit-train"))
    ap.add_argument("--out", default="docs/images/learning_curves.png")
    args = ap.parse_args()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ae = history(args.state, "ae")
    if ae:
        x, y = [h["cpu_hours"] for h in ae], [h["psnr_db"] for h in ae]
        axes[0].plot(x, y, "o-", label="autoencoder (EMA)")
        axes[0].axhline(28, color="grey", ls="--", lw=1, label="target 28 dB")
        print("| autoencoder step | CPU-hours | eval PSNR dB |\n|---|---|---|")
        for h in ae:
            print(f"| {h['step']} | {h['cpu_hours']:.2f} | {h['psnr_db']:.2f} |")
    axes[0].set(xlabel="CPU-hours", ylabel="reconstruction PSNR (dB)", title="first stage, 256² eval crops")
    for phase in ("sr", "inpaint"):
        h = history(args.state, phase)
        if not h:
            continue
        x, loss = np.array([r["cpu_hours"] for r in h]), np.array([r["loss"] for r in h])
        smooth = np.array([np.median(loss[max(0, i - 19):i + 1]) for i in range(len(loss))])
        axes[1].plot(x, smooth, label=phase)
        print(f"{phase}: {h[-1]['step']} steps, {x[-1]:.2f} CPU-hours, loss (median of last 20 records) {smooth[-1]:.4f}")
    axes[1].set(xlabel="CPU-hours", ylabel="min-SNR weighted ε loss", title="U-Nets (training loss)", yscale="log")
    for a in axes:
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
