#!/usr/bin/env python3
"""Build the sample photos, low-resolution inputs and inpainting masks of ldm-edit.

Exact command line (run from the repository root, with a Python that has
Pillow and NumPy, e.g. a venv outside the repo):

    python3 -m venv /tmp/samples-venv
    /tmp/samples-venv/bin/pip install pillow numpy
    /tmp/samples-venv/bin/pip download --no-deps scikit-image==0.26.0 -d /tmp/whl
    unzip -q /tmp/whl/scikit_image-0.26.0-*.whl -d /tmp/whl/sk
    /tmp/samples-venv/bin/python Scripts/make_samples.py /tmp/whl/sk/skimage/data

Optional second argument: the repository root (default: the parent of this
script's folder).  Outputs, overwritten on every run:

    Samples/{astronaut,chelsea,coffee}.png         8-bit RGB, sides multiples of 32
    Samples/lowres/{astronaut,chelsea,coffee}.png  the above / 4 (Lanczos), sides multiples of 8
    Masks/{astronaut,chelsea,coffee}_mask.png      8-bit grayscale, only 0 and 255

Source photos come from the scikit-image 0.26.0 wheel on PyPI
(skimage/data/); their SHA-256 digests are checked against the values that
skimage/data/_registry.py lists, so a different file is refused.

Deterministic: fixed crop boxes, fixed Lanczos resampling, fixed mask
geometry, no metadata in the PNGs (no timestamps, text, dpi or ICC chunks;
the pixel values are sRGB as in the sources); the same inputs and the
same Pillow version give byte-identical files.

Sizes: the Samples sides are multiples of 32 so that the 4x-reduced
low-resolution inputs still have sides that are multiples of 8 (what a
latent-diffusion UNet with three down-sampling stages needs).
"""

import hashlib
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

# SHA-256 of the files as listed in scikit-image 0.26.0 skimage/data/_registry.py
SOURCE_SHA256 = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "chelsea.png": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "coffee.png": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
}

LOWRES_FACTOR = 4


def load(data_dir, name):
    path = os.path.join(data_dir, name)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SOURCE_SHA256[name]:
        sys.exit(f"{path}: sha256 {digest} does not match scikit-image 0.26.0 ({SOURCE_SHA256[name]})")
    with Image.open(path) as im:
        # Rebuild from the pixel array so that no source metadata travels on (the
        # astronaut and chelsea files carry the standard "sRGB IEC61966-2.1" ICC
        # profile, Photoshop/XMP text and dpi; untagged 8-bit RGB is read as sRGB anyway).
        return Image.fromarray(np.asarray(im.convert("RGB")), "RGB")


def astronaut(im):
    # 512x512 already: kept pixel for pixel.
    assert im.size == (512, 512)
    return im.copy()


def chelsea(im):
    # 451x300 -> centred crop to 448x288 (1 px left, 2 px right, 6 px top and bottom); no resampling.
    assert im.size == (451, 300)
    return im.crop((1, 6, 449, 294))


def coffee(im):
    # 600x400 -> centred 600x375 window (12.5 px off top and bottom), Lanczos-resized to 512x320:
    # the same scale (1.171875) in both directions, so the aspect ratio is preserved exactly.
    assert im.size == (600, 400)
    return im.resize((512, 320), Image.LANCZOS, box=(0, 12.5, 600, 387.5))


# Mask geometry, in the coordinates of the Samples image (white = repaint).
def mask_astronaut(draw):
    # The space-shuttle model standing in the background on the right, with its stand.
    draw.polygon([(390, 0), (444, 0), (466, 40), (468, 250), (478, 294),
                  (356, 294), (348, 226), (372, 40)], fill=255)


def mask_chelsea(draw):
    # The blurred background right of the cat's face and behind its ear (top-right corner).
    draw.polygon([(404, 0), (448, 0), (448, 212), (386, 212), (378, 130),
                  (382, 56), (402, 40)], fill=255)


def mask_coffee(draw):
    # The teaspoon: its bowl (ellipse) and its handle (thick stroke up to the tip).
    draw.ellipse((270, 192, 352, 272), fill=255)
    handle = [(356, 46), (351, 80), (345, 110), (338, 145), (330, 175), (322, 196), (314, 212)]
    draw.line(handle, fill=255, width=18, joint="curve")
    # round the tip of the handle
    draw.ellipse((347, 39, 365, 57), fill=255)


SAMPLES = [
    ("astronaut", astronaut, mask_astronaut),
    ("chelsea", chelsea, mask_chelsea),
    ("coffee", coffee, mask_coffee),
]


def save_png(im, path):
    # Plain PNG, no text chunks or timestamps; optimize=True picks the best zlib settings.
    im.save(path, format="PNG", optimize=True)


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    data_dir = argv[1]
    root = argv[2] if len(argv) == 3 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    samples = os.path.join(root, "Samples")
    lowres = os.path.join(samples, "lowres")
    masks = os.path.join(root, "Masks")
    for d in (samples, lowres, masks):
        os.makedirs(d, exist_ok=True)

    for stem, derive, draw_mask in SAMPLES:
        im = derive(load(data_dir, stem + ".png"))
        w, h = im.size
        assert w % 32 == 0 and h % 32 == 0 and max(w, h) <= 512, (stem, im.size)
        save_png(im, os.path.join(samples, stem + ".png"))

        small = im.resize((w // LOWRES_FACTOR, h // LOWRES_FACTOR), Image.LANCZOS)
        save_png(small, os.path.join(lowres, stem + ".png"))

        m = Image.new("L", (w, h), 0)
        draw_mask(ImageDraw.Draw(m))
        a = np.asarray(m)
        assert set(np.unique(a).tolist()) <= {0, 255}, stem
        cover = float((a == 255).mean())
        assert 0.03 <= cover <= 0.25, (stem, cover)
        save_png(m, os.path.join(masks, stem + "_mask.png"))
        print(f"{stem}: {w}x{h}, lowres {small.size[0]}x{small.size[1]}, mask covers {cover:.1%}")


if __name__ == "__main__":
    main(sys.argv)
