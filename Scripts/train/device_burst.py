#!/usr/bin/env python3
"""A short burst of inpainting U-Net training on a lent accelerator (the `device` tool: one H200, minutes per session),
continuing the CPU run's state and handing back EMA snapshots that this machine exports, evaluates and keeps.

    # here: pack what the burst needs into an ignored folder (≤ 64 MiB travels with the working tree)
    python Scripts/train/device_burst.py prepare --state ~/.cache/ldm-edit-train/inpaint/state.pt \
        --autoencoder ~/.cache/ldm-edit-train/decoder/autoencoder --pool /tmp/ldm-pool --bundle .devburst
    # there: train for a wall-clock budget, snapshots of the EMA (float16, split under 16 MiB) into OUT
    python3 Scripts/train/device_burst.py train --bundle .devburst --out $OUT --seconds 420
    # here: turn a snapshot into a model ldm-edit reads (then Scripts/eval/quality.py as for any partial)
    python Scripts/train/device_burst.py adopt --snapshot DIR/ema-100 --bundle .devburst --export /tmp/burst/ldm-edit-inpaint \
        --ldm-edit .build/release/ldm-edit
    # anywhere: check the device-side data against train_diffusion.py's (crops under the 8 flips/rotations, masks)
    python Scripts/train/device_burst.py check

The objective is train_diffusion.py's for the inpainting phase (v target, truncated min-SNR-γ weights, the LDM linear
schedule to 0.0205, the same mask distribution, crops of the same photos under the 8 flips/rotations; --crop 256 by
default, run.sh's since 2026-12-04, 128 for the first bursts); only the plumbing differs so that a GPU is kept busy:
photos and masks are made on the device in batches (not one crop at a time in NumPy), the batch is 256, bf16 autocast,
gradients clipped at norm 1, and the learning rate follows the wall clock (warm-up, then constant for the first half,
then a linear decay to 5 %) because the step rate is not known in advance. Photos travel as JPEG quality 95, 4:4:4
(29.5 MB for the 169 training photos of ≥ 128 pixels, at ≤ 1024): lossless PNGs at that size would not fit the 64 MiB
the tool carries.
"""
import argparse
import glob
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Photos  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from train_diffusion import inpaint_inputs, loss_weights, mask_ranges, provenance_record  # noqa: E402
from unets import CANDIDATES, LINEAR_END, alphas_cumprod_for, build  # noqa: E402

CROP = 128             # pixels: the smallest crop trained at (train_diffusion.py's until 2026-12-04: latent 32, factor 4)
EVAL_CROP = 256        # pixels: Scripts/eval/quality.py's crop, the held-out check's
MAX_SIDE = 1024        # common.Photos keeps photos at ≤ 1024 pixels
SNAPSHOTS = (0.5, 0.75, 1.0)   # fractions of the budget at which the EMA is handed back
SPLIT_BYTES = 15 << 20  # the tool hands back files of ≤ 16 MiB


def prepare(args):
    os.makedirs(os.path.join(args.bundle, "train"), exist_ok=True)
    for i, image in enumerate(Photos(args.pool, CROP, max_side=MAX_SIDE).images):   # as the CPU run holds them
        Image.fromarray(image).save(os.path.join(args.bundle, "train", f"{i:04d}.jpg"), quality=95, subsampling=0)
    evals = []
    for path in sorted(glob.glob(os.path.join(args.pool, "eval", "*.png"))):
        image = np.asarray(Image.open(path).convert("RGB"))
        h, w = image.shape[:2]
        if min(h, w) >= EVAL_CROP:
            y, x = (h - EVAL_CROP) // 2, (w - EVAL_CROP) // 2
            evals.append(image[y:y + EVAL_CROP, x:x + EVAL_CROP])
    np.save(os.path.join(args.bundle, "eval.npy"), np.stack(evals))
    shutil.copytree(args.autoencoder, os.path.join(args.bundle, "autoencoder"), dirs_exist_ok=True)
    state = torch.load(args.state, map_location="cpu", weights_only=False)
    meta = {"step": state["step"], "cpu_hours": state["cpu_seconds"] / 3600, "extra": state["extra"]}
    if args.snapshot:   # a second burst continues the first's snapshot (the CPU state's step stays the record's)
        meta = json.load(open(os.path.join(args.bundle, "meta.json")))
        burst = {**json.load(open(args.burst)), "snapshot": os.path.basename(args.snapshot.rstrip("/")),
                 "date": time.strftime("%Y-%m-%d", time.gmtime())}
        meta["extra"].setdefault("device_bursts", []).append(burst)
        save_split({k: v.half() for k, v in load_split(args.snapshot).items()}, os.path.join(args.bundle, "ema-start"))
    else:
        save_split({k: v.half() for k, v in state["modules"]["ema"].items()}, os.path.join(args.bundle, "ema-start"))
    json.dump(meta, open(os.path.join(args.bundle, "meta.json"), "w"), indent=1)
    print(f"bundle {args.bundle}: {len(glob.glob(os.path.join(args.bundle, 'train', '*.jpg')))} photos, "
          f"{len(evals)} eval crops, start step {meta['step']}")


