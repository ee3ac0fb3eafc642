#!/usr/bin/env python3
"""Checkpoint-reader fixtures for Tests/LDMModelsTests/Fixtures (small, committed).

    python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch==2.15.0 safetensors==0.8.0
    /tmp/torch-venv/bin/python Scripts/make_checkpoint_fixtures.py Tests/LDMModelsTests/Fixtures

Writes the same tiny state dict in every format ldm-edit reads, plus the values it must load to:
  expected.safetensors        the reference: every float tensor as contiguous F32 (safetensors' own writer)
  tiny_f32/_f16/_bf16.safetensors   the state dict at three dtypes, with __metadata__
  tiny_state_dict.bin         torch.save of the state dict: a transposed (strided) view, two slices of one
                              storage (offsets), an F16 and an int64 tensor, top folder "archive/"
  tiny_lightning.ckpt         a Lightning-style dict {state_dict, epoch, global_step, optimizer_states,
                              callbacks, hyper_parameters}: UNet weights under model.diffusion_model.*, EMA
                              copies under model_ema.<flattened> that differ from them, a VQ under
                              first_stage_model.* duplicated as cond_stage_model.* (shared storage),
                              schedule buffers; top folder renamed "last/" as in CompVis files
  malicious_reduce.bin        a state dict whose extra entry unpickles by calling os.system (must stay inert)
  malicious_toplevel.bin      a pickle whose root object is an os.system call
  protocol0_inst.bin          data.pkl using the text-mode INST opcode (must be refused)
  versions.json               torch / safetensors versions that wrote these files
Deterministic: fixed seeds; rerunning gives identical tensors (zip timestamps may differ).
"""
import io
import json
import os
import sys
import zipfile

import safetensors
import torch
from safetensors.torch import save_file

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/LDMModelsTests/Fixtures"
os.makedirs(OUT, exist_ok=True)
g = torch.Generator().manual_seed(1234)


def rand(*shape):
    return torch.randn(*shape, generator=g)


# The tiny state dict: names in CompVis style, odd shapes, a scalar.
base = {
    "input_blocks.0.0.weight": rand(4, 3, 3, 3),
    "input_blocks.0.0.bias": rand(4),
    "time_embed.0.weight": rand(8, 5),
    "scale": torch.tensor(0.5),
}
expected = {k: v.clone().contiguous() for k, v in base.items()}

# safetensors at three dtypes (values rounded to the dtype are the expected ones for f16/bf16).
for name, dtype in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
    cast = {k: v.to(dtype).contiguous() for k, v in base.items()}
    save_file(cast, f"{OUT}/tiny_{name}.safetensors", metadata={"format": "pt", "made_by": "make_checkpoint_fixtures.py"})
    for k, v in cast.items():
        expected[f"{name}/{k}"] = v.float().contiguous()

# torch.save of a state dict with views.
storage_owner = rand(10, 6)
sd = dict(base)
sd["transposed"] = rand(5, 7).t()                 # strides (1, 7): not contiguous
sd["slice_a"] = storage_owner[2:5]                # offset 12 into a shared storage
sd["slice_b"] = storage_owner[:, 1]               # offset 1, stride 6
sd["half"] = rand(3, 2).half()
sd["steps"] = torch.arange(6, dtype=torch.int64)
torch.save(sd, f"{OUT}/tiny_state_dict.bin")
for k in ["transposed", "slice_a", "slice_b"]:
    expected[f"bin/{k}"] = sd[k].contiguous()
expected["bin/half"] = sd["half"].float()


# Lightning-style checkpoint with EMA, duplicated first/cond stage, schedule buffers, junk objects.
class Callback:  # stands for Lightning's callback/hyper-parameter objects
    def __init__(self):
        self.monitor = "val/loss"


unet = {"input_blocks.0.0.weight": rand(4, 7, 3, 3), "input_blocks.0.0.bias": rand(4), "out.2.weight": rand(3, 4, 3, 3)}
vq = {"encoder.conv_in.weight": rand(2, 3, 3, 3), "quantize.embedding.weight": rand(16, 3)}
state = {}
for k, v in unet.items():
    state["model.diffusion_model." + k] = v
    state["model_ema.diffusion_model" + k.replace(".", "")] = v + 1.0   # EMA differs from raw
state["model_ema.decay"] = torch.tensor(0.9999)
state["model_ema.num_updates"] = torch.tensor(1234, dtype=torch.int32)
for k, v in vq.items():
    state["first_stage_model." + k] = v
    state["cond_stage_model." + k] = v                                   # same tensor: shared storage
state["betas"] = torch.linspace(0.0015 ** 0.5, 0.0205 ** 0.5, 1000, dtype=torch.float64).pow(2).float()
ckpt = {"state_dict": state, "epoch": 3, "global_step": 100,
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-4}]}],
        "callbacks": {"ModelCheckpoint": Callback()}, "hyper_parameters": {"lr": 1e-4}}
raw = f"{OUT}/_tmp.ckpt"
torch.save(ckpt, raw)
with zipfile.ZipFile(raw) as src, zipfile.ZipFile(f"{OUT}/tiny_lightning.ckpt", "w", zipfile.ZIP_STORED) as dst:
    for info in src.infolist():
        top, rest = info.filename.split("/", 1)
        dst.writestr("last/" + rest, src.read(info.filename))
os.remove(raw)
for k, v in state.items():
    if v.is_floating_point():
        expected["ckpt/" + k] = v.clone().contiguous()


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ldm-edit-fixture-pwned",))


torch.save({"weight": torch.ones(2, 2), "evil": Evil()}, f"{OUT}/malicious_reduce.bin")
torch.save(Evil(), f"{OUT}/malicious_toplevel.bin")

# Protocol-0 INST opcode inside an otherwise valid archive.
inst = b"(i__builtin__\nobject\n."
with zipfile.ZipFile(f"{OUT}/protocol0_inst.bin", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", inst)
    z.writestr("archive/byteorder", "little")

save_file(expected, f"{OUT}/expected.safetensors")
json.dump({"torch": torch.__version__, "safetensors": safetensors.__version__, "script": "make_checkpoint_fixtures.py",
           "format_version": 1}, open(f"{OUT}/versions.json", "w"), indent=1)
print("wrote", sorted(os.listdir(OUT)))
