"""The bundled U-Nets: diffusers `UNet2DModel`s of the two released LDM families (docs/ldm-spec.md §1.1),
scaled down so that they train on two CPU cores and all three models ship in ≤ 40 MB as float16.

- sr: conv up/down-sampling, attention at the lowest level with 32 channels per head
  (CompVis bsr_sr); input [z_t (4), low-res image (3)] = 7 channels, output ε (4).
- inpaint: ResBlock up/down-sampling, attention at the two lowest levels with 8 heads
  (CompVis inpainting_big); input [z_t (4), encode(masked image) (4), mask (1)] = 9, output ε (4).
Sizes: see CANDIDATES and Scripts/train/README.md "Choosing sizes" for the measured samples/s.
"""
import torch
from diffusers import UNet2DModel
from diffusers.models.attention_processor import Attention

# name → (task, widths); the shipped choice is DEFAULT[task].
CANDIDATES = {
    "sr-48": ("sr", [48, 96, 192]),
    "sr-64": ("sr", [64, 128, 192]),
    # Not a default: the small, briefly trained guide of experiments/autoguidance.py (the "bad version" of sr-48).
    "sr-16": ("sr", [16, 32, 64]),
    "inpaint-48": ("inpaint", [48, 96, 144]),
    "inpaint-64": ("inpaint", [64, 128, 192]),
    # Widened from inpaint-48 at its plateau (widen.py): the first level, whose width also sets the timestep
    # embedding, stays; lower levels get more channels within the 40 MB budget, as multiples of the first
    # (ldm-edit's U-Net config is CompVis' model_channels × channel_mult).
    "inpaint-192": ("inpaint", [48, 96, 192]),
}
DEFAULT = {"sr": "sr-48", "inpaint": "inpaint-192"}

# LDM linear schedules of the released models: β from 0.0015 to this (docs/ldm-spec.md §5).
LINEAR_END = {"sr": 0.0155, "inpaint": 0.0205}


def betas_for(task):
    """β_t, t = 0..999, of the task's LDM linear schedule: (linspace of √β from √0.0015 to √end)², float64
    (docs/ldm-spec.md §5) → [1000] float64."""
    return torch.linspace(0.0015 ** 0.5, LINEAR_END[task] ** 0.5, 1000, dtype=torch.float64) ** 2


def karras_dpm_scheduler(task, steps):
    """ldm-edit's default sampler for the task's models, DPM-Solver++(2M) on the Karras σ ramp, as diffusers builds it
    for the task's schedule (v-prediction), its timesteps set for `steps` — the reference of
    Sources/LDMPipelines/Sampling/DPMSolverSampler.swift (Scripts/fixtures/make_sampler_fixtures.py)."""
    from diffusers import DPMSolverMultistepScheduler
    scheduler = DPMSolverMultistepScheduler(trained_betas=betas_for(task).numpy(), prediction_type="v_prediction",
                                            use_karras_sigmas=True)
    scheduler.set_timesteps(steps)
    return scheduler


def alphas_cumprod_for(task):
    """ᾱ_t, t = 0..999, of the task's schedule (float64 products of 1 − β as the reference computes them) →
    [1000] float32."""
    return torch.cumprod(1 - betas_for(task), 0).float()
LATENT = 4   # the shipped first stage's z; a grown one (experiments/grow_latents.py) passes its own


def build(task, widths, latent=LATENT):
    if task == "sr":
        return UNet2DModel(in_channels=latent + 3, out_channels=latent, block_out_channels=widths, layers_per_block=2,
                           down_block_types=["DownBlock2D", "DownBlock2D", "AttnDownBlock2D"],
                           up_block_types=["AttnUpBlock2D", "UpBlock2D", "UpBlock2D"], attention_head_dim=32,
                           norm_num_groups=16, flip_sin_to_cos=True, freq_shift=0, downsample_padding=1)
    unet = UNet2DModel(in_channels=2 * latent + 1, out_channels=latent, block_out_channels=widths, layers_per_block=2,
                       down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
                       up_block_types=["AttnUpBlock2D", "AttnUpBlock2D", "ResnetUpsampleBlock2D"], downsample_type="resnet",
                       upsample_type="resnet", attention_head_dim=8, norm_num_groups=16, flip_sin_to_cos=True, freq_shift=0)
    # inpainting_big uses 8 heads whatever the width; diffusers' attention_head_dim means channels per
    # head for UNet2DModel, so the head count is set on the modules and recorded for ldm-edit.
    for m in unet.modules():
        if isinstance(m, Attention):
            m.heads = 8
    unet.register_to_config(ldm_edit_num_heads=8)
    return unet