def save_split(tensors, folder):
    """A state dict as float16 safetensors parts of ≤ 15 MiB each: folder/part-0.safetensors, …"""
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    part, size, index = {}, 0, 0
    for k, v in tensors.items():
        if part and size + v.numel() * v.element_size() > SPLIT_BYTES:
            save_file(part, os.path.join(folder, f"part-{index}.safetensors"))
            part, size, index = {}, 0, index + 1
        part[k] = v.detach().contiguous().cpu()
        size += v.numel() * v.element_size()
    save_file(part, os.path.join(folder, f"part-{index}.safetensors"))


def load_split(folder):
    from safetensors.torch import load_file
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "part-*.safetensors"))):
        out.update({k: v.float() for k, v in load_file(path).items()})
    return out


class DevicePhotos:
    """The bundle's photos padded into one uint8 tensor on the device; batch() is common.Photos.batch in one gather."""

    def __init__(self, folder, dev, crop=CROP):
        images = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(glob.glob(os.path.join(folder, "*.jpg")))]
        images = [i for i in images if min(i.shape[:2]) >= crop]   # common.Photos keeps those that hold a crop
        h, w = max(i.shape[0] for i in images), max(i.shape[1] for i in images)
        self.pixels = torch.zeros(len(images), h, w, 3, dtype=torch.uint8, device=dev)
        for n, image in enumerate(images):
            self.pixels[n, :image.shape[0], :image.shape[1]] = torch.from_numpy(image.copy())
        self.sizes = torch.tensor([i.shape[:2] for i in images], device=dev)
        self.crop, self.grids = crop, self._grids(dev, crop)

    @staticmethod
    def _grids(dev, crop):
        """[8, 2, crop, crop]: for each flip/rotation k, the (y, x) inside an untransformed crop of each output pixel."""
        a = torch.arange(crop, device=dev)
        dy, dx = a.view(-1, 1).expand(crop, crop), a.view(1, -1).expand(crop, crop)
        grids = []
        for k in range(8):   # common.dihedral: k & 4 flips left-right, then k & 3 quarter turns (np.rot90: anticlockwise)
            gy, gx = dy, (crop - 1 - dx) if k & 4 else dx
            for _ in range(k & 3):   # np.rot90 of a square: out[i, j] = in[j, C−1−i], i.e. M.flip(1).t()
                gy, gx = gy.flip(1).t(), gx.flip(1).t()
            grids.append(torch.stack([gy, gx]))
        return torch.stack(grids)

    def batch(self, n, gen):
        """[n, 3, crop, crop] in [−1, 1]: uniform photo, uniform crop position, uniform flip/rotation."""
        dev = self.pixels.device
        idx = torch.randint(len(self.sizes), (n,), device=dev, generator=gen)
        room = self.sizes[idx] - self.crop + 1
        y = (torch.rand(n, device=dev, generator=gen) * room[:, 0]).long()
        x = (torch.rand(n, device=dev, generator=gen) * room[:, 1]).long()
        g = self.grids[torch.randint(8, (n,), device=dev, generator=gen)]
        crops = self.pixels[idx.view(-1, 1, 1), y.view(-1, 1, 1) + g[:, 0], x.view(-1, 1, 1) + g[:, 1]]
        return crops.permute(0, 3, 1, 2).float() / 127.5 - 1


