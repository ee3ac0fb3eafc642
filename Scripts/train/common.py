"""Shared pieces of the training scripts: data, seeds, checkpoints, export (see Scripts/train/README.md)."""
import glob
import json
import os
import random
import subprocess

import numpy as np
import torch
from PIL import Image


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Photos:
    """Random square crops from OUT/train of the photo pool (never the eval split), kept in memory
    at up to `max_side` pixels on the longer side so that epochs are cheap."""

    def __init__(self, pool, crop, max_side=1024, seed=0):
        files = sorted(glob.glob(os.path.join(pool, "train", "*.png")))
        if not files:
            raise SystemExit(f"no training photos in {pool}/train; run Scripts/data/build_photo_pool.py first")
        self.images = []
        for f in files:
            image = Image.open(f).convert("RGB")
            scale = min(1.0, max_side / max(image.size))
            if scale < 1:
                image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
            if min(image.size) >= crop:
                self.images.append(np.asarray(image))
        self.crop = crop
        self.rng = np.random.default_rng(seed)

    def batch(self, n):
        """[n, 3, crop, crop] in [−1, 1], random crops with random horizontal flips."""
        out = np.empty((n, self.crop, self.crop, 3), np.float32)
        for i in range(n):
            image = self.images[self.rng.integers(len(self.images))]
            y = self.rng.integers(image.shape[0] - self.crop + 1)
            x = self.rng.integers(image.shape[1] - self.crop + 1)
            patch = image[y:y + self.crop, x:x + self.crop]
            if self.rng.random() < 0.5:
                patch = patch[:, ::-1]
            out[i] = patch / 255.0
        return torch.from_numpy(out).permute(0, 3, 1, 2) * 2 - 1


def save_checkpoint(path, step, modules, optimizers):
    state = {"step": step, "rng": torch.get_rng_state(), "modules": {k: m.state_dict() for k, m in modules.items()},
             "optimizers": {k: o.state_dict() for k, o in optimizers.items()}}
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def load_checkpoint(path, modules, optimizers):
    """Resumes from `path` if it exists; returns the step to continue from."""
    if not os.path.exists(path):
        return 0
    state = torch.load(path, map_location="cpu", weights_only=False)
    for k, m in modules.items():
        m.load_state_dict(state["modules"][k])
    for k, o in optimizers.items():
        o.load_state_dict(state["optimizers"][k])
    torch.set_rng_state(state["rng"])
    print(f"resumed {path} at step {state['step']}")
    return state["step"]


def export(folder, unet, vq, task, linear_end, ldm_edit=None, dtype="f16"):
    """A diffusers folder (unet/, vqvae/, scheduler/, model_index.json) — loadable by ldm-edit as is —
    and, with `ldm_edit` (path of the binary), the single canonical .safetensors next to it."""
    unet.save_pretrained(f"{folder}/unet", safe_serialization=True)
    vq.save_pretrained(f"{folder}/vqvae", safe_serialization=True)
    os.makedirs(f"{folder}/scheduler", exist_ok=True)
    json.dump({"_class_name": "DDIMScheduler", "beta_start": 0.0015, "beta_end": linear_end, "beta_schedule": "scaled_linear",
               "num_train_timesteps": 1000, "clip_sample": False, "set_alpha_to_one": task == "super-resolution",
               "steps_offset": 1, "timestep_spacing": "leading"}, open(f"{folder}/scheduler/scheduler_config.json", "w"), indent=1)
    json.dump({"_class_name": "LDMSuperResolutionPipeline" if task == "super-resolution" else "LDMInpaintPipeline",
               "unet": ["diffusers", "UNet2DModel"], "vqvae": ["diffusers", "VQModel"], "scheduler": ["diffusers", "DDIMScheduler"]},
              open(f"{folder}/model_index.json", "w"), indent=1)
    if ldm_edit:
        out = folder.rstrip("/") + ".safetensors"
        subprocess.run([ldm_edit, "convert", folder, out, "--dtype", dtype], check=True)
        return out
    return folder
