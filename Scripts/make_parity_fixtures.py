#!/usr/bin/env python3
"""Parity fixtures: tiny LDM-family models and PyTorch traces of one U-Net call and one VQ
encode/decode (Tests/LDMModelsTests/Fixtures/parity).

    /tmp/torch-venv/bin/pip install torch==2.15.0 diffusers==0.42.1 safetensors==0.8.0
    /tmp/torch-venv/bin/python Scripts/make_parity_fixtures.py Tests/LDMModelsTests/Fixtures/parity
    /tmp/torch-venv/bin/python Scripts/make_parity_fixtures.py /tmp/ldm-fullsize --full   # opt-in test data

Families (same code paths as the real models, ldm-spec §1):
  sr   UNet2DModel like ldm-super-resolution-4x-openimages (conv down/up sampling, attention at the
       lowest level + mid, 32 channels per head) + VQModel with mid attention (vq-f4)
  inp  UNet2DModel like inpainting_big (ResBlock down/up sampling, attention at levels 1.. + mid,
       8 heads everywhere: the `.heads = 8` patch of ldm-spec §6.3) + VQModel without mid attention
Tiny (a few MB in all): two-level U-Nets of width 32 with 2 res blocks and 32 GroupNorm groups,
and a two-level (f2) VQ of width 32 with a 64-code book — every code path of the real models at one
down/up step. --full: the real sizes (160/320/320/640 and 256/512/768/1024, vq-f4 with 8192 codes).
Weights: gentle seeded normal values rounded to float16 (stored as F16, so the file is small and
the float32 model sees exactly the stored values). Each family is written as a diffusers folder
(loadable by ldm-edit) plus trace.safetensors: inputs, every traced module's output (diffusers
module names) and the quantiser's codes.
"""
import argparse
import json
import os
import re

import torch
from diffusers import UNet2DModel, VQModel
from diffusers.models.attention_processor import Attention
from safetensors.torch import save_file


def configs(full):
    if full:
        sr_unet = dict(block_out_channels=[160, 320, 320, 640], down_block_types=["DownBlock2D"] * 3 + ["AttnDownBlock2D"],
                       up_block_types=["AttnUpBlock2D"] + ["UpBlock2D"] * 3, attention_head_dim=32)
        inp_unet = dict(block_out_channels=[256, 512, 768, 1024],
                        down_block_types=["ResnetDownsampleBlock2D"] + ["AttnDownBlock2D"] * 3,
                        up_block_types=["AttnUpBlock2D"] * 3 + ["ResnetUpsampleBlock2D"], attention_head_dim=64)
        vq = dict(block_out_channels=[128, 256, 512], layers_per_block=2, num_vq_embeddings=8192)
    else:
        sr_unet = dict(block_out_channels=[32, 32], down_block_types=["DownBlock2D", "AttnDownBlock2D"],
                       up_block_types=["AttnUpBlock2D", "UpBlock2D"], attention_head_dim=32)
        inp_unet = dict(block_out_channels=[32, 32], down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D"],
                        up_block_types=["AttnUpBlock2D", "ResnetUpsampleBlock2D"], attention_head_dim=8)
        vq = dict(block_out_channels=[32, 32], layers_per_block=1, num_vq_embeddings=64)
    common = dict(sample_size=16, out_channels=3, layers_per_block=2, norm_num_groups=32, norm_eps=1e-5, flip_sin_to_cos=True,
                  freq_shift=0, act_fn="silu")
    levels = len(vq["block_out_channels"])
    vq_common = dict(in_channels=3, out_channels=3, latent_channels=3, norm_num_groups=32,
                     down_block_types=["DownEncoderBlock2D"] * levels, up_block_types=["UpDecoderBlock2D"] * levels)
    return {
        "sr": dict(unet={**common, **sr_unet, "in_channels": 6, "downsample_padding": 1},
                   vq={**vq_common, **vq, "mid_block_add_attention": True}, heads=None, seed=1, end=0.0155),
        "inp": dict(unet={**common, **inp_unet, "in_channels": 7, "downsample_type": "resnet", "upsample_type": "resnet"},
                    vq={**vq_common, **vq, "mid_block_add_attention": False}, heads=8, seed=2, end=0.0205),
    }


