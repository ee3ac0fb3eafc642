#!/usr/bin/env python3
"""How exact is Winograd F(4x4, 3x3) in float32 for each choice of interpolation points?

Builds the Toom-Cook transforms (At, G, Bt) for five finite points plus infinity, runs a 3x3
convolution through them with float32 arithmetic at every stage (input and weight transforms, the 36
GEMMs, the output transform), and prints the rms and max error relative to a float64 direct
convolution, beside a float32 direct (im2col GEMM) convolution, the way PyTorch's CPU convolution
sums. Sources/LDMTensor/Kernels/Winograd.swift chose its points from this (the GEMMs' rounding,
amplified by the output transform, dominates; `--breakdown` shows it).

    python Scripts/bench/winograd_points.py [--search] [--breakdown]

Needs numpy only (and sympy for --exact, which prints the transforms as fractions).
"""
import argparse
import itertools

import numpy as np


def transforms(points, m=4, r=3):
    """At [m, n], G [n, r], Bt [n, n] for the finite `points` and infinity (n = m + r - 1)."""
    n = m + r - 1
    at = np.zeros((m, n))
    g = np.zeros((n, r))
    for j, p in enumerate(points):
        at[:, j] = [p ** i for i in range(m)]
        norm = np.prod([p - q for q in points if q != p])
        g[j] = [p ** k / norm for k in range(r)]
    at[m - 1, n - 1] = 1
    g[n - 1, r - 1] = 1
    # Bt solves sum_j At[i, j] G[j, l] Bt[j, k] = [k == i + l] for every i, l, k (consistent, unique).
    rows, rhs = [], []
    for i in range(m):
        for l in range(r):
            for k in range(n):
                row = np.zeros((n, n))
                row[:, k] = at[i] * g[:, l]
                rows.append(row.ravel())
                rhs.append(1.0 if k == i + l else 0.0)
    bt = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0].reshape(n, n)
    return at, g, bt


def direct(x, w, dtype):
    c, h, wd = x.shape
    xp = np.zeros((c, h + 2, wd + 2), dtype)
    xp[:, 1:-1, 1:-1] = x
    cols = np.stack([xp[:, i:i + h, j:j + wd] for i in range(3) for j in range(3)], 1).reshape(c * 9, h * wd)
    return (w.astype(dtype).reshape(w.shape[0], c * 9) @ cols).reshape(-1, h, wd)


def winograd(x, w, at, g, bt, stages=("v", "u", "m", "y")):
    """Each stage named in `stages` is rounded to float32 (the others stay float64)."""
    f32, f64 = np.float32, np.float64
    rnd = {s: (lambda a: a.astype(f32).astype(f64)) if s in stages else (lambda a: a) for s in "vumy"}
    c, h, wd = x.shape
    o = w.shape[0]
    xp = np.zeros((c, h + 2, wd + 2))
    xp[:, 1:-1, 1:-1] = x
    th, tw = h // 4, wd // 4
    patches = np.stack([np.stack([xp[:, 4 * a:4 * a + 6, 4 * b:4 * b + 6] for b in range(tw)], 1)
                        for a in range(th)], 1).reshape(c, th * tw, 6, 6)
    if "v" in stages:  # stage by stage in float32, as the kernels do
        bt32 = bt.astype(f32)
        v = np.einsum("ij,ctjk->ctik", bt32, patches.astype(f32)).astype(f32)
        v = np.einsum("ctik,lk->ctil", v, bt32).astype(f64)
    else:
        v = np.einsum("ij,ctjk,lk->ctil", bt, patches, bt)
    if "u" in stages:
        g32 = g.astype(f32)
        u = np.einsum("ij,ocjk->ocik", g32, w.astype(f32)).astype(f32)
        u = np.einsum("ocik,lk->ocil", u, g32).astype(f64)
    else:
        u = np.einsum("ij,ocjk,lk->ocil", g, w.astype(f64), g)
    m = np.empty((o, th * tw, 6, 6))
    gemm_type = f32 if "m" in stages else f64
    for a in range(6):
        for b in range(6):
            m[:, :, a, b] = u[:, :, a, b].astype(gemm_type) @ v[:, :, a, b].astype(gemm_type)
    y = rnd["y"](np.einsum("ij,otjk,lk->otil", at, rnd["m"](m), at))
    return y.reshape(o, th, tw, 4, 4).transpose(0, 1, 3, 2, 4).reshape(o, h, wd)


