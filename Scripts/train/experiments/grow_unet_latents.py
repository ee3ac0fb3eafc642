#!/usr/bin/env python3
"""Experiment: a trained U-Net grown onto a first stage with more latent channels (experiments/grow_latents.py).

    cd Scripts/train
    python experiments/grow_unet_latents.py --model ../../Models/ldm-edit-inpaint.safetensors --size inpaint-192 \
        --autoencoder /tmp/decgrow8f/autoencoder --ldm-edit ../../.build/release/ldm-edit --out /tmp/grown-inpaint
    python train_diffusion.py --task inpaint --pool P --state /tmp/inp-grown --autoencoder /tmp/decgrow8f/autoencoder \
        --init /tmp/grown-inpaint.safetensors --ldm-edit ../../.build/release/ldm-edit --weighting truncated-min-snr ...
    (the inpainting lineage's weighting, as run.sh passes it; the 2026-12-05 runs in docs/quality.md used the
    script's default, min-SNR-γ)

The grown first stage's channels 0…z−1 must be the model's own latents (grow_latents.py --freeze-old: checked here on
the eval crops). The U-Net's input layout (unets.build) keeps its order with more channels per part — inpainting
[z_t (z), encode(masked image) (z), mask (1)], SR [z_t (z), low-res image (3)] — so each old input column moves to
its part's new offset and the new latent columns start at zero; the output's new rows start at zero (v̂ = 0 for
the new channels). At the start the grown U-Net predicts exactly the old one's v on channels 0…z−1 from the same
inputs, and only the new channels have to be learned. Writes OUT (export.export_model's folder) and OUT.safetensors,
whose provenance is the model's own plus a "latent_growth" record, so train_diffusion.py --init continues its
schedule from the model's step (its EMA warm-up restarting there). With the model's own first stage (--autoencoder
its folder, z unchanged) it writes the control: the same file and schedule, nothing grown.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import eval_crops, shipped_metadata  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from export import export_model, load_shipped  # noqa: E402
from unets import CANDIDATES, LINEAR_END, build  # noqa: E402


def column_map(task, old_z, new_z):
    """Old input column → new input column of the grown U-Net's conv_in."""
    if task == "sr":
        return [j if j < old_z else j + new_z - old_z for j in range(old_z + 3)]
    return ([j for j in range(old_z)] + [new_z + j for j in range(old_z)] + [2 * new_z])


@torch.no_grad()
def grown_unet(old, task, widths, old_z, new_z):
    new = build(task, widths, latent=new_z)
    state = new.state_dict()
    for k, v in old.state_dict().items():
        if k == "conv_in.weight":
            state[k].zero_()
            for j, jj in enumerate(column_map(task, old_z, new_z)):
                state[k][:, jj] = v[:, j]
        elif k in ("conv_out.weight", "conv_out.bias"):
            state[k].zero_()
            state[k][:old_z] = v
        else:
            state[k] = v
    new.load_state_dict(state)
    new.eval()
    # The promise, checked: on any input the grown U-Net's channels 0…z−1 are the old one's output, whatever the
    # new latent channels hold.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, new.config.in_channels, 16, 16, generator=g)
    old_x = x[:, [jj for jj in column_map(task, old_z, new_z)]]
    t = torch.tensor([10, 900])
    worst = float((new(x, t).sample[:, :old_z] - old.eval()(old_x, t).sample).abs().max())
    assert worst < 1e-4, f"the grown U-Net departs from the old one by {worst}"
    return new


@torch.no_grad()
def check_old_channels(old_ae, new_ae, pool):
    """Largest |Δ| between the old first stage's latents and channels 0…z−1 of the grown one's, on the eval crops."""
    z = old_ae.config["latent_channels"]
    worst = 0.0
    for x in eval_crops(pool)[:4].split(2):
        worst = max(worst, float((new_ae.encode(x)[:, :z] - old_ae.encode(x)).abs().max()))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="a trained model file (ldm-edit's canonical .safetensors)")
    ap.add_argument("--size", required=True, help=f"its U-Net's size ({', '.join(CANDIDATES)})")
    ap.add_argument("--autoencoder", required=True, help="the grown first stage's folder")
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--pool", default="/tmp/ldm-pool")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    task, widths = CANDIDATES[args.size]
    old_ae, old_unet = load_shipped(args.model, args.size, args.ldm_edit)
    new_ae = ConvAutoencoder.load(args.autoencoder).eval()
    old_z, new_z = old_ae.config["latent_channels"], new_ae.config["latent_channels"]
    if new_z < old_z or new_ae.config["scaling_factor"] != old_ae.config["scaling_factor"]:
        raise SystemExit(f"{args.autoencoder}: not a growth of {args.model}'s first stage (z {old_z} → {new_z}, scaling "
                         f"factor {old_ae.config['scaling_factor']} → {new_ae.config['scaling_factor']})")
    worst = check_old_channels(old_ae, new_ae, args.pool)
    print(f"old latent channels through the grown encoder: max |Δ| {worst:.2e}", flush=True)
    if worst > 1e-4:
        raise SystemExit(f"{args.autoencoder}: its channels 0…{old_z - 1} are not {args.model}'s latents "
                         f"(max |Δ| {worst:.3g}); grow it with grow_latents.py --freeze-old")
    unet = grown_unet(old_unet, task, widths, old_z, new_z)
    provenance = shipped_metadata(args.model)["provenance"]
    provenance.setdefault("latent_growth", []).append(
        {"step": int(provenance.get("steps", 0)), "from": old_z, "to": new_z, "from_model": os.path.basename(args.model)})
    print("wrote", export_model(args.out, unet, new_ae, task, LINEAR_END[task], provenance, ldm_edit=args.ldm_edit),
          flush=True)


if __name__ == "__main__":
    main()
