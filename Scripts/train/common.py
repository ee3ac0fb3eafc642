"""Shared pieces of the training scripts: data, seeds, resumable state, EMA (see Scripts/train/README.md)."""
import copy
import glob
import hashlib
import os
import random
import signal
import sys
import time

import numpy as np
import torch
from PIL import Image


def device(name="auto"):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def add_run_arguments(ap):
    """The arguments every training phase takes: where the photos and the state live, seed, device, save period."""
    ap.add_argument("--pool", required=True)
    ap.add_argument("--state", required=True, help="state folder (resumes from STATE/state.pt)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--save-every", type=float, default=300, help="seconds between state saves (≤ 600)")


def decayed_lr(base, progress):
    """The phases' learning rate at `progress` (step / steps) of a run: `base`, then down linearly to 10 % over the
    last 20 %."""
    return base * (1 if progress < 0.8 else 1 - 0.9 * (progress - 0.8) / 0.2)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def manifest_hash(pool):
    """SHA-256 of the pool's manifest.csv: which photos (and package versions) a model was trained on."""
    path = os.path.join(pool, "manifest.csv")
    return hashlib.sha256(open(path, "rb").read()).hexdigest() if os.path.exists(path) else "unknown"


def shipped_metadata(path):
    """The metadata of a shipped canonical .safetensors (read from its JSON header, no tensors loaded):
    {"config": ldm_edit_config, "provenance": ldm_edit_provenance}, each {} when absent."""
    import json
    import struct
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    meta = header.get("__metadata__", {})
    return {k: json.loads(meta.get(f"ldm_edit_{k}", "{}")) for k in ("config", "provenance")}


ADAPTER_PREFIX = "ae.decoder_adapter."


def first_stage_state(tensors):
    """A shipped file's shared first stage as ConvAutoencoder's state_dict (float32): its `ae.*` tensors but a decoder
    adapter's (`ae.decoder_adapter.*`, experiments/decoder_adapter.py), which only the SR sampler's decoding adds."""
    return {k[len("ae."):]: v.float() for k, v in tensors.items() if k.startswith("ae.") and not k.startswith(ADAPTER_PREFIX)}


def finetuned_provenance(model, script, task, size, finetune):
    """The provenance of a model fine-tuned from the shipped or kept `model` by the experiment `script` (a path under
    Scripts/train): the starting model's record goes on (steps, CPU-hours, switches, bursts: what
    TrainState.continue_from reads when run.sh continues from a kept fine-tune on a fresh machine), with `finetune` (a
    dict holding at least "cpu_hours") appended to its "trajectory_finetunes" and the CPU-hours added."""
    base = shipped_metadata(model)["provenance"]
    provenance = {**base, "task": task, "size": size, "prediction": "v",
                  "cpu_hours": round(float(base.get("cpu_hours", 0)) + finetune["cpu_hours"], 2),
                  "trajectory_finetunes": base.get("trajectory_finetunes", []) + [{"script": script, **finetune}]}
    command = base.get("training_command", "")
    if os.path.basename(script) not in command:
        command += (", then " if command else "") + f"{script} (see trajectory_finetunes)"
    provenance["training_command"] = command
    return provenance


def dihedral(a, k):
    """One of the 8 flips/rotations of an [H, W, C] array (k in 0..7); views, no copy."""
    if k & 4:
        a = a[:, ::-1]
    return np.rot90(a, k & 3)


class Photos:
    """Random square crops from OUT/train of the photo pool (never the eval split), kept in memory
    at up to `max_side` pixels on the longer side so that epochs are cheap. The random generator's
    state is part of the training state, so a resumed run continues the same data order."""

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

    def batch(self, n, crop=None):
        """[n, 3, crop, crop] in [−1, 1]: random crops under a random flip/rotation."""
        crop = crop or self.crop
        # Crops larger than the training crop (the latent-scale estimate's 256²) draw only from photos that
        # big; at the training crop this is every kept photo, so the data order is unchanged.
        images = self.images if crop <= self.crop else [im for im in self.images if min(im.shape[:2]) >= crop]
        if not images:
            raise SystemExit(f"no training photo has both sides ≥ {crop} px")
        out = np.empty((n, crop, crop, 3), np.float32)
        for i in range(n):
            image = dihedral(images[self.rng.integers(len(images))], int(self.rng.integers(8)))
            y = self.rng.integers(image.shape[0] - crop + 1)
            x = self.rng.integers(image.shape[1] - crop + 1)
            out[i] = image[y:y + crop, x:x + crop] / 255.0
        return torch.from_numpy(out).permute(0, 3, 1, 2) * 2 - 1


def eval_crops(pool, size=256):
    """[N, 3, size, size] in [−1, 1]: centre crops of the held-out eval photos (as Scripts/eval/quality.py)."""
    out = []
    for path in sorted(glob.glob(os.path.join(pool, "eval", "*.png"))):
        image = np.asarray(Image.open(path).convert("RGB"))
        h, w = image.shape[:2]
        if min(h, w) < size:
            continue
        y, x = (h - size) // 2, (w - size) // 2
        out.append(image[y:y + size, x:x + size] / 255.0)
    return torch.from_numpy(np.stack(out).astype(np.float32)).permute(0, 3, 1, 2) * 2 - 1


