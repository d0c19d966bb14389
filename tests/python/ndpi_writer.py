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


def texture(height, width, seed):
    """Gradients with some noise, (h, w, 3) uint8: JPEG keeps them close, and a misplaced tile or
    restart interval shows."""
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    planes = [(x * 255 // width + rng.integers(0, 12, x.shape)) % 256,
              (y * 255 // height + rng.integers(0, 12, x.shape)) % 256,
              ((x + y) * 2 + 40) % 256]
    return np.stack(planes, axis=-1).astype(np.uint8)


@dataclass
class NdpiImage:
    pixels: np.ndarray            # (h, w, 3) uint8 for JPEG images, (h, w) uint8 for the map
    lens: float                   # SourceLens: > 0 a level, -1 the macro, -2 the map
    z: int = 0                    # ZOffset (focal plane) of a level
    # A level's restart interval in pixels (a multiple of the MCU width dividing the MCU row): its strip is
    # then built by jpeg_intervals, and may be wider than JPEG's 65,535 pixels. 0: PIL's strip, a restart
    # marker every MCU row.
    interval: int = 0
    subsampling: int = 0          # PIL's: 0 is 4:4:4 (MCU 8 x 8), 2 is 4:2:0 (MCU 16 x 16)
    restart_markers: bool = True  # False: PIL's strip without restart markers (read whole)
    mcu_starts: str = ''          # '': no McuStarts tag; 'low': McuStarts (65426); 'high': McuStartsHighBytes too
    starts: list = field(default_factory=list)  # the intervals' starts in the strip (filled in by write_ndpi)
    stored: bytes = b''           # the strip as written (filled in by write_ndpi)
    strip_offset: int = 0         # where it was written
    ifd_offset: int = 0
    high_bits_at: dict = field(default_factory=dict)  # tag -> file offset of its 4 high-bit bytes


def jpeg_strip(pixels: np.ndarray, quality: int = 90, subsampling: int = 0, restart_markers: bool = True) -> bytes:
    """Baseline JPEG, YCbCr 4:4:4 (or PIL's `subsampling`), a restart marker after every MCU row (as NDPI
    levels) unless told otherwise."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, 'JPEG', quality=quality, subsampling=subsampling,
                                 restart_marker_rows=1 if restart_markers else 0)
    return out.getvalue()


def restart_starts(jpeg: bytes) -> list:
    """Where each restart interval of a JPEG stream starts: after its scan header, then after each RSTn."""
    starts = [_segments(jpeg)[-1][2]]
    i = starts[0]
    while (i := jpeg.find(b'\xff', i)) != -1 and i + 1 < len(jpeg):
        if 0xD0 <= jpeg[i + 1] <= 0xD7:
            starts.append(i + 2)
        i += 1 if jpeg[i + 1] == 0xFF else 2
    return starts


def _segments(jpeg: bytes):
    """(marker, start, end) of each segment of a JPEG stream up to and with SOS."""
    i, out = 2, []
    while True:
        assert jpeg[i] == 0xFF, f'no marker at byte {i}'
        marker, length = jpeg[i + 1], struct.unpack('>H', jpeg[i + 2:i + 4])[0]
        out.append((marker, i, i + 2 + length))
        i += 2 + length
        if marker == 0xDA:
            return out


def jpeg_intervals(pixels: np.ndarray, interval: int, subsampling: int = 0, quality: int = 90):
    """The JPEG strip of `pixels` with a restart marker every `interval` pixels of an MCU row, as NDPI
    writes large levels, and the intervals' starts in it (McuStarts). Each interval is encoded on its own
    by PIL (a JPEG of one interval, edge pixels repeated into its padding) and the scans are joined with
    RST0-7 markers after the first one's header, whose frame is made the whole image's (0 for a side
    above 65,535, which JPEG cannot state) and given a DRI segment: the stream an encoder with restart
    markers writes, since each interval's DC prediction starts from 0 either way."""
    h, w = pixels.shape[:2]
    mcu = 8 if subsampling == 0 else 16
    assert interval % mcu == 0 and (-(-w // mcu)) % (interval // mcu) == 0, (w, interval)
    down, across = -(-h // mcu), -(-w // interval)
    padded = np.pad(pixels, ((0, down * mcu - h), (0, across * interval - w), (0, 0)), mode='edge')
    header, scans = None, []
    for ty in range(down):
        for tx in range(across):
            out = io.BytesIO()
            piece = padded[ty * mcu:(ty + 1) * mcu, tx * interval:(tx + 1) * interval]
            Image.fromarray(np.ascontiguousarray(piece)).save(out, 'JPEG', quality=quality, subsampling=subsampling)
            data = out.getvalue()
            end = _segments(data)[-1][2]
            assert header is None or data[:end] == header, 'PIL wrote different tables for two intervals'
            header = data[:end]
            assert data[-2:] == b'\xff\xd9'
            scans.append(data[end:-2])
    segments = _segments(header)
    sof = next(start for marker, start, _ in segments if marker in (0xC0, 0xC1))
    head = bytearray(header)
    head[sof + 5:sof + 9] = struct.pack('>HH', h if h <= 0xFFFF else 0, w if w <= 0xFFFF else 0)
    sos = segments[-1][1]
    head[sos:sos] = b'\xff\xdd' + struct.pack('>HH', 4, interval // mcu)
    strip, starts = bytearray(head), []
    for k, scan in enumerate(scans):
        starts.append(len(strip))
        strip += scan + (bytes([0xFF, 0xD0 + k % 8]) if k + 1 < len(scans) else b'\xff\xd9')
    return bytes(strip), starts


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
    if image.mcu_starts:
        entries.append((65426, LONG, [v & 0xffffffff for v in image.starts]))
    if image.mcu_starts == 'high':
        entries.append((65432, LONG, [v >> 32 for v in image.starts]))
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
        if image.interval:
            image.stored, image.starts = jpeg_intervals(image.pixels, image.interval, image.subsampling)
        elif image.pixels.ndim == 2:
            image.stored = image.pixels.tobytes()
        else:
            image.stored = jpeg_strip(image.pixels, subsampling=image.subsampling,
                                      restart_markers=image.restart_markers)
            image.starts = restart_starts(image.stored)
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
