#!/usr/bin/env python3
"""PyTorch twin of `ldm-bench`: the same kernel cases, CPU, fp32, same thread count.

    python Scripts/bench_torch_kernels.py [--threads N] [--repeat R] [--ours ours.tsv]

Prints median ms and GFLOP/s per case. With --ours (the output of `ldm-bench --tsv`), adds our
time and the ratio ours/torch (< 1 means ldm-edit is faster). Scripts/bench_kernels.sh runs both.
Keep the case list in step with Sources/ldm-bench/KernelCases.swift.
Needs: torch (PyPI), in a virtualenv outside the repository.
"""
import argparse
import csv
import math
import statistics
import time

import torch
import torch.nn.functional as F


def cases():
    g = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.rand(*shape, generator=g) * 2 - 1

    out = []
    for c, o, h, k, stride in [(320, 320, 64, 3, 1), (640, 640, 16, 3, 1), (128, 128, 256, 3, 1),
                               (160, 160, 128, 3, 1), (512, 512, 64, 3, 1), (320, 320, 64, 3, 2),
                               (320, 960, 32, 1, 1), (640, 1920, 16, 1, 1)]:
        x, w, b = rand(1, c, h, h), rand(o, c, k, k), rand(o)
        pad = k // 2
        ho = (h + 2 * pad - k) // stride + 1
        flops = 2.0 * o * c * k * k * ho * ho
        label = f"{c}->{o} k{k} s{stride} {h}x{h}"
        out.append(("conv2d", label, flops, lambda x=x, w=w, b=b, s=stride, p=pad: F.conv2d(x, w, b, s, p)))
        m, n, kk = o, ho * ho, c * k * k
        a, bm = rand(m, kk), rand(kk, n)
        out.append(("sgemm", f"{m}x{n}x{kk} ({label})", flops, lambda a=a, bm=bm: a @ bm))
    for tokens, heads, d in [(4096, 20, 32), (1024, 20, 32), (256, 8, 128), (4096, 1, 512)]:
        c = heads * d
        qkv = rand(1, 3 * c, tokens)
        flops = 4.0 * tokens * tokens * c

        def legacy(qkv=qkv, heads=heads, d=d, tokens=tokens):
            # openaimodel.QKVAttentionLegacy, as the CompVis U-Net runs it.
            q, k, v = qkv.reshape(heads, 3 * d, tokens).split(d, dim=1)
            scale = 1 / math.sqrt(math.sqrt(d))
            w = torch.einsum("bct,bcs->bts", q * scale, k * scale).softmax(dim=-1)
            return torch.einsum("bts,bcs->bct", w, v).reshape(1, -1, tokens)

        def sdpa(qkv=qkv, heads=heads, d=d, tokens=tokens):
            # diffusers' path: scaled_dot_product_attention on [B, heads, T, d].
            q, k, v = qkv.reshape(heads, 3 * d, tokens).split(d, dim=1)
            o = F.scaled_dot_product_attention(q.transpose(1, 2)[None], k.transpose(1, 2)[None], v.transpose(1, 2)[None])
            return o

        out.append(("attention", f"T{tokens} h{heads} d{d}", flops, legacy))
        out.append(("attention-sdpa", f"T{tokens} h{heads} d{d}", flops, sdpa))
    for c, h, silu in [(160, 128, True), (320, 64, True), (512, 256, False)]:
        x, gamma, beta = rand(1, c, h, h), rand(c), rand(c)
        name = "groupnorm+silu" if silu else "groupnorm"
        fn = (lambda x=x, gm=gamma, bt=beta: F.silu(F.group_norm(x, 32, gm, bt, 1e-5))) if silu else \
             (lambda x=x, gm=gamma, bt=beta: F.group_norm(x, 32, gm, bt, 1e-5))
        out.append((name, f"{c}x{h}x{h}", x.numel() * (8 if silu else 5), fn))
    x = rand(1, 320, 64, 64)
    out.append(("upsample2x", "320x64x64", 4.0 * x.numel(), lambda: F.interpolate(x, scale_factor=2.0, mode="nearest")))
    out.append(("add", "320x64x64", float(x.numel()), lambda: x + x))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--ours", help="ldm-bench --tsv output to compare with")
    p.add_argument("--filter", default="")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ours = {}
    if args.ours:
        with open(args.ours) as f:
            for row in csv.DictReader(f, delimiter="\t"):
                ours[(row["kernel"], row["shape"])] = float(row["median_ms"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), median of {args.repeat} after 1 warm-up")
    head = f"{'kernel':16}{'shape':44}{'torch ms':>11}{'GFLOP/s':>9}"
    print(head + (f"{'ours ms':>11}{'ours/torch':>12}" if ours else ""))
    with torch.inference_mode():
        for kernel, shape, flops, fn in cases():
            if args.filter and args.filter not in kernel and args.filter not in shape:
                continue
            fn()
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            ms = statistics.median(times) * 1000
            line = f"{kernel:16}{shape:44}{ms:11.3f}{flops / ms / 1e6:9.1f}"
            key = (kernel.replace("-sdpa", ""), shape)
            if key in ours:
                line += f"{ours[key]:11.3f}{ours[key] / ms:12.2f}"
            print(line)


if __name__ == "__main__":
    main()
