# `tilestream process` against scikit-image: each op (and three chains) runs through the CLI on a
# synthetic RGB slide and on shared real slides where present; the Zarr array it writes is read back
# with zarr-python and compared with scikit-image applied to tifffile's pixels of the same level.
# Tiled output must equal global output bit for bit, with chunks of 256 and 300 (both leave partial
# edge chunks on these images).
#
# Tolerances (what ops/op.hpp promises, and what was measured):
# - sobel, gaussian (uint8), median, grayscale, downsample2x and the chains built on them: exact,
#   bit for bit (float32 results equal skimage's float64 result rounded to float32, or skimage's own
#   float32 result for float32 input). Measured: 0 samples differ.
# - hed: exact too on these uint8 slides (max |diff| 0), although numpy's log is not std::log (on
#   AVX-512 machines they differ in the last bit of 0.35% of doubles) and `@` runs through BLAS: a
#   difference of 1 ulp in float64 rarely survives the rounding to float32. Measured beyond these
#   slides: all 2^24 uint8 RGB triples and 10^6 random uint16 pixels gave 0 differing samples (skimage's
#   float64 result is within 6e-8 of ours); float32 input, whose log numpy takes in float32 (up to
#   4 ulp off), differs by up to 1.2e-7 (not run here: the slides are uint8).
# - absorbance: within 1 float32 ulp of cucim's float32 formula -log(clip(I, 1, 255) / 255)
#   (relative 3e-7; measured at most 2.7e-7), and exact against the correctly rounded value op.hpp
#   defines. Chains after absorbance are compared exactly with skimage fed that same table.
import json

import numpy as np
import pytest
import zarr
from skimage import color, filters, util

from conftest import TESTDATA
from tilestream_cli import reference_at

WIDTH, HEIGHT = 1000, 700  # 1000 % 256 and 700 % 300 leave partial edge chunks
CHUNKS = (256, 300)

# name -> path under the shared test data and the level to process
REAL = {
    'cmu1-crop-raw': ('derived/cmu1-crop-tiled-raw.tif', 0),  # 1000 x 1200, uncompressed tiles
    'cmu1-lzw-level2': ('derived/cmu1-pyramid-lzw.tif', 2),   # 555 x 741
}


# --- references ---

def absorbance_table() -> np.ndarray:
    """op.hpp's absorbance: float32 of -ln(max(I, 1) / 255) computed in float64."""
    return (-np.log(np.maximum(np.arange(256), 1) / 255.0)).astype(np.float32)


def cucim_absorbance(image: np.ndarray) -> np.ndarray:
    """cucim.core.operations.color.image_to_absorbance(image) (source_intensity 255), in float32."""
    return -np.log(np.clip(image.astype(np.float32), 1, 255) / np.float32(255))


def per_channel(function, image: np.ndarray) -> np.ndarray:
    return np.stack([function(image[..., c]) for c in range(image.shape[-1])], axis=-1)


def sobel(image: np.ndarray) -> np.ndarray:
    return per_channel(filters.sobel, image).astype(np.float32)


def gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    if image.dtype == np.uint8:
        return util.img_as_ubyte(filters.gaussian(image, sigma=sigma, truncate=4.0, channel_axis=-1))
    return filters.gaussian(image, sigma=sigma, truncate=4.0, channel_axis=-1, preserve_range=True)


def median(image: np.ndarray, size: int) -> np.ndarray:
    return per_channel(lambda a: filters.median(a, footprint=np.ones((size, size), bool)), image)


def grayscale(image: np.ndarray) -> np.ndarray:
    return color.rgb2gray(image).astype(np.float32)[..., np.newaxis]


def hed(image: np.ndarray) -> np.ndarray:
    return color.rgb2hed(image).astype(np.float32)


