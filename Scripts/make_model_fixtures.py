#!/usr/bin/env python3
"""Tiny LDM-family models in every checkpoint layout ldm-edit reads (Tests/LDMModelsTests/Fixtures/models).

    /tmp/torch-venv/bin/pip install torch==2.15.0 diffusers==0.42.1 safetensors==0.8.0
    /tmp/torch-venv/bin/python Scripts/make_model_fixtures.py Tests/LDMModelsTests/Fixtures/models

The ground truth is a real diffusers `UNet2DModel` + `VQModel` pair (tiny widths, gentle seeded
random weights). From it this script writes, for a super-resolution-like and an inpainting-like pair:
  <kind>_diffusers/        model_index.json, unet/ and vqvae/ with config.json and weights; the SR
                           vqvae is a .bin with the OLD attention names (query/key/value/proj_attn),
                           as HF CompVis/ldm-super-resolution-4x-openimages ships them
  <kind>_compvis.ckpt      a Lightning-style LatentDiffusion checkpoint with CompVis names, made by
                           inverting ldm-spec §6.3 here: qkv fused per head in QKVAttentionLegacy
                           order, 1x1 convs as [C, C, 1] / [C, C, 1, 1]; EMA copies under
                           model_ema.<flattened> equal to the diffusers weights, raw weights = EMA − 0.25;
                           schedule buffers; the inpainting one duplicates first_stage_model as
                           cond_stage_model and carries the stray ddim_* buffers.
With --check-with PATH/convert_compvis_ldm.py the CompVis dicts are converted back with the
reference converter and must reproduce the diffusers state dicts exactly (run when this changes).
"""
import argparse
import importlib.util
import json
import os

import torch
from diffusers import UNet2DModel, VQModel
from safetensors.torch import save_file

RES = [("in_layers.0", "norm1"), ("in_layers.2", "conv1"), ("emb_layers.1", "time_emb_proj"),
       ("out_layers.0", "norm2"), ("out_layers.3", "conv2"), ("skip_connection", "conv_shortcut")]

KINDS = {
    "sr": dict(
        unet=dict(sample_size=16, in_channels=6, out_channels=3, block_out_channels=[8, 16], layers_per_block=1,
                  down_block_types=["DownBlock2D", "AttnDownBlock2D"], up_block_types=["AttnUpBlock2D", "UpBlock2D"],
                  attention_head_dim=4, norm_num_groups=4, downsample_padding=1, flip_sin_to_cos=True, freq_shift=0),
        vq=dict(in_channels=3, out_channels=3, block_out_channels=[8, 16], layers_per_block=1, latent_channels=3,
                down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                num_vq_embeddings=16, norm_num_groups=4, mid_block_add_attention=True),
        heads=None, updown=False, attn_levels={1}, seed=11),
    "inp": dict(
        unet=dict(sample_size=16, in_channels=7, out_channels=3, block_out_channels=[8, 16], layers_per_block=1,
                  down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D"],
                  up_block_types=["AttnUpBlock2D", "ResnetUpsampleBlock2D"], downsample_type="resnet",
                  upsample_type="resnet", attention_head_dim=4, norm_num_groups=4, flip_sin_to_cos=True, freq_shift=0),
        vq=dict(in_channels=3, out_channels=3, block_out_channels=[8, 16], layers_per_block=1, latent_channels=3,
                down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                num_vq_embeddings=16, norm_num_groups=4, mid_block_add_attention=False),
        heads=2, updown=True, attn_levels={1}, seed=12),
}


