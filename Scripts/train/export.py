"""Writing trained models in the formats ldm-edit reads, and reading shipped ones back for fine-tuning.

export_model: a folder (model_index.json with the provenance, unet/ as a diffusers UNet2DModel,
autoencoder/ as conv_autoencoder.ConvAutoencoder, scheduler/) that `ldm-edit --model` reads as is, and
with the ldm-edit binary the canonical float16 .safetensors next to it (`ldm-edit convert`), the file
that ships in Models/. The provenance travels into its metadata ("ldm_edit_provenance").

init_unet_from_shipped: the inverse for the U-Net. Rather than restating ldm-edit's name mapping
(diffusers → CompVis names, fused legacy-order qkv; Sources/LDMModels/Layout/UNetLayout.swift) here,
it asks ldm-edit: every parameter element of a probe copy is set to its own index (exact in float32
below 2^24), the probe is converted, and each canonical tensor then says element by element where its
values live in the diffusers parameters. load_shipped: both halves of a shipped file, as the experiments read them.
"""
import json
import os
import subprocess
import tempfile

import torch
from safetensors.torch import load_file


def scheduler_config(task, linear_end, prediction="v"):
    """The LDM linear schedule as a diffusers DDIMScheduler config (docs/ldm-spec.md §5), with the
    U-Net's target ("v" → "v_prediction", "epsilon")."""
    return {"_class_name": "DDIMScheduler", "beta_start": 0.0015, "beta_end": linear_end, "beta_schedule": "scaled_linear",
            "num_train_timesteps": 1000, "clip_sample": False, "set_alpha_to_one": task == "sr", "steps_offset": 1,
            "timestep_spacing": "leading", "prediction_type": "v_prediction" if prediction == "v" else "epsilon"}


def export_model(folder, unet, ae, task, linear_end, provenance, ldm_edit=None, dtype="f16", prediction="v"):
    unet.save_pretrained(os.path.join(folder, "unet"), safe_serialization=True)
    ae.save(os.path.join(folder, "autoencoder"))
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    json.dump(scheduler_config(task, linear_end, prediction), open(os.path.join(folder, "scheduler", "scheduler_config.json"), "w"), indent=1)
    json.dump({"_class_name": "LDMSuperResolutionPipeline" if task == "sr" else "LDMInpaintPipeline",
               "unet": ["diffusers", "UNet2DModel"], "autoencoder": ["ldm-edit", "ConvAutoencoder"],
               "scheduler": ["diffusers", "DDIMScheduler"], "ldm_edit_provenance": provenance},
              open(os.path.join(folder, "model_index.json"), "w"), indent=1)
    if not ldm_edit:
        return folder
    out = folder.rstrip("/") + ".safetensors"
    subprocess.run([ldm_edit, "convert", folder, out, "--dtype", dtype], check=True)
    return out


def canonical_index(unet, ae, task, ldm_edit):
    """{canonical U-Net name: LongTensor of global element indices into the concatenated diffusers parameters}."""
    import copy
    probe = copy.deepcopy(unet).cpu()
    params = list(probe.state_dict().items())
    total = sum(p.numel() for _, p in params)
    assert total < 2 ** 24, "element indices must be exact in float32"
    offset = 0
    with torch.no_grad():
        for _, p in params:
            p.copy_(torch.arange(offset, offset + p.numel(), dtype=torch.float32).view_as(p))
            offset += p.numel()
    with tempfile.TemporaryDirectory() as tmp:
        path = export_model(os.path.join(tmp, "probe"), probe, ae, task, 0.0155, {}, ldm_edit=ldm_edit, dtype="f32")
        canonical = load_file(path)
    return {k: v.flatten().round().long() for k, v in canonical.items() if k.startswith("unet.")}


def init_unet_from_shipped(unet, path, ldm_edit):
    """Loads the U-Net weights of a shipped canonical file into a diffusers UNet2DModel of the same config."""
    from common import first_stage_state, shipped_metadata
    from conv_autoencoder import ConvAutoencoder
    shipped = load_file(path)
    cfg = shipped_metadata(path)["config"]["convAutoencoder"]
    ae = ConvAutoencoder(cfg["widths"], cfg["encoder_blocks"], cfg["decoder_blocks"], cfg["latent_channels"])
    ae.load_state_dict(first_stage_state(shipped))
    task = "sr" if unet.config.in_channels == cfg["latent_channels"] + 3 else "inpaint"
    index = canonical_index(unet, ae, task, ldm_edit)
    flat = torch.cat([p.detach().flatten().cpu() for p in unet.state_dict().values()])
    covered = torch.zeros(flat.numel(), dtype=torch.bool)
    for name, idx in index.items():
        flat[idx] = shipped[name].float().flatten()
        covered[idx] = True
    if not covered.all():
        raise SystemExit(f"{path}: {int((~covered).sum())} U-Net values have no canonical counterpart (a different size?)")
    state, offset = {}, 0
    for k, p in unet.state_dict().items():
        state[k] = flat[offset:offset + p.numel()].view_as(p).clone()
        offset += p.numel()
    unet.load_state_dict(state)
    print(f"no training state: starting from the shipped U-Net in {path}", flush=True)


def load_shipped(path, size, ldm_edit):
    """(first stage, U-Net) of a shipped canonical file, in eval mode: the autoencoder as
    train_autoencoder.adopt_shipped writes it, the U-Net of unets.CANDIDATES[size] as init_unet_from_shipped fills it."""
    from conv_autoencoder import ConvAutoencoder
    from train_autoencoder import adopt_shipped
    from unets import CANDIDATES, build
    folder = tempfile.mkdtemp()
    adopt_shipped(path, folder)
    ae = ConvAutoencoder.load(folder).eval()
    unet = build(*CANDIDATES[size], latent=ae.config["latent_channels"])
    init_unet_from_shipped(unet, path, ldm_edit)
    return ae, unet.eval()
