#!/usr/bin/env python3
"""Which erf makes ldm-edit's GELU closest to PyTorch's, call by call?

PyTorch computes GELU on a float32 CPU tensor two ways: a contiguous tensor goes to oneDNN's GELU, a
non-contiguous view (diffusers' and CompVis' GEGLU gate, `proj(x).chunk(2, dim=-1)[1]`) to ATen's own
vectorised loop, whose erf is Abramowitz & Stegun 7.1.26 (`Vectorized<float>::erf`, ATen/cpu/vec). This
evaluates that formula in float32 with single-rounding FMAs (as Sources/CKernels/KernelBody.h's ldm_erf
does) and GELU with libm's erf, and counts the outputs that differ from PyTorch's on 2*10^5 normal
values (x2) for both PyTorch paths; it also prints the float32 formula's worst error against erf.

    /tmp/torch-venv/bin/python Scripts/bench/gelu_erf.py
"""
import math

import numpy as np
import torch

f32 = np.float32


def fma(a, b, c):
    # a*b is exact in float64 for float32 operands; one rounding to float64, then to float32.
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(f32)


def erf_as_pytorch(x):
    """Vectorized<float>::erf's operations, in its order (exp: numpy's float32 exp)."""
    absolute = np.abs(x)
    one = np.ones_like(x)
    t = (f32(1) / fma(np.full_like(x, f32(0.3275911)), absolute, one)).astype(f32)
    r = fma(np.full_like(t, f32(1.061405429)), t, np.full_like(t, f32(-1.453152027)))
    for c in (1.421413741, -0.284496736, 0.254829592):
        r = fma(r, t, np.full_like(t, f32(c)))
    e = np.exp(-(x * x)).astype(f32)
    y = fma((-e * t).astype(f32), r, one)
    return np.where(x < 0, -y, y).astype(f32)


def gelu(x, erf):
    scaled = (x * f32(0.70710678118654752)).astype(f32)
    return ((f32(0.5) * x).astype(f32) * (f32(1) + erf(scaled)).astype(f32)).astype(f32)


def libm_erf(x):
    return np.array([math.erf(v) for v in x.astype(np.float64)]).astype(f32)


def main():
    grid = np.linspace(-6, 6, 2_000_001).astype(f32)
    exact = np.array([math.erf(v) for v in grid.astype(np.float64)])
    error = np.abs(erf_as_pytorch(grid).astype(np.float64) - exact)
    print(f"A&S 7.1.26 in float32 against erf on ±6: worst {error.max():.2e} at x = {grid[error.argmax()]:.4f}")
    x = (np.random.default_rng(0).standard_normal(200_000) * 2).astype(f32)
    tx = torch.from_numpy(x)
    contiguous = torch.nn.functional.gelu(tx).numpy()
    rows = torch.zeros(1000, 400)
    rows[:, 200:] = tx.view(1000, 200)
    gate = torch.nn.functional.gelu(rows.chunk(2, dim=-1)[1]).reshape(-1).numpy()
    ours, libm = gelu(x, erf_as_pytorch), gelu(x, libm_erf)
    print(f"torch {torch.__version__}")
    for name, reference in (("contiguous (oneDNN)", contiguous), ("GEGLU gate view (ATen)", gate)):
        print(f"{name}: A&S erf differs on {np.mean(ours != reference):.1%} (max {np.abs(ours - reference).max():.1e}), "
              f"libm erf on {np.mean(libm != reference):.1%} (max {np.abs(libm - reference).max():.1e})")


if __name__ == "__main__":
    main()