def device_masks(n, size, gen, dev):
    """train_diffusion.random_masks on the device: [n, 1, size, size] (1 = repaint), half boxes with sides in
    train_diffusion.mask_ranges' range, half 3–7 thick strokes of 12 discs each (length size/8–size/3, radius in its
    range)."""
    (box_low, box_high), (radius_low, radius_high) = mask_ranges(size)
    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(n, *shape, device=dev, generator=gen)
    yy = torch.arange(size, device=dev, dtype=torch.float32).view(1, 1, -1, 1)
    xx = torch.arange(size, device=dev, dtype=torch.float32).view(1, 1, 1, -1)
    hw = torch.randint(box_low, box_high, (n, 2), device=dev, generator=gen).float()
    by = (torch.rand(n, device=dev, generator=gen) * (size - hw[:, 0])).floor()
    bx = (torch.rand(n, device=dev, generator=gen) * (size - hw[:, 1])).floor()
    box = ((yy[0, 0] >= by.view(-1, 1, 1)) & (yy[0, 0] < (by + hw[:, 0]).view(-1, 1, 1))
           & (xx[0, 0] >= bx.view(-1, 1, 1)) & (xx[0, 0] < (bx + hw[:, 1]).view(-1, 1, 1)))
    strokes = torch.zeros(n, size, size, dtype=torch.bool, device=dev)
    count = torch.randint(3, 8, (n,), device=dev, generator=gen)
    y, x = u(0, size), u(0, size)
    t = torch.linspace(0, 1, 12, device=dev).view(1, -1)
    for s in range(7):
        angle, length, radius = u(0, 2 * math.pi), u(size / 8, size / 3), u(radius_low, radius_high)
        cy = (y.view(-1, 1) + t * (length * torch.sin(angle)).view(-1, 1)).view(n, 12, 1, 1)
        cx = (x.view(-1, 1) + t * (length * torch.cos(angle)).view(-1, 1)).view(n, 12, 1, 1)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 <= radius.view(-1, 1, 1, 1) ** 2).any(1)
        strokes |= disc & (s < count).view(-1, 1, 1)
        y, x = (y + length * torch.sin(angle)).clamp(0, size), (x + length * torch.cos(angle)).clamp(0, size)
    use_box = torch.rand(n, device=dev, generator=gen) < 0.5
    return torch.where(use_box.view(-1, 1, 1), box, strokes).unsqueeze(1).float()


