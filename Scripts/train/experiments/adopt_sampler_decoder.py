#!/usr/bin/env python3
"""Gives a fresh SR export the shipped file's sampler decoder when nothing else about them differs.

    python experiments/adopt_sampler_decoder.py SHIPPED.safetensors EXPORT.safetensors

On a fresh machine run.sh re-exports the shipped SR U-Net (its phase is at its steps) with the shared first stage, so
the export lacks the decoder that sr_sample_decoder.py once trained on that very U-Net's latents. Training it again
would cost ~35 CPU-minutes and give another draw from the run-to-run spread (docs/quality.md), not a better decoder.
When SHIPPED carries a `sampler_decoder` record and every tensor outside the decoder (`ae.decoder.`) and its adapter
(`ae.decoder_adapter.`, experiments/decoder_adapter.py) is equal in both files (U-Net and encoder), EXPORT becomes
SHIPPED's decoder or adapter, config and provenance record (exit 0). Otherwise nothing is written
and the exit status is 1: the decoder must learn on this U-Net's own latents.
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def adoptable(shipped, export):
    """Why SHIPPED's decoder does not fit EXPORT, or None when it does."""
    with safe_open(shipped, "pt") as f:
        provenance = json.loads(f.metadata().get("ldm_edit_provenance", "{}"))
    if "sampler_decoder" not in provenance:
        return "the shipped file carries no sampler_decoder record"
    a, b = load_file(shipped), load_file(export)
    def rest(tensors):
        return {k for k in tensors if not k.startswith(("ae.decoder.", "ae.decoder_adapter."))}
    rest_a, rest_b = rest(a), rest(b)
    if rest_a != rest_b:
        return f"different keys outside the decoder: {sorted(rest_a ^ rest_b)[:4]}"
    differing = [k for k in sorted(rest_a) if a[k].shape != b[k].shape or not torch.equal(a[k], b[k])]
    if differing:
        return f"{len(differing)} tensors differ outside the decoder, e.g. {differing[0]}"
    return None


def main():
    shipped, export = sys.argv[1:3]
    reason = adoptable(shipped, export)
    if reason:
        print(f"adopt_sampler_decoder: not adopted ({reason})")
        sys.exit(1)
    with safe_open(shipped, "pt") as f:
        meta = dict(f.metadata())
    # Every tensor outside the decoder was just checked equal, and the export's U-Net was initialised from this very file,
    # so the shipped file, decoder config and sampler_decoder record included, is written as the export whole.
    save_file(load_file(shipped), export, metadata=meta)
    print(f"adopt_sampler_decoder: {export} now has {shipped}'s sampler decoder")


if __name__ == "__main__":
    main()
