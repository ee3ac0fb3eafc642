#!/usr/bin/env python3
"""Quality measures of ldm-edit's models on the held-out split, run through `ldm-edit` itself
(issue 7's acceptance; results go to docs/quality.md).

    /tmp/torch-venv/bin/pip install pillow numpy scikit-image opencv-python-headless
    /tmp/torch-venv/bin/python Scripts/eval/quality.py --pool /tmp/ldm-pool --ldm-edit .build/release/ldm-edit \
        [--sr-model M] [--inpaint-model M] [--crop 256] [--limit N] [--split eval|train] [--steps S] [--seed N] [--sampler NAME] [--grid docs/images --grid-ext jpg]

Upscale: each eval photo is centre-cropped to --crop (a multiple of 4), downscaled 4x with bicubic
(PIL), upscaled by `ldm-edit upscale` (the model, or the classical fallback when none) and by bicubic,
then compared with the crop: Y-PSNR and SSIM with a 4-pixel shave; LR consistency (PSNR between the
output downscaled with the same bicubic and the LR input); detail (mean |Laplacian| of the output
over that of the ground truth).
Inpaint: a centre hole (¼ of the area) and a fixed free-form stroke mask per crop, filled by
`ldm-edit inpaint` and by OpenCV Telea; PSNR and SSIM over the hole, detail inside the hole.
Inpainting also reports a seam figure (gradient on the mask's border ring over the ground truth's).
Without --sr-model/--inpaint-model the bundled defaults run, at ldm-edit's default sampler and steps.
Prints markdown tables, time and peak memory per image; with --grid writes picture grids; with --record appends
the means and the model's provenance to an eval history (docs/images/unet_evals.json).
"""
import argparse
import csv
import glob
import json
import os
import re
import subprocess
import tempfile
import time

import cv2
import numpy as np
from PIL import Image, ImageDraw
from safetensors import safe_open
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


def upscale_figures(out, gt, lr, crop):
    """[Y-PSNR, SSIM (both with a 4-pixel shave), LR-consistency, detail ratio] of a 4x upscale `out` of `lr`
    against the crop `gt` (uint8 RGB; `crop` their side)."""
    s = 4
    back = np.asarray(Image.fromarray(out).resize((crop // 4, crop // 4), Image.BICUBIC))
    y, y_gt = y_channel(out)[s:-s, s:-s], y_channel(gt)[s:-s, s:-s]
    return [psnr(y, y_gt), structural_similarity(y, y_gt, data_range=255), psnr(back, lr), detail(out) / detail(gt)]


TRAIN_STRIDE = 21   # --split train: every 21st training photo in the manifest's order (grouped by package)


def crops(pool, size, limit, split="eval"):
    """(file name, centre crop [size, size, 3] uint8) of the first `limit` photos of a split, in name order. The
    training photos are every TRAIN_STRIDE-th of the manifest, so that 8 of them span 8 packages, first shrunk as
    Scripts/train/common.py's `Photos` shrinks them (longer side ≤ 1024, Lanczos)."""
    if split == "eval":
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(pool, "eval", "*.png")))[:limit]
    else:
        with open(os.path.join(pool, "manifest.csv")) as f:
            names = sorted([row["name"] for row in csv.DictReader(f) if row["split"] == "train"][::TRAIN_STRIDE][:limit])
    for name in names:
        photo = Image.open(os.path.join(pool, split, name)).convert("RGB")
        if split == "train" and max(photo.size) > 1024:
            scale = 1024 / max(photo.size)
            photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.LANCZOS)
        image = np.asarray(photo)
        h, w = image.shape[:2]
        if min(h, w) < size:
            continue
        y, x = (h - size) // 2, (w - size) // 2
        yield name, image[y:y + size, x:x + size]