def gentle(model, seed):
    """Small weights keep activations O(1) through the network; norms near 1, q/k a bit larger
    so attention is not uniform; the codebook spread like latents."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                v = 1 + 0.1 * torch.randn(p.shape, generator=g)
            elif any(s in name for s in ("to_q", "to_k")):
                v = 0.12 * torch.randn(p.shape, generator=g)
            elif "quantize.embedding" in name:
                v = 0.5 * torch.randn(p.shape, generator=g)
            else:
                v = 0.04 * torch.randn(p.shape, generator=g)
            p.copy_(v.half().float())
    return model.eval()


def trace(model, fn, names):
    got, hooks = {}, []
    for name, module in model.named_modules():
        if name in names:
            def hook(_m, _i, out, name=name):
                out = out[0] if isinstance(out, tuple) else out
                got[name] = getattr(out, "sample", out).detach().clone().contiguous()
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        result = fn()
    for h in hooks:
        h.remove()
    return got, result


UNET_TRACED = re.compile(r"^((down|up)_blocks\.\d+(\.(resnets|attentions|downsamplers)\.\d+)?|mid_block|time_embedding|conv_in|conv_out)$")
VQ_TRACED = re.compile(r"^(quant_conv|post_quant_conv|(en|de)coder\.(conv_in|conv_out|mid_block|(down|up)_blocks\.\d+))$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()
    latent = 16 if args.full else 8
    for kind, spec in configs(args.full).items():
        unet = gentle(UNet2DModel(**spec["unet"]), spec["seed"])
        vq = gentle(VQModel(**spec["vq"]), spec["seed"] + 10)
        if spec["heads"]:
            for m in unet.modules():
                if isinstance(m, Attention):
                    m.heads = spec["heads"]
        root = f"{args.out}/{kind}"
        for sub in ("unet", "vqvae", "scheduler"):
            os.makedirs(f"{root}/{sub}", exist_ok=True)
        ucfg = {k: v for k, v in dict(unet.config).items() if not k.startswith("_")}
        if spec["heads"]:
            ucfg["ldm_edit_num_heads"] = spec["heads"]
        json.dump(ucfg, open(f"{root}/unet/config.json", "w"), indent=1)
        json.dump({k: v for k, v in dict(vq.config).items() if not k.startswith("_")}, open(f"{root}/vqvae/config.json", "w"), indent=1)
        # As HF's ldm-super-resolution-4x-openimages ships it; the inpainting family with CompVis'
        # final ᾱ_prev = ᾱ₀ (set_alpha_to_one false).
        json.dump({"_class_name": "DDIMScheduler", "beta_start": 0.0015, "beta_end": spec["end"], "beta_schedule": "scaled_linear",
                   "num_train_timesteps": 1000, "clip_sample": False, "set_alpha_to_one": kind == "sr", "steps_offset": 1,
                   "timestep_spacing": "leading"}, open(f"{root}/scheduler/scheduler_config.json", "w"), indent=1)
        save_file({k: v.half().contiguous() for k, v in unet.state_dict().items()}, f"{root}/unet/diffusion_pytorch_model.safetensors")
        save_file({k: v.half().contiguous() for k, v in vq.state_dict().items()}, f"{root}/vqvae/diffusion_pytorch_model.safetensors")

        g = torch.Generator().manual_seed(100 + spec["seed"])
        x = torch.randn(1, spec["unet"]["in_channels"], latent, latent, generator=g)
        t = torch.tensor([981])
        out = {"unet.input": x, "unet.timestep": t.float()}
        names = {n for n, _ in unet.named_modules() if UNET_TRACED.match(n)}
        traced, result = trace(unet, lambda: unet(x, t).sample, names)
        out.update({"unet." + k: v for k, v in traced.items()})
        out["unet.output"] = result.contiguous()

        factor = 2 ** (len(spec["vq"]["block_out_channels"]) - 1)
        image = torch.rand(1, 3, factor * latent, factor * latent, generator=g) * 2 - 1
        z = torch.randn(1, 3, latent, latent, generator=g) * 0.5
        out["vq.image"], out["vq.latent"] = image, z
        names = {n for n, _ in vq.named_modules() if VQ_TRACED.match(n)}
        traced, encoded = trace(vq, lambda: vq.encode(image).latents, names)
        out.update({"vq.enc." + k: v for k, v in traced.items()})
        out["vq.encoded"] = encoded.contiguous()
        traced, decoded = trace(vq, lambda: vq.decode(z).sample, names)
        out.update({"vq.dec." + k: v for k, v in traced.items()})
        out["vq.decoded"] = decoded.contiguous()
        if kind == "inp":
            # scripts/inpaint.py make_batch + the concat conditioning (ldm-spec §3): image and mask in
            # [0, 1], mask binarised at 0.5, masked = (1 − mask)·image, all three mapped by ·2 − 1;
            # c = encode(masked) (not quantised), cc = nearest-resize(mask) to the latent size.
            side = factor * latent
            img01 = torch.rand(1, 3, side, side, generator=g)
            mask01 = torch.zeros(1, 1, side, side)
            mask01[:, :, side // 4: 3 * side // 4, side // 8: side // 2] = 1
            masked = (1 - mask01) * img01
            with torch.no_grad():
                c = vq.encode(masked * 2 - 1).latents
            cc = torch.nn.functional.interpolate(mask01 * 2 - 1, size=c.shape[-2:])
            out["cond.image"], out["cond.mask"], out["cond.reference"] = img01 * 2 - 1, mask01, torch.cat([c, cc], dim=1)
        zf = z.permute(0, 2, 3, 1).reshape(-1, 3)
        emb = vq.quantize.embedding.weight
        # CompVis expanded distance (taming VectorQuantizer2) and diffusers' cdist, for the record.
        d = torch.sum(zf ** 2, dim=1, keepdim=True) + torch.sum(emb ** 2, dim=1) - 2 * torch.einsum("bd,dn->bn", zf, emb.t())
        out["vq.codes_expanded"] = torch.argmin(d, dim=1).float()
        out["vq.codes_cdist"] = torch.argmin(torch.cdist(zf, emb), dim=1).float()
        save_file({k: v.float().contiguous() for k, v in out.items()}, f"{root}/trace.safetensors",
                  metadata={"torch": torch.__version__, "script": "make_parity_fixtures.py", "format_version": "1"})
    print("wrote", args.out)


if __name__ == "__main__":
    main()
