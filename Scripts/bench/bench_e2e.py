#!/usr/bin/env python3
"""PyTorch side of the end-to-end benchmark (Scripts/bench/bench_e2e.sh): the reference recipes with
their default step counts, on the full-size random models of `make_parity_fixtures.py --full`.

    python Scripts/bench/bench_e2e.py upscale MODELS IMAGE [--steps 100] [--threads N]
    python Scripts/bench/bench_e2e.py inpaint MODELS IMAGE MASK [--steps 50] [--threads N]

- upscale: diffusers LDMSuperResolutionPipeline (its defaults: DDIM, 100 steps, eta 0) on an
  8-bit image given as a [-1, 1] tensor, MODELS/sr.
- inpaint: the CompVis scripts/inpaint.py recipe (DDIM 50 steps, eta 0: encode the masked image,
  downsample the mask, sample, decode, blend), MODELS/inp.
Prints one TSV line: task, seconds (wall, model loading excluded), peak RSS (GB), threads, steps.
"""
import argparse
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, UNet2DModel, VQModel
from diffusers.models.attention_processor import Attention
from diffusers.pipelines.latent_diffusion.pipeline_latent_diffusion_superresolution import LDMSuperResolutionPipeline
from PIL import Image


def load(path, inpainting=False):
    unet = UNet2DModel.from_pretrained(f"{path}/unet").float().eval()
    vq = VQModel.from_pretrained(f"{path}/vqvae").float().eval()
    if inpainting:
        for m in unet.modules():
            if isinstance(m, Attention):
                m.heads = 8  # inpainting_big: 8 heads at every width (docs/ldm-spec.md §6.3)
    return unet, vq


def upscale(args):
    unet, vq = load(f"{args.models}/sr")
    sched = DDIMScheduler(beta_start=0.0015, beta_end=0.0155, beta_schedule="scaled_linear", num_train_timesteps=1000,
                          clip_sample=False, set_alpha_to_one=True, steps_offset=1)
    pipe = LDMSuperResolutionPipeline(vqvae=vq, unet=unet, scheduler=sched)
    image = torch.from_numpy(np.asarray(Image.open(args.image).convert("RGB"))).permute(2, 0, 1)[None].float() / 127.5 - 1
    start = time.perf_counter()
    pipe(image=image, num_inference_steps=args.steps or 100, eta=0.0, generator=torch.manual_seed(1), output_type="np")
    return time.perf_counter() - start, args.steps or 100


def inpaint(args):
    unet, vq = load(f"{args.models}/inp", inpainting=True)
    steps = args.steps or 50
    betas = torch.linspace(0.0015 ** 0.5, 0.0205 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphacums = torch.cumprod(1 - betas, 0).float()
    tau = np.asarray(list(range(0, 1000, 1000 // steps))) + 1
    alphas = alphacums[tau]
    alphas_prev = np.asarray([alphacums[0].item()] + alphacums[tau[:-1]].tolist())
    sqrt_one_minus = torch.from_numpy(np.sqrt(1.0 - alphas.numpy())).float()
    image = torch.from_numpy(np.asarray(Image.open(args.image).convert("RGB"))).permute(2, 0, 1)[None].float() / 255
    mask = torch.from_numpy(np.asarray(Image.open(args.mask).convert("L")))[None, None].float() / 255
    mask = (mask >= 0.5).float()
    start = time.perf_counter()
    masked = (1 - mask) * image
    image, mask, masked = image * 2 - 1, mask * 2 - 1, masked * 2 - 1
    cond = vq.encode(masked).latents
    cond = torch.cat([cond, F.interpolate(mask, size=cond.shape[-2:])], dim=1)
    torch.manual_seed(1)
    x = torch.randn(1, 3, cond.shape[2], cond.shape[3])
    for index in reversed(range(len(tau))):
        e = unet(torch.cat([x, cond], dim=1), torch.tensor([int(tau[index])])).sample
        a_t, a_prev = alphas[index], torch.tensor(alphas_prev[index], dtype=torch.float32)
        pred_x0 = (x - sqrt_one_minus[index] * e) / a_t.sqrt()
        x = a_prev.sqrt() * pred_x0 + (1.0 - a_prev).sqrt() * e
    predicted = torch.clamp((vq.decode(x).sample + 1) / 2, 0, 1)
    m01 = torch.clamp((mask + 1) / 2, 0, 1)
    _ = (1 - m01) * torch.clamp((image + 1) / 2, 0, 1) + m01 * predicted
    return time.perf_counter() - start, steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["upscale", "inpaint"])
    ap.add_argument("models")
    ap.add_argument("image")
    ap.add_argument("mask", nargs="?")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with torch.inference_mode():
        seconds, steps = upscale(args) if args.task == "upscale" else inpaint(args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{args.task}\t{seconds}\t{rss}\t{torch.get_num_threads()}\t{steps}")


if __name__ == "__main__":
    main()
