#!/usr/bin/env python3
"""End-to-end references for the editing pipelines on the tiny parity models
(Tests/LDMModelsTests/Fixtures/parity/{sr,inp}), written to Tests/LDMPipelinesTests/Fixtures/pipelines.safetensors.

    /tmp/torch-venv/bin/python Scripts/make_pipeline_fixtures.py Tests/LDMModelsTests/Fixtures/parity Tests/LDMPipelinesTests/Fixtures

- sr_eta0 / sr_eta1: diffusers LDMSuperResolutionPipeline (imported from its module), 10 steps,
  generator=torch.manual_seed(42) (the global generator, which the pipeline's scheduler also uses
  for η > 0), on a 16x16 random low-res image given as a [-1, 1] tensor; latents of every step and
  the final float image (clamp, /2 + 0.5) and its uint8 rounding.
- sr_dpm: the same pipeline with DPMSolverMultistepScheduler (diffusers defaults), 10 steps, seed 42.
- inp: the scripts/inpaint.py recipe with CompVis DDIMSampler arithmetic (float64 schedule stored
  as float32, make_ddim_sampling_parameters, p_sample_ddim), 10 steps, η = 0, seed 43, on a 16x16
  image and mask; the blended float image and inpaint.py's truncated uint8.
With --full (after make_parity_fixtures.py PATH --full), the same runs on the full-size random
models with 5 steps, a 32x32 low-res image and a 64x64 inpainting image, written to
PATH/pipelines.safetensors for the opt-in full-size test.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, UNet2DModel, VQModel
from diffusers.models.attention_processor import Attention
from diffusers.pipelines.latent_diffusion.pipeline_latent_diffusion_superresolution import LDMSuperResolutionPipeline
from safetensors.torch import save_file, load_file

PARITY, OUT = sys.argv[1], sys.argv[2]
FULL = "--full" in sys.argv      # full-size models from make_parity_fixtures.py --full: bigger inputs, fewer steps
STEPS = 5 if FULL else 10
SIDE = 32 if FULL else 16
ref = {}


def load(kind):
    unet = UNet2DModel.from_pretrained(f"{PARITY}/{kind}/unet").float().eval()
    vq = VQModel.from_pretrained(f"{PARITY}/{kind}/vqvae").float().eval()
    return unet, vq


# ---------------- super-resolution: the real diffusers pipeline ----------------
unet, vq = load("sr")
sched = DDIMScheduler(beta_start=0.0015, beta_end=0.0155, beta_schedule="scaled_linear", num_train_timesteps=1000,
                      clip_sample=False, set_alpha_to_one=True, steps_offset=1)
pipe = LDMSuperResolutionPipeline(vqvae=vq, unet=unet, scheduler=sched)
lr01 = torch.rand(1, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(5))
lr01 = (lr01 * 255).round() / 255          # an 8-bit image, so Swift can start from the same bytes
ref["sr_lr_u8"] = (lr01 * 255).round()
for eta in (0.0, 1.0):
    out = pipe(image=lr01 * 2 - 1, num_inference_steps=STEPS, eta=eta, generator=torch.manual_seed(42), output_type="np").images
    key = f"sr_eta{int(eta)}"
    ref[key + "_float"] = torch.from_numpy(out)                      # NHWC in [0, 1]
    ref[key + "_u8"] = torch.from_numpy((out * 255).round().astype(np.uint8)).float()

# DPM-Solver++(2M) with diffusers' defaults, built from the same beta schedule.
dpm = DPMSolverMultistepScheduler(beta_start=0.0015, beta_end=0.0155, beta_schedule="scaled_linear", num_train_timesteps=1000)
pipe = LDMSuperResolutionPipeline(vqvae=vq, unet=unet, scheduler=dpm)
out = pipe(image=lr01 * 2 - 1, num_inference_steps=STEPS, generator=torch.manual_seed(42), output_type="np").images
ref["sr_dpm_float"] = torch.from_numpy(out)
ref["sr_dpm_timesteps"] = dpm.timesteps.float()

# ---------------- inpainting: inpaint.py with CompVis DDIMSampler arithmetic ----------------
unet, vq = load("inp")
for m in unet.modules():
    if isinstance(m, Attention):
        m.heads = 8
betas = torch.linspace(0.0015 ** 0.5, 0.0205 ** 0.5, 1000, dtype=torch.float64) ** 2
alphacums = torch.cumprod(1 - betas, 0).float()                      # CompVis buffer: float64 → float32
c = 1000 // STEPS
tau = np.asarray(list(range(0, 1000, c))) + 1
alphas = alphacums[tau]
alphas_prev = np.asarray([alphacums[0].item()] + alphacums[tau[:-1]].tolist())
sqrt_one_minus = torch.from_numpy(np.sqrt(1.0 - alphas.numpy())).float()
img_u8 = torch.randint(0, 256, (1, 2 * SIDE, 2 * SIDE, 3), generator=torch.Generator().manual_seed(7), dtype=torch.uint8)
mask_u8 = torch.zeros(1, 2 * SIDE, 2 * SIDE, dtype=torch.uint8)
mask_u8[:, SIDE // 2: 3 * SIDE // 2, SIDE // 4: SIDE] = 255
image = (img_u8.float() / 255.0).permute(0, 3, 1, 2)
mask = (mask_u8.float() / 255.0)[:, None]
mask = (mask >= 0.5).float()
masked = (1 - mask) * image
image, mask, masked = image * 2 - 1, mask * 2 - 1, masked * 2 - 1
with torch.no_grad():
    cond = vq.encode(masked).latents
    cond = torch.cat([cond, F.interpolate(mask, size=cond.shape[-2:])], dim=1)
    torch.manual_seed(43)
    x = torch.randn(1, 3, cond.shape[2], cond.shape[3])
    for index in reversed(range(len(tau))):
        t = int(tau[index])
        e = unet(torch.cat([x, cond], dim=1), torch.tensor([t])).sample
        a_t = alphas[index]
        a_prev = torch.tensor(alphas_prev[index], dtype=torch.float32)
        pred_x0 = (x - sqrt_one_minus[index] * e) / a_t.sqrt()
        dir_xt = (1.0 - a_prev - torch.tensor(0.0) ** 2).sqrt() * e
        x = a_prev.sqrt() * pred_x0 + dir_xt
    dec = vq.decode(x).sample
img01 = torch.clamp((image + 1) / 2, 0, 1)
m01 = torch.clamp((mask + 1) / 2, 0, 1)
pred = torch.clamp((dec + 1) / 2, 0, 1)
blend = (1 - m01) * img01 + m01 * pred
ref["inp_image_u8"], ref["inp_mask_u8"] = img_u8.float(), mask_u8.float()
ref["inp_float"] = blend.permute(0, 2, 3, 1).contiguous()
ref["inp_u8_truncated"] = (blend.permute(0, 2, 3, 1) * 255).to(torch.uint8).float()
save_file({k: v.contiguous().float() for k, v in ref.items()}, f"{OUT}/pipelines.safetensors",
          metadata={"torch": torch.__version__, "steps": str(STEPS)})
print("wrote", sorted(ref))

# The tiny inpainting model once more, as a CompVis LatentDiffusion checkpoint (EMA weights only,
# float16 storages, duplicated cond stage, schedule buffers), for `inpaint` on a CompVis-layout .ckpt.
if not FULL:
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location("fx", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_model_fixtures.py"))
    fx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fx)
    usd = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    vsd = {k: v.detach().clone() for k, v in vq.state_dict().items()}
    cu = fx.to_compvis_unet(usd, dict(unet.config), lambda C: 8)
    cv = fx.to_compvis_vq(vsd, dict(vq.config))
    state = {"model_ema.diffusion_model" + k.replace(".", ""): v.half() for k, v in cu.items()}
    for k, v in cv.items():
        state["first_stage_model." + k] = v.half()
        state["cond_stage_model." + k] = state["first_stage_model." + k]
    state["betas"] = betas.float()
    state["alphas_cumprod"] = alphacums
    torch.save({"state_dict": state, "global_step": 0}, f"{OUT}/inp_compvis.ckpt")
    print("wrote inp_compvis.ckpt")
