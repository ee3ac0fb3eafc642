#!/usr/bin/env python3
"""The SR model's sampler decoder as a low-rank adapter on the shared decoder.

    cd Scripts/train
    python experiments/decoder_adapter.py factor --base SHARED_FOLDER --tuned TUNED_FOLDER --rank 16 --out /tmp/adapter-16
    python experiments/sr_sample_decoder.py eval ... --decoders /tmp/adapter-16     # the adapted decoder, measured

Why: version 4 of the SR file carries its own decoder (experiments/sr_sample_decoder.py), which decodes the SR
sampler's latents with more detail but reconstructs the encoder's latents at 26.5 dB, so that file's first stage is
not the shared one (issue 16 asks for one shared first stage at >= 28 dB). Two full decoders do not fit the 40 MB
budget (0.75 MB each in float16; 0.54 MB is left). An adapter does: the file keeps the shared decoder unchanged and
adds, per convolution, ΔW = up · down of rank r (and the bias's change in full), which only the SR pipeline merges in
(W + ΔW) when it decodes its sampler's latents. The first stage, reconstructing the encoder's latents, is the shared
one, bit for bit.

`factor` takes the adapter from a full fine-tune (W_tuned − W_base, truncated SVD per convolution, the rows of W
flattened over [in, kh, kw]); it writes TUNED's architecture with base + adapter merged (a ConvAutoencoder folder
that sr_sample_decoder.py's eval and swap_decoder.py read) and the adapter itself (adapter.safetensors: for each
convolution `<path>.up` [O, r], `<path>.down` [r, I, kh, kw], `<path>.bias` [O]).

`into-model` writes a model file whose decoder is the shared one with the adapter beside it, as ldm-edit reads it
(Sources/LDMModels/Layout/ConvAutoencoderLayout.swift `Adapter`): the tensors `ae.decoder_adapter.<path>.{up,down,bias}`
in float16, `decoder_adapter_rank` in the config's convAutoencoder, and the fine-tune's record as the provenance's
`sampler_decoder`. MODEL's decoder must be --base's (the shared first stage), which the file keeps unchanged.

    python experiments/decoder_adapter.py into-model --base SHARED_FOLDER --adapter /tmp/adapter-32 \
        --model STATE/export/ldm-edit-sr.safetensors --out STATE/export/ldm-edit-sr.safetensors
"""
import json
import argparse
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
from common import ADAPTER_PREFIX, first_stage_state  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402


def conv_paths(decoder):
    """The decoder's convolutions by their state-dict path (without .weight)."""
    return [name for name, m in decoder.named_modules() if isinstance(m, torch.nn.Conv2d)]


def factor(base, tuned, rank):
    """{path: (up [O, r], down [r, I, kh, kw], bias [O])}: ΔW's best rank-r approximation (Eckart–Young), full bias."""
    b, t = base.state_dict(), tuned.state_dict()
    adapter = {}
    for path in conv_paths(base):
        delta = (t[f"{path}.weight"] - b[f"{path}.weight"]).double()
        o, i, kh, kw = delta.shape
        u, s, vh = torch.linalg.svd(delta.reshape(o, -1), full_matrices=False)
        r = min(rank, s.numel())
        up = (u[:, :r] * s[:r].sqrt()).float()
        down = (s[:r].sqrt()[:, None] * vh[:r]).float().reshape(r, i, kh, kw)
        adapter[path] = (up, down, (t[f"{path}.bias"] - b[f"{path}.bias"]).float())
    return adapter


def merged(base, adapter, scale=1.0):
    """base's decoder with W + scale · up · down and b + scale · bias for every adapted convolution."""
    out = {k: v.clone() for k, v in base.state_dict().items()}
    for path, (up, down, bias) in adapter.items():
        r = up.shape[1]
        out[f"{path}.weight"] += scale * (up @ down.reshape(r, -1)).reshape(out[f"{path}.weight"].shape)
        out[f"{path}.bias"] += scale * bias
    return out


def parameter_count(adapter):
    return sum(up.numel() + down.numel() + bias.numel() for up, down, bias in adapter.values())


