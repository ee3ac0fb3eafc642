#!/usr/bin/env python3
"""Fixtures for the conv-autoencoder first stage (Scripts/train/conv_autoencoder.py, imported as is).

    /tmp/torch-venv/bin/pip install torch==2.15.0 diffusers==0.42.1 safetensors==0.8.0
    /tmp/torch-venv/bin/python Scripts/make_conv_autoencoder_fixtures.py Tests/LDMModelsTests/Fixtures Tests/LDMPipelinesTests/Fixtures
    /tmp/torch-venv/bin/python Scripts/make_conv_autoencoder_fixtures.py --full /tmp/ldm-conv-fullsize   # opt-in test data

Writes (a few hundred KB in all):
  MODELS/models/conv_sr_folder/   a super-resolution-like model as a diffusers-style folder: unet/ (a real
                                  diffusers UNet2DModel, 7 → 4 channels, conv resampling, 4 channels per head),
                                  autoencoder/ (config.json + model.safetensors exactly as ConvAutoencoder.save
                                  writes them, but float16-stored), scheduler/, model_index.json with an
                                  `ldm_edit_provenance` object
  MODELS/models/conv_inp_folder/  an inpainting-like one: 9 → 4 channels, ResBlock resampling, 2 heads
                                  (`ldm_edit_num_heads`), the same autoencoder
  MODELS/parity/conv_autoencoder.safetensors
                                  the autoencoder's encode (unscaled and × scaling_factor) of a 16×24 image and
                                  decode(latent / scaling_factor) of a 5×7 latent, with every module's output
                                  (`enc.`/`dec.` + PyTorch module path, forward hooks)
  PIPELINES/conv_pipelines.safetensors
                                  sr: the LDMSuperResolutionPipeline loop (diffusers DDIMScheduler, 10 steps,
                                  generator = torch.manual_seed(42), η 0 and 1) with 4 latent channels and
                                  decode(latents / scaling_factor) — the pipeline itself hard-codes
                                  in_channels // 2 latent channels, so its loop is reproduced line for line;
                                  inp: the scripts/inpaint.py recipe (CompVis DDIM arithmetic, 10 steps, η 0,
                                  seed 43) with c = encode(masked) × scaling_factor and decode(x / scaling_factor).
--full DIR: the default-size autoencoder (widths 32/64/64, blocks 1/1/1 and 1/2/2) with random weights and the
same traces on a 64×96 image, for the opt-in full-size check in ConvAutoencoderParityTests.
Weights: gentle seeded normal values rounded to float16 (stored as F16 where the file is ours to write, so the
float32 models on both sides see exactly the stored values).
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
import diffusers
from diffusers import DDIMScheduler, UNet2DModel
from diffusers.models.attention_processor import Attention
from diffusers.utils.torch_utils import randn_tensor
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "train"))
from conv_autoencoder import ConvAutoencoder  # noqa: E402  (the reference: Scripts/train/conv_autoencoder.py)

FORMAT_VERSION = "1"
# 1/std of the latents the tiny random U-Nets sample (std ≈ 19: an untrained ε-predictor lets x₀ grow),
# so the decoder sees unit-scale inputs as with a trained pair and the images are mostly unclamped; not a
# power of two, so scaling and unscaling round.
SCALING = 19.37
TINY_AE = dict(widths=[8, 16, 16], encoder_blocks=[1, 1, 1], decoder_blocks=[1, 2, 2], z=4)
UNETS = {
    "sr": dict(sample_size=16, in_channels=7, out_channels=4, block_out_channels=[8, 16], layers_per_block=1,
               down_block_types=["DownBlock2D", "AttnDownBlock2D"], up_block_types=["AttnUpBlock2D", "UpBlock2D"],
               attention_head_dim=4, norm_num_groups=4, downsample_padding=1, flip_sin_to_cos=True, freq_shift=0),
    "inp": dict(sample_size=16, in_channels=9, out_channels=4, block_out_channels=[8, 16], layers_per_block=1,
                down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D"],
                up_block_types=["AttnUpBlock2D", "ResnetUpsampleBlock2D"], downsample_type="resnet", upsample_type="resnet",
                attention_head_dim=4, norm_num_groups=4, flip_sin_to_cos=True, freq_shift=0),
}
HEADS = {"sr": None, "inp": 2}
LINEAR_END = {"sr": 0.0155, "inp": 0.0205}


def gentle_autoencoder(ae, seed):
    """N(0, 1/fan_in) convolutions keep activations O(1) without normalisation; the ResBlocks' conv2 at
    half that, so the residual stream grows gently; small biases. Rounded to float16 values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in ae.named_parameters():
            if name.endswith("weight"):
                v = torch.randn(p.shape, generator=g) / (p[0].numel() ** 0.5)
                if name.endswith("conv2.weight"):
                    v = v * 0.5
            else:
                v = 0.05 * torch.randn(p.shape, generator=g)
            p.copy_(v.half().float())
    return ae.eval()