def problem(seed, c, o, size, activation):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, size, size))
    if activation == "silu":
        x = x / (1 + np.exp(-x))
    elif activation == "relu+mean":
        x = np.maximum(x, 0) + 0.5
    w = rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)
    x, w = x.astype(np.float32), w.astype(np.float32)
    return x, w, direct(x.astype(np.float64), w.astype(np.float64), np.float64)


def errors(y, ref):
    e = y.astype(np.float64) - ref
    scale = np.sqrt(np.mean(ref ** 2))
    return np.sqrt(np.mean(e ** 2)) / scale, np.abs(e).max() / scale


SETS = {
    "0 ±1 ±2 (Lavin & Gray)": [0, 1, -1, 2, -2],
    "0 ±1 ½ −2": [0, 1, -1, 0.5, -2],
    "0 ±½ ±3/2 (ours)": [0, 0.5, -0.5, 1.5, -1.5],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--search", action="store_true", help="rank all sets of small dyadic/rational points")
    ap.add_argument("--breakdown", action="store_true", help="error when only one stage is float32")
    ap.add_argument("--exact", action="store_true", help="print our transforms as fractions (sympy)")
    args = ap.parse_args()
    cases = [(0, 320, 128, 32, "silu"), (1, 512, 128, 16, "normal"), (2, 128, 128, 64, "silu"),
             (3, 256, 128, 32, "relu+mean")]
    for seed, c, o, size, act in cases:
        x, w, ref = problem(seed, c, o, size, act)
        rms, mx = errors(direct(x, w, np.float32), ref)
        print(f"C={c} O={o} {size}x{size} {act}: direct float32 rms {rms:.2e} max {mx:.2e}")
        for name, pts in SETS.items():
            rms, mx = errors(winograd(x, w, *transforms(pts)), ref)
            print(f"  winograd {name:24s} rms {rms:.2e} max {mx:.2e}")
    if args.breakdown:
        x, w, ref = problem(0, 320, 128, 32, "silu")
        for name, pts in SETS.items():
            t = transforms(pts)
            parts = ", ".join(f"{s} {errors(winograd(x, w, *t, stages=(s,)), ref)[0]:.1e}" for s in "vumy")
            print(f"only one stage in float32, {name}: {parts}")
    if args.search:
        x, w, ref = problem(1, 192, 64, 16, "silu")
        pool = [0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1, 1.5, 2, 3, 4]
        pool = sorted(set([0] + pool + [-p for p in pool]))
        ranked = []
        for pts in itertools.combinations(pool, 5):
            ranked.append((errors(winograd(x, w, *transforms(list(pts))), ref)[0], pts))
        ranked.sort()
        for rms, pts in ranked[:12]:
            print(f"{rms:.3e}", [round(p, 3) for p in pts])
    if args.exact:
        import sympy as sp
        pts = [sp.Rational(p) for p in ("0", "1/2", "-1/2", "3/2", "-3/2")]
        at, g = sp.zeros(4, 6), sp.zeros(6, 3)
        for j, p in enumerate(pts):
            for i in range(4):
                at[i, j] = p ** i
            norm = sp.prod([p - q for q in pts if q != p])
            for k in range(3):
                g[j, k] = p ** k / norm
        at[3, 5] = g[5, 2] = 1
        bt = sp.Matrix(6, 6, lambda i, j: sp.Symbol(f"b{i}{j}"))
        eqs = [sum(at[i, j] * g[j, l] * bt[j, k] for j in range(6)) - (1 if k == i + l else 0)
               for i in range(4) for l in range(3) for k in range(6)]
        bt = bt.subs(sp.solve(eqs, list(bt)))
        for name, mat in (("At", at), ("G", g), ("Bt", bt)):
            print(name, mat.tolist())


if __name__ == "__main__":
    main()