def gentle(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(0.05 * torch.randn(p.shape, generator=g))
    return model


def to_compvis_unet(sd, cfg, heads_for):
    """diffusers UNet2DModel names → openaimodel names (inverse of ldm-spec §6.3)."""
    out = {}
    for a, b in [("time_embed.0", "time_embedding.linear_1"), ("time_embed.2", "time_embedding.linear_2"),
                 ("input_blocks.0.0", "conv_in"), ("out.0", "conv_norm_out"), ("out.2", "conv_out")]:
        for s in ("weight", "bias"):
            out[f"{a}.{s}"] = sd[f"{b}.{s}"]

    def res(src, dst):
        for a, b in RES:
            for s in ("weight", "bias"):
                if f"{dst}.{b}.{s}" in sd:
                    out[f"{src}.{a}.{s}"] = sd[f"{dst}.{b}.{s}"]

    def attn(src, dst):
        C = sd[f"{dst}.to_q.weight"].shape[0]
        n = heads_for(C)
        d = C // n
        q, k, v = (sd[f"{dst}.{x}.weight"] for x in ("to_q", "to_k", "to_v"))
        qb, kb, vb = (sd[f"{dst}.{x}.bias"] for x in ("to_q", "to_k", "to_v"))
        w = torch.stack([q.reshape(n, d, C), k.reshape(n, d, C), v.reshape(n, d, C)], dim=1).reshape(3 * C, C, 1)
        b = torch.stack([qb.reshape(n, d), kb.reshape(n, d), vb.reshape(n, d)], dim=1).reshape(3 * C)
        out[f"{src}.norm.weight"], out[f"{src}.norm.bias"] = sd[f"{dst}.group_norm.weight"], sd[f"{dst}.group_norm.bias"]
        out[f"{src}.qkv.weight"], out[f"{src}.qkv.bias"] = w.contiguous(), b.contiguous()
        out[f"{src}.proj_out.weight"] = sd[f"{dst}.to_out.0.weight"][:, :, None].contiguous()
        out[f"{src}.proj_out.bias"] = sd[f"{dst}.to_out.0.bias"]

    L, nlev, i = cfg["layers_per_block"], len(cfg["block_out_channels"]), 1
    attn_levels = {i for i, t in enumerate(cfg["down_block_types"]) if t.startswith("Attn")}
    updown = cfg.get("downsample_type") == "resnet"
    for lev in range(nlev):
        for j in range(L):
            res(f"input_blocks.{i}.0", f"down_blocks.{lev}.resnets.{j}")
            if lev in attn_levels:
                attn(f"input_blocks.{i}.1", f"down_blocks.{lev}.attentions.{j}")
            i += 1
        if lev != nlev - 1:
            if updown:
                res(f"input_blocks.{i}.0", f"down_blocks.{lev}.downsamplers.0")
            else:
                for s in ("weight", "bias"):
                    out[f"input_blocks.{i}.0.op.{s}"] = sd[f"down_blocks.{lev}.downsamplers.0.conv.{s}"]
            i += 1
    res("middle_block.0", "mid_block.resnets.0")
    attn("middle_block.1", "mid_block.attentions.0")
    res("middle_block.2", "mid_block.resnets.1")
    i = 0
    for u, lev in enumerate(reversed(range(nlev))):
        for j in range(L + 1):
            res(f"output_blocks.{i}.0", f"up_blocks.{u}.resnets.{j}")
            nxt = 1
            if lev in attn_levels:
                attn(f"output_blocks.{i}.1", f"up_blocks.{u}.attentions.{j}")
                nxt = 2
            if j == L and lev != 0:
                if updown:
                    res(f"output_blocks.{i}.{nxt}", f"up_blocks.{u}.upsamplers.0")
                else:
                    for s in ("weight", "bias"):
                        out[f"output_blocks.{i}.{nxt}.conv.{s}"] = sd[f"up_blocks.{u}.upsamplers.0.conv.{s}"]
            i += 1
    assert len(out) == len(sd) - sum(1 for k in sd if ".to_k." in k or ".to_v." in k) - \
        sum(1 for k in sd if ".to_q." in k) + sum(1 for k in sd if ".to_q." in k), "unmapped diffusers keys"
    return out


def to_compvis_vq(sd, cfg):
    out = {k: sd[k] for k in ["quant_conv.weight", "quant_conv.bias", "post_quant_conv.weight", "post_quant_conv.bias",
                              "quantize.embedding.weight"]}

    def res(src, dst):
        for k, v in sd.items():
            if k.startswith(dst + ".") and ".attentions." not in k:
                out[src + "." + k[len(dst) + 1:].replace("conv_shortcut", "nin_shortcut")] = v

    nlev, L = len(cfg["block_out_channels"]), cfg["layers_per_block"]
    for p in ["encoder", "decoder"]:
        for a, b in [("conv_in", "conv_in"), ("conv_out", "conv_out"), ("norm_out", "conv_norm_out")]:
            for s in ("weight", "bias"):
                out[f"{p}.{a}.{s}"] = sd[f"{p}.{b}.{s}"]
        res(f"{p}.mid.block_1", f"{p}.mid_block.resnets.0")
        res(f"{p}.mid.block_2", f"{p}.mid_block.resnets.1")
        a = f"{p}.mid_block.attentions.0"
        if f"{a}.to_q.weight" in sd:
            out[f"{p}.mid.attn_1.norm.weight"], out[f"{p}.mid.attn_1.norm.bias"] = sd[f"{a}.group_norm.weight"], sd[f"{a}.group_norm.bias"]
            for x, y in [("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("proj_out", "to_out.0")]:
                out[f"{p}.mid.attn_1.{x}.weight"] = sd[f"{a}.{y}.weight"][:, :, None, None].contiguous()
                out[f"{p}.mid.attn_1.{x}.bias"] = sd[f"{a}.{y}.bias"]
    for lev in range(nlev):
        for j in range(L):
            res(f"encoder.down.{lev}.block.{j}", f"encoder.down_blocks.{lev}.resnets.{j}")
        if lev != nlev - 1:
            for s in ("weight", "bias"):
                out[f"encoder.down.{lev}.downsample.conv.{s}"] = sd[f"encoder.down_blocks.{lev}.downsamplers.0.conv.{s}"]
    for u in range(nlev):
        lev = nlev - 1 - u
        for j in range(L + 1):
            res(f"decoder.up.{lev}.block.{j}", f"decoder.up_blocks.{u}.resnets.{j}")
        if lev != 0:
            for s in ("weight", "bias"):
                out[f"decoder.up.{lev}.upsample.conv.{s}"] = sd[f"decoder.up_blocks.{u}.upsamplers.0.conv.{s}"]
    return out


def old_attention_names(sd):
    ren = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}
    out = {}
    for k, v in sd.items():
        for a, b in ren.items():
            k = k.replace(a, b)
        out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--check-with", help="path to the reference convert_compvis_ldm.py")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for kind, spec in KINDS.items():
        unet = gentle(UNet2DModel(**spec["unet"]), spec["seed"]).eval()
        vq = gentle(VQModel(**spec["vq"]), spec["seed"] + 100).eval()
        heads_for = (lambda C, n=spec["heads"]: n) if spec["heads"] else (lambda C: C // spec["unet"]["attention_head_dim"])
        usd = {k: v.detach().clone().contiguous() for k, v in unet.state_dict().items()}
        vsd = {k: v.detach().clone().contiguous() for k, v in vq.state_dict().items()}

        # diffusers folder
        root = f"{args.out}/{kind}_diffusers"
        for sub in ("unet", "vqvae", "scheduler"):
            os.makedirs(f"{root}/{sub}", exist_ok=True)
        ucfg = dict(unet.config)
        if spec["heads"]:
            ucfg["ldm_edit_num_heads"] = spec["heads"]   # the 8-heads patch, scaled down (ldm-spec §6.3)
        json.dump({k: v for k, v in ucfg.items() if not k.startswith("_")}, open(f"{root}/unet/config.json", "w"), indent=1)
        json.dump({k: v for k, v in dict(vq.config).items() if not k.startswith("_")}, open(f"{root}/vqvae/config.json", "w"), indent=1)
        json.dump({"_class_name": "LDMSuperResolutionPipeline" if kind == "sr" else "LDMInpaintPipeline",
                   "unet": ["diffusers", "UNet2DModel"], "vqvae": ["diffusers", "VQModel"],
                   "scheduler": ["diffusers", "DDIMScheduler"]}, open(f"{root}/model_index.json", "w"), indent=1)
        json.dump({"_class_name": "DDIMScheduler", "beta_start": 0.0015, "beta_end": 0.0155 if kind == "sr" else 0.0205,
                   "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "clip_sample": False,
                   "set_alpha_to_one": kind == "sr", "steps_offset": 1}, open(f"{root}/scheduler/scheduler_config.json", "w"), indent=1)
        if kind == "sr":
            save_file(usd, f"{root}/unet/diffusion_pytorch_model.safetensors")
            torch.save(old_attention_names(vsd), f"{root}/vqvae/diffusion_pytorch_model.bin")
        else:
            torch.save(usd, f"{root}/unet/diffusion_pytorch_model.bin")
            save_file(vsd, f"{root}/vqvae/diffusion_pytorch_model.safetensors")

        # CompVis Lightning checkpoint
        cu, cv = to_compvis_unet(usd, spec["unet"], heads_for), to_compvis_vq(vsd, spec["vq"])
        if args.check_with:
            ref = importlib.util.spec_from_file_location("ref", args.check_with)
            mod = importlib.util.module_from_spec(ref)
            ref.loader.exec_module(mod)
            mult = [c // spec["unet"]["block_out_channels"][0] for c in spec["unet"]["block_out_channels"]]
            back = mod.convert_unet(cu, mult, spec["unet"]["layers_per_block"], spec["attn_levels"], heads_for, spec["updown"])
            assert back.keys() == usd.keys() and all(torch.equal(back[k], usd[k]) for k in usd), f"{kind}: unet mismatch"
            vback = mod.convert_vq(cv, nlev=len(spec["vq"]["block_out_channels"]), num_res_blocks=spec["vq"]["layers_per_block"])
            assert vback.keys() == vsd.keys() and all(torch.equal(vback[k], vsd[k]) for k in vsd), f"{kind}: vq mismatch"
            print(kind, "checked against the reference converter")
        state = {}
        for k, v in cu.items():
            state["model_ema.diffusion_model" + k.replace(".", "")] = v
            state["model.diffusion_model." + k] = v - 0.25
        state["model_ema.decay"] = torch.tensor(0.9999)
        state["model_ema.num_updates"] = torch.tensor(10, dtype=torch.int32)
        for k, v in cv.items():
            state["first_stage_model." + k] = v
            if kind == "inp":
                state["cond_stage_model." + k] = v
        end = 0.0155 if kind == "sr" else 0.0205
        betas = torch.linspace(0.0015 ** 0.5, end ** 0.5, 1000, dtype=torch.float64) ** 2
        state["betas"] = betas.float()
        state["alphas_cumprod"] = torch.cumprod(1 - betas, 0).float()
        if kind == "inp":
            state["ddim_sigmas"] = torch.zeros(50)
        torch.save({"state_dict": state, "epoch": 1, "global_step": 10}, f"{args.out}/{kind}_compvis.ckpt")
    print("wrote", sorted(os.listdir(args.out)))


if __name__ == "__main__":
    main()
