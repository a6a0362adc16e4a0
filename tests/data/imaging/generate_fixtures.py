#!/usr/bin/python3
"""Decoder fixtures for LlamaGuardSharp's imaging tests, made with Debian 12 python3-pil 9.4.0 (the golden reference's Pillow).

For each encoded fixture <name>.<ext> this writes <name>.expected.png: what the reference pipeline sees after Image.open and
transformers' convert_to_rgb (non-RGB -> RGBA -> alpha_composite over opaque white -> RGB), saved as an 8-bit RGB PNG.
Deterministic: fixed seeds, small images. Run: /usr/bin/python3 tests/data/imaging/generate_fixtures.py
"""
import io, json, os, random, struct, zlib
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 37, 23
rng = random.Random(20261128)


def convert_to_rgb(im):
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    bg = Image.new("RGBA", rgba.size, (255, 255, 255))
    return Image.alpha_composite(bg, rgba).convert("RGB")


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def raw_png(w, h, color_type, depth, rows, extra=b"", interlace=0):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace)
    data = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")


def rgb_pattern(w=W, h=H):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 7 + rng.randrange(30)) % 256, (y * 11 + rng.randrange(30)) % 256, (x * y + rng.randrange(60)) % 256)
                for y in range(h) for x in range(w)])
    return im


