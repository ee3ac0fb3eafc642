#!/usr/bin/env python3
"""A longer EMA after the fact: the EMA weights of several snapshots of one training state, averaged.

    python experiments/posthoc_ema.py --window 4000 --out /tmp/phe/state.pt SNAP1.pt SNAP2.pt ...

Each SNAP is a copy of a state.pt of one lineage (e.g. taken after every periodic save). The output is a copy of the
latest snapshot whose `ema` module is Σ w_i·ema_i with w_i ∝ Δs_i·exp(−(s_last − s_i)/window), Δs_i the steps
snapshot i stands for (its distance to the previous one; the first gets the median spacing), i.e. the exponential
average with a time constant of `window` steps of the running EMA's own snapshots — an EMA of the EMA, whose length
is then about window + the training EMA's. `--window 0` takes the plain mean (every snapshot equal). The output
records the average under extra["posthoc_ema"], so an export of it says what it is; heldout_loss.py reads it as any
state, and `train_diffusion.py --state DIR --steps 1 --export X` exports it (as keep_partial.sh does).

Why: on 2026-12-06 the lineage's raw weights at step 61,432 scored +0.00075 held-out loss against their own EMA
(window ~1,800 steps = ~14,000 samples at batch 8), more than a thousand steps of training move it: the weights jitter
on a gradient that batch 8 sees as noise (noise_scale.py). The EMA's length for this regime was never measured; EDM2
(Karras et al. 2024, "Analyzing and improving the training dynamics of diffusion models", §3) shows it matters and
measures it post hoc from snapshots, as here.
"""
import argparse
import math
import statistics

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshots", nargs="+")
    ap.add_argument("--window", type=float, required=True, help="time constant in steps (0: plain mean)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    states = sorted((torch.load(p, map_location="cpu", weights_only=False) for p in args.snapshots), key=lambda s: s["step"])
    steps = [s["step"] for s in states]
    if len(set(steps)) != len(steps):
        raise SystemExit(f"posthoc_ema: snapshots at the same step: {steps}")
    sizes = {s["extra"].get("size") for s in states}
    if len(sizes) != 1:
        raise SystemExit(f"posthoc_ema: snapshots of different U-Nets: {sorted(map(str, sizes))}")
    gaps = [b - a for a, b in zip(steps, steps[1:])]
    spans = [statistics.median(gaps) if gaps else 1] + gaps
    last = steps[-1]
    w = [d * (math.exp(-(last - s) / args.window) if args.window > 0 else 1.0) for s, d in zip(steps, spans)]
    total = sum(w)
    w = [x / total for x in w]
    out = states[-1]
    out["modules"]["ema"] = {k: sum(wi * s["modules"]["ema"][k].float() for wi, s in zip(w, states)).to(v.dtype)
                             for k, v in out["modules"]["ema"].items()}
    out["extra"]["posthoc_ema"] = {"window": args.window, "steps": steps, "weights": [round(x, 4) for x in w],
                                   "script": "Scripts/train/experiments/posthoc_ema.py"}
    torch.save(out, args.out)
    centre = sum(wi * s for wi, s in zip(w, steps))
    print(f"{args.out}: {len(states)} snapshots, steps {steps[0]}–{last}, window {args.window:g}, "
          f"weighted mean step {centre:.0f}")


if __name__ == "__main__":
    main()
