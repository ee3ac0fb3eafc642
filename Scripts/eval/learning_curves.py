#!/usr/bin/env python3
"""Learning curves of the bundled models against CPU-hours, from the training state (docs/quality.md).

    python Scripts/eval/learning_curves.py [--state ~/.cache/ldm-edit-train] [--out docs/images/learning_curves.png]
        [--evals docs/images/unet_evals.json] [--evals-out docs/images/unet_eval_curves.png]
Reads each phase's eval/loss history from STATE/{ae,sr,inpaint}/state.pt (as the training scripts
record it) and plots: the autoencoder's reconstruction PSNR on the held-out crops, and the U-Nets'
min-SNR-weighted training loss (a running median over 20 records). Also prints them as a table.
Written only when the state holds all three histories (see plot_state). A second figure (--evals-out) plots the
U-Nets' eval figures through ldm-edit from --evals, the history `quality.py --record` appends to: SR Y-PSNR and
detail, inpainting hole PSNR (centre square, strokes) and detail, each run its own line, one panel per task and
sampling (PANELS), with the issue's targets on these 8 crops.
CPU-hours are the training process's CPU time (all threads) / 3600: on 2 cores one wall-clock hour of
undisturbed training is ~2 CPU-hours.
"""
import argparse
import json
import os
import textwrap

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


# The targets on the 8 eval crops the records use (docs/quality.md): Y-PSNR ≥ bicubic − 1.5 dB, hole PSNR
# ≥ Telea − 1 dB per mask, detail ≥ 0.6.
TARGETS = {"y_psnr": 23.81, "centre": 13.97, "strokes": 17.17, "detail": 0.6}
# Each panel compares checkpoints at one sampling: the default when they were made. The curves began at DDIM 50; the
# inpainting default since 2026-12-03, DPM-Solver++(2M) Karras 15, has a panel of its own; records at any other
# sampling are listed, not drawn — except those of a panel's sampling with candidates ("…, candidates 8 blended", the
# shipped inpainting model's default since 2026-12-06), drawn on it as stars beside the one-sample curve.
PANELS = [("upscale", "ddim 50"), ("inpaint", "ddim 50"), ("inpaint", "dpmpp-2m-karras 15")]
MARKERS = "osD^vx<>"


def plot_evals(records, axes):
    """One panel per (task, sampling) of PANELS: the eval figures against CPU-hours, one line per training run;
    detail on a second axis (dotted). Device bursts add no CPU-hours, so a burst's record stands above its start."""
    series = {"upscale": [("upscale", "y_psnr", "Y-PSNR")], "inpaint": [("centre", "psnr", "centre"), ("strokes", "psnr", "strokes")]}
    for ax, (task, sampling) in zip(axes, PANELS):
        twin = ax.twinx()
        panel = [r for r in records if r["task"] == task and r.get("sampler", "ddim 50") == sampling]
        runs = list(dict.fromkeys(r["run"] for r in panel))
        print(f"| {task} run ({sampling}) | step | CPU-hours | decoder | " + " | ".join(f"{n} (dB) | {n} detail" for _, _, n in series[task]) + " |")
        for run_index, run in enumerate(runs):
            rs = sorted((r for r in panel if r["run"] == run), key=lambda r: r["cpu_hours"])
            x = [r["cpu_hours"] for r in rs]
            # The latest run solid, earlier ones dotted; each run its own marker, so the runs of a panel stay apart.
            marker = MARKERS[(len(runs) - 1 - run_index) % len(MARKERS)]
            line = "-" if run_index == len(runs) - 1 else ":"
            for color, (key, figure, name) in zip(("C0", "C1"), series[task]):
                label = name if len(runs) == 1 else textwrap.fill(f"{name}, {run}", 60)
                ax.plot(x, [r[key][figure] for r in rs], marker + line, color=color, label=label)
                twin.plot(x, [r[key]["detail"] for r in rs], marker + ":", color=color, alpha=0.5, markerfacecolor="none")
            for r in rs:
                print(f"| {run} | {r['step']} | {r['cpu_hours']:.2f} | {r['decoder']} | "
                      + " | ".join(f"{r[k][f]:.2f} | {r[k]['detail']:.2f}" for k, f, _ in series[task]) + " |")
        starred = [r for r in records if r["task"] == task and r.get("sampler", "").startswith(sampling + ", candidates")]
        for color, (key, figure, name) in zip(("C0", "C1"), series[task]):
            for r in starred:
                ax.plot([r["cpu_hours"]], [r[key][figure]], "*", color=color, markersize=13, markeredgecolor="black",
                        label=textwrap.fill(f"{name}, step {r['step']}, {r['sampler'].split(', ', 1)[1]}", 60))
                twin.plot([r["cpu_hours"]], [r[key]["detail"]], "*", color=color, markersize=11, alpha=0.5, markerfacecolor="none")
        for r in starred:
            print(f"| {r['run']} ({r['sampler']}) | {r['step']} | {r['cpu_hours']:.2f} | {r['decoder']} | "
                  + " | ".join(f"{r[k][f]:.2f} | {r[k]['detail']:.2f}" for k, f, _ in series[task]) + " |")
        targets = [TARGETS[key if task == "inpaint" else figure] for key, figure, _ in series[task]]
        for color, target in zip(("C0", "C1"), targets):
            ax.axhline(target, color=color, ls="--", lw=0.8)
        twin.axhline(TARGETS["detail"], color="grey", ls=":", lw=0.8)
        low, high = ax.get_ylim()   # axhline does not widen the limits: keep the targets in view
        ax.set_ylim(min(low, *targets) - 0.5, max(high, *targets) + 0.5)
        twin.set(ylabel="detail (dotted; target ≥ 0.6)")
        ax.set(xlabel="CPU-hours", ylabel=("Y-PSNR" if task == "upscale" else "hole PSNR") + " (dB; dashed: target)",
               title=("SR U-Net" if task == "upscale" else "inpainting U-Net") + f", {sampling}: through ldm-edit, 8 crops")
    others = [r for r in records if (r["task"], r.get("sampler", "ddim 50").split(", candidates")[0]) not in PANELS]
    if others:
        print("| task | run | step | sampling (not drawn) | figures |\n|---|---|---|---|---|")
        for r in others:
            figures = "; ".join(f"{k} {r[k]['psnr']:.2f} dB, detail {r[k]['detail']:.3f}" for k in ("centre", "strokes") if k in r)
            print(f"| {r['task']} | {r['run']} | {r['step']} | {r['sampler']} | {figures or r.get('upscale')} |")


