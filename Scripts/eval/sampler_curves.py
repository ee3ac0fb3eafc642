#!/usr/bin/env python3
"""Quality against sampling steps for each sampler, on the held-out split, through ldm-edit (issue 18, point 2).

    /tmp/torch-venv/bin/python Scripts/eval/sampler_curves.py --pool /tmp/ldm-pool --ldm-edit .build/release/ldm-edit \
        --task upscale [--model M] [--samplers ddim,dpmpp-2m,euler] [--steps 5,10,15,25,50,100] [--limit 8] \
        [--results results.json] [--plot docs/images/sampler_curves_upscale.png]

Each (sampler, steps) point is one run of Scripts/eval/quality.py (same crops, seed 0, the model's other defaults),
so the figures are the issue-12 measures: upscale Y-PSNR, LR-consistency PSNR and detail ratio; inpaint hole PSNR
and detail (centre square and strokes averaged). Finished points are kept in --results (JSON) and skipped when the
script runs again, so a run cut off part-way resumes.

The reference point is DDIM at 100 steps (upscale) or 50 (inpaint), the LDM recipes' defaults; the default the
script proposes is the fewest steps of any sampler whose figures are all within 0.2 dB and 5 % detail of it
(issue 18's rule). It prints a table and the proposal and draws one panel per measure. For inpainting that
reference is itself an unconverged solve of the model's ODE; the default there is chosen against the converged fill
by Scripts/eval/sampler_convergence.py (docs/quality.md, "Which fill is right").
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = {"upscale": ("ddim", 100), "inpaint": ("ddim", 50)}
# measure name → (unit, how it is compared with the reference: "db" within 0.2 dB, "ratio" within 5 %)
MEASURES = {"upscale": {"y_psnr": "db", "lr_psnr": "db", "detail": "ratio"},
            "inpaint": {"hole_psnr": "db", "detail": "ratio"}}


def measure(args, sampler, steps):
    """The mean figures of one quality.py run at (sampler, steps)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, os.path.join(HERE, "quality.py"), "--pool", args.pool, "--ldm-edit", args.ldm_edit,
               "--only", args.task, "--limit", str(args.limit), "--steps", str(steps), "--sampler", sampler, "--json", out.name]
        if args.model:
            cmd += ["--sr-model" if args.task == "upscale" else "--inpaint-model", args.model]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        s = json.load(open(out.name))
    if args.task == "upscale":
        u = s["upscale"]
        return {"y_psnr": u["y_psnr"], "lr_psnr": u["lr_psnr"], "detail": u["detail"], "seconds": s.get("upscale_seconds_median")}
    c, k = s["inpaint_centre"], s["inpaint_strokes"]
    return {"hole_psnr": (c["psnr"] + k["psnr"]) / 2, "detail": (c["detail"] + k["detail"]) / 2,
            "seconds": s.get("inpaint_seconds_median")}


def within(point, reference, measures):
    """Whether every measure of `point` is within 0.2 dB / 5 % of `reference`."""
    for name, kind in measures.items():
        if kind == "db" and abs(point[name] - reference[name]) > 0.2:
            return False
        if kind == "ratio" and abs(point[name] / reference[name] - 1) > 0.05:
            return False
    return True


def propose(results, task):
    """The fewest-steps point within the rule of the reference; None when the reference is missing."""
    sampler, steps = REFERENCE[task]
    reference = results.get(f"{sampler}@{steps}")
    if reference is None:
        return None
    fits = [(v["steps"], k) for k, v in results.items() if within(v, reference, MEASURES[task])]
    return min(fits) if fits else None


def plot(results, task, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    measures = list(MEASURES[task])
    fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.4))
    for ax, name in zip(axes, measures):
        for sampler in sorted({v["sampler"] for v in results.values()}):
            points = sorted((v["steps"], v[name]) for v in results.values() if v["sampler"] == sampler)
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=sampler)
        ax.set_xscale("log")
        ax.set_xlabel("steps")
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"{task}: quality against sampling steps (held-out crops, through ldm-edit)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--task", choices=["upscale", "inpaint"], required=True)
    ap.add_argument("--model", help="default: the bundled model")
    ap.add_argument("--samplers", default="ddim,dpmpp-2m,euler")
    ap.add_argument("--steps", default="5,10,15,25,50,100")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--results", help="JSON kept between runs (default: sampler_curves_TASK.json in the temp folder)")
    ap.add_argument("--plot")
    args = ap.parse_args()
    path = args.results or os.path.join(tempfile.gettempdir(), f"sampler_curves_{args.task}.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    ref_sampler, ref_steps = REFERENCE[args.task]
    grid = [(ref_sampler, ref_steps)] + [(s, int(n)) for s in args.samplers.split(",") for n in args.steps.split(",")]
    for sampler, steps in grid:
        key = f"{sampler}@{steps}"
        if key in results:
            continue
        results[key] = dict(measure(args, sampler, steps), sampler=sampler, steps=steps)
        json.dump(results, open(path, "w"), indent=1)
        print(key, {k: round(v, 3) for k, v in results[key].items() if isinstance(v, float)}, flush=True)
    measures = list(MEASURES[args.task])
    print("\n| sampler | steps | " + " | ".join(measures) + " |")
    print("|---|---:|" + "---:|" * len(measures))
    for v in sorted(results.values(), key=lambda v: (v["sampler"], v["steps"])):
        print(f"| {v['sampler']} | {v['steps']} | " + " | ".join(f"{v[m]:.3f}" for m in measures) + " |")
    choice = propose(results, args.task)
    print(f"\nreference: {ref_sampler} at {ref_steps} steps; proposed default: "
          + (f"{choice[1]} ({choice[0]} steps)" if choice else "none within 0.2 dB / 5 % detail"))
    if args.plot:
        plot(results, args.task, args.plot)
        print("plot:", args.plot)


if __name__ == "__main__":
    main()
