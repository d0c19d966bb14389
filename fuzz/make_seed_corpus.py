#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (run once; the output is committed).

fuzz/corpus/fuzz_slide/: tiny TIFFs of each kind the reader handles (classic and BigTIFF, both
byte orders, tiles and strips, each codec, planar, 16-bit, SubIFD pyramid, Aperio-style).
fuzz/corpus/fuzz_decoders/: a 4-byte layout header (see fuzz/fuzz_decoders.cpp) and one tile.
Needs numpy, tifffile and imagecodecs.
"""
import pathlib

import imagecodecs
import numpy as np
import tifffile

root = pathlib.Path(__file__).resolve().parent / "corpus"
slide_dir = root / "fuzz_slide"
decoder_dir = root / "fuzz_decoders"
slide_dir.mkdir(parents=True, exist_ok=True)
decoder_dir.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(7)
yy, xx = np.mgrid[0:40, 0:48]
gray = ((xx * 5 + yy * 3) % 256).astype(np.uint8)
rgb = np.stack([gray, 255 - gray, (gray // 2 + 40).astype(np.uint8)], axis=-1)
gray16 = (gray.astype(np.uint16) * 257 + rng.integers(0, 64, gray.shape)).astype(np.uint16)


def write(name, data, **kwargs):
    path = slide_dir / name
    tifffile.imwrite(path, data, **kwargs)
    assert path.stat().st_size < 20_000, name


tile = (16, 16)
write("tiled-none-le.tif", rgb, tile=tile, photometric="rgb")
write("tiled-deflate-be.tif", rgb, tile=tile, photometric="rgb", compression="zlib", byteorder=">")
write("tiled-lzw-pred-bigtiff.tif", gray16, tile=tile, compression="lzw", predictor=True, bigtiff=True)
write("tiled-jpeg-ycbcr.tif", rgb, tile=tile, photometric="ycbcr", compression="jpeg")
write("tiled-jpeg-gray-bigtiff-be.tif", gray, tile=tile, compression="jpeg", bigtiff=True, byteorder=">")
write("tiled-packbits-planar.tif", np.ascontiguousarray(rgb.transpose(2, 0, 1)), tile=tile, photometric="rgb", compression="packbits",
      planarconfig="separate")
write("strips-deflate-le.tif", rgb, rowsperstrip=7, photometric="rgb", compression="zlib")
write("strips-none-int16-be.tif", gray16.astype(np.int16), rowsperstrip=16, byteorder=">")

# A generic pyramid: level 0 with two SubIFD levels, then a thumbnail-described page.
with tifffile.TiffWriter(slide_dir / "pyramid-subifds.tif") as tif:
    tif.write(rgb, tile=tile, photometric="rgb", compression="zlib", subifds=2)
    tif.write(rgb[::2, ::2], tile=tile, photometric="rgb", compression="zlib", subfiletype=1)
    tif.write(rgb[::4, ::4], tile=tile, photometric="rgb", compression="zlib", subfiletype=1)
    tif.write(gray[::4, ::4], photometric="minisblack", description="thumbnail")

# Aperio-style: tiled level 0 described "Aperio ...|MPP = 0.25", stripped thumbnail, reduced
# level, label and macro.
with tifffile.TiffWriter(slide_dir / "aperio-like.svs") as tif:
    tif.write(rgb, tile=tile, photometric="rgb", compression="jpeg",
              description="Aperio Image Library v12\r\n48x40 [0,0 48x40] (16x16) JPEG/RGB Q=30|AppMag = 20|MPP = 0.5")
    tif.write(rgb[::4, ::4], photometric="rgb", description="Aperio thumbnail 12x10")
    tif.write(rgb[::2, ::2], tile=tile, photometric="rgb", compression="jpeg", description="Aperio level 1")
    tif.write(gray[::4, ::4], photometric="minisblack", compression="lzw", description="Aperio label 12x10")
    tif.write(rgb[::4, ::4], photometric="rgb", description="Aperio macro 12x10")

# NDPI-like: the Hamamatsu FormatFlag and SourceLens tags.
ndpi_tags = [(65420, 4, 1, 1, True), (65421, 11, 1, 20.0, True)]
write("ndpi-like.ndpi", gray, tile=tile, extratags=ndpi_tags, resolution=(20000, 20000),
      resolutionunit="CENTIMETER")

# Decoder seeds: header bytes [compression index, width-1, rows-1, flags] + tile bytes.
# Compression indices follow `compressions` in fuzz_decoders.cpp.
NONE, LZW, JPEG, ADOBE_DEFLATE, DEFLATE, PACKBITS = 0, 1, 2, 3, 4, 5


def seed(name, index, width, rows, flags, payload):
    data = bytes([index, width - 1, rows - 1, flags]) + payload
    (decoder_dir / name).write_bytes(data)


t8 = gray[:16, :16].copy()
t_rgb = rgb[:16, :16].copy()
t16 = gray16[:16, :16].copy()
seed("none-rgb", NONE, 16, 16, 2, t_rgb.tobytes())
seed("none-u16-be", NONE, 16, 16, 4 | 32, t16.astype(">u2").tobytes())
seed("lzw-gray", LZW, 16, 16, 0, imagecodecs.lzw_encode(t8.tobytes()))
seed("lzw-u16-pred2", LZW, 16, 16, 4 | 8,
     imagecodecs.lzw_encode(imagecodecs.delta_encode(t16, axis=-1).tobytes()))
seed("deflate-rgb", DEFLATE, 16, 16, 2, imagecodecs.zlib_encode(t_rgb.tobytes()))
seed("adobe-deflate-pred2", ADOBE_DEFLATE, 16, 16, 8,
     imagecodecs.zlib_encode(imagecodecs.delta_encode(t8, axis=-1).tobytes()))
seed("packbits-gray", PACKBITS, 16, 16, 0, imagecodecs.packbits_encode(t8.tobytes()))
seed("jpeg-gray", JPEG, 16, 16, 0, imagecodecs.jpeg8_encode(t8, level=80))
seed("jpeg-rgb", JPEG, 16, 16, 2, imagecodecs.jpeg8_encode(t_rgb, level=80, colorspace="rgb", outcolorspace="rgb"))
seed("jpeg-ycbcr", JPEG, 16, 16, 2 | 64, imagecodecs.jpeg8_encode(t_rgb, level=80))