def plot_state(state, out):
    """The first stage's eval PSNR and the U-Nets' training loss from the state folder's histories → out. Written
    only when all three phases have one: a machine that resumed from the committed weights has lost the earlier
    phases' histories, and the committed figure keeps them."""
    ae, unets = history(state, "ae"), {phase: history(state, phase) for phase in ("sr", "inpaint")}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    if ae:
        x, y = [h["cpu_hours"] for h in ae], [h["psnr_db"] for h in ae]
        axes[0].plot(x, y, "o-", label="autoencoder (EMA)")
        axes[0].axhline(28, color="grey", ls="--", lw=1, label="target 28 dB")
        print("| autoencoder step | CPU-hours | eval PSNR dB |\n|---|---|---|")
        for h in ae:
            print(f"| {h['step']} | {h['cpu_hours']:.2f} | {h['psnr_db']:.2f} |")
    axes[0].set(xlabel="CPU-hours", ylabel="reconstruction PSNR (dB)", title="first stage, 256² eval crops")
    for phase, h in unets.items():
        if not h:
            continue
        x, loss = np.array([r["cpu_hours"] for r in h]), np.array([r["loss"] for r in h])
        smooth = np.array([np.median(loss[max(0, i - 19):i + 1]) for i in range(len(loss))])
        axes[1].plot(x, smooth, label=phase)
        print(f"{phase}: {h[-1]['step']} steps, {x[-1]:.2f} CPU-hours, loss (median of last 20 records) {smooth[-1]:.4f}")
    axes[1].set(xlabel="CPU-hours", ylabel="weighted loss", title="U-Nets (training loss)", yscale="log")
    missing = [phase for phase, h in [("ae", ae)] + list(unets.items()) if not h]
    if missing:
        print(f"not writing {out}: no history for {', '.join(missing)} in {state}")
        return
    save(fig, axes, out)


def save(fig, axes, out, legend_below=False):
    for a in axes:
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            # Below the panel when there are many runs: inside it the legend hides the points.
            a.legend(fontsize="x-small" if legend_below else "small", **({"loc": "upper center", "bbox_to_anchor": (0.5, -0.15)} if legend_below else {}))
    fig.tight_layout()
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", default=os.path.expanduser("~/.cache/ldm-edit-train"))
    ap.add_argument("--out", default="docs/images/learning_curves.png")
    ap.add_argument("--evals", default="docs/images/unet_evals.json")
    ap.add_argument("--evals-out", default="docs/images/unet_eval_curves.png")
    args = ap.parse_args()
    plot_state(args.state, args.out)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(18, 10))
    plot_evals(json.load(open(args.evals))["records"], axes)
    save(fig, axes, args.evals_out, legend_below=True)


if __name__ == "__main__":
    main()