def gentle_unet(model, seed):
    """As make_parity_fixtures.py: norms near 1, q/k a bit larger so attention is not uniform."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                v = 1 + 0.1 * torch.randn(p.shape, generator=g)
            elif any(s in name for s in ("to_q", "to_k")):
                v = 0.12 * torch.randn(p.shape, generator=g)
            else:
                v = 0.04 * torch.randn(p.shape, generator=g)
            p.copy_(v.half().float())
    return model.eval()


TRACED = re.compile(r"^(encoder|decoder)\.(conv_in|conv_out|blocks\.\d+\.\d+|down\.\d+|up\.\d+)$")


def traced(ae, fn):
    """Runs fn with forward hooks on every traced module (TRACED: the names ldm-edit traces under)
    and returns ({module path: output}, result)."""
    got, hooks = {}, []
    for name, module in ae.named_modules():
        if TRACED.match(name):
            def hook(_m, _i, out, name=name):
                got[name] = out.detach().clone().contiguous()
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        result = fn()
    for h in hooks:
        h.remove()
    return got, result


def autoencoder_trace(ae, image, scaled_latent, s):
    out = {"ae.image": image, "ae.scaled_latent": scaled_latent}
    enc, z = traced(ae, lambda: ae.encode(image))
    out.update({"module." + k: v for k, v in enc.items()})
    out["ae.encoded"] = z
    out["ae.encoded_scaled"] = z * s            # the diffusion latent, as diffusers scales a VAE's latents
    out["ae.latent"] = scaled_latent / s        # what the decoder sees
    dec, x = traced(ae, lambda: ae.decode(scaled_latent / s))
    out.update({"module." + k: v for k, v in dec.items()})
    out["ae.decoded"] = x
    # PyTorch rounds the Python float to float32 and multiplies (divides) once per element: checked
    # here, so the Swift side may do the same and compare bit for bit.
    s32 = np.float32(s)
    assert np.array_equal(out["ae.encoded_scaled"].numpy(), z.numpy() * s32)
    assert np.array_equal(out["ae.latent"].numpy(), scaled_latent.numpy() / s32)
    return out


def metadata():
    return {"torch": torch.__version__, "diffusers": diffusers.__version__, "script": "make_conv_autoencoder_fixtures.py",
            "format_version": FORMAT_VERSION}


def save_autoencoder(ae, folder, half=True):
    """ConvAutoencoder.save, with float16 storage for the small fixtures."""
    ae.save(folder)
    if half:
        save_file({k: v.detach().half().contiguous() for k, v in ae.state_dict().items()}, os.path.join(folder, "model.safetensors"))


def write_folder(root, kind, ae, unet):
    for sub in ("unet", "scheduler"):
        os.makedirs(f"{root}/{sub}", exist_ok=True)
    ucfg = {k: v for k, v in dict(unet.config).items() if not k.startswith("_")}
    if HEADS[kind]:
        ucfg["ldm_edit_num_heads"] = HEADS[kind]
    json.dump(ucfg, open(f"{root}/unet/config.json", "w"), indent=1)
    save_file({k: v.half().contiguous() for k, v in unet.state_dict().items()}, f"{root}/unet/diffusion_pytorch_model.safetensors")
    save_autoencoder(ae, f"{root}/autoencoder")
    json.dump({"_class_name": "DDIMScheduler", "beta_start": 0.0015, "beta_end": LINEAR_END[kind], "beta_schedule": "scaled_linear",
               "num_train_timesteps": 1000, "clip_sample": False, "set_alpha_to_one": kind == "sr", "steps_offset": 1,
               "timestep_spacing": "leading"}, open(f"{root}/scheduler/scheduler_config.json", "w"), indent=1)
    json.dump({"_class_name": "LDMSuperResolutionPipeline" if kind == "sr" else "LDMInpaintPipeline",
               "unet": ["diffusers", "UNet2DModel"], "autoencoder": ["conv_autoencoder", "ConvAutoencoder"],
               "scheduler": ["diffusers", "DDIMScheduler"],
               "ldm_edit_provenance": {"made_by": "make_conv_autoencoder_fixtures.py", "weights": "seeded random (not trained)",
                                       "task": kind, "torch": torch.__version__, "autoencoder_widths": TINY_AE["widths"],
                                       "steps": 0}},
              open(f"{root}/model_index.json", "w"), indent=1)


def sr_reference(unet, ae, scheduler, lr, eta, steps=10, seed=42):
    """diffusers LDMSuperResolutionPipeline.__call__ line for line, with z latent channels (the pipeline
    takes in_channels // 2) and the autoencoder's scaling undone before decoding."""
    generator = torch.manual_seed(seed)   # the global generator: the scheduler's η noise comes from it too
    latents = randn_tensor((1, ae.config["latent_channels"], lr.shape[2], lr.shape[3]), generator=generator, dtype=torch.float32)
    scheduler.set_timesteps(steps)
    latents = latents * scheduler.init_noise_sigma
    with torch.no_grad():
        for t in scheduler.timesteps:
            latents_input = scheduler.scale_model_input(torch.cat([latents, lr], dim=1), t)
            noise_pred = unet(latents_input, t).sample
            latents = scheduler.step(noise_pred, t, latents, eta=eta).prev_sample
        image = ae.decode(latents / ae.config["scaling_factor"])
    image = torch.clamp(image, -1.0, 1.0) / 2 + 0.5
    return image.permute(0, 2, 3, 1).numpy()


def inpaint_reference(unet, ae, side, steps=10, seed=43):
    """scripts/inpaint.py with CompVis DDIMSampler arithmetic (as make_pipeline_fixtures.py), the
    conditioning and the sampled latents in the conv autoencoder's scaled units."""
    s = ae.config["scaling_factor"]
    betas = torch.linspace(0.0015 ** 0.5, 0.0205 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphacums = torch.cumprod(1 - betas, 0).float()
    c = 1000 // steps
    tau = np.asarray(list(range(0, 1000, c))) + 1
    alphas = alphacums[tau]
    alphas_prev = np.asarray([alphacums[0].item()] + alphacums[tau[:-1]].tolist())
    sqrt_one_minus = torch.from_numpy(np.sqrt(1.0 - alphas.numpy())).float()
    img_u8 = torch.randint(0, 256, (1, side, side, 3), generator=torch.Generator().manual_seed(7), dtype=torch.uint8)
    mask_u8 = torch.zeros(1, side, side, dtype=torch.uint8)
    mask_u8[:, side // 4: 3 * side // 4, side // 8: side // 2] = 255
    image = (img_u8.float() / 255.0).permute(0, 3, 1, 2)
    mask = ((mask_u8.float() / 255.0)[:, None] >= 0.5).float()
    masked = (1 - mask) * image
    image, mask, masked = image * 2 - 1, mask * 2 - 1, masked * 2 - 1
    with torch.no_grad():
        cond = ae.encode(masked) * s
        cond = torch.cat([cond, F.interpolate(mask, size=cond.shape[-2:])], dim=1)
        torch.manual_seed(seed)
        x = torch.randn(1, ae.config["latent_channels"], cond.shape[2], cond.shape[3])
        for index in reversed(range(len(tau))):
            t = int(tau[index])
            e = unet(torch.cat([x, cond], dim=1), torch.tensor([t])).sample
            a_t = alphas[index]
            a_prev = torch.tensor(alphas_prev[index], dtype=torch.float32)
            pred_x0 = (x - sqrt_one_minus[index] * e) / a_t.sqrt()
            dir_xt = (1.0 - a_prev - torch.tensor(0.0) ** 2).sqrt() * e
            x = a_prev.sqrt() * pred_x0 + dir_xt
        dec = ae.decode(x / s)
    img01, m01 = torch.clamp((image + 1) / 2, 0, 1), torch.clamp((mask + 1) / 2, 0, 1)
    blend = (1 - m01) * img01 + m01 * torch.clamp((dec + 1) / 2, 0, 1)
    return img_u8, mask_u8, blend.permute(0, 2, 3, 1).contiguous()


def full(out):
    ae = gentle_autoencoder(ConvAutoencoder(scaling_factor=SCALING), 31)
    save_autoencoder(ae, f"{out}/autoencoder", half=False)
    g = torch.Generator().manual_seed(32)
    image = torch.rand(1, 3, 64, 96, generator=g) * 2 - 1
    latent = torch.randn(1, 4, 16, 24, generator=g) * SCALING
    trace = autoencoder_trace(ae, image, latent, SCALING)
    save_file({k: v.float().contiguous() for k, v in trace.items()}, f"{out}/trace.safetensors", metadata=metadata())
    print("wrote", out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="?", help="Tests/LDMModelsTests/Fixtures")
    ap.add_argument("pipelines", nargs="?", help="Tests/LDMPipelinesTests/Fixtures")
    ap.add_argument("--full", metavar="DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)   # deterministic reductions; the fixtures are tiny
    if args.full:
        return full(args.full)
    ae = gentle_autoencoder(ConvAutoencoder(TINY_AE["widths"], TINY_AE["encoder_blocks"], TINY_AE["decoder_blocks"], TINY_AE["z"],
                                            scaling_factor=SCALING), 21)
    unets = {kind: gentle_unet(UNet2DModel(**cfg), 22 + i) for i, (kind, cfg) in enumerate(UNETS.items())}
    for kind, unet in unets.items():
        if HEADS[kind]:
            for m in unet.modules():
                if isinstance(m, Attention):
                    m.heads = HEADS[kind]
        write_folder(f"{args.models}/models/conv_{kind}_folder", kind, ae, unet)

    g = torch.Generator().manual_seed(24)
    image = torch.rand(1, 3, 16, 24, generator=g) * 2 - 1
    scaled_latent = torch.randn(1, 4, 5, 7, generator=g) * SCALING
    trace = autoencoder_trace(ae, image, scaled_latent, SCALING)
    for k in ("ae.encoded", "ae.decoded"):
        print(f"{k}: std {trace[k].std():.3f}, max |x| {trace[k].abs().max():.3f}")
    os.makedirs(f"{args.models}/parity", exist_ok=True)
    save_file({k: v.float().contiguous() for k, v in trace.items()}, f"{args.models}/parity/conv_autoencoder.safetensors",
              metadata=metadata())

    ref = {}
    scheduler = DDIMScheduler.from_config(json.load(open(f"{args.models}/models/conv_sr_folder/scheduler/scheduler_config.json")))
    lr01 = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(5))
    lr01 = (lr01 * 255).round() / 255          # an 8-bit image, so Swift can start from the same bytes
    ref["sr_lr_u8"] = (lr01 * 255).round()
    for eta in (0.0, 1.0):
        out = sr_reference(unets["sr"], ae, scheduler, lr01 * 2 - 1, eta)
        ref[f"sr_eta{int(eta)}_float"] = torch.from_numpy(out)
        if eta == 0:
            ref["sr_eta0_u8"] = torch.from_numpy((out * 255).round().astype(np.uint8)).float()
    img_u8, mask_u8, blend = inpaint_reference(unets["inp"], ae, 32)
    ref["inp_image_u8"], ref["inp_mask_u8"], ref["inp_float"] = img_u8.float(), mask_u8.float(), blend
    ref["inp_u8_truncated"] = (blend * 255).to(torch.uint8).float()
    save_file({k: v.contiguous().float() for k, v in ref.items()}, f"{args.pipelines}/conv_pipelines.safetensors", metadata=metadata())
    print("wrote", sorted(trace), sorted(ref))


if __name__ == "__main__":
    main()
