#!/usr/bin/env python3
"""PyTorch twin of `ldm-bench`: the same kernel cases, CPU, fp32, same thread count.

    python Scripts/bench/bench_torch_kernels.py [--threads N] [--repeat R] [--tsv]
    python Scripts/bench/bench_torch_kernels.py --merge-ours A.tsv B.tsv ... --merge-torch C.tsv D.tsv ...

Prints median ms and GFLOP/s per case (or TSV rows with --tsv). The merge form takes several
rounds of `ldm-bench --tsv` and of this script's --tsv output, made alternately so that load on a
shared machine hits both alike, and prints per case the median over rounds of each side and the
ratio ours/torch (< 1 means ldm-edit is faster). Scripts/bench/bench_kernels.sh does all of that.
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
    for keys, label, heads, d in [(4096, "self", 8, 40), (77, "cross", 8, 40), (4096, "self", 5, 64)]:
        # The SD U-Net's level 0 (64² latent, guidance batch 2; SD 1.x: 8 heads of 40, SD 2.x: 5 of 64),
        # diffusers' SDPA path.
        n, tokens = 2, 4096
        q, kv = rand(n, tokens, heads * d), rand(n, keys, 2 * heads * d)

        def token_sdpa(q=q, kv=kv, n=n, tokens=tokens, keys=keys, heads=heads, d=d):
            k, v = kv.split(heads * d, dim=-1)
            split = lambda x, t: x.reshape(n, t, heads, d).transpose(1, 2)
            o = F.scaled_dot_product_attention(split(q, tokens), split(k, keys), split(v, keys))
            return o.transpose(1, 2).reshape(n, tokens, heads * d)

        out.append(("token-attention", f"{label} N{n} T{tokens} S{keys} h{heads} d{d}", 4.0 * n * tokens * keys * heads * d, token_sdpa))
    for c, h, silu in [(160, 128, True), (320, 64, True), (512, 256, False)]:
        x, gamma, beta = rand(1, c, h, h), rand(c), rand(c)
        name = "groupnorm+silu" if silu else "groupnorm"
        fn = (lambda x=x, gm=gamma, bt=beta: F.silu(F.group_norm(x, 32, gm, bt, 1e-5))) if silu else \
             (lambda x=x, gm=gamma, bt=beta: F.group_norm(x, 32, gm, bt, 1e-5))
        out.append((name, f"{c}x{h}x{h}", x.numel() * (8 if silu else 5), fn))
    x = rand(1, 320, 64, 64)
    out.append(("upsample2x", "320x64x64", 4.0 * x.numel(), lambda: F.interpolate(x, scale_factor=2.0, mode="nearest")))
    out.append(("add", "320x64x64", float(x.numel()), lambda: x + x))
    rows = rand(256, 4096)
    out.append(("softmax", "256x4096", float(rows.numel()), lambda: torch.softmax(rows, dim=-1)))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--tsv", action="store_true", help="print TSV rows like ldm-bench --tsv")
    p.add_argument("--filter", default="")
    p.add_argument("--merge-ours", nargs="*", default=[])
    p.add_argument("--merge-torch", nargs="*", default=[])
    args = p.parse_args()
    if args.merge_ours or args.merge_torch:
        return merge(args.merge_ours, args.merge_torch)
    torch.set_num_threads(args.threads)
    if args.tsv:
        print("kernel\tshape\tmedian_ms\tgflops\tthreads")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), median of {args.repeat} after 1 warm-up")
        print(f"{'kernel':16}{'shape':44}{'torch ms':>11}{'GFLOP/s':>9}")
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
            if args.tsv:
                print(f"{kernel}\t{shape}\t{ms}\t{flops / ms / 1e6}\t{torch.get_num_threads()}")
            else:
                print(f"{kernel:16}{shape:44}{ms:11.3f}{flops / ms / 1e6:9.1f}")


def read_rounds(paths):
    """{(kernel, shape): [median_ms per round]} and the GFLOP count implied by each case."""
    times, flops, threads = {}, {}, set()
    for path in paths:
        with open(path) as f:
            for row in csv.DictReader(f, delimiter="\t"):
                key = (row["kernel"], row["shape"])
                ms = float(row["median_ms"])
                times.setdefault(key, []).append(ms)
                flops[key] = float(row["gflops"]) * ms / 1000
                threads.add(row["threads"])
    return times, flops, threads


def merge(ours_paths, torch_paths):
    ours, flops, t1 = read_rounds(ours_paths)
    theirs, _, t2 = read_rounds(torch_paths)
    print(f"median over {len(ours_paths)} alternating rounds (each round: median of its repeats); "
          f"threads: ours {','.join(sorted(t1))}, torch {','.join(sorted(t2))}; torch {torch.__version__}")
    print(f"{'kernel':16}{'shape':44}{'ours ms':>10}{'GFLOP/s':>9}{'torch ms':>10}{'GFLOP/s':>9}{'ours/torch':>12}")
    for key, values in theirs.items():
        kernel, shape = key
        mine = ours.get((kernel.replace("-sdpa", ""), shape))
        t = statistics.median(values)
        g = flops.get((kernel.replace("-sdpa", ""), shape), 0)
        if mine is None:
            continue
        m = statistics.median(mine)
        print(f"{kernel:16}{shape:44}{m:10.3f}{g / m * 1000:9.1f}{t:10.3f}{g / t * 1000:9.1f}{m / t:12.2f}")


if __name__ == "__main__":
    main()