def train(args):
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    meta = json.load(open(os.path.join(args.bundle, "meta.json")))
    log = open(os.path.join(args.out, "log.txt"), "a")

    def say(text):
        print(text, flush=True)
        log.write(text + "\n")
        log.flush()

    ae = ConvAutoencoder.load(os.path.join(args.bundle, "autoencoder")).to(dev).eval().requires_grad_(False)
    # The U-Net's latent width follows the first stage's (8 for a grown one: experiments/grow_unet_latents.py).
    unet = build(*CANDIDATES[meta["extra"]["size"]], latent=ae.config["latent_channels"])
    unet.load_state_dict(load_split(os.path.join(args.bundle, "ema-start")))
    unet.to(dev).train()
    ema = [p.detach().clone() for p in unet.parameters()]
    scale = ae.config["scaling_factor"]
    photos = DevicePhotos(os.path.join(args.bundle, "train"), dev, args.crop)
    ac = alphas_cumprod_for("inpaint").to(dev)
    snr = ac / (1 - ac)
    weights = loss_weights(snr, "truncated-min-snr", "v")
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0, fused=dev.type == "cuda")
    gen = torch.Generator(device=dev).manual_seed(args.seed)

    # Held-out check: the eval photos' 256² centres (as 4 quadrants when training at 128), fixed masks, noise and
    # timesteps (0..999 spread).
    evals = torch.from_numpy(np.load(os.path.join(args.bundle, "eval.npy"))).to(dev).permute(0, 3, 1, 2).float() / 127.5 - 1
    if args.crop < EVAL_CROP:   # as quadrants at the crop trained at
        evals = torch.cat([evals[..., i:i + args.crop, j:j + args.crop] for i in (0, args.crop) for j in (0, args.crop)])
    evals = evals.repeat(8 if dev.type == "cuda" else 1, 1, 1, 1)   # each crop at 8 timesteps and masks on a GPU
    vgen = torch.Generator(device=dev).manual_seed(1234)
    vmask = device_masks(len(evals), evals.shape[-1], vgen, dev)
    with torch.no_grad():
        vz, vcond = inpaint_inputs(ae, scale, evals, vmask)
    vt = torch.linspace(0, 999, len(evals), device=dev).round().long()
    vnoise = torch.randn(vz.shape, device=dev, generator=vgen)

    def loss_of(model, z, cond, t, noise):
        a = ac[t].view(-1, 1, 1, 1)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            out = model(torch.cat([a.sqrt() * z + (1 - a).sqrt() * noise, cond], 1), t).sample
        per = F.mse_loss(out.float(), a.sqrt() * noise - (1 - a).sqrt() * z, reduction="none").mean(dim=(1, 2, 3))
        return (weights[t] * per).mean()

    @torch.no_grad()
    def held_out(params):
        saved = [p.detach().clone() for p in unet.parameters()]
        for p, q in zip(unet.parameters(), params):
            p.copy_(q)
        unet.eval()
        value = loss_of(unet, vz, vcond, vt, vnoise).item()
        for p, q in zip(unet.parameters(), saved):
            p.copy_(q)
        unet.train()
        return value

    say(f"device {torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}, torch {torch.__version__}, "
        f"{len(photos.sizes)} photos, {len(evals)} held-out crops, start step {meta['step']}, batch {args.batch}, "
        f"lr {args.lr}, {args.seconds} s; held-out loss at start {held_out(ema):.5f}")
    t0, step, pending, window = time.monotonic(), 0, list(SNAPSHOTS), []
    last_report = t0
    while True:
        progress = (time.monotonic() - t0) / args.seconds
        # Every snapshot that is due (a slow step or held-out check can pass two marks at once), then no step past the
        # budget: the decay below would turn the learning rate negative after it.
        while pending and progress >= pending[0]:
            name = f"ema-{round(pending.pop(0) * 100):03d}"
            save_split({k: q.half() for (k, _), q in zip(unet.named_parameters(), ema)}, os.path.join(args.out, name))
            say(f"snapshot {name} at burst step {step}, held-out loss {held_out(ema):.5f} (raw {held_out(list(unet.parameters())):.5f})")
        if not pending:
            break
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (1.0 if progress < 0.5 else 1 - 0.95 * (progress - 0.5) / 0.5)
        for g in opt.param_groups:
            g["lr"] = lr
        with torch.no_grad():
            hr = photos.batch(args.batch, gen)
            mask = device_masks(args.batch, args.crop, gen, dev)
            z, cond = inpaint_inputs(ae, scale, hr, mask)
        t = torch.randint(0, 1000, (args.batch,), device=dev, generator=gen)
        loss = loss_of(unet, z, cond, t, torch.randn(z.shape, device=dev, generator=gen))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        # common.EMA's warm-up, restarted at the burst (its max decay 0.9999 would keep the start for the whole burst).
        d = min(args.ema_decay, 1 - (1 + step) ** -0.75)
        torch._foreach_lerp_(ema, [p.detach() for p in unet.parameters()], 1 - d)
        step += 1
        window.append(loss.detach())
        if time.monotonic() - last_report >= 30:
            last_report = time.monotonic()
            rate = step / (last_report - t0)
            say(f"burst step {step} ({rate:.1f} steps/s, {rate * args.batch:.0f} samples/s) lr {lr:.2e} "
                f"loss {torch.stack(window).mean().item():.5f}")
            window = []
    json.dump({"start_step": meta["step"], "burst_steps": step, "batch": args.batch, "samples": step * args.batch,
               "seconds": round(time.monotonic() - t0), "lr": args.lr, "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
               "ema_decay": args.ema_decay, "warmup": args.warmup, "seed": args.seed, "crop": args.crop}, open(os.path.join(args.out, "burst.json"), "w"), indent=1)


