# Slide reading behaviour that needs no shared slide (tifffile writes the slides): out=, the arguments'
# errors, closed slides, and the GIL: reads release it, one Slide serves many Python threads at once,
# and their throughput grows with them.
import os
import threading
import time

import numpy as np
import pytest
import tifffile

import tilestream


@pytest.fixture(scope='module')
def pixels():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (1500, 2100, 3), dtype=np.uint8)


@pytest.fixture(scope='module')
def slide_path(tmp_path_factory, pixels):
    """A tiled, deflate-compressed RGB TIFF with a 2x level (as a SubIFD-free second page)."""
    path = tmp_path_factory.mktemp('slides') / 'generated.tif'
    with tifffile.TiffWriter(path) as tw:
        tw.write(pixels, tile=(256, 256), compression='zlib', photometric='rgb')
        tw.write(pixels[::2, ::2], tile=(256, 256), compression='zlib', photometric='rgb', subfiletype=1)
    return path


def test_levels_and_regions_equal_the_written_pixels(slide_path, pixels):
    with tilestream.open(slide_path) as s:
        assert s.level_count == 2
        assert s.dimensions == (2100, 1500)
        assert s.level_dimensions == ((2100, 1500), (1050, 750))
        np.testing.assert_array_equal(s.read_region((0, 0), 0, (2100, 1500)), pixels)
        np.testing.assert_array_equal(s.read_region((0, 0), 1, (1050, 750)), pixels[::2, ::2])
        np.testing.assert_array_equal(s.read_region((250, 510), 0, (300, 20)), pixels[510:530, 250:550])
        # level-0 location 501 is level-1 pixel 250 (floor of 501 / 2)
        np.testing.assert_array_equal(s.read_region((501, 99), 1, (10, 7)), pixels[::2, ::2][49:56, 250:260])


def test_out_is_filled_and_returned(slide_path, pixels):
    with tilestream.open(slide_path) as s:
        out = np.full((40, 50, 3), 7, np.uint8)
        assert s.read_region((-10, 1480), 0, (50, 40), out=out) is out
        want = np.zeros((40, 50, 3), np.uint8)
        want[:20, 10:] = pixels[1480:, :40]
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize('out, message', [
    (np.zeros((40, 50, 4), np.uint8), 'out must have shape (40, 50, 3)'),
    (np.zeros((40, 50, 3), np.uint16), 'out must be of dtype uint8'),
    (np.zeros((50, 40, 3), np.uint8)[:40, :50], 'out must have shape'),
    (np.zeros((40, 100, 3), np.uint8)[:, ::2], 'out must be C-contiguous'),
])
def test_an_out_that_does_not_fit_is_a_usage_error(slide_path, out, message):
    with tilestream.open(slide_path) as s, pytest.raises(tilestream.UsageError, match=message.replace('(', r'\(').replace(')', r'\)')):
        s.read_region((0, 0), 0, (50, 40), out=out)


def test_a_read_only_out_is_refused(slide_path):
    out = np.zeros((40, 50, 3), np.uint8)
    out.flags.writeable = False
    with tilestream.open(slide_path) as s, pytest.raises((TypeError, ValueError)):
        s.read_region((0, 0), 0, (50, 40), out=out)
    assert not out.any()


@pytest.mark.parametrize('call, error, message', [
    (lambda s: s.read_region((0, 0), 2, (10, 10)), tilestream.UsageError, r'level 2 does not exist \(2 levels\)'),
    (lambda s: s.read_region((0, 0), -1, (10, 10)), tilestream.UsageError, 'level -1 does not exist'),
    (lambda s: s.read_region((0, 0), 0, (-1, 10)), tilestream.UsageError, r'size \(-1, 10\) is negative'),
    (lambda s: s.read_region((0, 0), 0, (2 ** 41, 1)), tilestream.UsageError, 'a region of'),
    (lambda s: s.read_region((0, 0), 0, (10 ** 6, 10 ** 6)), tilestream.ResourceError, 'memory'),
])
def test_bad_arguments_name_the_file_and_the_argument(slide_path, call, error, message):
    with tilestream.open(slide_path) as s:
        with pytest.raises(error, match=message) as caught:
            call(s)
        assert str(slide_path) in str(caught.value)


def test_open_errors_name_the_file(tmp_path):
    missing = tmp_path / 'missing.svs'
    with pytest.raises(tilestream.IoError, match='missing.svs') as caught:
        tilestream.open(missing)
    assert isinstance(caught.value, OSError)
    text = tmp_path / 'notes.tif'
    text.write_text('not a TIFF at all')
    with pytest.raises(tilestream.FormatError, match='notes.tif'):
        tilestream.open(text)