def stroke_mask(size, seed, width=None):
    """Six connected lines from the centre, `width` pixels wide (default size/16, at least 6), 255 = repaint."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), np.uint8)
    y, x = size // 2, size // 2
    for _ in range(6):
        ny, nx = np.clip(y + rng.integers(-size // 3, size // 3), 8, size - 8), np.clip(x + rng.integers(-size // 3, size // 3), 8, size - 8)
        cv2.line(mask, (int(x), int(y)), (int(nx), int(ny)), 255, thickness=width or max(6, size // 16))
        y, x = ny, nx
    return mask


def centre_mask(size):
    """The centre square hole: the middle half of each side (¼ of the area), 255 = repaint."""
    mask = np.zeros((size, size), np.uint8)
    q = size // 4
    mask[q:3 * q, q:3 * q] = 255
    return mask


def telea(image, mask):
    """OpenCV's Telea fill of the mask's white part (radius 5), the inpainting baseline: RGB uint8 → RGB uint8."""
    return cv2.cvtColor(cv2.inpaint(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), mask, 5, cv2.INPAINT_TELEA), cv2.COLOR_BGR2RGB)


def seam(image, gt, mask):
    """Gradient magnitude on the mask's border ring over the ground truth's there: ~1 means no visible seam,
    well above 1 a step at the border."""
    ring = (cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0) & (cv2.erode(mask, np.ones((3, 3), np.uint8)) == 0)

    def grad(a):
        g = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
        return np.hypot(cv2.Sobel(g, cv2.CV_64F, 1, 0), cv2.Sobel(g, cv2.CV_64F, 0, 1))
    return grad(image)[ring].mean() / max(grad(gt)[ring].mean(), 1e-6)


def timed_run(cmd):
    """Runs ldm-edit; returns (seconds, peak RSS bytes) of the child, from wait4's rusage."""
    t = time.monotonic()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.monotonic() - t
        if status != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode()}")
    return seconds, usage.ru_maxrss * 1024


def grid(tiles, path, labels):
    """One row of equally sized RGB tiles with a label strip above each."""
    h, w = tiles[0].shape[:2]
    out = Image.new("RGB", (len(tiles) * (w + 4) - 4, h + 18), "white")
    draw = ImageDraw.Draw(out)
    for i, (tile, label) in enumerate(zip(tiles, labels)):
        out.paste(Image.fromarray(tile), (i * (w + 4), 18))
        draw.text((i * (w + 4) + 4, 3), label, fill="black")
    out.save(path, quality=90) if path.endswith(".jpg") else out.save(path)


def model_args(model, fallback):
    return ["--model", model] if model else fallback


def provenance(model):
    """The ldm_edit_provenance metadata of an ldm-edit .safetensors model (train_diffusion.py writes it)."""
    with safe_open(model, "np") as f:
        return json.loads(f.metadata()["ldm_edit_provenance"])


def sampling_of(ldm_edit, output):
    """"SAMPLER STEPS" (e.g. "ddim 50"), with ", candidates N[ blended]" when the inpainting previewed seeds, from the
    provenance of an ldm-edit output (`ldm-edit info`): the sampling a run at ldm-edit's defaults actually used."""
    info = subprocess.run([ldm_edit, "info", output], check=True, capture_output=True, text=True).stdout
    found = re.search(r"sampler: ([^,]+), (\d+) steps", info)
    if not found:
        return "unknown"
    candidates = re.search(r"^\s*candidates: (\d+)$", info, re.M)
    blended = re.search(r"^\s*blend_candidates: true$", info, re.M)
    return f"{found.group(1)} {found.group(2)}" + (f", candidates {candidates.group(1)}" + (" blended" if blended else "")
                                                      if candidates else "")


