# Thin wrapper around the tilestream command line and the reference decoders (tifffile, OpenSlide) that
# the Python tests compare it with. Every image is handled as (height, width, samples).
import json
import os
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    def __init__(self, binary: Path):
        self.binary = binary

    def run(self, *args, timeout: float = 120, env: dict | None = None) -> Result:
        """`env`: variables set for this run on top of the test's environment."""
        proc = subprocess.run([str(self.binary), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **env} if env else None)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def check(self, *args) -> Result:
        result = self.run(*args)
        assert result.returncode == 0, f'tilestream {" ".join(map(str, args))} failed ({result.returncode}): {result.stderr}'
        return result

    def info(self, path) -> dict:
        return json.loads(self.check('info', path, '--json').stdout)

    def read(self, path, *options, suffix: str = '.npy') -> np.ndarray:
        """Runs `tilestream read PATH OPTIONS -o TMP.npy` and returns the decoded array."""
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f'out{suffix}'
            self.check('read', path, *options, '-o', out)
            if suffix == '.npy':
                return np.load(out)
            return out.read_bytes()

    def read_level(self, path, level: int, region=None, threads=None) -> np.ndarray:
        options = ['--level', level]
        if region is not None:
            options += ['--region', ','.join(map(str, region))]
        if threads is not None:
            options += ['--threads', threads]
        return self.read(path, *options)


def content(height, width, samples, dtype, seed=0):
    """Smooth gradients plus noise over the type's whole range, so that JPEG has structure to keep and
    edges to lose: floats of both signs and many exponents (float16's within its range), bool a mask."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for s in range(samples):
        wave = np.sin((x + 7 * s) / (17 + 5 * s)) * np.cos((y - 3 * s) / (23 + 4 * s))
        planes.append(0.5 + 0.3 * wave + 0.15 * (x / width) - 0.1 * (y / height) + rng.normal(0, 0.02, (height, width)))
    unit = np.clip(np.stack(planes, axis=-1), 0, 1)
    if np.dtype(dtype).kind == 'f':
        scale, octaves = (1000.0, 20) if np.dtype(dtype).itemsize >= 4 else (100.0, 16)
        values = (unit - 0.3) * scale * np.exp2(np.round(unit * octaves - octaves / 2))
        return np.clip(values, np.finfo(dtype).min, np.finfo(dtype).max).astype(dtype)
    if dtype == 'bool':
        return unit > 0.5
    info = np.iinfo(dtype)
    return np.round(info.min + unit * (float(info.max) - info.min)).astype(dtype)


def as_hws(array: np.ndarray, planar_separate: bool = False) -> np.ndarray:
    """Reference arrays in tilestream's (height, width, samples) layout."""
    if array.ndim == 2:
        return array[..., np.newaxis]
    if planar_separate:
        return np.moveaxis(array, 0, -1)
    return array


def reference_at(path, ifd_offset: int) -> np.ndarray:
    """tifffile's decoding of the IFD at `ifd_offset`, as (height, width, samples)."""
    with tifffile.TiffFile(path) as tf:
        tf.filehandle.seek(ifd_offset)
        page = tifffile.TiffPage(tf, index=0)
        return as_hws(page.asarray(), planar_separate=page.planarconfig == 2 and page.samplesperpixel > 1)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max(initial=0))


def assert_pixels(got: np.ndarray, want: np.ndarray, tolerance: int, what: str) -> None:
    assert got.shape == want.shape, f'{what}: shape {got.shape}, want {want.shape}'
    assert got.dtype == want.dtype, f'{what}: dtype {got.dtype}, want {want.dtype}'
    if tolerance == 0:
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)
            y, x, s = bad[0]
            raise AssertionError(f'{what}: {len(bad)} samples differ, first at y={y} x={x} s={s}: '
                                 f'got {got[y, x, s]}, want {want[y, x, s]}')
    else:
        diff = max_abs_diff(got, want)
        assert diff <= tolerance, f'{what}: max |diff| {diff} > {tolerance}'


def patch_compression(path, code):
    """Rewrites the Compression tag of the first IFD in place (the value sits in the entry)."""
    with tifffile.TiffFile(path) as tf:
        tag = tf.pages[0].tags['Compression']
        order = tf.byteorder
    data = bytearray(path.read_bytes())
    data[tag.valueoffset:tag.valueoffset + 2] = struct.pack(order + 'H', code)
    path.write_bytes(bytes(data))
    return path


def tolerance_for(compression_name: str) -> int:
    return 2 if 'JPEG' in compression_name.upper() else 0


def mean_2x2(image: np.ndarray) -> np.ndarray:
    """downsample2x of (c, y, x): the mean of each 2x2 block (partial ones at odd edges) in float64, rounded
    half up for integer samples, to float32 for float32 ones, as the op computes it."""
    c, h, w = image.shape
    padded = np.zeros((c, h + h % 2, w + w % 2), np.float64)
    count = np.zeros((h + h % 2, w + w % 2), np.float64)
    padded[:, :h, :w] = image
    count[:h, :w] = 1
    sums = padded.reshape(c, -1, 2, padded.shape[2] // 2, 2).sum(axis=(2, 4))
    counts = count.reshape(-1, 2, count.shape[1] // 2, 2).sum(axis=(1, 3))
    mean = sums / counts
    if np.issubdtype(image.dtype, np.integer):
        return np.floor(mean + 0.5).astype(image.dtype)
    return mean.astype(image.dtype)


def open_openslide(path):
    """openslide-python's slide, or a skip saying why OpenSlide does not open the file (or is absent)."""
    openslide = pytest.importorskip('openslide')
    try:
        return openslide.OpenSlide(str(path))
    except openslide.OpenSlideError as e:
        pytest.skip(f'OpenSlide does not open {path.name}: {e}')
