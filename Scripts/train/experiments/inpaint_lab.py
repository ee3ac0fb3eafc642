"""What the inpainting experiments share: their command line, the model, the held-out cases and the samplers.

Each experiment (prefill_strength.py, terminal_leak.py, latent_precision.py, mean_colour.py, context_decoder.py) measures
the inpainting U-Net in PyTorch on the first --limit held-out 256² crops of Scripts/eval/quality.py with its two masks,
conditioned as the model was trained ([z_t, encode(masked image), mask], train_diffusion.py), and sampled with DDIM η 0
over the CompVis uniform spacing of 50 steps (981, 961, …, 1), `ldm-edit`'s default until 2026-12-03, or with
DPM-Solver++(2M) Karras 15, its default since. --size names the U-Net's size (the earlier experiments ran on
inpaint-48 models: pass `--size inpaint-48` to repeat them on those).
"""
import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "eval"))
from export import load_shipped  # noqa: E402
from quality import centre_mask, crops, stroke_mask  # noqa: E402
from unets import DEFAULT, alphas_cumprod_for, karras_dpm_scheduler  # noqa: E402

STEPS = 50
CROP = 256


def arguments(doc):
    """The experiments' shared options (--pool, --model, --ldm-edit, --limit); add more, then call parse_args()."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", required=True, help="the photo pool (Scripts/data/build_photo_pool.py)")
    ap.add_argument("--model", required=True, help="an inpainting model in ldm-edit's format")
    ap.add_argument("--ldm-edit", required=True, help="the ldm-edit binary (reads the model's config)")
    ap.add_argument("--limit", type=int, default=8, help="held-out crops to use")
    ap.add_argument("--size", default=DEFAULT["inpaint"], help="the U-Net size of --model (unets.CANDIDATES)")
    return ap


@dataclass
class Lab:
    """The loaded model: first stage, U-Net, latent scale, the schedule's ᾱ and DDIM's timesteps (descending)."""
    ae: object
    unet: object
    scale: float
    alphas_cumprod: torch.Tensor
    timesteps: list

    @staticmethod
    def load(args):
        torch.set_num_threads(2)
        ae, unet = load_shipped(args.model, getattr(args, "size", DEFAULT["inpaint"]), args.ldm_edit)
        # CompVis DDIM "uniform" spacing: 1, 21, ..., 981, run from the top.
        timesteps = [t + 1 for t in range(0, 1000, 1000 // STEPS)][::-1]
        return Lab(ae, unet, ae.config["scaling_factor"], alphas_cumprod_for("inpaint"), timesteps)

    def encode(self, x):
        """[1, 3, H, W] in [-1, 1] → scaled latent [1, 4, H/4, W/4]."""
        return self.ae.encode(x) * self.scale

    def decode(self, z):
        """Scaled latent [1, 4, h, w] → uint8 RGB [4h, 4w, 3]."""
        return to_rgb(self.ae.decode(z / self.scale))

    def condition(self, gt, hole):
        """The U-Net's conditioning for a crop and its hole: [1, 5, h, w] = [encode(masked image), mask in ±1].
        CompVis masks (1 − mask)·image in [0, 1], then maps to [-1, 1]."""
        m = torch.from_numpy(hole.astype(np.float32))[None, None]
        c = self.encode((1 - m) * (to_tensor(gt) + 1) - 1)
        return torch.cat([c, F.interpolate(m, size=c.shape[-2:]) * 2 - 1], 1)

    def ddim(self, z_start, cond, timesteps=None, on_z0=None):
        """DDIM (η 0) on the v-predicting U-Net over `timesteps` (descending; default all 50), starting at the first of
        them. z_start: [1, 4, h, w] (noise, or a noised encoding); cond: [1, 5, h, w] → z₀ [1, 4, h, w].
        on_z0(i, t, ẑ₀) sees each step's one-step estimate."""
        timesteps = self.timesteps if timesteps is None else timesteps
        z = z_start
        for i, t in enumerate(timesteps):
            a = self.alphas_cumprod[t]
            a_prev = self.alphas_cumprod[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0)
            v = self.unet(torch.cat([z, cond], 1), torch.tensor([t])).sample
            z0 = a.sqrt() * z - (1 - a).sqrt() * v
            if on_z0:
                on_z0(i, t, z0)
            eps = (1 - a).sqrt() * z + a.sqrt() * v
            z = a_prev.sqrt() * z0 + (1 - a_prev).sqrt() * eps
        return z

    def dpmpp_karras(self, noise, cond, steps=15):
        """DPM-Solver++(2M) on the Karras σ ramp, ldm-edit's default for the inpainting models (`dpmpp-2m-karras`,
        15 steps), as diffusers' DPMSolverMultistepScheduler computes it. noise: [1, 4, h, w] (unit variance);
        cond: [1, 5, h, w] → z₀ [1, 4, h, w]."""
        scheduler = karras_dpm_scheduler("inpaint", steps)
        z = noise * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            v = self.unet(torch.cat([scheduler.scale_model_input(z, t), cond], 1), t[None]).sample
            z = scheduler.step(v, t, z).prev_sample
        return z


def cases(pool, limit):
    """The held-out crops with quality.py's two masks: (name, gt uint8 [256, 256, 3], mask kind, mask uint8, hole bool)."""
    for index, (name, gt) in enumerate(crops(pool, CROP, limit)):
        for kind, mask in (("centre", centre_mask(CROP)), ("strokes", stroke_mask(CROP, index))):
            yield name, gt, kind, mask, mask > 0


def to_tensor(rgb):
    """uint8 [H, W, 3] → [1, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(rgb.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]


def to_rgb(x):
    """[1, 3, H, W] in [-1, 1] → uint8 [H, W, 3]."""
    return ((x[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().numpy().astype(np.uint8)