def alpha_ramp(w=W, h=H):
    a = Image.new("L", (w, h))
    a.putdata([min(255, (x * 255) // (w - 1)) if y % 5 else (0 if x % 2 else 255) for y in range(h) for x in range(w)])
    return a


fixtures = {}


def emit(name, data, note):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        f.write(data)
    im = Image.open(path)
    im.load()
    mode = im.mode
    convert_to_rgb(im).save(os.path.join(HERE, os.path.splitext(name)[0] + ".expected.png"))
    fixtures[name] = {"pillow_mode": mode, "size_wh": list(im.size), "note": note}


def save(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


base = rgb_pattern()
gray = base.convert("L")

# PNG: every colour type and bit depth.
emit("png_rgb8.png", save(base, "PNG"), "RGB 8-bit")
emit("png_rgba8.png", save(Image.merge("RGBA", (*base.split(), alpha_ramp())), "PNG"), "RGBA 8-bit, alpha ramp 0..255")
emit("png_gray8.png", save(gray, "PNG"), "L 8-bit")
emit("png_la8.png", save(Image.merge("LA", (gray, alpha_ramp())), "PNG"), "LA 8-bit")
emit("png_p8.png", save(base.quantize(64, method=Image.Quantize.MEDIANCUT), "PNG"), "palette 8-bit, no transparency")
pal = base.quantize(16, method=Image.Quantize.MEDIANCUT)
emit("png_p4_trns_partial.png", save(pal, "PNG", bits=4, transparency=bytes([0, 64, 128, 200] + [255] * 12)),
     "palette 4-bit with partial tRNS alphas")
emit("png_p1.png", save(base.convert("1").convert("P"), "PNG", bits=1), "palette 1-bit")
emit("png_bilevel.png", save(base.convert("1"), "PNG"), "mode 1 (1-bit grayscale)")
gray_rows16 = [b"".join(struct.pack(">H", (x * 1800 + y * 37 + (rng.randrange(300) if x % 3 else 0)) % 65536 if x > 2 else [0, 200, 255][x])
                        for x in range(W)) for y in range(H)]
emit("png_gray16.png", raw_png(W, H, 0, 16, gray_rows16), "I;16B: Pillow clips to 0..255 on convert")
emit("png_gray16_trns_ffff.png", raw_png(W, H, 0, 16, gray_rows16, chunk(b"tRNS", struct.pack(">H", 0xFFFF))),
     "16-bit gray, tRNS 65535 (Pillow matches clipped white)")
emit("png_gray16_trns_200.png", raw_png(W, H, 0, 16, gray_rows16, chunk(b"tRNS", struct.pack(">H", 200))), "16-bit gray, tRNS 200")
emit("png_gray8_trns.png", raw_png(W, H, 0, 8, [bytes(gray.crop((0, y, W, y + 1)).tobytes()) for y in range(H)],
                                   chunk(b"tRNS", struct.pack(">H", gray.getpixel((3, 3))))), "L 8-bit with tRNS grey key")
emit("png_gray2.png", raw_png(8, 2, 0, 2, [bytes([0b00011011, 0b11100100]), bytes([0b01010101, 0b10101010])]), "L 2-bit")
emit("png_gray4.png", raw_png(4, 2, 0, 4, [bytes([0x01, 0x8F]), bytes([0xF0, 0x7A])]), "L 4-bit")
rgb_rows = [base.crop((0, y, W, y + 1)).tobytes() for y in range(H)]
emit("png_rgb8_trns.png", raw_png(W, H, 2, 8, rgb_rows, chunk(b"tRNS", struct.pack(">HHH", *base.getpixel((5, 5))))),
     "RGB with tRNS colour key: Pillow mode RGB, key ignored by the reference")
rgb_rows16 = [b"".join(struct.pack(">HHH", *[(v << 8) | rng.randrange(256) for v in base.getpixel((x, y))]) for x in range(W)) for y in range(H)]
emit("png_rgb16.png", raw_png(W, H, 2, 16, rgb_rows16), "RGB 16-bit")
a = alpha_ramp()
rgba_rows16 = [b"".join(struct.pack(">HHHH", *[(v << 8) | rng.randrange(256) for v in (*base.getpixel((x, y)), a.getpixel((x, y)))])
                        for x in range(W)) for y in range(H)]
emit("png_rgba16.png", raw_png(W, H, 6, 16, rgba_rows16), "RGBA 16-bit")
la_rows16 = [b"".join(struct.pack(">HH", (gray.getpixel((x, y)) << 8) | rng.randrange(256), (a.getpixel((x, y)) << 8) | rng.randrange(256))
                      for x in range(W)) for y in range(H)]
emit("png_la16.png", raw_png(W, H, 4, 16, la_rows16), "LA 16-bit")
emit("png_rgb8_gama.png", raw_png(W, H, 2, 8, rgb_rows, chunk(b"gAMA", struct.pack(">I", 100000))),
     "gAMA 1.0: Pillow ignores colour metadata")

# GIF: first frame, transparency.
g1 = base.quantize(32)
emit("gif_plain.gif", save(g1, "GIF"), "GIF, 32 colours")
emit("gif_transparent.gif", save(g1, "GIF", transparency=3), "GIF with transparent index 3")
frames = [base.quantize(32), base.transpose(Image.Transpose.FLIP_LEFT_RIGHT).quantize(32)]
emit("gif_animated.gif", save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0), "2 frames: first is used")



def partial_first_frame_gif(transparency):
    """A GIF whose first frame (4x3 at (2,1)) is smaller than its 8x6 logical screen, background index 1: Pillow fills the rest
    with the transparent index if any, else index 0 (not the background colour)."""
    im = Image.new("P", (4, 3))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9] + [0] * (252 * 3))
    im.putdata([0, 1, 2, 3, 1, 2, 3, 0, 2, 3, 0, 1])
    data = bytearray(save(im, "GIF", **({} if transparency is None else {"transparency": transparency})))
    data[6:10] = struct.pack("<HH", 8, 6)
    data[11] = 1
    i = data.index(b"\x2c")
    data[i + 1:i + 5] = struct.pack("<HH", 2, 1)
    return bytes(data)


emit("gif_partial_frame.gif", partial_first_frame_gif(None), "first frame smaller than the screen, no transparency")
emit("gif_partial_frame_transparent.gif", partial_first_frame_gif(3), "first frame smaller than the screen, transparent index 3")

# BMP.
emit("bmp_rgb24.bmp", save(base, "BMP"), "BMP 24-bit")
emit("bmp_p8.bmp", save(base.quantize(64), "BMP"), "BMP 8-bit palette")
emit("bmp_gray8.bmp", save(gray, "BMP"), "BMP 8-bit grayscale palette")
emit("bmp_rgba32.bmp", save(Image.merge("RGBA", (*base.split(), alpha_ramp())), "BMP"), "BMP 32-bit written from RGBA")


def bmp32_bi_rgb(im, fourth):
    """32-bit BI_RGB BMP (BITMAPINFOHEADER) whose unused fourth byte is `fourth`: Pillow reads it as RGB (BGRX)."""
    w, h = im.size
    rows = b"".join(b"".join(bytes((b, g, r, fourth(x, y))) for x, (r, g, b) in enumerate(im.crop((0, y, w, y + 1)).getdata()))
                    for y in range(h - 1, -1, -1))
    header = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 32, 0, len(rows), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(header) + len(rows), 0, 0, 14 + len(header)) + header + rows


