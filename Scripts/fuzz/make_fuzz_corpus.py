#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (Tests/Fuzz/corpus/<target>/, committed; docs/fuzzing.md).

    swift build -c release --product ldm-fuzz      # the image seeds come from ldm-edit's own encoders
    python3 Scripts/fuzz/make_fuzz_corpus.py [Tests/Fuzz/corpus]

Python standard library only. Writes, per target, a few small valid files that reach the parser's
interesting paths and a few damaged copies (truncated, bytes overwritten), so a replay of the corpus
also checks the error paths:
  safetensors  hand-written headers: every float dtype, metadata, a scalar, an empty header
  zip          zipfile archives: stored, deflated, ZIP64 extra fields, a comment
  unpickler    pickles of plain values and of a torch state dict (protocol 2 as torch.save writes,
               plus protocols 0 and 4/5 opcodes); torch's modules are faked so nothing needs torch
  torch        torch.save-layout zips (archive/data.pkl, data/<key>, byteorder) built around those
               pickles: a strided view, shared storage, a Lightning-style nested state_dict
  png/jpeg/tiff  `.build/release/ldm-fuzz --write-image-seeds` (ldm-edit's writers), plus a JPEG with
               an EXIF orientation segment spliced in
  config       model configs as JSON text: diffusers UNet2DModel and VQModel config.json files (the
               super-resolution and inpainting families) and `ldm_edit_config` metadata (VQ and conv)
Deterministic: rerunning gives identical bytes (fixed zip timestamps).
"""
import collections
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import types
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests/Fuzz/corpus")
DATE = (2020, 1, 1, 0, 0, 0)


def put(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def damaged(target, name, data):
    """Valid seed plus a truncated copy and one with bytes overwritten mid-file."""
    put(target, name, data)
    stem = name.rsplit(".", 1)[0]
    put(target, f"damaged_{stem}_truncated", data[: len(data) * 2 // 3])
    mid = len(data) // 2
    put(target, f"damaged_{stem}_overwritten", data[:mid] + b"\xff\xff\xff\xff" + data[mid + 4:])


# --- safetensors -------------------------------------------------------------------------------
def safetensors(entries, metadata=None):
    """entries: [(name, dtype, shape, raw bytes)] laid out in order."""
    header, data = {}, b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = str(header).replace("'", '"').encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


floats = struct.pack("<6f", 0.5, -1.0, 2.0, 3.5, -0.25, 8.0)
damaged("safetensors", "f32_metadata.safetensors",
        safetensors([("w", "F32", [2, 3], floats), ("s", "F32", [], struct.pack("<f", 1.5))], {"format": "pt"}))
put("safetensors", "f16_bf16_f64.safetensors",
    safetensors([("h", "F16", [2, 2], b"\x00\x3c" * 4), ("b", "BF16", [3], b"\x80\x3f" * 3),
                 ("d", "F64", [1], struct.pack("<d", 2.0))]))
put("safetensors", "int_dtypes.safetensors",
    safetensors([("i", "I64", [2], struct.pack("<2q", 1, -1)), ("u", "U8", [3], b"\x01\x02\x03"),
                 ("z", "F32", [0, 4], b"")]))
put("safetensors", "empty_header.safetensors", struct.pack("<Q", 8) + b"{}      ")

# --- pickles (torch's names faked: pickle only needs module.qualname to resolve) -----------------
torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"], torch._utils = torch, utils, utils
for storage in ["FloatStorage", "HalfStorage", "LongStorage"]:
    setattr(torch, storage, type(storage, (), {"__module__": "torch"}))


def _rebuild_tensor_v2(*args):
    raise RuntimeError("never called: the pickle is only written")


_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, kind, numel):
        self.key, self.kind, self.numel = key, kind, numel


class Tensor:
    def __init__(self, storage, offset, shape, strides):
        self.args = (storage, offset, tuple(shape), tuple(strides), False, collections.OrderedDict())

    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", obj.numel)
        return None


def dumps(obj, protocol=2):
    buffer = io.BytesIO()
    Pickler(buffer, protocol=protocol).dump(obj)
    return buffer.getvalue()


s0, s1, s2 = Storage("0", "FloatStorage", 12), Storage("1", "HalfStorage", 4), Storage("2", "LongStorage", 3)
state = collections.OrderedDict([
    ("weight", Tensor(s0, 0, [3, 4], [4, 1])),
    ("transposed", Tensor(s0, 0, [4, 3], [1, 4])),      # strided view of the same storage
    ("slice", Tensor(s0, 4, [2, 2], [4, 1])),           # offset into it
    ("half", Tensor(s1, 0, [2, 2], [2, 1])),
    ("steps", Tensor(s2, 0, [3], [1])),
    ("scalar", Tensor(s0, 11, [], [])),
])
storages = {"0": struct.pack("<12f", *range(12)), "1": b"\x00\x3c" * 4, "2": struct.pack("<3q", 1, 2, 3)}
lightning = {"state_dict": state, "epoch": 3, "global_step": 100, "hyper_parameters": {"lr": 1e-4, "name": "x"},
             "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999)}]}]}

plain = {"int": [0, 1, -1, 255, 65535, -2**31, 2**40, -2**70], "float": 1.5, "none": None, "bool": (True, False),
         "str": "ünïcode", "bytes": b"\x00\x01", "nested": [{"a": (1,)}, {"b": []}], "set": {1}, "frozen": frozenset([2])}
damaged("unpickler", "state_dict_p2.pkl", dumps(state))
put("unpickler", "lightning_p2.pkl", dumps(lightning))
put("unpickler", "plain_values_p2.pkl", dumps(plain))
put("unpickler", "plain_values_p4.pkl", dumps(plain, protocol=4))      # FRAME, MEMOIZE, STACK_GLOBAL
put("unpickler", "plain_values_p5.pkl", dumps([bytearray(b"ab"), b"x" * 300], protocol=5))
put("unpickler", "plain_values_p0.pkl", pickle.dumps({"a": [1, 2.0, "s"], "b": None}, protocol=0))  # text opcodes
put("unpickler", "os_system_reduce.pkl", b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.")


# --- zip and torch.save layout -------------------------------------------------------------------
def archive(files, top="archive", compression=zipfile.ZIP_STORED, zip64=False, comment=b""):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        z.comment = comment
        for name, data in files:
            info = zipfile.ZipInfo(f"{top}/{name}" if top else name, DATE)
            info.compress_type = compression
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
    return buffer.getvalue()


def torch_files(obj, keys):
    return [("data.pkl", dumps(obj)), ("byteorder", b"little")] + [(f"data/{k}", storages[k]) for k in keys]


damaged("torch", "state_dict.bin", archive(torch_files(state, "012")))
put("torch", "lightning_last.ckpt", archive(torch_files(lightning, "012"), top="last"))
put("torch", "zip64_fields.bin", archive(torch_files({"w": Tensor(s0, 0, [12], [1])}, "0"), zip64=True))
put("torch", "not_a_dict.bin", archive([("data.pkl", dumps([1, 2])), ("byteorder", b"little")]))

damaged("zip", "stored.zip", archive([("a.txt", b"hello"), ("dir/b.bin", bytes(range(40)))], top=None))
put("zip", "deflated_comment.zip", archive([("a.txt", b"hello " * 20)], top=None,
                                           compression=zipfile.ZIP_DEFLATED, comment=b"a comment"))
put("zip", "zip64.zip", archive([("big", b"0123456789"), ("empty", b"")], top=None, zip64=True))
put("zip", "empty.zip", archive([], top=None))

# --- model configs (JSON text: a diffusers config.json or an ldm_edit_config) -------------------------
def config_json(obj):
    return json.dumps(obj, sort_keys=True).encode()


UNET_SR = {"_class_name": "UNet2DModel", "in_channels": 6, "out_channels": 3, "block_out_channels": [32, 32],
           "down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
           "layers_per_block": 2, "attention_head_dim": 32, "norm_num_groups": 32, "norm_eps": 1e-05,
           "downsample_type": "conv", "act_fn": "silu", "flip_sin_to_cos": True, "freq_shift": 0,
           "time_embedding_type": "positional", "resnet_time_scale_shift": "default", "center_input_sample": False}
UNET_INP = dict(UNET_SR, in_channels=7, downsample_type="resnet", attention_head_dim=8, ldm_edit_num_heads=8,
                down_block_types=["ResnetDownsampleBlock2D", "AttnDownBlock2D"])
VQVAE = {"_class_name": "VQModel", "in_channels": 3, "out_channels": 3, "block_out_channels": [32, 32],
         "layers_per_block": 1, "latent_channels": 3, "num_vq_embeddings": 64, "norm_num_groups": 32,
         "vq_embed_dim": None, "mid_block_add_attention": True}
SCHEDULE = {"linearEnd": 0.0155, "linearStart": 0.0015, "setAlphaToOne": True, "source": "scheduler_config.json",
            "stepsOffset": 1, "timesteps": 1000}
CANONICAL_UNET = {"attentionLevels": [1], "channelMult": [1, 1], "heads": {"channelsPerHead": {"_0": 32}}, "inChannels": 6,
                  "modelChannels": 32, "normEps": 1e-05, "normGroups": 32, "numResBlocks": 2, "outChannels": 3,
                  "resblockUpdown": False}
CANONICAL_VQ = {"unet": CANONICAL_UNET, "schedule": SCHEDULE,
                "autoencoder": {"channelMult": [1, 1], "channels": 32, "codebookSize": 64, "embedDim": 3, "inChannels": 3,
                                "midAttention": True, "normEps": 1e-06, "normGroups": 32, "numResBlocks": 1, "outChannels": 3,
                                "zChannels": 3}}
CANONICAL_CONV = {"schedule": SCHEDULE,
                  "unet": dict(CANONICAL_UNET, channelMult=[1, 2], heads={"channelsPerHead": {"_0": 4}}, inChannels=7,
                               modelChannels=8, normGroups=4, numResBlocks=1, outChannels=4),
                  "convAutoencoder": {"decoder_blocks": [1, 2, 2], "encoder_blocks": [1, 1, 1], "latent_channels": 4,
                                      "scaling_factor": 19.37, "widths": [8, 16, 16]}}
put("config", "unet_sr.json", config_json(UNET_SR))
put("config", "unet_inp.json", config_json(UNET_INP))
put("config", "vqvae.json", config_json(VQVAE))
damaged("config", "canonical_vq.json", config_json(CANONICAL_VQ))
put("config", "canonical_conv.json", config_json(CANONICAL_CONV))

# --- images --------------------------------------------------------------------------------------
tool = os.path.join(ROOT, ".build/release/ldm-fuzz")
with tempfile.TemporaryDirectory() as scratch:
    subprocess.run([tool, "--write-image-seeds", scratch], check=True)
    for name in sorted(os.listdir(scratch)):
        data = open(os.path.join(scratch, name), "rb").read()
        target = {"png": "png", "jpg": "jpeg", "tif": "tiff"}[name.rsplit(".", 1)[1]]
        (damaged if name.startswith(("rgb8", "gray8.png")) else put)(target, name, data)
    # EXIF APP1 right after SOI: little-endian TIFF header, one IFD entry, Orientation (0x0112) = 6.
    jpeg = open(os.path.join(scratch, "rgb8.jpg"), "rb").read()
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 6) + b"\x00" * 4
    app1 = b"Exif\x00\x00" + tiff
    put("jpeg", "exif_orientation6.jpg", jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:])

# --- regression inputs for bugs found by reading the parsers (Tests/Fuzz/regressions/, docs/fuzzing.md) ---
# Inputs found by libFuzzer are committed as it wrote them; these are the hand-made ones.
REGRESSIONS = os.path.join(os.path.dirname(OUT), "regressions")


def regression(target, name, data):
    folder = os.path.join(REGRESSIONS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def header_only(text):
    text = text.encode() + b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


big = Storage("0", "FloatStorage", 2**62)      # 4-byte elements: the byte count overflows
two = Storage("0", "FloatStorage", 2)
regression("safetensors", "review_zero_dim_huge_strides",
           header_only('{"w":{"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]}}'))
regression("torch", "review_numel_bytes_overflow",
           archive([("data.pkl", dumps({"w": Tensor(big, 0, [1], [1])})), ("data/0", storages["0"])]))
regression("torch", "review_empty_view_offset_overflow",
           archive([("data.pkl", dumps({"w": Tensor(two, 2**62, [0], [1])})), ("data/0", storages["0"])]))
regression("torch", "review_size1_stride_int_max",
           archive([("data.pkl", dumps({"w": Tensor(two, 0, [2, 1], [1, 2**63 - 1])})), ("data/0", storages["0"])]))
# 50 000 nested tuples: freeing them recursed past the 8 MB main-thread stack.
regression("unpickler", "review_nested_tuples_50000", b"\x80\x02)" + b"\x85" * 50000 + b".")

# Configs whose numbers trapped while their layout was walked (docs/robustness.md), before validation.
regression("config", "review_layers_per_block_negative.json", config_json(dict(UNET_SR, layers_per_block=-1)))
regression("config", "review_attention_head_dim_zero.json", config_json(dict(UNET_SR, attention_head_dim=0)))
regression("config", "review_canonical_res_blocks_negative.json",
           config_json(dict(CANONICAL_VQ, unet=dict(CANONICAL_UNET, numResBlocks=-1))))
regression("config", "review_canonical_width_overflow.json",
           config_json(dict(CANONICAL_VQ, unet=dict(CANONICAL_UNET, channelMult=[1, 2**62]))))
regression("config", "review_canonical_vq_no_levels.json",
           config_json(dict(CANONICAL_VQ, autoencoder=dict(CANONICAL_VQ["autoencoder"], channelMult=[]))))

total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
print(f"wrote {sum(len(fs) for _, _, fs in os.walk(OUT))} seeds, {total} bytes, under {OUT}")
