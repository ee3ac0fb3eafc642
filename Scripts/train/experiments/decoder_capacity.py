#!/usr/bin/env python3
"""Experiment: does a decoder with more full-resolution capacity raise the first stage's detail at 28 dB?

    cd Scripts/train && python experiments/decoder_capacity.py --pool /tmp/ldm-pool \
        --first /tmp/dec/v1.safetensors --tuned /tmp/dec/v2.safetensors --out /tmp/dec/run \
        [--extra-blocks 2] [--steps 1500] [--seconds 2400]

--first and --tuned: shipped model files whose autoencoders are the first stage as trained (SR version 1,
`git show de33706:Models/ldm-edit-sr.safetensors`) and its adversarially fine-tuned decoder (version 2, 1224c5f). The
shipped decoder (version 3) is their weight-space mix at α = 51/64, the largest that keeps 28 dB (train_decoder.py);
its detail there (0.649 on the 16 eval crops) is the figure to beat: both detail targets that stay missed (SR's, the
strokes') sit at or under the first stage's own ceiling (experiments/first_stage_hole_ceiling.py).

Both autoencoders get --extra-blocks ResBlocks at the decoder's full-resolution level (after its one block there),
initialised as the identity (second convolution zero), so the widened decoders decode exactly as before; the widened
fine-tuned one then trains on train_decoder.py's objective (reconstruction loss + adaptive-weight hinge loss of a fresh
patch discriminator, which trains alone for --disc-warmup steps first; encoder frozen) for --steps or --seconds,
whichever ends first. Its EMA is mixed with the widened first stage along α and the largest α keeping --min-psnr is
chosen, as train_decoder.py does. Prints the frontier point against the shipped one; writes OUT/autoencoder (the
chosen mix, loadable by ConvAutoencoder.load and re-exportable into the model files) and OUT/tuned (the EMA end).
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import EMA, Photos, eval_crops, seed_everything  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from train_autoencoder import adopt_shipped  # noqa: E402
from train_decoder import PatchDiscriminator, adversarial_step, choose_mix, evaluate, mix_decoder  # noqa: E402


def load(path):
    folder = os.path.join("/tmp", f"decoder-capacity-{os.getpid()}-{os.path.basename(path)}")
    adopt_shipped(path, folder)
    return ConvAutoencoder.load(folder).eval()


def widen(ae, extra):
    """A copy of `ae` with `extra` identity ResBlocks appended at the decoder's level 0 (full resolution)."""
    c = ae.config
    blocks = list(c["decoder_blocks"])
    blocks[0] += extra
    out = ConvAutoencoder(c["widths"], c["encoder_blocks"], blocks, c["latent_channels"], c["scaling_factor"])
    missing, unexpected = out.load_state_dict(ae.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("decoder.blocks.0.") for k in missing), (missing, unexpected)
    with torch.no_grad():
        for b in out.decoder.blocks[0][len(ae.decoder.blocks[0]):]:
            b.conv2.weight.zero_()
            b.conv2.bias.zero_()
    out.config.update({k: v for k, v in c.items() if k not in out.config})
    return out.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--first", required=True)
    ap.add_argument("--tuned", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra-blocks", type=int, default=2)
    ap.add_argument("--steps", type=int, default=1500, help="adversarial steps after the discriminator's warm-up")
    ap.add_argument("--seconds", type=float, default=2400)
    ap.add_argument("--disc-warmup", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--adv-weight", type=float, default=0.5)
    ap.add_argument("--min-psnr", type=float, default=28.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    seed_everything(args.seed)
    torch.set_num_threads(2)
    dev = torch.device("cpu")
    crops = eval_crops(args.pool)
    first, tuned = load(args.first), load(args.tuned)
    alpha, psnr, detail = choose_mix(first, tuned, crops, dev, args.min_psnr)
    print(f"shipped line: α {alpha:.4f} → {psnr:.2f} dB, detail {detail:.3f} (fine-tuned end {evaluate(tuned, crops, dev)})", flush=True)
    first, ae = widen(first, args.extra_blocks), widen(tuned, args.extra_blocks)
    x = crops[:2]
    with torch.no_grad():
        assert torch.allclose(ae(x), tuned(x), atol=1e-5), "the widened decoder must decode as before"
    ae.encoder.requires_grad_(False).eval()
    ae.decoder.train()
    disc = PatchDiscriminator().to(dev)
    opt_g = torch.optim.Adam(ae.decoder.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.9))
    photos = Photos(args.pool, args.crop, seed=args.seed)
    ema = EMA(ae)
    t0, step = time.monotonic(), 0
    while step < args.disc_warmup + args.steps and time.monotonic() - t0 < args.seconds:
        x = photos.batch(args.batch)
        rec_loss, _, _, d_loss = adversarial_step(ae, disc, opt_g, opt_d, ema, x, step, args.disc_warmup, args.adv_weight)
        step += 1
        if step % 100 == 0:
            print(f"step {step} rec {rec_loss.item():.4f} disc {d_loss.item():.3f} {time.monotonic() - t0:.0f} s", flush=True)
    end = ema.module.eval()
    end.save(os.path.join(args.out, "tuned"))
    print(f"{step} steps ({max(0, step - args.disc_warmup)} adversarial) in {time.monotonic() - t0:.0f} s; "
          f"EMA end: {evaluate(end, crops, dev)}", flush=True)
    alpha, psnr, detail = choose_mix(first, end, crops, dev, args.min_psnr)
    mixed = mix_decoder(first, end, alpha)
    mixed.save(os.path.join(args.out, "autoencoder"))
    print(f"widened line (+{args.extra_blocks} blocks): α {alpha:.4f} → {psnr:.2f} dB, detail {detail:.3f}", flush=True)


if __name__ == "__main__":
    main()
