#!/usr/bin/python3
"""Pillow side of the image benchmark (Debian python3-pil, the reference's Pillow 9.4): the same decode and the same BILINEAR
resize the reference performs, timed as medians. Also generates the deterministic benchmark inputs.

  pillow_timing.py make-inputs DIR      -> DIR/photo_4000x3000.jpg, DIR/wide_1000x300.png
  pillow_timing.py time [--reps N] IMAGE...  -> one JSON line per image: decode_ms, resize_ms (to the Mllama target size)
"""
import json, os, random, sys, time
from PIL import Image


def make_inputs(directory):
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(4000)
    for (w, h, name, fmt) in [(4000, 3000, "photo_4000x3000.jpg", "JPEG"), (1000, 300, "wide_1000x300.png", "PNG")]:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            continue
        # Smooth colour gradients plus mild seeded noise: photo-like compressibility, fully deterministic.
        r = Image.linear_gradient("L").resize((w, h))
        g = Image.radial_gradient("L").resize((w, h))
        b = Image.linear_gradient("L").rotate(90).resize((w, h))
        base = Image.merge("RGB", (r, g, b))
        noise = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
        img = Image.blend(base, noise, 0.12)
        if fmt == "JPEG":
            img.save(path, "JPEG", quality=90)
        else:
            img.save(path, "PNG")
        print(path)


def target_size(w, h, tile=560, max_tiles=4):
    """transformers' canvas choice and fit-to-canvas (same as ImagePreprocessor.Plan), returning (w, h)."""
    grids = [(a, b) for a in range(1, max_tiles + 1) for b in range(1, max_tiles + 1) if a * b <= max_tiles]
    scales = []
    for th, tw in grids:
        sh, sw = th * tile / h, tw * tile / w
        scales.append(sh if sw > sh else sw)
    up = [s for s in scales if s >= 1]
    sel = min(up) if up else max(scales)
    cands = [(g[0] * tile, g[1] * tile) for g, s in zip(grids, scales) if s == sel]
    ch, cw = min(cands, key=lambda c: c[0] * c[1])
    tw, th = min(max(w, tile), cw), min(max(h, tile), ch)
    sh, sw = th / h, tw / w
    if sw < sh:
        return tw, min(int(h * sw) or 1, th)
    return min(int(w * sh) or 1, tw), th


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def time_images(paths, reps):
    for path in paths:
        decode, resize = [], []
        for r in range(-2, reps):
            t0 = time.perf_counter()
            im = Image.open(path)
            im.load()
            if im.mode != "RGB":
                im = im.convert("RGB")
            t1 = time.perf_counter()
            size = target_size(*im.size)
            out = im.resize(size, Image.Resampling.BILINEAR) if size != im.size else im.copy()
            t2 = time.perf_counter()
            if r >= 0:
                decode.append((t1 - t0) * 1000)
                resize.append((t2 - t1) * 1000)
        print(json.dumps({"image": os.path.basename(path), "size": list(im.size), "resized": list(size), "reps": reps,
                          "decode_ms": round(median(decode), 2), "resize_ms": round(median(resize), 2), "pillow": Image.__version__}))


if __name__ == "__main__":
    if sys.argv[1] == "make-inputs":
        make_inputs(sys.argv[2])
    else:
        args = sys.argv[2:]
        reps = 15
        if args and args[0] == "--reps":
            reps = int(args[1])
            args = args[2:]
        time_images(args, reps)
