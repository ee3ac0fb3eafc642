#!/usr/bin/env python3
"""Measure training throughput of the candidate U-Nets (unets.CANDIDATES) on this machine before choosing sizes.

    python Scripts/train/measure.py [--threads 2] [--steps 6] [--channels-last] [--compile] [--bf16]
Prints, per candidate and latent crop: parameters, float16 size, optimizer steps/s and samples/s
(median of --steps timed steps after 2 warm-up steps), one AdamW step on random data with the
training loss, and the cost of the first-stage encoder per sample for comparison.
"""
import argparse
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from conv_autoencoder import ConvAutoencoder
from precision import autocast, cpu_isa, keep_fp32
from unets import CANDIDATES, LATENT, build


def timed(fn, steps):
    for _ in range(2):
        fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the forward pass (fp32 weights and "
                    "optimiser) as train_diffusion.py --precision bf16 runs it (precision.py)")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads, fp32"
          + (", channels_last" if args.channels_last else "") + (", torch.compile" if args.compile else "") + (", bf16 autocast" if args.bf16 else "")
          + f", CPU flags: {cpu_isa()}")
    print("| candidate | params | f16 MB | latent | batch | s/step | samples/s |\n|---|---|---|---|---|---|---|")
    for name, (task, widths) in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        unet = keep_fp32(build(task, widths), torch.device("cpu"))
        params = sum(p.numel() for p in unet.parameters())
        opt = torch.optim.AdamW(unet.parameters(), lr=1e-4)
        model = torch.compile(unet) if args.compile else unet
        for side, batch in [(16, 16), (32, 8)]:
            x = torch.randn(batch, unet.config.in_channels, side, side)
            if args.channels_last:
                x = x.to(memory_format=torch.channels_last)
                unet.to(memory_format=torch.channels_last)
            t = torch.randint(0, 1000, (batch,))
            target = torch.randn(batch, LATENT, side, side)

            def step():
                with autocast(torch.device("cpu"), "bf16" if args.bf16 else "fp32"):
                    out = model(x, t).sample
                loss = F.mse_loss(out.float(), target)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            s = timed(step, args.steps)
            print(f"| {name} | {params / 1e6:.2f} M | {params * 2 / 2**20:.1f} | {side}² | {batch} | {s:.3f} | {batch / s:.1f} |",
                  flush=True)
    ae = ConvAutoencoder().eval()
    with torch.no_grad():
        for side, batch in [(64, 16), (128, 8)]:
            x = torch.randn(batch, 3, side, side)
            s = timed(lambda: ae.encode(x), args.steps)
            print(f"| first-stage encode (no grad) | {sum(p.numel() for p in ae.encoder.parameters()) / 1e6:.2f} M | | "
                  f"{side // 4}² | {batch} | {s:.3f} | {batch / s:.1f} |")


if __name__ == "__main__":
    main()