def test_a_truncated_slide_is_an_error_naming_file_and_tile(slide_path, tmp_path):
    data = slide_path.read_bytes()
    cut = tmp_path / 'cut.tif'
    cut.write_bytes(data[:len(data) // 3])
    try:
        s = tilestream.open(cut)
    except tilestream.Error as e:
        assert 'cut.tif' in str(e)
        return
    with s, pytest.raises(tilestream.Error, match='cut.tif') as caught:
        s.read_region((0, 0), 0, s.dimensions)
    assert isinstance(caught.value, (OSError, ValueError))


def test_a_closed_slide_refuses_reads(slide_path):
    s = tilestream.open(slide_path)
    with s:
        assert not s.closed
    assert s.closed and 'closed' in repr(s)
    with pytest.raises(tilestream.UsageError, match='closed'):
        s.read_region((0, 0), 0, (1, 1))
    with pytest.raises(tilestream.UsageError, match='closed'):
        s.level_count


@pytest.fixture(scope='module')
def large_slide_path(tmp_path_factory):
    """A level whose read on one thread takes long enough (~0.1 s and more) to tell from a scheduler's pause."""
    path = tmp_path_factory.mktemp('slides') / 'large.tif'
    rng = np.random.default_rng(11)
    tifffile.imwrite(path, rng.integers(0, 256, (4096, 6144, 3), dtype=np.uint8), tile=(512, 512), compression='zlib',
                     compressionargs={'level': 1}, photometric='rgb')
    return path


def test_reads_release_the_gil(large_slide_path):
    """While another thread reads a level, the main thread keeps running Python: its longest pause is
    far shorter than one read (a read holding the GIL would pause it for the whole read)."""
    with tilestream.open(large_slide_path) as s:
        start = time.perf_counter()
        s.read_region((0, 0), 0, s.dimensions, threads=1)
        one_read = time.perf_counter() - start
        done = threading.Event()

        def read():
            for _ in range(3):
                s.read_region((0, 0), 0, s.dimensions, threads=1)
            done.set()

        worker = threading.Thread(target=read)
        longest_pause, last = 0.0, time.perf_counter()
        worker.start()
        while not done.is_set():
            now = time.perf_counter()
            longest_pause, last = max(longest_pause, now - last), now
        worker.join()
        assert longest_pause < one_read / 2, f'paused {longest_pause * 1e3:.1f} ms; one read takes {one_read * 1e3:.1f} ms'


def test_one_slide_read_from_many_threads_gives_the_same_pixels(slide_path, pixels):
    with tilestream.open(slide_path) as s:
        rng = np.random.default_rng(3)
        spots = [(int(x), int(y)) for x, y in zip(rng.integers(0, 1900, 64), rng.integers(0, 1300, 64))]
        results = [None] * len(spots)

        def read(k):
            for n in range(k, len(spots), 8):
                results[n] = s.read_region(spots[n], 0, (200, 200), threads=1)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for (x, y), got in zip(spots, results):
            np.testing.assert_array_equal(got, pixels[y:y + 200, x:x + 200])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason='one core: threads cannot add throughput')
def test_throughput_grows_with_python_threads(slide_path):
    """Two Python threads reading regions (one decode thread each) beat one by 1.3x or more (best of 3)."""
    with tilestream.open(slide_path) as s:
        spots = [(x, y) for x in range(0, 1800, 300) for y in range(0, 1200, 300)]

        def read(part):
            for x, y in part:
                s.read_region((x, y), 0, (300, 300), threads=1)

        def timed(parts):
            threads = [threading.Thread(target=read, args=(p,)) for p in parts]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return time.perf_counter() - start

        work = spots * 4
        one = min(timed([work]) for _ in range(3))
        two = min(timed([work[0::2], work[1::2]]) for _ in range(3))
        assert one / two >= 1.3, f'1 thread {one:.3f} s, 2 threads {two:.3f} s'


def test_read_regions_equals_one_read_region_per_patch(slide_path, pixels):
    with tilestream.open(slide_path) as s:
        rng = np.random.default_rng(9)
        locations = np.stack([rng.integers(-100, 2100, 40), rng.integers(-100, 1500, 40)], axis=1)
        locations[:5] = [[0, 0], [0, 0], [10, 10], [2000, 1400], [-300, -300]]  # repeats, overlaps, outside
        for level, size in ((0, (256, 256)), (0, (100, 37)), (1, (64, 64))):
            batch = s.read_regions(locations, size, level)
            assert batch.shape == (40, size[1], size[0], 3) and batch.dtype == np.uint8
            for k, (x, y) in enumerate(locations):
                np.testing.assert_array_equal(batch[k], s.read_region((int(x), int(y)), level, size),
                                              err_msg=f'patch {k} at {(x, y)} level {level}')
        as_list = s.read_regions([(5, 6), (700, 80)], (30, 20), 0, threads=1)
        np.testing.assert_array_equal(as_list[1], pixels[80:100, 700:730])
        assert s.read_regions([], (16, 16), 0).shape == (0, 16, 16, 3)
        # On the host, decode auto and cpu read as usual (gpu needs a CUDA device).
        for decode in ('auto', 'cpu'):
            np.testing.assert_array_equal(s.read_regions(locations, (100, 37), 0, decode=decode),
                                          s.read_regions(locations, (100, 37), 0), err_msg=decode)


@pytest.mark.parametrize('call, message', [
    (lambda s: s.read_regions([(0, 0)], (10, 10), 5), 'level 5 does not exist'),
    (lambda s: s.read_regions([(0, 0)], (-1, 10), 0), r'size \(-1, 10\) is negative'),
    (lambda s: s.read_regions([(0, 0, 0)], (10, 10), 0), None),
    (lambda s: s.read_regions([(0, 0)], (10, 10), 0, decode='gpu'),
     'decode gpu decodes into GPU memory: it needs device cuda'),
    (lambda s: s.read_regions([(0, 0)], (10, 10), 0, device='cpu', decode='gpu'),
     'decode gpu decodes into GPU memory: it needs device cuda'),
    (lambda s: s.read_regions([(0, 0)], (10, 10), 0, decode='bogus'),
     "decode mode must be auto, cpu or gpu, not 'bogus'"),
])
def test_read_regions_bad_arguments(slide_path, call, message):
    with tilestream.open(slide_path) as s:
        if message is None:
            with pytest.raises(TypeError):
                call(s)
        else:
            with pytest.raises(tilestream.UsageError, match=message):
                call(s)


def test_read_regions_decodes_a_shared_tile_once(slide_path, tmp_path):
    """64 patches inside one tile cost about one tile's decode, not 64: timed against reading them one
    by one (best of 3, one thread each)."""
    with tilestream.open(slide_path) as s:
        locations = [(x, y) for x in range(0, 256 - 32, 28) for y in range(0, 256 - 32, 28)]
        batch_seconds, single_seconds = [], []
        for _ in range(3):
            start = time.perf_counter()
            s.read_regions(locations, (32, 32), 0, threads=1)
            batch_seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            for location in locations:
                s.read_region(location, 0, (32, 32), threads=1)
            single_seconds.append(time.perf_counter() - start)
        assert min(single_seconds) > 5 * min(batch_seconds), (single_seconds, batch_seconds)


# --- sample types: uint32, int32 and float16 arrive as those NumPy dtypes; 1-bit masks as uint8 0/1,
# or 0/255 with bilevel_max=255 ---

@pytest.mark.parametrize('dtype', ['uint32', 'int32', 'float16'])
def test_wide_and_half_samples_read_as_their_numpy_dtype(tmp_path, dtype):
    rng = np.random.default_rng(5)
    if dtype == 'float16':
        data = (rng.normal(0, 100, (70, 90))).astype(np.float16)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, (70, 90), dtype=dtype, endpoint=True)
    path = tmp_path / f'{dtype}.tif'
    tifffile.imwrite(path, data, tile=(32, 32), compression='zstd', predictor=True, metadata=None)
    with tilestream.open(path) as slide:
        got = slide.read_region((10, 20), 0, (50, 40))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got[..., 0], data[20:60, 10:60])


