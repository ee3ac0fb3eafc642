#!/usr/bin/env python3
"""PyTorch/diffusers twin of `ldm-edit bench NAME` (sr-unet-N, inp-unet-N, sd-unet-N, sd2-unet-N, x4-unet-N, vq-decode-N): one whole-model call on the real
architectures with random weights, CPU, fp32. sd-step-N, sd2-step-N, x4-step-N: the same call as the pipelines make it in a
guided step, the latent doubled (`torch.cat([latents] * 2)` in pipeline_stable_diffusion_inpaint.py / _upscale.py).

    python Scripts/bench/bench_torch.py --model sr-unet-64 [--threads N] [--repeat R] [--layers]
Prints one TSV line: model, name, median seconds, peak RSS (GB), threads, GFLOP (counted with
torch.utils.flop_counter on one call). `ldm-edit bench --torch PYTHON` runs both sides.
Needs torch and diffusers (PyPI) in a virtualenv outside the repository.
"""
import argparse
import re
import resource
import statistics
import time

import torch
from diffusers import UNet2DConditionModel, UNet2DModel, VQModel
from diffusers.models.attention_processor import Attention
from torch.utils.flop_counter import FlopCounterMode

SR = dict(in_channels=6, out_channels=3, block_out_channels=[160, 320, 320, 640], layers_per_block=2,
          down_block_types=["DownBlock2D"] * 3 + ["AttnDownBlock2D"], up_block_types=["AttnUpBlock2D"] + ["UpBlock2D"] * 3,
          attention_head_dim=32, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0, downsample_padding=1)
INPAINT = dict(in_channels=7, out_channels=3, block_out_channels=[256, 512, 768, 1024], layers_per_block=2,
               down_block_types=["ResnetDownsampleBlock2D"] + ["AttnDownBlock2D"] * 3,
               up_block_types=["AttnUpBlock2D"] * 3 + ["ResnetUpsampleBlock2D"], downsample_type="resnet",
               upsample_type="resnet", attention_head_dim=64, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0)
# SD 1.5 inpainting unet/config.json (runwayml stable-diffusion-inpainting).
SD = dict(in_channels=9, out_channels=4, block_out_channels=[320, 640, 1280, 1280], layers_per_block=2,
          down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"], up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
          cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0)
# SD 2 inpainting unet/config.json (stabilityai/stable-diffusion-2-inpainting): 64-channel heads given per block, a 1024-wide
# context (OpenCLIP ViT-H/14), linear projections.
SD2 = dict(SD, cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20], use_linear_projection=True)
# stabilityai/stable-diffusion-x4-upscaler unet/config.json: 7 input channels, 1000 class embeddings (the noise level),
# only_cross_attention on the first three levels, linear projections, 8 heads, OpenCLIP-H context width 1024.
X4 = dict(in_channels=7, out_channels=4, block_out_channels=[256, 512, 512, 1024], layers_per_block=2,
          down_block_types=["DownBlock2D"] + ["CrossAttnDownBlock2D"] * 3, up_block_types=["CrossAttnUpBlock2D"] * 3 + ["UpBlock2D"],
          cross_attention_dim=1024, attention_head_dim=8, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
          use_linear_projection=True, num_class_embeds=1000, only_cross_attention=[True, True, True, False])
VQ = dict(in_channels=3, out_channels=3, block_out_channels=[128, 256, 512], layers_per_block=2, latent_channels=3,
          down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3, num_vq_embeddings=8192,
          norm_num_groups=32)


def make(name):
    if name.startswith("vq"):
        model = VQModel(**VQ).eval()
        side = int(name.rsplit("-", 1)[1])
        z = torch.rand(1, 3, side, side) - 0.5
        return lambda: model.decode(z).sample
    kind, part, side = name.split("-")

    def pair(channels):
        """batch 2: classifier-free guidance's two halves; a guided step's ("step") are the same latent twice"""
        if part == "step":
            return (torch.rand(1, channels, int(side), int(side)) * 2 - 1).repeat(2, 1, 1, 1)
        return torch.rand(2, channels, int(side), int(side)) * 2 - 1

    if kind in ("sd", "sd2"):
        model = UNet2DConditionModel(**(SD if kind == "sd" else SD2)).eval()
        # with a 77-token text context each
        x = pair(9)
        context = torch.rand(2, 77, model.config.cross_attention_dim) * 2 - 1
        t = torch.tensor([500, 500])
        run = lambda: model(x, t, encoder_hidden_states=context).sample
        run.model = model
        return run
    if kind == "x4":
        model = UNet2DConditionModel(**X4).eval()
        # batch 2 (guidance) with a 77-token context each and the noise level 20 as class label
        x = pair(7)
        context = torch.rand(2, 77, 1024) * 2 - 1
        t = torch.tensor([500, 500])
        labels = torch.tensor([20, 20])
        run = lambda: model(x, t, encoder_hidden_states=context, class_labels=labels).sample
        run.model = model
        return run
    model = UNet2DModel(**(SR if kind == "sr" else INPAINT)).eval()
    if kind == "inp":
        for m in model.modules():
            if isinstance(m, Attention):
                m.heads = 8  # inpainting_big: 8 heads at every width (docs/ldm-spec.md §6.3)
    x = torch.rand(1, model.config.in_channels, int(side), int(side)) * 2 - 1
    t = torch.tensor([500])
    run = lambda: model(x, t).sample
    run.model = model
    return run


def layer_times(run, model):
    """Seconds per U-Net layer in one call after a warm-up (forward pre/post hooks), as `ldm-bench --model CASE
    --layers` prints them: resnets, transformer blocks, samplers (a transformer's own line: its time less its blocks')."""
    pattern = re.compile(r"^(down_blocks|up_blocks|mid_block)(\.\d+)?\.(resnets\.\d+|attentions\.\d+(\.transformer_blocks\.\d+)?"
                         r"|downsamplers\.0|upsamplers\.0)$")
    times, starts = {}, {}
    for name, module in model.named_modules():
        if pattern.match(name):
            module.register_forward_pre_hook(lambda m, a, name=name: starts.__setitem__(name, time.perf_counter()))
            module.register_forward_hook(lambda m, a, o, name=name: times.__setitem__(name, time.perf_counter() - starts[name]))
    run()
    times.clear()
    run()
    for name in list(times):
        if ".transformer_blocks." in name:
            times[name.split(".transformer_blocks.")[0]] -= times[name]
    kinds = {}
    for name, seconds in times.items():
        print(f"{name:48s} {seconds:8.3f} s")
        kind = next((k for k in ("transformer_blocks", "resnets", "attentions", "samplers") if k in name), "other")
        kinds[kind] = kinds.get(kind, 0) + seconds
    total = sum(kinds.values())
    for kind, seconds in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"{'total ' + kind:48s} {seconds:8.3f} s  {100 * seconds / total:5.1f} %")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--layers", action="store_true", help="seconds per layer of one call (U-Nets), not the timing line")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with torch.inference_mode():
        run = make(args.model)
        if args.layers:
            layer_times(run, run.model)
            return
        with FlopCounterMode(display=False) as counter:
            run()
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"torch\t{args.model}\t{statistics.median(times)}\t{rss}\t{torch.get_num_threads()}\t{counter.get_total_flops() / 1e9}")


if __name__ == "__main__":
    main()