class EMA:
    """Exponential moving average with warm-up: decay = min(max_decay, 1 − (1 + step)^(−3/4))
    (reaches 0.999 near 10k steps, so short runs still average over a sensible window)."""

    def __init__(self, module, max_decay=0.9999):
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        self.max_decay = max_decay

    @torch.no_grad()
    def update(self, module, step):
        d = min(self.max_decay, 1 - (1 + step) ** -0.75)
        for e, p in zip(self.module.parameters(), module.parameters()):
            e.lerp_(p.detach(), 1 - d)


class StateMismatch(Exception):
    """A state file recorded for another configuration: (key, the state's value, the value asked for)."""

    def __init__(self, key, held, wanted):
        super().__init__(f"the state holds {key} {held}, not {wanted}")
        self.key, self.held, self.wanted = key, held, wanted


class TrainState:
    """Everything a killed run needs to continue exactly: weights, EMA, optimizer, step, the data
    generator, torch/numpy/python RNGs, CPU time spent and the eval history. Saved atomically
    (write, fsync, rename) every `every_s` seconds and at the end."""

    def __init__(self, path, every_s=300):
        self.path, self.every_s = path, every_s
        self.stop_signal = None
        self.last_save = time.monotonic()
        self.step, self.cpu_seconds, self.history, self.extra = 0, 0.0, [], {}
        self._t0 = time.process_time()

    def spent_cpu_hours(self):
        return (self.cpu_seconds + time.process_time() - self._t0) / 3600

    def load(self, modules, optimizers, data_rng, expect_extra=None):
        """Restores everything from the state file (False when there is none). `expect_extra`: {key: value} the
        state's `extra` must hold where it records the key (e.g. the U-Net size), else StateMismatch, before any
        module is touched."""
        if not os.path.exists(self.path):
            return False
        s = torch.load(self.path, map_location="cpu", weights_only=False)
        for key, value in (expect_extra or {}).items():
            if s.get("extra", {}).get(key, value) != value:
                raise StateMismatch(key, s["extra"][key], value)
        for k, m in modules.items():
            m.load_state_dict(s["modules"][k])
        for k, o in optimizers.items():
            o.load_state_dict(s["optimizers"][k])
        torch.set_rng_state(s["torch_rng"])
        np.random.set_state(s["numpy_rng"])
        random.setstate(s["python_rng"])
        data_rng.bit_generator.state = s["data_rng"]
        self.step, self.cpu_seconds, self.history, self.extra = s["step"], s["cpu_seconds"], s["history"], s.get("extra", {})
        self._t0 = time.process_time()
        return True

    def continue_from(self, provenance):
        """Fine-tuning a shipped model on a fresh machine: carry its step count, CPU time and target over from
        its provenance, so that the phase's length, learning-rate schedule and EMA warm-up continue where
        its training stood rather than from step 0 (the optimiser moments start afresh)."""
        self.step = int(provenance.get("steps", 0))
        self.cpu_seconds = float(provenance.get("cpu_hours", 0)) * 3600
        for key in ("size", "prediction", "weighting", "precision", "lr"):
            if key in provenance:
                self.extra[key] = provenance[key]
        if provenance.get("prediction_switches"):
            self.extra["switches"] = list(provenance["prediction_switches"])
        if provenance.get("weighting_switches"):
            self.extra["weighting_switches"] = list(provenance["weighting_switches"])
        # The rest of the record travels too: a widening (whose step the EMA warm-up counts from) and the bursts on a
        # lent accelerator (device_burst.py), and fine-tunes through the sampler (experiments/inpaint_trajectory.py).
        # Until 2026-12-04 the widening was dropped here, so the partials of 2026-12-03/04 exported without it.
        for key in ("widenings", "device_bursts", "trajectory_finetunes", "latent_crop_switches", "latent_growth",
                    "precision_switches", "lr_switches"):
            if provenance.get(key):
                self.extra[key] = list(provenance[key])
        if "latent_crop" in provenance:
            self.extra["latent_crop"] = provenance["latent_crop"]
        self.extra.setdefault("fine_tuned_from", []).append({"step": self.step, "date": provenance.get("date")})

    def save(self, modules, optimizers, data_rng):
        s = {"step": self.step, "cpu_seconds": self.spent_cpu_hours() * 3600, "history": self.history, "extra": self.extra,
             "modules": {k: m.state_dict() for k, m in modules.items()},
             "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
             "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(), "python_rng": random.getstate(),
             "data_rng": data_rng.bit_generator.state}
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            torch.save(s, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self.last_save = time.monotonic()
        if self.stop_signal is not None:
            print(f"stopped by signal {self.stop_signal} at step {self.step}; state saved to {self.path}", flush=True)
            sys.exit(128 + self.stop_signal)

    def trap_signals(self):
        """From here on (the training loop), SIGTERM/SIGINT (e.g. `kill -TERM -<pgid>` at the end of a
        session) save at the next step and exit with 128 + signal, so nothing since the last periodic
        save is lost and run.sh stops. A second signal exits at once."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._request_stop)

    def _request_stop(self, signum, frame):
        if self.stop_signal is not None:
            os._exit(128 + signum)
        self.stop_signal = signum

    def due(self):
        """A periodic save is due, or a stop was requested."""
        return self.stop_signal is not None or time.monotonic() - self.last_save >= self.every_s
