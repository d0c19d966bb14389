#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (run once; the output is committed).

fuzz/corpus/fuzz_slide/: tiny TIFFs of each kind the reader handles (classic and BigTIFF, both
byte orders, tiles and strips, each codec, planar, 16-bit, SubIFD pyramid, Aperio-style), and tiny
DICOM whole slide images (dicom-*.dcm: native, JPEG and JPEG 2000 frames, TILED_SPARSE, implicit VR,
offset tables, broken ones).
fuzz/corpus/fuzz_decoders/: a 4-byte layout header (see fuzz/fuzz_decoders.cpp) and one tile.
Needs numpy, tifffile, imagecodecs and pydicom.
"""
import pathlib
import struct
import zlib

import imagecodecs
import numpy as np
import pydicom
import tifffile
from pydicom.encaps import encapsulate, encapsulate_extended
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, JPEGBaseline8Bit,
                         VLWholeSlideMicroscopyImageStorage)

root = pathlib.Path(__file__).resolve().parent / "corpus"
slide_dir = root / "fuzz_slide"
decoder_dir = root / "fuzz_decoders"
slide_dir.mkdir(parents=True, exist_ok=True)
decoder_dir.mkdir(parents=True, exist_ok=True)
for stale in decoder_dir.iterdir():  # the header format may have changed: start afresh
    stale.unlink()

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
# Sample types: 32-bit integers, float16 with the floating-point predictor, 1-bit masks (and the
# broken ones the malformed corpus has: a short 1-bit strip, 1-bit floating point).
gray32 = gray16.astype(np.uint32) * 65537
write("tiled-zstd-uint32-pred-be.tif", gray32, tile=tile, compression="zstd", predictor=True, byteorder=">")
write("strips-deflate-int32.tif", (gray32 // 2).astype(np.int32) - 2**30, rowsperstrip=16, compression="zlib")
write("tiled-lzw-float16-pred3.tif", (gray16 / 7.0 - 3000).astype(np.float16), tile=tile, compression="lzw", predictor=3)
mask = (gray % 3) == 0
write("tiled-packbits-bilevel.tif", mask, tile=tile, photometric="minisblack", compression="packbits")
write("strips-none-bilevel-miniswhite-be.tif", mask, rowsperstrip=8, photometric="miniswhite", byteorder=">")


def patch_value(name, source, tag_name, index, value):
    """A copy of seed `source` with value `index` of its first IFD's tag `tag_name` set to `value`."""
    data = bytearray((slide_dir / source).read_bytes())
    with tifffile.TiffFile(slide_dir / source) as tf:
        tag = tf.pages[0].tags[tag_name]
        fmt = tf.byteorder + {3: "H", 4: "I", 16: "Q"}[int(tag.dtype)]
    at = tag.valueoffset + index * struct.calcsize(fmt)
    data[at:at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    (slide_dir / name).write_bytes(bytes(data))


patch_value("mut-bilevel-short-strip", "strips-none-bilevel-miniswhite-be.tif", "StripByteCounts", 1, 3)
# SampleFormat 3 on a 1-bit image: written as tag 337 (tifffile writes no SampleFormat for it) and renamed.
write("mut-bilevel-sample-format-3", mask, tile=tile, photometric="minisblack", extratags=[(337, "H", 1, 3, False)])
with tifffile.TiffFile(slide_dir / "mut-bilevel-sample-format-3") as tf:
    entry, order = tf.pages[0].tags[337].offset, tf.byteorder
data = bytearray((slide_dir / "mut-bilevel-sample-format-3").read_bytes())
data[entry:entry + 2] = struct.pack(order + "H", 339)
(slide_dir / "mut-bilevel-sample-format-3").write_bytes(bytes(data))

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

# JPEG 2000: generic 34712 tiles, and an Aperio SVS of 33003 (YCbCr) tiles, pre-encoded.
write("tiled-jpeg2000.tif", rgb, tile=tile, photometric="rgb", compression="jpeg2000",
      compressionargs={"reversible": True})
with tifffile.TiffWriter(slide_dir / "aperio-j2k.svs") as tif:
    j2k_tiles = [imagecodecs.jpeg2k_encode(np.pad(rgb[y:y + 16, x:x + 16], ((0, 16 - rgb[y:y + 16].shape[0]), (0, 0), (0, 0))),
                                           codecformat="j2k", reversible=True, mct=False)
                 for y in range(0, 40, 16) for x in range(0, 48, 16)]
    tif.write(iter(j2k_tiles), shape=rgb.shape, dtype=np.uint8, tile=tile, photometric="rgb", compression=33003,
              description="Aperio Image Library v12\r\n48x40 [0,0 48x40] (16x16) J2K/YUV16 Q=70|AppMag = 20|MPP = 0.5")
    tif.write(rgb[::4, ::4], photometric="rgb", description="Aperio thumbnail 12x10")
assert (slide_dir / "aperio-j2k.svs").stat().st_size < 20_000
# Broken: tile 1's byte count halved (a truncated codestream), tile 2's offset moved by one byte.
broken = bytearray((slide_dir / "tiled-jpeg2000.tif").read_bytes())
with tifffile.TiffFile(slide_dir / "tiled-jpeg2000.tif") as tf:
    page = tf.pages[0]
    assert tf.byteorder == "<"
    for name, index, value in (("TileByteCounts", 1, page.databytecounts[1] // 2),
                               ("TileOffsets", 2, page.dataoffsets[2] + 1)):
        tag = page.tags[name]
        width = {3: 2, 4: 4}[int(tag.dtype)]  # SHORT or LONG values
        at = tag.valueoffset + index * width
        broken[at:at + width] = value.to_bytes(width, "little")
(slide_dir / "broken-jpeg2000-tiles.tif").write_bytes(bytes(broken))

# NDPI-like: the Hamamatsu FormatFlag and SourceLens tags.
ndpi_tags = [(65420, 4, 1, 1, True), (65421, 11, 1, 20.0, True)]
write("ndpi-like.ndpi", gray, tile=tile, extratags=ndpi_tags, resolution=(20000, 20000),
      resolutionunit="CENTIMETER")

# Decoder seeds: header [compression index, width-1, rows-1, flags, flags2, tables length (2 bytes)] + payload
# (see fuzz/fuzz_decoders.cpp). Compression indices follow `compressions` there.
NONE, LZW, JPEG, ADOBE_DEFLATE, PACKBITS, DEFLATE, ZSTD = 0, 4, 6, 7, 8, 9, 15
J2K_APERIO_YCBCR, J2K_APERIO_RGB, J2K, J2K_LOSSY = 10, 11, 12, 21
U8, U16, I8, I16 = 0, 4, 8, 12          # byte 3, bits 2-3
WINDOW, BIG_ENDIAN, YCBCR, INTO = 16, 32, 64, 128   # byte 3
PRED2 = 1                               # byte 4, bits 0-1
TABLES_MADE, TABLES_INPUT = 4, 8        # byte 4, bits 2-3
DTYPE_HIGH = 16                         # byte 4, bit 4: with U8, U16, I8, I16 above: float32, uint32, int32, float16
PRED3 = 2                               # byte 4, bits 0-1
BILEVEL, LSB_FIRST, MAX255 = 32, 64, 128  # byte 4, bits 5-7


def seed(name, index, width, rows, flags, payload, flags2=0, tables=b""):
    data = bytes([index, width - 1, rows - 1, flags, flags2]) + len(tables).to_bytes(2, "little") + tables + payload
    (decoder_dir / name).write_bytes(data)


def split_jpeg(stream):
    """(tables, abbreviated image): DQT/DHT segments moved into a SOI..EOI tables stream."""
    tables, image, i = bytearray(b"\xff\xd8"), bytearray(b"\xff\xd8"), 2
    while i < len(stream):
        marker = stream[i + 1]
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            image += stream[i:]
            break
        length = int.from_bytes(stream[i + 2:i + 4], "big")
        (tables if marker in (0xDB, 0xC4) else image).extend(stream[i:i + 2 + length])
        i += 2 + length
    return bytes(tables + b"\xff\xd9"), bytes(image)


t8 = gray[:16, :16].copy()
t_rgb = rgb[:16, :16].copy()
t16 = gray16[:16, :16].copy()
seed("none-rgb", NONE, 16, 16, 2, t_rgb.tobytes())
seed("none-u16-be", NONE, 16, 16, U16 | BIG_ENDIAN, t16.astype(">u2").tobytes())
seed("none-i16-into", NONE, 16, 16, I16 | INTO, t16.astype("<i2").tobytes())
seed("lzw-gray", LZW, 16, 16, 0, imagecodecs.lzw_encode(t8.tobytes()))
seed("lzw-u16-pred2", LZW, 16, 16, U16, imagecodecs.lzw_encode(imagecodecs.delta_encode(t16, axis=-1).tobytes()),
     flags2=PRED2)
seed("deflate-rgb-into", DEFLATE, 16, 16, 2 | INTO, imagecodecs.zlib_encode(t_rgb.tobytes()))
seed("adobe-deflate-pred2", ADOBE_DEFLATE, 16, 16, I8,
     imagecodecs.zlib_encode(imagecodecs.delta_encode(t8, axis=-1).tobytes()), flags2=PRED2)
seed("packbits-gray", PACKBITS, 16, 16, 0, imagecodecs.packbits_encode(t8.tobytes()))
seed("jpeg-gray", JPEG, 16, 16, 0, imagecodecs.jpeg8_encode(t8, level=80))
seed("jpeg-rgb", JPEG, 16, 16, 2, imagecodecs.jpeg8_encode(t_rgb, level=80, colorspace="rgb", outcolorspace="rgb"))
seed("jpeg-ycbcr-into", JPEG, 16, 16, 2 | YCBCR | INTO, imagecodecs.jpeg8_encode(t_rgb, level=80))
tables, abbreviated = split_jpeg(imagecodecs.jpeg8_encode(t_rgb, level=75))
seed("jpeg-ycbcr-tables", JPEG, 16, 16, 2 | YCBCR, abbreviated, flags2=TABLES_INPUT, tables=tables)
tables, abbreviated = split_jpeg(imagecodecs.jpeg8_encode(t8, level=75))
seed("jpeg-gray-tables-into", JPEG, 16, 16, INTO, abbreviated, flags2=TABLES_INPUT, tables=tables)
seed("jpeg2000-rgb", J2K, 16, 16, 2, imagecodecs.jpeg2k_encode(t_rgb, codecformat="j2k", reversible=True))
seed("jpeg2000-u16-into", J2K, 16, 16, U16 | INTO, imagecodecs.jpeg2k_encode(t16, codecformat="j2k", reversible=True))
seed("jpeg2000-jp2-gray", J2K, 16, 16, 0, imagecodecs.jpeg2k_encode(t8, codecformat="jp2", reversible=True))
seed("jpeg2000-aperio-ycbcr", J2K_APERIO_YCBCR, 16, 16, 2,
     imagecodecs.jpeg2k_encode(t_rgb, codecformat="j2k", reversible=True, mct=False))
seed("jpeg2000-aperio-rgb-into", J2K_APERIO_RGB, 16, 16, 2 | INTO, imagecodecs.jpeg2k_encode(t_rgb, codecformat="j2k"))
seed("jpeg2000-lossy", J2K_LOSSY, 16, 16, 2, imagecodecs.jpeg2k_encode(t_rgb, 30, codecformat="j2k"))
t32 = (t16.astype(np.uint32) * 65537 + 12345).astype(np.uint32)
seed("none-u32-be", NONE, 16, 16, U16 | BIG_ENDIAN, t32.astype(">u4").tobytes(), flags2=DTYPE_HIGH)
seed("lzw-i32-pred2", LZW, 16, 16, I8,
     imagecodecs.lzw_encode(imagecodecs.delta_encode(t32.astype("<i4"), axis=-1).tobytes()), flags2=DTYPE_HIGH | PRED2)
t_half = (t16.astype(np.float32) / 7 - 3000).astype(np.float16)
seed("zstd-f16-pred3", ZSTD, 16, 16, I16,
     imagecodecs.zstd_encode(imagecodecs.floatpred_encode(t_half[..., np.newaxis], axis=-2).tobytes()), flags2=DTYPE_HIGH | PRED3)
bits = t8 % 3 == 0
seed("packbits-bilevel", PACKBITS, 16, 16, 0, imagecodecs.packbits_encode(np.packbits(bits, axis=-1).tobytes()), flags2=BILEVEL)
seed("none-bilevel-lsb-255-into", NONE, 13, 16, INTO, np.packbits(bits[:, :13], axis=-1, bitorder="little").tobytes(),
     flags2=BILEVEL | LSB_FIRST | MAX255)
whole = imagecodecs.jpeg2k_encode(t_rgb, codecformat="j2k", reversible=True)
seed("jpeg2000-truncated", J2K, 16, 16, 2, whole[:len(whole) * 2 // 3])
seed("jpeg2000-window-into", J2K, 16, 16, 2 | INTO | WINDOW, whole)
seed("jpeg2000-aperio-window", J2K_APERIO_YCBCR, 16, 16, 2 | WINDOW,
     imagecodecs.jpeg2k_encode(t_rgb, codecformat="j2k", reversible=True, mct=False))
seed("jpeg-ycbcr-window", JPEG, 16, 16, 2 | YCBCR | WINDOW, imagecodecs.jpeg8_encode(t_rgb, level=80))


# ---- Cut-down real slides -------------------------------------------------------------------------
# The shared slides (../shared/testdata, 1-13 MB) are too large for seeds: a fuzzer mutates bytes
# uniformly, so almost every mutation would land in tile data. A cut-down file keeps what makes each
# slide worth fuzzing -- byte order, classic or BigTIFF, every tag of its first IFDs (vendor tags,
# descriptions, JPEGTables, predictor, photometric) -- but one chunk per image: the first tile or strip
# as stored when it is small, a JPEG cut after its first restart intervals (NDPI stores a level as one
# JPEG), or else a 16 x 16 crop re-encoded with the image's own compression and predictor. Images
# whose first chunk cannot be made small are left out. Each seed is a few KiB to 24 KiB.
import io
import struct
import sys

TESTDATA = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
MAX_CHUNK = 20_000


def parse_tiff(data):
    """(byte order, bigtiff, [IFD entries {tag: (type, count, value bytes)}]) of the main IFD chain."""
    bo = "<" if data[:2] == b"II" else ">"
    big = struct.unpack(bo + "H", data[2:4])[0] == 43
    offset = struct.unpack(bo + "Q", data[8:16])[0] if big else struct.unpack(bo + "I", data[4:8])[0]
    ifds = []
    while offset and len(ifds) < 64:
        if big:
            n = struct.unpack(bo + "Q", data[offset:offset + 8])[0]
            pos, entry_size, inline = offset + 8, 20, 8
        else:
            n = struct.unpack(bo + "H", data[offset:offset + 2])[0]
            pos, entry_size, inline = offset + 2, 12, 4
        entries = {}
        for i in range(n):
            e = data[pos + i * entry_size:pos + (i + 1) * entry_size]
            tag, typ = struct.unpack(bo + "HH", e[:4])
            count = struct.unpack(bo + ("Q" if big else "I"), e[4:4 + inline])[0]
            size = TYPE_SIZES.get(typ, 1) * count
            field = e[4 + inline:]
            if size <= inline:
                value = field[:size]
            else:
                at = struct.unpack(bo + ("Q" if big else "I"), field)[0]
                value = data[at:at + size]
            entries[tag] = (typ, count, value)
        ifds.append(entries)
        end = pos + n * entry_size
        offset = struct.unpack(bo + ("Q" if big else "I"), data[end:end + inline])[0]
    return bo, big, ifds


def uints(bo, entry):
    typ, count, value = entry
    fmt = {1: "B", 3: "H", 4: "I", 16: "Q", 13: "I", 18: "Q"}[typ]
    return list(struct.unpack(bo + fmt * count, value))


def cut_jpeg(stream, keep_rows):
    """A baseline JPEG with restart markers cut after its first `keep_rows` MCU rows; None if impossible."""
    i, height_at, mcu_h, width, interval = 2, None, 8, 0, 0
    while i + 4 <= len(stream) and stream[i] == 0xFF:
        marker = stream[i + 1]
        length = int.from_bytes(stream[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1):
            height_at = i + 5
            width = int.from_bytes(stream[i + 7:i + 9], "big")
            comps = stream[i + 9]
            mcu_w = 8 * max(stream[i + 11 + 3 * c] >> 4 for c in range(comps))
            mcu_h = 8 * max(stream[i + 11 + 3 * c] & 15 for c in range(comps))
        elif marker == 0xDD:
            interval = int.from_bytes(stream[i + 4:i + 6], "big")
        elif marker == 0xDA:
            break
        i += 2 + length
    if height_at is None or interval == 0:
        return None, 0
    mcus_per_row = -(-width // mcu_w)
    if (keep_rows * mcus_per_row) % interval:
        return None, 0
    wanted = keep_rows * mcus_per_row // interval  # restart markers to pass
    seen, j = 0, i
    while seen < wanted:
        j = stream.find(b"\xff", j + 1)
        if j < 0:
            return None, 0
        if 0xD0 <= stream[j + 1] <= 0xD7:
            seen += 1
    out = bytearray(stream[:j] + b"\xff\xd9")
    out[height_at:height_at + 2] = (keep_rows * mcu_h).to_bytes(2, "big")
    return bytes(out), keep_rows * mcu_h


def encode_crop(page, compression, predictor, bo):
    """A 16 x 16 crop of the page re-encoded as its own compression and predictor would store it."""
    crop = np.ascontiguousarray(page.asarray()[:16, :16])
    crop = crop.astype(crop.dtype.newbyteorder(bo))
    if predictor == 2:
        crop = imagecodecs.delta_encode(crop, axis=1)
    raw = crop.tobytes()
    if compression == 1:
        return raw
    if compression == 5:
        return imagecodecs.lzw_encode(raw)
    if compression in (8, 32946):
        return imagecodecs.zlib_encode(raw)
    if compression == 32773:
        return imagecodecs.packbits_encode(raw)
    return None


def write_tiff(bo, big, ifds):
    """A TIFF of these IFDs: entries sorted, values out of line after each IFD, chunks at the end.
    NDPI keeps the high 32 bits of its offsets apart (tifffile reads them): there the header offset and
    each next-IFD offset are followed by 4 zero bytes, and each IFD by 4 zero bytes per entry."""
    inline = 8 if big else 4
    ndpi = any(65420 in entries for entries, _ in ifds)
    offset_fmt = bo + ("Q" if big else "I")
    out = bytearray((b"II" if bo == "<" else b"MM") + struct.pack(bo + "H", 43 if big else 42))
    out += struct.pack(bo + "HHQ", 8, 0, 16) if big else struct.pack(bo + "I", 16 if ndpi else 8)
    if ndpi:
        out += bytes(8)
    for k, (entries, chunk) in enumerate(ifds):
        start = len(out)
        n = len(entries)
        table = (8 if big else 2) + n * (20 if big else 12) + inline + (4 + 4 * n if ndpi else 0)
        extra = bytearray()
        body = bytearray(struct.pack(bo + ("Q" if big else "H"), n))
        chunk_at = None
        for tag in sorted(entries):
            typ, count, value = entries[tag]
            body += struct.pack(bo + "HH", tag, typ) + struct.pack(offset_fmt, count)
            if tag in (273, 324):  # Strip/TileOffsets: patched below
                chunk_at = start + len(body)
            if len(value) <= inline:
                body += value.ljust(inline, b"\0")
            else:
                body += struct.pack(offset_fmt, start + table + len(extra))
                extra += value + (b"\0" if len(value) % 2 else b"")
        data_at = start + table + len(extra)
        chunk = chunk + (b"\0" if len(chunk) % 2 else b"")  # the next IFD on a word boundary
        body += struct.pack(offset_fmt, data_at + len(chunk) if k + 1 < len(ifds) else 0)
        body += bytes(4 + 4 * n if ndpi else 0)
        out += body + extra + chunk
        out[chunk_at:chunk_at + inline] = struct.pack(offset_fmt, data_at)
    return bytes(out)


def cut_down(data, max_ifds=6):
    bo, big, ifds = parse_tiff(data)
    long_type = 16 if big else 4
    pack_one = lambda typ, v: struct.pack(bo + {3: "H", 4: "I", 16: "Q"}[typ], v)
    kept = []
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        for number, entries in enumerate(ifds[:max_ifds]):
            tiled = 322 in entries
            offsets_tag, counts_tag = (324, 325) if tiled else (273, 279)
            if offsets_tag not in entries or 330 in entries:
                continue
            width, height = uints(bo, entries[256])[0], uints(bo, entries[257])[0]
            off, cnt = uints(bo, entries[offsets_tag])[0], uints(bo, entries[counts_tag])[0]
            chunk = data[off:off + cnt]
            compression = uints(bo, entries[259])[0] if 259 in entries else 1
            predictor = uints(bo, entries[317])[0] if 317 in entries else 1
            if tiled:
                cw, ch = uints(bo, entries[322])[0], uints(bo, entries[323])[0]
            else:
                cw = width
                ch = min(height, uints(bo, entries[278])[0] if 278 in entries else height)
            if len(chunk) > MAX_CHUNK and compression == 7 and not tiled:
                chunk, ch = cut_jpeg(chunk, 2)
                if chunk is not None and 65426 in entries:  # NDPI McuStarts: the intervals kept
                    kept_intervals = 1 + sum(chunk[j] == 0xFF and 0xD0 <= chunk[j + 1] <= 0xD7
                                             for j in range(len(chunk) - 1))
                    starts = uints(bo, entries[65426])[:kept_intervals]
                    entries = dict(entries)
                    entries[65426] = (4, len(starts), struct.pack(bo + "I" * len(starts), *starts))
            elif len(chunk) > MAX_CHUNK:
                chunk = encode_crop(tif.pages[number], compression, predictor, bo)
                cw = ch = 16
                width, height = 16, 16
            if chunk is None or len(chunk) > MAX_CHUNK:
                continue
            entries = dict(entries)
            new_w, new_h = min(width, cw), min(height, ch)
            for tag, value in ((256, new_w), (257, new_h)):
                typ = entries[tag][0]
                entries[tag] = (typ, 1, pack_one(typ, value))
            if tiled:
                entries[322] = (3, 1, pack_one(3, cw))
                entries[323] = (3, 1, pack_one(3, ch))
            elif 278 in entries:
                entries[278] = (entries[278][0], 1, pack_one(entries[278][0], ch))
            entries[offsets_tag] = (long_type, 1, pack_one(long_type, 0))
            entries[counts_tag] = (long_type, 1, pack_one(long_type, len(chunk)))
            kept.append((entries, chunk))
    return write_tiff(bo, big, kept)


CUT_DOWN = {  # shared slide -> IFDs kept
    "aperio/CMU-1-Small-Region.svs": 6, "hamamatsu/test3-DAPI-2-387.ndpi": 6, "ome/4D-series.ome.tiff": 2,
    "derived/cmu1-bigendian-zip-pred-128.tif": 1, "derived/cmu1-crop-strips-lzw.tif": 1,
    "derived/cmu1-crop-tiled-raw.tif": 1, "derived/cmu1-pyramid-deflate-pred.tif": 2,
    "derived/cmu1-pyramid-jpeg-bigtiff.tif": 3, "derived/cmu1-pyramid-lzw.tif": 2,
}


def mutation_seeds():
    """The rows of tests/data/mutations.tsv applied to their slides, then cut down. A row whose
    mutation does not survive the cut in place gives no seed: it was in tile data, the IFD chain
    (which the cut rebuilds) or past the first IFD (the only one kept, so that these seeds stay a few
    KiB each), it made the cut drop the IFD, or the result cannot be cut down."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "python"))
    from mutation_table import apply_edits, load_table  # noqa: E402 (the table's own reader)

    plain, written = {}, set()
    for row in load_table():
        if row.base not in CUT_DOWN:
            continue
        base = (TESTDATA / row.base).read_bytes()
        if row.base not in plain:
            plain[row.base] = cut_down(base, 1)
        try:
            out = cut_down(bytes(apply_edits(bytearray(base), row.edits)), 1)
            same_ifds = len(parse_tiff(out)[2]) == len(parse_tiff(plain[row.base])[2])
        except Exception:  # noqa: BLE001 (a hostile file may break the cutter in any way)
            continue
        if out != plain[row.base] and same_ifds and out not in written:
            written.add(out)
            (slide_dir / f"mut-{row.name}").write_bytes(out)
            print(f"mut-{row.name}: {len(out)} bytes")


def ndpi_high_bit_seeds():
    """The cut-down NDPI with one entry's high offset bits set (the 4 bytes an entry after each IFD's
    8-byte next offset; the cut writes them 0): a strip offset and byte count made 64-bit, an
    out-of-line value's offset, a SHORT that cannot take them, the next-IFD offset's high half."""
    data = cut_down((TESTDATA / "hamamatsu/test3-DAPI-2-387.ndpi").read_bytes(), 2)
    first = struct.unpack("<I", data[4:8])[0]
    n = struct.unpack("<H", data[first:first + 2])[0]
    next_at = first + 2 + 12 * n
    tags = [struct.unpack("<H", data[first + 2 + 12 * i:first + 4 + 12 * i])[0] for i in range(n)]
    high_at = {tag: next_at + 8 + 4 * i for i, tag in enumerate(tags)}
    variants = {
        "ndpi-high-bits-strip-offset": (high_at[273], 1),
        "ndpi-high-bits-strip-byte-count": (high_at[279], 1),
        "ndpi-high-bits-out-of-line": (high_at[258], 1),
        "ndpi-high-bits-on-short": (high_at[259], 1),
        "ndpi-high-bits-next-ifd": (next_at + 4, 1),
    }
    for name, (at, high) in variants.items():
        out = bytearray(data)
        out[at:at + 4] = struct.pack("<I", high)
        (slide_dir / name).write_bytes(bytes(out))
        print(f"{name}: {len(out)} bytes")


def ndpi_mcu_starts_seeds():
    """The cut-down NDPI (level 0: two restart intervals of 3968 x 8, McuStarts [660, 2752]) with its
    McuStarts broken: out of order, past the strip, one entry short; and without the tag (the strip is
    scanned for restart markers)."""
    data = cut_down((TESTDATA / "hamamatsu/test3-DAPI-2-387.ndpi").read_bytes(), 2)
    first = struct.unpack("<I", data[4:8])[0]
    n = struct.unpack("<H", data[first:first + 2])[0]
    entries = {struct.unpack("<H", data[first + 2 + 12 * i:first + 4 + 12 * i])[0]: first + 2 + 12 * i
               for i in range(n)}
    at = entries[65426]
    values_at = struct.unpack("<I", data[at + 8:at + 12])[0]
    variants = {
        "ndpi-mcu-starts-out-of-order": (values_at + 4, struct.pack("<I", 10)),
        "ndpi-mcu-starts-past-the-strip": (values_at + 4, struct.pack("<I", 0x7FFFFF00)),
        "ndpi-mcu-starts-count": (at + 4, struct.pack("<I", 1)),
        "ndpi-no-mcu-starts": (at, struct.pack("<H", 65000)),  # renumbered: no McuStarts
    }
    for name, (where, patch) in variants.items():
        out = bytearray(data)
        out[where:where + len(patch)] = patch
        (slide_dir / name).write_bytes(bytes(out))
        print(f"{name}: {len(out)} bytes")


def dicom_seed(name, image, frames, syntax=ExplicitVRLittleEndian, photometric=None, positions=None,
               table=None, planar=0, number_of_frames=None):
    """A VL Whole Slide Microscopy file of `image` (rows x columns [x samples]) in 16 x 16 `frames`:
    native bytes, or encapsulated ones (table: None for an empty Basic Offset Table, "basic" or
    "extended"); positions: TILED_SPARSE frames' 1-based (column, row). pydicom writes every
    sequence and item with an undefined length. Each seed is a series of its own, so that opening one
    of them from this folder (tilestream info) opens that file alone."""
    samples = 1 if image.ndim == 2 else image.shape[2]
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = VLWholeSlideMicroscopyImageStorage
    series = f"1.2.826.0.1.3680043.10.1234.{zlib.crc32(name.encode())}"
    meta.MediaStorageSOPInstanceUID = series + ".1"
    meta.TransferSyntaxUID = syntax
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = series
    ds.Modality = "SM"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    ds.InstanceNumber = 1
    ds.DimensionOrganizationType = "TILED_SPARSE" if positions else "TILED_FULL"
    ds.Rows = ds.Columns = 16
    ds.TotalPixelMatrixRows, ds.TotalPixelMatrixColumns = image.shape[:2]
    ds.NumberOfFrames = len(frames) if number_of_frames is None else number_of_frames
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric or ("RGB" if samples == 3 else "MONOCHROME2")
    if samples > 1:
        ds.PlanarConfiguration = planar
    ds.BitsAllocated = ds.BitsStored = image.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    measures = pydicom.Dataset()
    measures.PixelSpacing = [0.0005, 0.0005]
    measures.SliceThickness = 0.001
    shared = pydicom.Dataset()
    shared.PixelMeasuresSequence = [measures]
    ds.SharedFunctionalGroupsSequence = [shared]
    if positions:
        groups = []
        for column, row in positions:
            plane = pydicom.Dataset()
            plane.ColumnPositionInTotalImagePixelMatrix = column
            plane.RowPositionInTotalImagePixelMatrix = row
            plane.ZOffsetInSlideCoordinateSystem = 0
            group = pydicom.Dataset()
            group.PlanePositionSlideSequence = [plane]
            groups.append(group)
        ds.PerFrameFunctionalGroupsSequence = groups
    if syntax in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        ds.PixelData = b"".join(frames)
    elif table == "extended":
        ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(frames)
    else:
        ds.PixelData = encapsulate(frames, has_bot=table == "basic")
    path = slide_dir / name
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size < 20_000, name
    return path


def tiles_of(image, order=None):
    """The 16 x 16 frames of `image`, zero-padded at its edges, row by row (or at `order`'s (column, row))."""
    rows, columns = -(-image.shape[0] // 16), -(-image.shape[1] // 16)
    padded = np.zeros((rows * 16, columns * 16) + image.shape[2:], image.dtype)
    padded[:image.shape[0], :image.shape[1]] = image
    order = order or [(c, r) for r in range(rows) for c in range(columns)]
    return [np.ascontiguousarray(padded[r * 16:(r + 1) * 16, c * 16:(c + 1) * 16]) for c, r in order]


def dicom_seeds():
    """Tiny DICOM whole slide images, one per kind the reader handles, and broken ones."""
    native = [t.tobytes() for t in tiles_of(rgb)]
    dicom_seed("dicom-native-rgb.dcm", rgb, native)
    dicom_seed("dicom-native-gray16.dcm", gray16, [t.tobytes() for t in tiles_of(gray16)])
    dicom_seed("dicom-native-planar.dcm", rgb[:20, :24], [t.transpose(2, 0, 1).tobytes() for t in tiles_of(rgb[:20, :24])],
               planar=1)
    dicom_seed("dicom-implicit-vr.dcm", rgb[:20, :24], [t.tobytes() for t in tiles_of(rgb[:20, :24])],
               syntax=ImplicitVRLittleEndian)
    jpeg = [imagecodecs.jpeg8_encode(t, level=80, subsampling="422") for t in tiles_of(rgb)]
    dicom_seed("dicom-jpeg-baseline.dcm", rgb, jpeg, syntax=JPEGBaseline8Bit, photometric="YBR_FULL_422",
               table="basic")
    dicom_seed("dicom-jpeg-extended-offsets.dcm", rgb, jpeg, syntax=JPEGBaseline8Bit, photometric="YBR_FULL_422",
               table="extended")
    j2k = [imagecodecs.jpeg2k_encode(t, codecformat="j2k", reversible=True, mct=False) for t in tiles_of(rgb)]
    dicom_seed("dicom-jpeg2000.dcm", rgb, j2k, syntax=JPEG2000Lossless)
    # TILED_SPARSE: frames shuffled, tile (1, 1) left out (read as zeros).
    order = [(2, 1), (0, 0), (2, 2), (1, 0), (0, 2), (2, 0), (0, 1), (1, 2)]
    dicom_seed("dicom-sparse.dcm", rgb, [t.tobytes() for t in tiles_of(rgb, order)],
               positions=[(c * 16 + 1, r * 16 + 1) for c, r in order])
    # Broken: native Pixel Data a frame short; an empty Basic Offset Table's item given a length of 4
    # (it takes the first fragment's item tag, the fragments' walk starts out of step); a sparse frame
    # off the tile grid.
    dicom_seed("dicom-broken-missing-frame.dcm", rgb, native[:-1], number_of_frames=len(native))
    broken = bytearray(dicom_seed("dicom-broken-offset-table.dcm", rgb, jpeg, syntax=JPEGBaseline8Bit,
                                  photometric="YBR_FULL_422").read_bytes())
    item = broken.index(b"\xfe\xff\x00\xe0\x00\x00\x00\x00", broken.index(b"\xe0\x7f\x10\x00"))
    broken[item:item + 8] = b"\xfe\xff\x00\xe0\x04\x00\x00\x00"
    (slide_dir / "dicom-broken-offset-table.dcm").write_bytes(bytes(broken))
    dicom_seed("dicom-broken-sparse-off-grid.dcm", rgb, native[:2], positions=[(1, 1), (9, 1)])
    for path in sorted(slide_dir.glob("dicom-*.dcm")):
        print(f"{path.name}: {path.stat().st_size} bytes")


dicom_seeds()

if TESTDATA.is_dir():
    ndpi_high_bit_seeds()
    ndpi_mcu_starts_seeds()
    for relative, max_ifds in CUT_DOWN.items():
        out = cut_down((TESTDATA / relative).read_bytes(), max_ifds)
        name = "cut-" + pathlib.Path(relative).name
        (slide_dir / name).write_bytes(out)
        print(f"{name}: {len(out)} bytes from {relative}")
    mutation_seeds()
else:
    print(f"{TESTDATA} not found: the cut-down slide seeds are not rewritten")