def downsample2x(image: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block, partial blocks at odd edges, integers rounded half up."""
    h, w, c = image.shape
    big_h, big_w = 2 * ((h + 1) // 2), 2 * ((w + 1) // 2)
    total = np.zeros((big_h, big_w, c), np.int64)
    count = np.zeros((big_h, big_w, 1), np.int64)
    total[:h, :w], count[:h, :w] = image, 1
    total = total.reshape(big_h // 2, 2, big_w // 2, 2, c).sum(axis=(1, 3))
    count = count.reshape(big_h // 2, 2, big_w // 2, 2, 1).sum(axis=(1, 3))
    return ((2 * total + count) // (2 * count)).astype(image.dtype)


# name -> (--op values, reference on the uint8 RGB level, relative tolerance; 0: bit for bit)
CASES = {
    'absorbance': (['absorbance'], cucim_absorbance, 3e-7),
    'absorbance-exact': (['absorbance'], lambda x: absorbance_table()[x], 0),
    'sobel': (['sobel'], sobel, 0),
    'gaussian': (['gaussian:sigma=2.5'], lambda x: gaussian(x, 2.5), 0),
    'gaussian-0.7': (['gaussian:sigma=0.7'], lambda x: gaussian(x, 0.7), 0),
    'median': (['median:size=5'], lambda x: median(x, 5), 0),
    'grayscale': (['grayscale'], grayscale, 0),
    'hed': (['hed'], hed, 0),
    'downsample2x': (['downsample2x'], downsample2x, 0),
    'absorbance-gaussian': (['absorbance', 'gaussian:sigma=2.5'],
                            lambda x: gaussian(absorbance_table()[x], 2.5), 0),
    'grayscale-sobel': (['grayscale', 'sobel'], lambda x: sobel(grayscale(x)), 0),
    'median-downsample2x': (['median:size=5', 'downsample2x'], lambda x: downsample2x(median(x, 5)), 0),
}


# --- sources and runs ---

class Sources:
    """The synthetic slide (made once) and the real ones, with tifffile's pixels of the level used."""

    def __init__(self, cli, tmp_factory):
        self.cli, self.tmp_factory, self.cache = cli, tmp_factory, {}

    def __call__(self, name: str):
        if name not in self.cache:
            if name == 'synthetic':
                path = self.tmp_factory.mktemp('slides') / 'rgb.tif'
                self.cli.check('synth', path, '--size', f'{WIDTH}x{HEIGHT}', '--tile', 256,
                               '--compression', 'deflate', '--levels', 1)
                level = 0
            else:
                relative, level = REAL[name]
                path = TESTDATA / relative
                if not path.is_file():
                    pytest.skip(f'shared test slide {path} not found')
            pixels = reference_at(path, self.cli.info(path)['levels'][level]['ifd_offset'])
            assert pixels.ndim == 3 and pixels.shape[-1] == 3 and pixels.dtype == np.uint8, pixels.shape
            self.cache[name] = (path, level, pixels)
        return self.cache[name]


@pytest.fixture(scope='session')
def sources(cli, tmp_path_factory) -> Sources:
    return Sources(cli, tmp_path_factory)


def process(cli, path, level, ops, out, *options) -> tuple:
    """Runs `tilestream process` with --json; returns (array read by zarr-python, the JSON report)."""
    args = ['process', path, out, '--level', level, '--json']
    for op in ops:
        args += ['--op', op]
    report = json.loads(cli.check(*args, *options).stdout)
    return zarr.open_array(str(out), mode='r')[...], report


def assert_matches(got: np.ndarray, want: np.ndarray, tolerance: float, what: str) -> None:
    assert got.shape == want.shape, f'{what}: shape {got.shape}, want {want.shape}'
    assert got.dtype == want.dtype, f'{what}: dtype {got.dtype}, want {want.dtype}'
    if tolerance == 0:
        bad = np.argwhere(got != want)
        assert len(bad) == 0, (f'{what}: {len(bad)} samples differ, first at {tuple(bad[0])}: '
                               f'got {got[tuple(bad[0])]!r}, want {want[tuple(bad[0])]!r}')
    else:
        scale = np.maximum(np.abs(want.astype(np.float64)), np.finfo(np.float32).tiny)
        relative = (np.abs(got.astype(np.float64) - want.astype(np.float64)) / scale).max()
        assert relative <= tolerance, f'{what}: max relative difference {relative:.3g} > {tolerance}'


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# --- tests ---

@pytest.mark.parametrize('source', ['synthetic', *REAL])
@pytest.mark.parametrize('case', CASES)
def test_op_matches_skimage_and_tiled_equals_global(cli, sources, tmp_path, source, case):
    path, level, pixels = sources(source)
    ops, reference, tolerance = CASES[case]
    first = CHUNKS[0]
    tiled, report = process(cli, path, level, ops, tmp_path / 'tiled.zarr', '--chunk', first, '--threads', 4)
    assert report['mode'] == 'tiled' and report['device'] == 'cpu' and report['chunks'] > 1
    assert_matches(tiled, reference(pixels), tolerance, f'{case} on {source}')
    if case == 'absorbance-exact':
        return  # the same run as 'absorbance'
    for chunk in CHUNKS[1:]:
        other, _ = process(cli, path, level, ops, tmp_path / f'tiled-{chunk}.zarr', '--chunk', chunk,
                           '--threads', 3)
        assert same_bits(other, tiled), f'{case} on {source}: chunk {chunk} differs from chunk {first}'
    whole, report = process(cli, path, level, ops, tmp_path / 'global.zarr', '--mode', 'global',
                            '--chunk', first)
    assert report['mode'] == 'global'
    assert same_bits(whole, tiled), f'{case} on {source}: tiled output differs from global output'


def test_zarr_v2_gzip_a_small_memory_budget_and_fsync(cli, sources, tmp_path):
    path, level, pixels = sources('synthetic')
    got, report = process(cli, path, level, ['gaussian:sigma=1.5'], tmp_path / 'v2.zarr', '--zarr-version', 2,
                          '--codec', 'gzip:5', '--chunk', 128, '--memory', '1M', '--threads', 8, '--fsync')
    assert report['fsync'] is True
    meta = json.loads((tmp_path / 'v2.zarr' / '.zarray').read_text())
    assert meta['chunks'] == [128, 128, 3] and meta['compressor']['id'] == 'gzip' and meta['dtype'] == '|u1'
    assert report['bytes_in_flight'] <= 1 << 20 and 1 <= report['workers'] < 8
    assert_matches(got, gaussian(pixels, 1.5), 0, 'gaussian in Zarr v2')
    attributes = json.loads((tmp_path / 'v2.zarr' / '.zattrs').read_text())
    assert attributes['tilestream'] == {'ops': ['gaussian:sigma=1.5'], 'source': 'rgb.tif', 'level': 0}


@pytest.mark.parametrize('options, message', [
    (['--op', 'blur'], "unknown op 'blur' (ops: absorbance, sobel, gaussian:sigma=S"),
    (['--op', 'median:size=4'], 'size must be odd'),
    (['--op', 'grayscale', '--op', 'absorbance'], 'absorbance: needs uint8 samples, not float32'),
    (['--op', 'sobel', '--device', 'gpu'], '--device wants cpu, cuda or cuda:N'),
    (['--op', 'sobel', '--io', 'gds'], '--io gds moves data to or from device memory: it needs --device cuda'),
    (['--op', 'sobel', '--io', 'fast'], 'io mode must be auto, posix, direct or gds'),
    (['--op', 'sobel', '--decode', 'gpu'], '--decode gpu decodes into device memory: it needs --device cuda'),
    (['--op', 'sobel', '--decode', 'nvjpeg'], "decode mode must be auto, cpu or gpu, not 'nvjpeg'"),
    (['--op', 'sobel', '--mode', 'stream'], '--mode must be global or tiled'),
    (['--op', 'sobel', '--memory', '12Q'], '--memory must be a byte count like 1048576, 512M or 2G'),
    (['--op', 'gaussian:sigma=20', '--memory', '1M'], 'raise --memory or lower --chunk'),
    (['--op', 'sobel', '--level', 3], 'no level 3'),
    (['--op', 'sobel', '--chunk', 0], '--chunk must be at least 1'),
])
def test_usage_errors(cli, sources, tmp_path, options, message):
    path, _, _ = sources('synthetic')
    result = cli.run('process', path, tmp_path / 'out.zarr', *options)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr


def test_refuses_a_non_empty_output_without_overwrite(cli, sources, tmp_path):
    path, _, _ = sources('synthetic')
    out = tmp_path / 'out.zarr'
    cli.check('process', path, out, '--op', 'grayscale')
    result = cli.run('process', path, out, '--op', 'sobel')
    assert result.returncode == 2 and 'pass --overwrite' in result.stderr, result.stderr
    cli.check('process', path, out, '--op', 'sobel', '--overwrite')
    assert zarr.open_array(str(out), mode='r').dtype == np.float32