def record(args, summary, sampling):
    """Appends one record per measured task to the eval history --record (see docs/images/unet_evals.json);
    `sampling`: task → "SAMPLER STEPS" its runs used."""
    history = json.load(open(args.record)) if os.path.exists(args.record) else {"records": []}
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    for task, model, keys in (("upscale", args.sr_model, ["upscale"]), ("inpaint", args.inpaint_model, ["inpaint_centre", "inpaint_strokes"])):
        if not all(k in summary for k in keys):
            continue
        model = model or os.path.join(repo, "Models", f"ldm-edit-{'sr' if task == 'upscale' else task}.safetensors")
        if not os.path.exists(model):
            continue
        p = provenance(model)
        mix = (p.get("decoder_finetune") or {}).get("mix")
        runs = [r["run"] for r in history["records"] if r["task"] == task]
        r = {"task": task, "run": args.run or (runs[-1] if runs else task), "step": p["steps"], "cpu_hours": p["cpu_hours"],
             "decoder": f"mix α {mix:.3f}" if mix is not None else "first", "sampler": sampling.get(task, "unknown"), "crops": args.limit, "crop": args.crop,
             "date": time.strftime("%Y-%m-%d"), "model": os.path.basename(model)}
        if "weighting" in p:
            r["weighting"] = p["weighting"]
        if p.get("device_bursts"):   # training on a lent accelerator beyond the CPU steps (Scripts/train/device_burst.py)
            r["device_bursts"] = [{k: b[k] for k in ("device", "batch", "burst_steps", "samples", "seconds")} for b in p["device_bursts"]]
        for k in keys:
            r[k.replace("inpaint_", "")] = {m: round(summary[k][m], 3) for m in
                                            (("y_psnr", "lr_psnr", "detail") if task == "upscale" else ("psnr", "detail", "seam"))}
        history["records"].append(r)
    with open(args.record, "w") as f:
        json.dump(history, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--sr-model", help="default: the bundled model (ldm-edit's default)")
    ap.add_argument("--inpaint-model", help="default: the bundled model (ldm-edit's default)")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--split", choices=["eval", "train"], default="eval",
                    help="train: crops of training photos (every 21st), to tell underfitting from memorising")
    ap.add_argument("--steps", type=int, help="default: ldm-edit's default")
    ap.add_argument("--sampler", help="default: ldm-edit's default (passed as --sampler)")
    ap.add_argument("--eta", type=float, help="DDIM η (default: ldm-edit's default, 0)")
    ap.add_argument("--inpaint-args", default="", help="more `ldm-edit inpaint` options, e.g. \"--hole-limit 96\" (split on spaces)")
    ap.add_argument("--stroke-width", type=int, help="width of the stroke masks in pixels (default: the crop / 16)")
    ap.add_argument("--seed", type=int, default=0, help="ldm-edit's --seed for every run (the eval's figures are at 0)")
    ap.add_argument("--only", choices=["upscale", "inpaint"])
    ap.add_argument("--grid", help="folder for the picture grids of the first --grid-count images")
    ap.add_argument("--grid-count", type=int, default=4)
    ap.add_argument("--grid-ext", choices=["png", "jpg"], default="png",
                    help="jpg (quality 90) for the grids docs/ shows: sr_NAME.jpg, inpaint_MASK_NAME.jpg")
    ap.add_argument("--json", help="also write the mean figures here (Scripts/train/ship.py reads them), and the per-image ones (compare.py)")
    ap.add_argument("--record", metavar="FILE",
                    help="append the figures with the model's provenance (step, CPU-hours, ...) to this eval history, "
                         "e.g. docs/images/unet_evals.json (plotted by learning_curves.py)")
    ap.add_argument("--run", help="with --record: the training run's label (default: the file's last one for the task)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    steps = (["--steps", str(args.steps)] if args.steps else []) + (["--sampler", args.sampler] if args.sampler else []) \
        + (["--eta", str(args.eta)] if args.eta is not None else [])
    if args.grid:
        os.makedirs(args.grid, exist_ok=True)
    up_rows, in_rows, costs = [], [], {"upscale": [], "inpaint": []}
    if args.record and args.split != "eval":
        ap.error("--record keeps the eval split's figures only")
    if args.record and (args.inpaint_args or args.stroke_width):
        ap.error("--record keeps the figures of the defaults only (not with --inpaint-args or --stroke-width)")
    for index, (name, gt) in enumerate(crops(args.pool, args.crop, args.limit, args.split)):
        stem = os.path.splitext(name)[0]
        show = args.grid and index < args.grid_count
        lr = np.asarray(Image.fromarray(gt).resize((args.crop // 4, args.crop // 4), Image.BICUBIC))
        if args.only != "inpaint":
            Image.fromarray(lr).save(f"{tmp}/lr.png")
            cmd = [args.ldm_edit, "upscale", f"{tmp}/lr.png", "-o", f"{tmp}/up.png", "--seed", str(args.seed), "--overwrite", "-q"] + steps
            costs["upscale"].append(timed_run(cmd + model_args(args.sr_model, [])))
            ours = np.asarray(Image.open(f"{tmp}/up.png").convert("RGB"))
            bicubic = np.asarray(Image.fromarray(lr).resize((args.crop, args.crop), Image.BICUBIC))
            up_rows.append([name] + upscale_figures(bicubic, gt, lr, args.crop) + upscale_figures(ours, gt, lr, args.crop))
            if show:
                nearest = np.asarray(Image.fromarray(lr).resize((args.crop, args.crop), Image.NEAREST))
                grid([nearest, bicubic, ours, gt], f"{args.grid}/{'sr' if args.grid_ext == 'jpg' else 'upscale'}_{stem}.{args.grid_ext}", ["low-res", "bicubic", "ldm-edit", "ground truth"])
        if args.only == "upscale":
            continue
        for kind, mask in (("centre", centre_mask(args.crop)), ("strokes", stroke_mask(args.crop, index, args.stroke_width))):
            Image.fromarray(gt).save(f"{tmp}/img.png")
            Image.fromarray(mask).save(f"{tmp}/mask.png")
            cmd = [args.ldm_edit, "inpaint", f"{tmp}/img.png", "--mask", f"{tmp}/mask.png", "--seed", str(args.seed), "-o", f"{tmp}/in.png",
                   "--overwrite", "-q"] + steps + args.inpaint_args.split() + model_args(args.inpaint_model, [])
            costs["inpaint"].append(timed_run(cmd))
            ours = np.asarray(Image.open(f"{tmp}/in.png").convert("RGB"))
            baseline = telea(gt, mask)
            hole = mask > 0
            row = [name, kind]
            for out in (baseline, ours):
                row += [psnr(out[hole], gt[hole]),
                        structural_similarity(y_channel(out), y_channel(gt), data_range=255, full=True)[1][hole].mean(),
                        detail(out, hole) / detail(gt, hole), seam(out, gt, mask)]
            in_rows.append(row)
            if show:
                masked = gt.copy()
                masked[hole] = (255, 0, 255)
                grid([masked, baseline, ours, gt], f"{args.grid}/inpaint_{kind}_{stem}.{args.grid_ext}", ["masked", "Telea", "ldm-edit", "ground truth"])
    fmt = lambda v: f"{v:.3f}" if v < 2 else f"{v:.2f}"
    if up_rows:
        print("| image | bicubic Y-PSNR | SSIM | LR-PSNR | detail | ours Y-PSNR | SSIM | LR-PSNR | detail |")
        print("|---|" + "---:|" * 8)
        for r in up_rows:
            print("| " + r[0] + " | " + " | ".join(fmt(v) for v in r[1:]) + " |")
        print("| **mean** | " + " | ".join(fmt(v) for v in np.mean([r[1:] for r in up_rows], axis=0)) + " |\n")
    if in_rows:
        print("| image | mask | Telea hole PSNR | SSIM | detail | seam | ours hole PSNR | SSIM | detail | seam |")
        print("|---|---|" + "---:|" * 8)
        for r in in_rows:
            print(f"| {r[0]} | {r[1]} | " + " | ".join(fmt(v) for v in r[2:]) + " |")
        for kind in ("centre", "strokes"):
            m = np.mean([r[2:] for r in in_rows if r[1] == kind], axis=0)
            print(f"| **mean** | {kind} | " + " | ".join(fmt(v) for v in m) + " |")
        print()
    summary = {}
    if up_rows:
        m = np.mean([r[1:] for r in up_rows], axis=0)
        summary["upscale"] = dict(zip(["bicubic_y_psnr", "bicubic_ssim", "bicubic_lr_psnr", "bicubic_detail",
                                       "y_psnr", "ssim", "lr_psnr", "detail"], map(float, m)))
    for kind in ("centre", "strokes"):
        rows = [r[2:] for r in in_rows if r[1] == kind]
        if rows:
            summary[f"inpaint_{kind}"] = dict(zip(["telea_psnr", "telea_ssim", "telea_detail", "telea_seam",
                                                   "psnr", "ssim", "detail", "seam"], map(float, np.mean(rows, axis=0))))
    # Per-image figures too, so two runs on the same crops can be compared pairwise (Scripts/eval/compare.py).
    summary["images"] = [dict(zip(["image", "bicubic_y_psnr", "bicubic_ssim", "bicubic_lr_psnr", "bicubic_detail",
                                   "y_psnr", "ssim", "lr_psnr", "detail"], [r[0]] + list(map(float, r[1:]))), task="upscale")
                         for r in up_rows] + \
        [dict(zip(["image", "mask", "telea_psnr", "telea_ssim", "telea_detail", "telea_seam", "psnr", "ssim", "detail", "seam"],
                  r[:2] + list(map(float, r[2:]))), task="inpaint") for r in in_rows]
    for task, c in costs.items():
        if c:
            summary[f"{task}_seconds_median"] = float(np.median([s for s, _ in c]))
            summary[f"{task}_peak_rss_bytes"] = int(max(r for _, r in c))
    if args.json:
        json.dump(summary, open(args.json, "w"), indent=1)
    if args.record:
        record(args, summary, {task: sampling_of(args.ldm_edit, out) for task, out in (("upscale", f"{tmp}/up.png"), ("inpaint", f"{tmp}/in.png"))
                               if os.path.exists(out)})
    for task, c in costs.items():
        if c:
            print(f"{task}: median {np.median([s for s, _ in c]):.1f} s per image (incl. model load), "
                  f"peak RSS {max(r for _, r in c) / 2**30:.2f} GB, {len(c)} runs, output {args.crop}² ")


if __name__ == "__main__":
    main()
