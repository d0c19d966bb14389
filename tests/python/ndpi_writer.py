# NDPI-like slides written by hand for the tests, in Hamamatsu's layout as OpenSlide 4.0.1 and tifffile
# read it: classic little-endian TIFF whose first- and next-IFD offsets are 8 bytes, each IFD followed
# (after its next offset) by 4 bytes per entry holding the high 32 bits of that entry's value field,
# ASCII values always out of line. Levels (SourceLens > 0, ZOffset 0) are one JPEG strip each with a
# restart marker every MCU row, as NDPI stores them; the macro (SourceLens -1) is a JPEG strip, the map
# (-2) an uncompressed grey strip. `data_at` places every strip and IFD from that offset on, after a
# hole (sparse where the file system has them): past 4 GiB the offsets need their high bits.
import io
import os
import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

ASCII, SHORT, LONG, RATIONAL, SLONG, FLOAT = 2, 3, 4, 5, 9, 11
FOUR_GIB = 1 << 32


@dataclass
class NdpiImage:
    pixels: np.ndarray            # (h, w, 3) uint8 for JPEG images, (h, w) uint8 for the map
    lens: float                   # SourceLens: > 0 a level, -1 the macro, -2 the map
    z: int = 0                    # ZOffset (focal plane) of a level
    stored: bytes = b''           # the strip as written (filled in by write_ndpi)
    strip_offset: int = 0         # where it was written
    ifd_offset: int = 0
    high_bits_at: dict = field(default_factory=dict)  # tag -> file offset of its 4 high-bit bytes


def jpeg_strip(pixels: np.ndarray, quality: int = 90) -> bytes:
    """Baseline JPEG, YCbCr 4:4:4, a restart marker after every MCU row (as NDPI levels)."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, 'JPEG', quality=quality, subsampling=0, restart_marker_rows=1)
    return out.getvalue()


def _entries(image: NdpiImage, strip_offset: int, strip_bytes: int, properties: str) -> list:
    h, w = image.pixels.shape[:2]
    grey = image.pixels.ndim == 2
    spp = 1 if grey else 3
    entries = [
        (256, LONG, [w]), (257, LONG, [h]), (258, SHORT, [8] * spp), (259, SHORT, [1 if grey else 7]),
        (262, SHORT, [1 if grey else 6]), (271, ASCII, b'Hamamatsu\0'), (272, ASCII, b'C9600-12\0'),
        (273, LONG, [strip_offset]), (277, SHORT, [spp]), (278, LONG, [h]), (279, LONG, [strip_bytes]),
        (282, RATIONAL, [43826, 1]), (283, RATIONAL, [43826, 1]), (296, SHORT, [3]),
        (305, ASCII, b'NDP.scan 2.5.89\0'), (65420, SHORT, [1]), (65421, FLOAT, [image.lens]),
        (65422, SLONG, [12538720]), (65423, SLONG, [-96063]),
    ]
    if not grey:
        entries.append((530, SHORT, [1, 1]))
    if image.lens > 0:
        entries.append((65424, SLONG, [image.z]))
    entries += [(65427, ASCII, b'A1\0'), (65449, ASCII, properties.encode() + b'\0')]
    return sorted(entries)


UNIT = {SHORT: 2, LONG: 4, RATIONAL: 4, SLONG: 4, FLOAT: 4}  # RATIONALs are given as (num, den) values


def _pack(typ: int, values) -> bytes:
    if typ == ASCII:
        return values
    fmt = {SHORT: 'H', LONG: 'I', RATIONAL: 'I', SLONG: 'i', FLOAT: 'f'}[typ]
    return b''.join(struct.pack('<' + fmt, v) for v in values)


def _out_of_line(typ: int, values) -> bool:
    return typ == ASCII or len(values) * UNIT[typ] > 4


def write_ndpi(path, images: list[NdpiImage], data_at: int = 16,
               properties: str = 'Created=2011/05/23\r\nProduct=C9600-12\r\nObjective.Lens.Magnificant=20') -> None:
    """Writes `images` (IFDs in this order) with their strips from `data_at` on, then the IFDs, each IFD
    followed by its out-of-line values. Fills in each image's stored bytes and offsets."""
    assert data_at >= 16
    for image in images:
        image.stored = image.pixels.tobytes() if image.pixels.ndim == 2 else jpeg_strip(image.pixels)
    pos = data_at
    for image in images:
        image.strip_offset = pos
        pos += len(image.stored) + len(image.stored) % 2
    chunks = []  # (offset, bytes)
    layouts = []
    for image in images:
        entries = _entries(image, image.strip_offset, len(image.stored), properties)
        n = len(entries)
        image.ifd_offset = pos
        values_at = pos + 2 + 12 * n + 8 + 4 * n
        layouts.append((image, entries, values_at))
        for _, typ, values in entries:
            if _out_of_line(typ, values):
                raw = _pack(typ, values)
                values_at += len(raw) + len(raw) % 2
        pos = values_at
    for k, (image, entries, values_at) in enumerate(layouts):
        table, highs, extra = bytearray(struct.pack('<H', len(entries))), bytearray(), bytearray()
        for i, (tag, typ, values) in enumerate(entries):
            count = len(values) // 2 if typ == RATIONAL else len(values)
            if _out_of_line(typ, values):
                raw = _pack(typ, values)
                field_value = values_at + len(extra)           # the offset, with its high bits
                extra += raw + b'\0' * (len(raw) % 2)
            elif typ in (LONG, SLONG):
                field_value = values[0] if typ == LONG else values[0] & 0xffffffff
            else:
                field_value = int.from_bytes(_pack(typ, values).ljust(4, b'\0'), 'little')
            table += struct.pack('<HHI', tag, typ, count) + struct.pack('<I', field_value & 0xffffffff)
            image.high_bits_at[tag] = image.ifd_offset + 2 + 12 * len(entries) + 8 + 4 * i
            highs += struct.pack('<I', field_value >> 32)
        next_ifd = layouts[k + 1][0].ifd_offset if k + 1 < len(layouts) else 0
        chunks.append((image.ifd_offset, bytes(table) + struct.pack('<Q', next_ifd) + bytes(highs) + bytes(extra)))
    header = b'II' + struct.pack('<HQ', 42, images[0].ifd_offset) + b'\0' * 4
    with open(path, 'wb') as f:
        f.write(header)
        for image in images:
            f.seek(image.strip_offset)
            f.write(image.stored)
        for offset, data in chunks:
            f.seek(offset)
            f.write(data)


def sparse_files_work(folder) -> str | None:
    """None where `folder` keeps a file with a 4 GiB hole sparse; else why not."""
    probe = os.path.join(folder, 'sparse-probe')
    try:
        with open(probe, 'wb') as f:
            f.seek(FOUR_GIB + 4096)
            f.write(b'x')
        used = os.stat(probe).st_blocks * 512
    except OSError as e:
        return f'cannot write a file past 4 GiB in {folder}: {e}'
    finally:
        if os.path.exists(probe):
            os.remove(probe)
    return None if used < (1 << 24) else f'{folder} does not keep holes sparse ({used} bytes used for one byte)'


def patch(path, offset: int, data: bytes) -> None:
    with open(path, 'r+b') as f:
        f.seek(offset)
        f.write(data)
