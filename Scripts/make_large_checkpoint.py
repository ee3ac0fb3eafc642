#!/usr/bin/env python3
"""A full-size inpainting_big-shaped CompVis checkpoint with random weights, for load-time and
peak-memory measurements of `ldm-edit inspect` / `convert` (docs/checkpoints.md). ~3.3 GB, like
the real last.ckpt: U-Net (387.2 M) raw + EMA copies, vq-f4-noattn first stage duplicated as the
cond stage (shared storage), schedule buffers.

    /tmp/torch-venv/bin/python Scripts/make_large_checkpoint.py /tmp/inpainting_big_random.ckpt
Uses make_model_fixtures.py's diffusers → CompVis mapping on real diffusers modules.
"""
import importlib.util
import os
import sys

import torch
from diffusers import UNet2DModel, VQModel

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fixtures", os.path.join(here, "make_model_fixtures.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)

unet_cfg = dict(sample_size=64, in_channels=7, out_channels=3, block_out_channels=[256, 512, 768, 1024], layers_per_block=2,
                down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
                up_block_types=["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "ResnetUpsampleBlock2D"],
                downsample_type="resnet", upsample_type="resnet", attention_head_dim=64, norm_num_groups=32,
                flip_sin_to_cos=True, freq_shift=0)
vq_cfg = dict(in_channels=3, out_channels=3, block_out_channels=[128, 256, 512], layers_per_block=2, latent_channels=3,
              down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3, num_vq_embeddings=8192,
              norm_num_groups=32, mid_block_add_attention=False)
with torch.no_grad():
    usd = UNet2DModel(**unet_cfg).state_dict()
    vsd = VQModel(**vq_cfg).state_dict()
cu = fx.to_compvis_unet(usd, unet_cfg, lambda C: 8)
cv = fx.to_compvis_vq(vsd, vq_cfg)
del usd, vsd
state = {}
for k, v in cu.items():
    state["model.diffusion_model." + k] = v
    state["model_ema.diffusion_model" + k.replace(".", "")] = v.clone()
for k, v in cv.items():
    state["first_stage_model." + k] = v
    state["cond_stage_model." + k] = v
state["betas"] = (torch.linspace(0.0015 ** 0.5, 0.0205 ** 0.5, 1000, dtype=torch.float64) ** 2).float()
torch.save({"state_dict": state, "epoch": 0, "global_step": 0}, sys.argv[1])
print(sys.argv[1], os.path.getsize(sys.argv[1]), "bytes")