def check(args):
    """DevicePhotos' crops equal common.dihedral of the same crop for each k, and device_masks' coverage matches
    random_masks' (mean and quantiles within sampling error on 2,000 masks each)."""
    from common import dihedral
    from train_diffusion import random_masks
    dev = torch.device("cpu")
    image = np.random.default_rng(0).integers(0, 256, (CROP, CROP, 3), dtype=np.uint8)
    grids = DevicePhotos._grids(dev, CROP)
    for k in range(8):
        got = torch.from_numpy(image)[grids[k, 0], grids[k, 1]].numpy()
        assert np.array_equal(got, np.ascontiguousarray(dihedral(image, k))), f"flip/rotation {k} differs from common.dihedral"
    for size in (CROP, 256):   # 256: where mask_ranges' pixel floors apply
        ours = device_masks(2000, size, torch.Generator().manual_seed(0), dev).mean(dim=(1, 2, 3))
        theirs = random_masks(2000, size, np.random.default_rng(0)).mean(dim=(1, 2, 3))
        for name, f in (("mean", torch.mean), ("q10", lambda x: x.quantile(0.1)), ("q90", lambda x: x.quantile(0.9))):
            a, b = f(ours).item(), f(theirs).item()
            print(f"{size}² mask coverage {name}: device {a:.4f}, train_diffusion {b:.4f}")
            # 4 standard errors of a mean of 2,000 coverages (sd ≈ 0.1): 0.009; quantiles get twice that.
            assert abs(a - b) < (0.009 if name == "mean" else 0.018), f"{size}² mask coverage {name} differs"
    print("device_burst check: crops and masks match train_diffusion.py's")


def adopt(args):
    """A handed-back snapshot → an export folder and canonical .safetensors, its provenance the CPU run's plus the burst."""
    from export import export_model
    meta = json.load(open(os.path.join(args.bundle, "meta.json")))
    burst = json.load(open(args.burst))
    ae = ConvAutoencoder.load(os.path.join(args.bundle, "autoencoder"))
    unet = build(*CANDIDATES[meta["extra"]["size"]], latent=ae.config["latent_channels"])
    unet.load_state_dict(load_split(args.snapshot))
    burst = {**burst, "snapshot": os.path.basename(args.snapshot.rstrip("/")), "date": time.strftime("%Y-%m-%d", time.gmtime())}
    # The CPU state's record (its steps, batch and crop) plus this burst, whose own batch and crop its entry holds.
    extra = {**meta["extra"], "device_bursts": meta["extra"].get("device_bursts", []) + [burst]}
    provenance = provenance_record("inpaint", extra, meta["step"], 8, extra.get("latent_crop", CROP // 4), meta["cpu_hours"],
                                   args.pool, ae)
    print("exported", export_model(args.export, unet, ae, "inpaint", LINEAR_END["inpaint"], provenance, ldm_edit=args.ldm_edit))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--state", required=True)
    p.add_argument("--autoencoder", required=True)
    p.add_argument("--pool", required=True)
    p.add_argument("--bundle", required=True)
    p.add_argument("--snapshot", help="start from this handed-back snapshot instead of the state's EMA (with --burst)")
    p.add_argument("--burst", help="burst.json of the run that made --snapshot")
    t = sub.add_parser("train")
    t.add_argument("--bundle", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--seconds", type=float, required=True)
    t.add_argument("--batch", type=int, default=256)
    t.add_argument("--crop", type=int, default=2 * CROP, help="pixels (default 256, the eval's scale; 128 before 2026-12-04)")
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--warmup", type=int, default=300)
    t.add_argument("--ema-decay", type=float, default=0.9995)
    t.add_argument("--seed", type=int, default=0)
    sub.add_parser("check")
    a = sub.add_parser("adopt")
    a.add_argument("--snapshot", required=True)
    a.add_argument("--burst", required=True, help="burst.json of the run")
    a.add_argument("--bundle", required=True)
    a.add_argument("--pool", default="/tmp/ldm-pool")
    a.add_argument("--export", required=True)
    a.add_argument("--ldm-edit", required=True)
    args = ap.parse_args()
    {"prepare": prepare, "train": train, "check": check, "adopt": adopt}[args.command](args)


if __name__ == "__main__":
    main()
