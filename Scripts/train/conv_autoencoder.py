"""The bundled first stage: a normalisation-free f4 convolutional autoencoder with continuous latents.

Why this design (measured, Scripts/train/README.md "Choosing sizes"): with no GroupNorm and no
codebook it trains ~2.6x more steps per CPU-minute than a diffusers AutoencoderKL/VQModel of the
same depth and reaches a far better PSNR at equal wall-clock; with no normalisation its receptive
field is bounded, so tiles decode exactly like the whole image away from their borders.

Structure (the key names are the ones ldm-edit reads, Sources/LDMModels/Autoencoder/ConvAutoencoder.swift):

    encoder: conv_in 3→c0 · per level l: blocks.l.{0..} (ResBlock c_l), then down.l (3×3 stride-2 conv c_l→c_{l+1}, pad 1)
             except the last level · conv_out (SiLU, 3×3 conv c_last→z)
    decoder: conv_in z→c_last · per level l from the last: blocks.l.{0..}, then up.l (nearest 2×, 3×3 conv c_l→c_{l−1})
             except level 0 · conv_out (SiLU, 3×3 conv c0→3)
    ResBlock(c): x + conv2(SiLU(conv1(SiLU(x))))  (3×3 convs, pad 1)

Latents are multiplied by `scaling_factor` (1/std of training latents) before diffusion and divided by
it before decoding, as Stable Diffusion does with its VAE (diffusers `vae.config.scaling_factor`).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        with torch.no_grad():   # start near identity: no normalisation keeps the residual stream tame
            self.conv2.weight.mul_(0.1)

    def forward(self, x):
        return x + self.conv2(F.silu(self.conv1(F.silu(x))))


class Encoder(nn.Module):
    def __init__(self, widths, blocks, z):
        super().__init__()
        self.conv_in = nn.Conv2d(3, widths[0], 3, padding=1)
        self.blocks = nn.ModuleList(nn.ModuleList(ResBlock(w) for _ in range(n)) for w, n in zip(widths, blocks))
        self.down = nn.ModuleList(nn.Conv2d(widths[i], widths[i + 1], 3, stride=2, padding=1) for i in range(len(widths) - 1))
        self.conv_out = nn.Conv2d(widths[-1], z, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level, blocks in enumerate(self.blocks):
            for b in blocks:
                h = b(h)
            if level < len(self.down):
                h = self.down[level](h)
        return self.conv_out(F.silu(h))


class Decoder(nn.Module):
    def __init__(self, widths, blocks, z):
        super().__init__()
        self.conv_in = nn.Conv2d(z, widths[-1], 3, padding=1)
        self.blocks = nn.ModuleList(nn.ModuleList(ResBlock(w) for _ in range(n)) for w, n in zip(widths, blocks))
        # up.{l-1} takes level l (width c_l) to level l−1 (width c_{l−1}).
        self.up = nn.ModuleList(nn.Conv2d(widths[i + 1], widths[i], 3, padding=1) for i in range(len(widths) - 1))
        self.conv_out = nn.Conv2d(widths[0], 3, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        for level in reversed(range(len(self.blocks))):
            for b in self.blocks[level]:
                h = b(h)
            if level > 0:
                h = self.up[level - 1](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(h))


class ConvAutoencoder(nn.Module):
    """x: [N, 3, H, W] in [−1, 1] (H, W multiples of 2^(levels−1)) ↔ z: [N, z, H/f, W/f] (unscaled)."""

    def __init__(self, widths=(32, 64, 64), encoder_blocks=(1, 1, 1), decoder_blocks=(1, 2, 2), z=4, scaling_factor=1.0):
        super().__init__()
        self.config = {"widths": list(widths), "encoder_blocks": list(encoder_blocks), "decoder_blocks": list(decoder_blocks),
                       "latent_channels": z, "scaling_factor": scaling_factor}
        self.encoder = Encoder(widths, encoder_blocks, z)
        self.decoder = Decoder(widths, decoder_blocks, z)

    @property
    def factor(self):
        return 2 ** (len(self.config["widths"]) - 1)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))

    def save(self, folder):
        """folder/config.json + folder/model.safetensors (fp32), what the diffusion export and ldm-edit read."""
        os.makedirs(folder, exist_ok=True)
        json.dump({"_class_name": "ConvAutoencoder", **self.config}, open(os.path.join(folder, "config.json"), "w"), indent=1)
        save_file({k: v.detach().float().contiguous().cpu() for k, v in self.state_dict().items()},
                  os.path.join(folder, "model.safetensors"))

    @staticmethod
    def load(folder):
        cfg = json.load(open(os.path.join(folder, "config.json")))
        ae = ConvAutoencoder(cfg["widths"], cfg["encoder_blocks"], cfg["decoder_blocks"], cfg["latent_channels"],
                             cfg.get("scaling_factor", 1.0))
        ae.load_state_dict(load_file(os.path.join(folder, "model.safetensors")))
        # Keys beyond the architecture (train_decoder.py's "decoder_finetune" record) travel along, so a
        # U-Net's export can tell which first stage it ships.
        ae.config.update({k: v for k, v in cfg.items() if k not in ae.config and k != "_class_name"})
        return ae
