"""The U-Net phases' arithmetic: float32, or bfloat16 autocast where the hardware makes it pay.

On a CPU with AMX (Intel Sapphire/Emerald Rapids: `amx_bf16` in /proc/cpuinfo), oneDNN runs bf16 convolutions on the
tile unit: measured on the 2-core Xeon of 2026-12-05 (Scripts/train/README.md "Mixed precision"), the inpainting
phase's training step at its 64² latent crop, batch 8, took 1.185 s in bf16 against 1.898 s in fp32, with the
gradient's cosine to fp32's 0.9994–0.99995. Without AMX it did not pay: 1.1–1.2× on an AVX-512-BF16 EPYC, slower than
fp32 on AVX2 (PyTorch issues 118499, 146508). So `auto` is bf16 on CUDA and on AMX CPUs, fp32 elsewhere.

CUDA's autocast runs normalisations in fp32 by itself; the CPU's does not (group_norm is on neither of its lists, so it
runs in the dtype it is given, and its bf16 backward measured 5× slower than fp32's). `keep_fp32` holds the layers
whose precision or speed needs it in fp32: on a CPU GroupNorm and attention (softmax over 1,024 tokens; its CPU flash
kernel measured alike in both precisions), on any device the input convolution (z_t rounded to bf16 errs by ~0.2 %
of its size, 6 % of the noise at t = 0, which the low-noise steps must resolve) and the output convolution (the
prediction itself, whose error the loss measures: bf16's 8-bit mantissa would quantise it at 0.4 %, while the trained
model's error is ~10 %)."""
import contextlib

import torch

CHOICES = ("auto", "fp32", "bf16")


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(line for line in f if line.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        return set()


def cpu_isa():
    """The vector extensions of this CPU that decide fp32 vs bf16 speed (avx2, avx512f, avx512_bf16, amx_bf16)."""
    flags = cpu_flags()
    return " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags) or "baseline"


def resolve(name, dev):
    """"fp32" or "bf16" for `--precision name` (one of CHOICES) on device `dev` (auto: see the module's docstring)."""
    if name != "auto":
        return name
    return "bf16" if dev.type == "cuda" or (dev.type == "cpu" and "amx_bf16" in cpu_flags()) else "fp32"


def autocast(dev, precision):
    """The context a training forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(dev.type, dtype=torch.bfloat16)


_FP32_CLASSES = {}


def _fp32_class(cls):
    """`cls` with a forward that runs with autocast off on float32 inputs (one subclass per class, cached so that
    copies and EMA deep copies share it; the state dict's keys are the parent's)."""
    if cls not in _FP32_CLASSES:
        def forward(self, *args, **kwargs):
            def up(a):
                return a.float() if torch.is_tensor(a) and a.is_floating_point() else a
            with torch.autocast(args[0].device.type, enabled=False):   # args[0]: the layer's input tensor
                return cls.forward(self, *map(up, args), **{k: up(v) for k, v in kwargs.items()})
        _FP32_CLASSES[cls] = type(f"FP32{cls.__name__}", (cls,), {"forward": forward})
    return _FP32_CLASSES[cls]


def keep_fp32(unet, dev):
    """Make `unet`'s input and output convolutions run in fp32 under autocast, and on a CPU its GroupNorms and attention
    layers too (CUDA's autocast runs normalisations in fp32 itself, and its bf16 flash attention is the fast one); in
    place, the weights, keys and fp32 outputs unchanged → unet."""
    from diffusers.models.attention_processor import Attention
    for name, m in unet.named_modules():
        if name in ("conv_in", "conv_out") or (dev.type == "cpu" and isinstance(m, (torch.nn.GroupNorm, Attention))):
            m.__class__ = _fp32_class(type(m))
    return unet
