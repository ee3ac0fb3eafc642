#!/usr/bin/env python3
"""Two exported models of one lineage, their U-Net weights interpolated: (1 − α)·A + α·B, float16 like the rest.

    python experiments/unet_soup.py A.safetensors B.safetensors ALPHA OUT.safetensors

Why: the kept inpainting model (the device bursts' EMA) and the CPU lineage continued from it at 256-pixel crops
trade the masks against each other (the lineage fills the centre square better, the thin strokes worse; see
docs/quality.md, "Thin strokes at 256-pixel crops"). Both descend from one set of weights, so the straight line
between them is a family of models worth one eval each (weight-space ensembling, as in Wortsman et al. 2022,
"Robust fine-tuning of zero-shot models"). The first stage must be the same in both files, and this checks it; only
`unet.` tensors are mixed, in float32. The provenance is B's, with the mix recorded under "soup".
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def provenance(path):
    with safe_open(path, "pt") as f:
        meta = dict(f.metadata())
    return meta, json.loads(meta["ldm_edit_provenance"])


def main():
    a_path, b_path, alpha, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    if not 0.0 <= alpha <= 1.0:
        sys.exit(f"unet_soup: alpha {alpha} outside [0, 1]")
    a, b = load_file(a_path), load_file(b_path)
    meta_a, prov_a = provenance(a_path)
    meta, prov_b = provenance(b_path)
    if set(a) != set(b):
        sys.exit(f"unet_soup: {a_path} and {b_path} hold different keys: "
                 f"{sorted(set(a) ^ set(b))[:8]}")
    if json.loads(meta_a["ldm_edit_config"]) != json.loads(meta["ldm_edit_config"]):
        sys.exit("unet_soup: the two files' configs differ (another architecture)")
    mixed = {}
    for k, vb in b.items():
        va = a[k]
        if va.shape != vb.shape:
            sys.exit(f"unet_soup: {k} is {tuple(va.shape)} in A, {tuple(vb.shape)} in B")
        if not k.startswith("unet."):
            if not torch.equal(va, vb):
                sys.exit(f"unet_soup: {k} differs: not one first stage")
            mixed[k] = vb
            continue
        mixed[k] = ((1 - alpha) * va.float() + alpha * vb.float()).to(vb.dtype).contiguous()
    prov_b["soup"] = {"a": a_path, "a_steps": prov_a.get("steps"), "b": b_path, "b_steps": prov_b.get("steps"),
                      "alpha": alpha}
    meta["ldm_edit_provenance"] = json.dumps(prov_b)
    save_file(mixed, out, metadata=meta)
    print(f"wrote {out}: (1 - {alpha}) * {a_path} + {alpha} * {b_path}, {sum(k.startswith('unet.') for k in b)} "
          "U-Net tensors mixed")


if __name__ == "__main__":
    main()