def test_bilevel_masks_read_as_0_1_or_0_255(tmp_path):
    mask = np.random.default_rng(6).random((50, 61)) < 0.4
    path = tmp_path / 'mask.tif'
    tifffile.imwrite(path, mask, photometric='minisblack', tile=(32, 32), compression='packbits', metadata=None)
    with tilestream.open(path) as slide:
        np.testing.assert_array_equal(slide.read_region((0, 0), 0, (61, 50))[..., 0], mask.astype(np.uint8))
    with tilestream.open(path, bilevel_max=255) as slide:
        np.testing.assert_array_equal(slide.read_region((0, 0), 0, (61, 50))[..., 0], mask.astype(np.uint8) * 255)
    with pytest.raises(tilestream.UsageError, match='bilevel_max must be 1 or 255, not 7'):
        tilestream.open(path, bilevel_max=7)


def test_convert_takes_bilevel_max(tmp_path):
    zarr = pytest.importorskip('zarr')
    mask = np.random.default_rng(7).random((40, 70)) < 0.5
    path = tmp_path / 'mask.tif'
    tifffile.imwrite(path, mask, photometric='minisblack', rowsperstrip=16, compression='zlib', metadata=None)
    tilestream.convert(path, tmp_path / 'mask.zarr', bilevel_max=255, chunk=32, codec='none')
    np.testing.assert_array_equal(zarr.open_array(tmp_path / 'mask.zarr' / '0', mode='r')[..., 0],
                                  mask.astype(np.uint8) * 255)