def into_model(args):
    base = ConvAutoencoder.load(args.base)
    tensors = load_file(args.model)
    with safe_open(args.model, "pt") as f:
        meta = dict(f.metadata())
    assert not any(k.startswith(ADAPTER_PREFIX) for k in tensors), f"{args.model} has an adapter already"
    shared = first_stage_state(tensors)
    for k, v in base.state_dict().items():
        assert torch.equal(shared[k], v.half().float()), f"{args.model}: {k} is not --base's (the shared first stage)"
    adapter = load_file(os.path.join(args.adapter, "adapter.safetensors"))
    rank = max(v.shape[1] for k, v in adapter.items() if k.endswith(".up"))
    # --scale multiplies ΔW and the bias change (up and bias; down as factored): W + scale · up · down.
    tensors.update({ADAPTER_PREFIX + k: (v * (args.scale if k.endswith((".up", ".bias")) else 1.0)).half().contiguous()
                    for k, v in adapter.items()})
    config = json.loads(meta["ldm_edit_config"])
    config["convAutoencoder"]["decoder_adapter_rank"] = rank
    meta["ldm_edit_config"] = json.dumps(config)
    provenance = json.loads(meta["ldm_edit_provenance"])
    tuned_cfg = json.load(open(os.path.join(args.adapter, "autoencoder", "config.json")))
    record = dict(tuned_cfg.get("decoder_finetune", {}))
    if args.provenance_from:   # the full fine-tune's own record, from the file that shipped it
        with safe_open(args.provenance_from, "pt") as f:
            record = {**json.loads(f.metadata()["ldm_edit_provenance"])["sampler_decoder"], **record}
    record["adapter"] = {**record.get("adapter", {}), "rank": rank, "scale": args.scale,
                         "script": "Scripts/train/experiments/decoder_adapter.py"}
    provenance["sampler_decoder"] = record
    meta["ldm_edit_provenance"] = json.dumps(provenance)
    save_file(tensors, args.out, metadata=meta)
    print(f"wrote {args.out}: the shared decoder with a rank-{rank} adapter ({sum(v.numel() for v in adapter.values())} parameters)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["factor", "into-model"])
    ap.add_argument("--base", required=True, help="the shared first stage (ConvAutoencoder folder)")
    ap.add_argument("--tuned", help="factor: the fully fine-tuned decoder's folder (same encoder)")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="ΔW's multiplier (factor: when merging; into-model: stored in up and bias); 1: the fine-tune's own")
    ap.add_argument("--out", required=True)
    ap.add_argument("--label", help="factor: how the provenance names the fine-tune (default: the --tuned path)")
    ap.add_argument("--adapter", help="into-model: a folder `factor` wrote")
    ap.add_argument("--model", help="into-model: the model file with the shared first stage")
    ap.add_argument("--provenance-from", help="into-model: a model file whose sampler_decoder record describes the fine-tune")
    args = ap.parse_args()
    if args.mode == "into-model":
        into_model(args)
        return
    base, tuned = ConvAutoencoder.load(args.base), ConvAutoencoder.load(args.tuned)
    assert base.config["decoder_blocks"] == tuned.config["decoder_blocks"], "the adapter needs one architecture"
    for a, b in zip(base.encoder.state_dict().values(), tuned.encoder.state_dict().values()):
        assert torch.equal(a, b), "not the same encoder"
    adapter = factor(base.decoder, tuned.decoder, args.rank)
    full = sum(p.numel() for p in base.decoder.parameters())
    kept = 0.0
    for path, (up, down, _) in adapter.items():
        delta = (tuned.decoder.state_dict()[f"{path}.weight"] - base.decoder.state_dict()[f"{path}.weight"])
        approx = (up @ down.reshape(up.shape[1], -1)).reshape(delta.shape)
        kept += (approx.square().sum() / delta.square().sum().clamp_min(1e-30)).item() / len(adapter)
    result = ConvAutoencoder.load(args.tuned)
    result.decoder.load_state_dict(merged(base.decoder, adapter, args.scale))
    result.config["decoder_finetune"] = dict(tuned.config.get("decoder_finetune", {}),
                                             adapter={"rank": args.rank, "scale": args.scale, "from": args.label or args.tuned})
    result.save(os.path.join(args.out, "autoencoder"))
    save_file({f"{path}.{name}": t.contiguous() for path, ts in adapter.items() for name, t in zip(("up", "down", "bias"), ts)},
              os.path.join(args.out, "adapter.safetensors"))
    n = parameter_count(adapter)
    print(f"rank {args.rank}: {n} parameters ({2 * n / 1e6:.3f} MB in float16; the decoder has {full}), "
          f"mean share of ΔW's energy kept {kept:.3f}; wrote {args.out}")


if __name__ == "__main__":
    main()