emit("bmp_bgrx32_zero.bmp", bmp32_bi_rgb(base, lambda x, y: 0), "32-bit BI_RGB, fourth byte 0")
emit("bmp_bgrx32_mixed.bmp", bmp32_bi_rgb(base, lambda x, y: (x * 7) % 256), "32-bit BI_RGB, fourth byte varies (Pillow ignores it)")

# WebP.
emit("webp_lossless_rgba.webp", save(Image.merge("RGBA", (*base.split(), alpha_ramp())), "WEBP", lossless=True), "WebP lossless RGBA")
emit("webp_lossless_rgb.webp", save(base, "WEBP", lossless=True), "WebP lossless RGB")
emit("webp_lossy_rgb.webp", save(base, "WEBP", quality=80), "WebP lossy RGB (decoder YUV conversion may differ)")
emit("webp_animated.webp", save(frames[0].convert("RGB"), "WEBP", save_all=True, append_images=[f.convert("RGB") for f in frames[1:]],
                                lossless=True, duration=100, loop=0), "animated WebP, 2 frames: first is used")

# JPEG variants.
emit("jpeg_420.jpg", save(base, "JPEG", quality=90, subsampling=2), "baseline 4:2:0")
emit("jpeg_444.jpg", save(base, "JPEG", quality=90, subsampling=0), "baseline 4:4:4")
emit("jpeg_progressive.jpg", save(base, "JPEG", quality=85, progressive=True), "progressive 4:2:0")
emit("jpeg_gray.jpg", save(gray, "JPEG", quality=90), "grayscale JPEG")
emit("jpeg_cmyk.jpg", save(base.convert("CMYK"), "JPEG", quality=95), "Adobe CMYK JPEG")

# Interlaced PNGs (Pillow cannot write Adam7, so the raw scanlines are interlaced here).
def adam7(w, h, bpp, rows_bytes):
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    out = b""
    for x0, y0, dx, dy in passes:
        xs = list(range(x0, w, dx))
        if not xs:
            continue
        for y in range(y0, h, dy):
            out += b"\x00" + b"".join(rows_bytes[y][x * bpp:(x + 1) * bpp] for x in xs)
    return out


def raw_png_adam7(w, h, color_type, depth, bpp, rows):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(adam7(w, h, bpp, rows))) + chunk(b"IEND", b"")


emit("png_gray16_adam7.png", raw_png_adam7(W, H, 0, 16, 2, gray_rows16), "16-bit gray, Adam7 interlaced")
emit("png_rgb8_interlaced.png", raw_png_adam7(W, H, 2, 8, 3, rgb_rows), "RGB 8-bit, Adam7 interlaced")

# Pillow BILINEAR resizes of one noisy RGB source to awkward sizes: strong down/up scaling, one axis only, 1 pixel, near-identity.
source = Image.new("RGB", (97, 61))
source.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(97 * 61)])
source.save(os.path.join(HERE, "resize_source.png"))
resizes = []
for w, h in [(13, 7), (1, 1), (200, 5), (97, 200), (50, 61), (300, 190), (3, 61), (96, 60), (97, 1), (1000, 2)]:
    name = "resize_%dx%d.png" % (w, h)
    source.resize((w, h), Image.Resampling.BILINEAR).save(os.path.join(HERE, name))
    resizes.append({"size_wh": [w, h], "file": name})

with open(os.path.join(HERE, "fixtures.json"), "w") as f:
    json.dump({"generator": "generate_fixtures.py with python3-pil " + Image.__version__, "fixtures": fixtures,
               "resize_source": "resize_source.png", "resizes": resizes}, f, indent=1, sort_keys=True)
