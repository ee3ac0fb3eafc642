#!/usr/bin/env python3
"""A shipped model file with another first-stage decoder: same U-Net, same encoder, the decoder (and its config)
from an autoencoder folder, float16 like the rest.

    python experiments/swap_decoder.py MODEL.safetensors AUTOENCODER_FOLDER OUT.safetensors

For measuring a decoder (experiments/decoder_capacity.py) through ldm-edit with U-Nets already trained: the encoder,
hence the latent space and the scaling factor, must be the model's own, and this checks that they are. The
provenance's decoder_finetune record is replaced by the folder's config record when it has one, else marked as
swapped.
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def main():
    model, folder, out = sys.argv[1:4]
    with safe_open(model, "pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(model)
    new = load_file(f"{folder}/model.safetensors")
    cfg = json.load(open(f"{folder}/config.json"))
    config = json.loads(meta["ldm_edit_config"])
    old_cfg = config["convAutoencoder"]
    for key in ("widths", "encoder_blocks", "latent_channels"):
        assert old_cfg[key] == cfg[key], f"{key}: the model's {old_cfg[key]}, the folder's {cfg[key]}"
    assert abs(old_cfg["scaling_factor"] - cfg["scaling_factor"]) < 1e-6, "another latent scaling"
    for k, v in new.items():
        if k.startswith("encoder."):
            assert torch.equal(tensors[f"ae.{k}"].float(), v.half().float()), f"{k} differs: not the model's encoder"
    tensors = {k: v for k, v in tensors.items() if not k.startswith("ae.decoder.")}
    tensors.update({f"ae.{k}": v.half().contiguous() for k, v in new.items() if k.startswith("decoder.")})
    old_cfg["decoder_blocks"] = cfg["decoder_blocks"]
    meta["ldm_edit_config"] = json.dumps(config)
    provenance = json.loads(meta["ldm_edit_provenance"])
    record = cfg.get("decoder_finetune", {"swapped_from": folder})
    if record.get("script", "").endswith("sr_sample_decoder.py"):
        # A decoder trained on the sampler's latents (experiments/sr_sample_decoder.py) is the SR model's own, not the
        # shared first stage's: decoder_finetune keeps describing the shared decoder it started from, and
        # train_decoder.py's adoption on a fresh machine skips a file that carries one.
        provenance["sampler_decoder"] = record
    else:
        provenance["decoder_finetune"] = record
    meta["ldm_edit_provenance"] = json.dumps(provenance)
    save_file(tensors, out, metadata=meta)
    print(f"wrote {out}: decoder blocks {cfg['decoder_blocks']}")


if __name__ == "__main__":
    main()
