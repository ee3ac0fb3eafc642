#!/usr/bin/env python3
"""Experiment: the SR model's decoder fine-tuned on the latents its own sampler returns, not only the encoder's.

    cd Scripts/train
    # arms with the same seed and batches, one thread each (training paused):
    python experiments/sr_sample_decoder.py train --pool /tmp/ldm-pool --model ../../Models/ldm-edit-sr.safetensors \
        --ldm-edit ../../.build/release/ldm-edit --out /tmp/srdec-adv --adv-weight 0.5 --crop 128 --batch 4 --minutes 40 &
    python experiments/sr_sample_decoder.py train --pool /tmp/ldm-pool --model ../../Models/ldm-edit-sr.safetensors \
        --ldm-edit ../../.build/release/ldm-edit --out /tmp/srdec-adv2 --adv-weight 2 --crop 128 --batch 4 --minutes 40 &
    wait
    python experiments/sr_sample_decoder.py eval --pool /tmp/ldm-pool --model ../../Models/ldm-edit-sr.safetensors \
        --ldm-edit ../../.build/release/ldm-edit --decoders /tmp/srdec-adv /tmp/srdec-adv2 --unsharp 0.5 1 1.5
    # into a model file, then Scripts/train/ship.py decides (STATE/export/ldm-edit-sr.safetensors is its candidate):
    # since version 5 as a rank-32 adapter beside the shared decoder (experiments/decoder_adapter.py; SHARED is the
    # shared first stage's folder, e.g. STATE/decoder/autoencoder, and MODEL a file whose decoder is that one);
    # version 4 had the decoder itself swapped in (experiments/swap_decoder.py)
    python experiments/decoder_adapter.py factor --base SHARED --tuned /tmp/srdec-adv/autoencoder --rank 32 --out /tmp/adapter
    python experiments/decoder_adapter.py into-model --base SHARED --adapter /tmp/adapter --model MODEL \
        --out STATE/export/ldm-edit-sr.safetensors

`bash Scripts/train/run.sh` runs `train` (the 0.5 arm's settings with --sampled-share 1 since version 6, --steps 3100, resumable from OUT/state.pt), then
factors it into the SR export, after the SR U-Net's phase.

Why: every decoder tried so far (train_decoder.py, experiments/decoder_capacity.py, experiments/context_decoder.py)
learnt from the encoder's latents of the truth, but through the SR model it decodes the sampler's latents, which are
smoother: decoded alike, 0.44 of detail against the encoded truth's 0.65, their high-frequency energy 0.5–0.74 of
the truth's (docs/quality.md, "Where SR's detail is lost"). A decoder that sees those latents in training can learn
what they lack systematically, as Stable Diffusion's later decoders are trained on (or distilled for) the latents
the generator produces rather than the encoder's. The encoder, the latent space and the U-Net are untouched; only
the SR file's `ae.decoder.*` would change.

Each step: a batch of training crops (the pool's train split, --crop pixels), their low-res inputs made as the SR
U-Net's were (train_diffusion.degrade), the U-Net's sample from them (DPM-Solver++(2M) Karras, --sampler-steps, the
default's 8; no graph) for the first --sampled-share of the batch and the encoded truth for the rest (so that the
decoder keeps reconstructing: issue 16's first-stage target is measured on the encoder's latents). Objective: the
first stage's reconstruction loss (train_autoencoder.loss_fn) against the truth + λ · hinge loss of a fresh patch
discriminator, λ = --adv-weight × the adaptive weight (train_decoder.hinge_gan_update), the discriminator alone for
--disc-warmup steps. --adv-weight 0 is the regression control: the best least-squares decoder of the sampled latents.
Writes OUT/autoencoder (the EMA decoder with the shipped encoder, ConvAutoencoder's folder; experiments/swap_decoder.py
puts it into a model file for ldm-edit).

Results (2026-12-06, docs/quality.md, "A decoder trained on the sampler's latents"; 16 eval crops, Y-PSNR /
LR-consistency / detail, the truth's reconstruction): shared decoder 25.88 / 35.68 / 0.455, 28.02 dB; --adv-weight 0.5
(3,100 steps, 40 minutes) 25.52 / 36.36 / 0.586, 26.48 dB — above the unsharp mask's line (A = 0.5: 25.26 / 35.23 /
0.582); --adv-weight 2: 25.71 / 35.98 / 0.469; --judge-sampled --truth-weight 2: 25.52 / 36.53 / 0.545, 27.34 dB. The 0.5
arm shipped as the SR model's decoder (version 4: 25.39 / 36.30 / 0.622 through ldm-edit), then as a rank-32 adapter
(version 5); `--sampled-share 1` (3,051 steps) as version 6's adapter: 25.09 / 35.97 / 0.686 at seed 0, 0.657 / 0.654 at
seeds 1 / 2 (docs/quality.md, "The sampler's decoder as an adapter").

The arms above started from version 3, the shared decoder (`git show 039df1d:Models/ldm-edit-sr.safetensors`); pass that
file as --model to repeat them, as the shipped file now carries the 0.5 arm's decoder.

`eval` samples the eval crops once (PyTorch, the default sampler, seed = crop index, as experiments/autoguidance.py
does; the latents do not depend on the decoder) and decodes them with --model's decoder and each --decoders folder,
each also mixed back toward --model's decoder to keep the first stage's 28 dB (train_decoder.choose_mix), printing
quality.py's SR figures, the first stage's reconstruction (16 eval crops) and the shipped output sharpened by an
unsharp mask (--unsharp amounts): the line any detail gained has to lie above.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "eval"))
from common import EMA, Photos, TrainState, eval_crops, seed_everything  # noqa: E402
from conv_autoencoder import ConvAutoencoder  # noqa: E402
from export import load_shipped  # noqa: E402
from quality import crops, upscale_figures  # noqa: E402
from sr_blur_guidance import unsharp  # noqa: E402
from sr_trajectory_adversarial import sample  # noqa: E402
from train_autoencoder import TARGET_PSNR as MIN_PSNR, loss_fn  # noqa: E402  (issue 16's first-stage target)
from train_decoder import PatchDiscriminator, choose_mix, evaluate, hinge_gan_update, mix_decoder  # noqa: E402
from train_diffusion import degrade  # noqa: E402


def train(args):
    ae, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    unet.eval().requires_grad_(False)
    if args.init_decoder:   # go on from an earlier arm's decoder (the encoder must be the model's)
        earlier = ConvAutoencoder.load(os.path.join(args.init_decoder, "autoencoder"))
        assert all(torch.equal(a, b) for a, b in zip(earlier.encoder.state_dict().values(), ae.encoder.state_dict().values()))
        ae.decoder.load_state_dict(earlier.decoder.state_dict())
    ae.encoder.requires_grad_(False).eval()
    ae.decoder.train()
    scale = ae.config["scaling_factor"]
    disc = PatchDiscriminator(32)
    opt_g = torch.optim.Adam(ae.decoder.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.9))
    photos = Photos(args.pool, args.crop, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    ema = EMA(ae)
    sampled = round(args.batch * args.sampled_share)
    # Resumable as run.sh's phases are (common.TrainState, saved every --save-every seconds and on SIGTERM); the
    # degradation's and the sampler's own generators travel in the state's extra record.
    os.makedirs(args.out, exist_ok=True)
    state = TrainState(os.path.join(args.out, "state.pt"), every_s=args.save_every)
    modules, optimizers = {"ae": ae, "ema": ema.module, "disc": disc}, {"g": opt_g, "d": opt_d}

    def save():
        state.extra.update(degrade_rng=rng.bit_generator.state, sampler_rng=generator.get_state())
        state.save(modules, optimizers, photos.rng)
    if state.load(modules, optimizers, photos.rng):
        rng.bit_generator.state = state.extra["degrade_rng"]
        generator.set_state(state.extra["sampler_rng"])
        print(f"resumed {state.path} at step {state.step}", flush=True)
    state.trap_signals()
    t0, s0 = time.monotonic(), state.step
    while state.step < args.steps and (not args.minutes or time.monotonic() - t0 < 60 * args.minutes):
        step = state.step
        hr = photos.batch(args.batch)
        with torch.no_grad():
            z = ae.encode(hr)
            lr = degrade(hr[:sampled], rng)
            z[:sampled] = sample(unet, lr, args.sampler_steps, 0, generator) / scale
        adversarial = args.adv_weight > 0 and step >= args.disc_warmup
        with torch.set_grad_enabled(adversarial or args.adv_weight == 0):
            rec = ae.decode(z)
            if args.judge_sampled:   # the encoded truth's half: reconstruction only, so it stays an autoencoder
                rec_loss = loss_fn(rec[:sampled], hr[:sampled]) + args.truth_weight * loss_fn(rec[sampled:], hr[sampled:])
                fake, real = rec[:sampled], hr[:sampled]
            else:
                rec_loss = loss_fn(rec, hr)
                fake, real = rec, hr
        if args.adv_weight == 0:   # the regression control: no critic at all
            opt_g.zero_grad(set_to_none=True)
            rec_loss.backward()
            opt_g.step()
            ema.update(ae, step)
            adv_loss = lam = d_loss = torch.zeros(())
        else:
            adv_loss, lam, d_loss = hinge_gan_update(rec_loss, fake, real, disc, opt_g, opt_d, ae.decoder.conv_out.weight,
                                                     args.adv_weight, adversarial, ema, ae, step - args.disc_warmup)
        state.step = step = step + 1
        if step % 25 == 0:
            print(f"sampler decoder step {step}/{args.steps} rec {rec_loss.item():.4f} adv {adv_loss.item():+.3f} "
                  f"λ {lam.item():.3f} disc {d_loss.item():.3f} {(step - s0) / (time.monotonic() - t0):.3f} steps/s "
                  f"cpu {state.spent_cpu_hours():.2f} h", flush=True)
        if state.due():
            save()
    save()   # at --steps, at --minutes, or resumed already finished
    step = state.step
    out = os.path.join(args.out, "autoencoder")
    result = ema.module
    result.config["decoder_finetune"] = {
        "script": "Scripts/train/experiments/sr_sample_decoder.py", "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "steps": step, "adv_weight": args.adv_weight, "sampled_share": args.sampled_share,
        "judge_sampled": args.judge_sampled, "truth_weight": args.truth_weight, "init_decoder": args.init_decoder, "crop": args.crop,
        "batch": args.batch, "lr": args.lr, "seed": args.seed, "sampler_steps": args.sampler_steps,
        "from": os.path.basename(args.model), "cpu_hours": round(state.spent_cpu_hours(), 2)}
    result.save(out)
    print(f"wrote {out} after {step} steps", flush=True)


def to_u8(x):
    return ((x[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


@torch.no_grad()
def evaluate_all(args):
    torch.set_num_threads(args.threads)
    shipped, unet = load_shipped(args.model, "sr-48", args.ldm_edit)
    shipped.eval()
    scale = shipped.config["scaling_factor"]
    named = list(crops(args.pool, 256, args.limit))
    gts = [gt for _, gt in named]
    lrs = [np.asarray(Image.fromarray(gt).resize((64, 64), Image.BICUBIC)) for gt in gts]
    latents = []
    for index, lr in enumerate(lrs):
        cond = torch.from_numpy(lr.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
        latents.append(sample(unet, cond, 8, 0, torch.Generator().manual_seed(index)) / scale)
    truth = eval_crops(args.pool)
    decoders = [("shipped", shipped)]
    for folder in args.decoders:
        tuned = ConvAutoencoder.load(os.path.join(folder, "autoencoder")).eval()
        drift = max((a - b).abs().max().item() for a, b in zip(tuned.encoder.state_dict().values(),
                                                                 shipped.encoder.state_dict().values()))
        assert drift == 0, f"{folder}: not the shipped encoder"
        decoders.append((folder, tuned))
        alpha, psnr, ratio = choose_mix(shipped, tuned, truth, torch.device("cpu"), MIN_PSNR)
        if alpha < 1:
            decoders.append((f"{folder} mixed α {alpha:.3f}", mix_decoder(shipped, tuned, alpha).eval()))
    print(f"\n{args.limit} eval crops, DPM-Solver++(2M) Karras 8, seed = crop index; first stage on the 16 eval crops")
    print("| decoder | Y-PSNR | LR-consistency | detail | first stage PSNR | first stage detail |\n|---|---:|---:|---:|---:|---:|")
    for name, ae in decoders:
        outs = [to_u8(ae.decode(z)) for z in latents]
        y, _, lrc, d = np.mean([upscale_figures(o, gt, lr, 256) for o, gt, lr in zip(outs, gts, lrs)], axis=0)
        rec_psnr, rec_detail = evaluate(ae, truth, torch.device("cpu"))
        print(f"| {name} | {y:.2f} | {lrc:.2f} | {d:.3f} | {rec_psnr:.2f} | {rec_detail:.3f} |", flush=True)
        if name == "shipped":
            for amount in args.unsharp:
                y, _, lrc, d = np.mean([upscale_figures(unsharp(o, amount), gt, lr, 256)
                                        for o, gt, lr in zip(outs, gts, lrs)], axis=0)
                print(f"| shipped + unsharp {amount:g} | {y:.2f} | {lrc:.2f} | {d:.3f} | — | — |", flush=True)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            tag = os.path.basename(name.split(" ")[0].rstrip("/")) + ("-mixed" if "mixed" in name else "")
            for (crop_name, gt), o in zip(named, outs):
                Image.fromarray(np.concatenate([o, gt], 1)).save(os.path.join(args.save, f"{tag}_{crop_name}"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["train", "eval"])
    ap.add_argument("--pool", required=True)
    ap.add_argument("--model", required=True, help="the shipped SR model (ldm-edit .safetensors)")
    ap.add_argument("--ldm-edit", required=True)
    ap.add_argument("--out", help="train: the arm's folder")
    ap.add_argument("--decoders", nargs="*", default=[], help="eval: arms' folders")
    ap.add_argument("--steps", type=int, default=3100, help="the shipped decoder's (version 4)")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this wall time (0: at --steps)")
    ap.add_argument("--save-every", type=float, default=300, help="seconds between state saves (OUT/state.pt)")
    ap.add_argument("--disc-warmup", type=int, default=300)
    ap.add_argument("--adv-weight", type=float, default=0.5)
    ap.add_argument("--sampled-share", type=float, default=0.5)
    ap.add_argument("--judge-sampled", action="store_true",
                    help="the discriminator judges only the sampled latents' decodes; the encoded truth's get the "
                         "reconstruction loss alone, × --truth-weight")
    ap.add_argument("--truth-weight", type=float, default=1.0)
    ap.add_argument("--init-decoder", help="an earlier arm's folder to go on from (a fresh discriminator)")
    ap.add_argument("--sampler-steps", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=16)
    ap.add_argument("--unsharp", type=float, nargs="*", default=[])
    ap.add_argument("--save", help="eval: write each output beside its ground truth here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    if args.mode == "train":
        train(args)
    else:
        evaluate_all(args)


if __name__ == "__main__":
    main()
