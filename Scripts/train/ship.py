#!/usr/bin/env python3
"""Ship trained models only when they beat the committed ones on the held-out eval (measured through ldm-edit).

    python Scripts/train/ship.py [--state ~/.cache/ldm-edit-train] [--pool /tmp/ldm-pool] \
        [--ldm-edit .build/release/ldm-edit] [--limit 8] [--dry-run]
For each task with an exported candidate (STATE/export/ldm-edit-TASK.safetensors), runs
Scripts/eval/quality.py on the candidate and on Models/ldm-edit-TASK.safetensors (if any) with the
same images, seed and ldm-edit defaults, and copies the candidate into Models/ when its score is
higher: SR = mean Y-PSNR + mean LR-consistency PSNR (both must hold), inpainting = mean hole PSNR over
the centre and stroke masks. Then commit Models/ by hand with the printed figures.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def evaluate(model, task, args):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        flag = "--sr-model" if task == "sr" else "--inpaint-model"
        subprocess.run([sys.executable, os.path.join(ROOT, "Scripts/eval/quality.py"), "--pool", args.pool,
                        "--ldm-edit", args.ldm_edit, flag, model, "--only", "upscale" if task == "sr" else "inpaint",
                        "--limit", str(args.limit), "--json", out.name], check=True, stdout=subprocess.DEVNULL)
        s = json.load(open(out.name))
    if task == "sr":
        return s["upscale"]["y_psnr"] + s["upscale"]["lr_psnr"], s
    return (s["inpaint_centre"]["psnr"] + s["inpaint_strokes"]["psnr"]) / 2, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", default=os.path.expanduser("~/.cache/ldm-edit-train"))
    ap.add_argument("--pool", default="/tmp/ldm-pool")
    ap.add_argument("--ldm-edit", default=os.path.join(ROOT, ".build/release/ldm-edit"))
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    for task in ("sr", "inpaint"):
        candidate = os.path.join(args.state, "export", f"ldm-edit-{task}.safetensors")
        shipped = os.path.join(ROOT, "Models", f"ldm-edit-{task}.safetensors")
        if not os.path.exists(candidate):
            print(f"{task}: no candidate at {candidate}")
            continue
        score, figures = evaluate(candidate, task, args)
        print(f"{task}: candidate score {score:.2f}: {json.dumps(figures)}")
        if os.path.exists(shipped):
            old, old_figures = evaluate(shipped, task, args)
            print(f"{task}: shipped score {old:.2f}: {json.dumps(old_figures)}")
            if score <= old:
                print(f"{task}: the candidate does not beat the shipped model; nothing copied")
                continue
        if not args.dry_run:
            os.makedirs(os.path.dirname(shipped), exist_ok=True)
            shutil.copyfile(candidate, shipped)
            print(f"{task}: copied {candidate} → {shipped}")


if __name__ == "__main__":
    main()
