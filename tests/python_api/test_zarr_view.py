# Slide.aszarr and tilestream.to_dask, the lazy Zarr view: on every shared slide every level read
# through zarr-python and through Dask equals tifffile's decoding of the same IFD (lossless exactly, JPEG
# within 2), in both layouts; the chunks are the stored tiles (the IFD's tile size; whole strips of about
# 256 KiB); the OME-NGFF metadata validates with ome-zarr-models and scales by the level downsamples and the slide's MPP; slices
# across tile borders and edges equal the same crop; the store is read-only, lists and sizes its keys,
# serves byte ranges, decodes concurrent chunk reads in parallel threads and survives pickling; to_dask
# chunks whole tiles; xarray opens a level; and `import tilestream` imports neither zarr nor dask.
import asyncio
import functools
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
import tifffile

import tilestream
from conftest import slide_params
from tilestream_cli import assert_pixels, open_openslide, reference_at, tolerance_for

zarr = pytest.importorskip('zarr', minversion='3')
da = pytest.importorskip('dask.array')
from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest  # noqa: E402
from zarr.core.buffer import default_buffer_prototype  # noqa: E402


@functools.lru_cache(maxsize=2)
def references(path):
    """Each level's tifffile reference (h, w, samples), tolerance and stored chunk (tile or strip) size
    (height, width), from the IFD of the level's dimensions; for NDPI's levels made by JPEG DCT scaling
    (no IFD has their size), OpenSlide's pixels (libjpeg-turbo's scaling, as tilestream's: exactly) and
    tile size."""
    out = []
    with tilestream.open(path) as slide, tifffile.TiffFile(path) as tf:
        pages = {(p.imagewidth, p.imagelength): p for p in reversed(list(tf.pages))}
        for level, (width, height) in enumerate(slide.level_dimensions):
            page = pages.get((width, height))
            if page is None:
                osr = open_openslide(path)
                rgb = np.asarray(osr.read_region((0, 0), level, (width, height)))[..., :3]
                tile = tuple(int(osr.properties[f'openslide.level[{level}].tile-{side}']) for side in ('height', 'width'))
                out.append((rgb, 0, tile))
                continue
            out.append((reference_at(path, page.offset), tolerance_for(page.compression.name), stored_chunk(page)))
    return out


def stored_chunk(page):
    """A level's chunk (height, width) from its IFD's tags: the tile; for strips the width by as many whole
    strips as make 256 KiB (at least one), at most the level's height. NDPI levels: one JPEG restart
    interval, as tifffile shows them."""
    if page.parent.is_ndpi and page.tilewidth:
        return page.tilelength, page.tilewidth
    tags = page.tags
    if 'TileWidth' in tags:
        return tags['TileLength'].value, tags['TileWidth'].value
    height, width = page.imagelength, page.imagewidth
    rows = min(tags['RowsPerStrip'].value if 'RowsPerStrip' in tags else height, height)
    strip_bytes = width * rows * page.samplesperpixel * page.dtype.itemsize
    return min(height, rows * max(1, -(-2 ** 18 // strip_bytes))), width


def as_hwc(array, layout):
    return np.moveaxis(array, 0, -1) if layout == 'cyx' else array


def run(coroutine):
    return asyncio.run(coroutine)


@slide_params
@pytest.mark.parametrize('layout', ['cyx', 'yxc'])
def test_every_level_through_zarr_equals_tifffile(testdata, slide, layout):
    path = testdata / slide
    with tilestream.open(path) as s:
        group = zarr.open(s.aszarr(layout=layout), mode='r')
        assert isinstance(group, zarr.Group)
        assert sorted(group.array_keys(), key=int) == [str(n) for n in range(s.level_count)]
        for level, (want, tolerance, (tile_h, tile_w)) in enumerate(references(path)):
            array = group[str(level)]
            height, width, samples = want.shape
            if layout == 'cyx':
                assert array.shape == (samples, height, width) and array.chunks == (samples, tile_h, tile_w)
            else:
                assert array.shape == (height, width, samples) and array.chunks == (tile_h, tile_w, samples)
            assert array.metadata.dimension_names == tuple(layout)
            assert_pixels(as_hwc(array[...], layout), want, tolerance, f'{slide} {layout} level {level}')


@slide_params
def test_every_level_through_dask_equals_tifffile(testdata, slide):
    path = testdata / slide
    with tilestream.open(path) as s:
        store = s.aszarr()
        for level, (want, tolerance, _) in enumerate(references(path)):
            got = da.from_zarr(store, component=str(level)).compute()
            assert_pixels(np.moveaxis(got, 0, -1), want, tolerance, f'{slide} from_zarr level {level}')
            got = tilestream.to_dask(path, level).compute()
            assert_pixels(got, want, tolerance, f'{slide} to_dask level {level}')


@slide_params
def test_ome_metadata_validates_and_scales_by_downsample_and_mpp(testdata, slide):
    from ome_zarr_models.v05 import Image

    path = testdata / slide
    with tilestream.open(path) as s:
        group = zarr.open_group(s.aszarr(), mode='r')
        image = Image.from_zarr(group)  # raises where the metadata or the arrays do not fit NGFF 0.5
        (multiscale,) = image.ome_attributes.multiscales
        assert [a.name for a in multiscale.axes] == ['c', 'y', 'x']
        assert [a.type for a in multiscale.axes] == ['channel', 'space', 'space']
        mpp_x = float(s.properties.get('openslide.mpp-x', 0)) or None
        mpp_y = float(s.properties.get('openslide.mpp-y', 0)) or mpp_x
        assert [a.unit for a in multiscale.axes[1:]] == ['micrometer' if mpp_x else None] * 2
        assert [d.path for d in multiscale.datasets] == [str(n) for n in range(s.level_count)]
        for dataset, downsample in zip(multiscale.datasets, s.level_downsamples):
            (scale,) = dataset.coordinateTransformations
            np.testing.assert_allclose(scale.scale, [1, (mpp_y or 1) * downsample, (mpp_x or 1) * downsample],
                                       rtol=1e-12)
        ome = group.attrs['ome']
        assert ome['version'] == '0.5' and multiscale.name == path.name
        if s._level_layout(0)['samples'] == 3:
            assert [c['label'] for c in ome['omero']['channels']] == ['red', 'green', 'blue']
        # yxc is no NGFF image: a plain group
        assert 'ome' not in zarr.open_group(s.aszarr(layout='yxc'), mode='r').attrs


def test_aperio_mpp_gives_micrometer_scales(testdata):
    with tilestream.open(testdata / 'aperio' / 'CMU-1-Small-Region.svs') as s:
        assert float(s.properties['openslide.mpp-x']) == pytest.approx(0.499)
        datasets = zarr.open_group(s.aszarr(), mode='r').attrs['ome']['multiscales'][0]['datasets']
        assert datasets[0]['coordinateTransformations'][0]['scale'] == pytest.approx([1, 0.499, 0.499])


# Slices as functions of (level width, level height, tile width, tile height), in level pixels: y, x slices.
SLICES = {
    'inside-one-tile': lambda w, h, tw, th: (slice(3, 17), slice(5, 40)),
    'crossing-tiles': lambda w, h, tw, th: (slice(th - 21, th + 59), slice(tw - 37, tw + 63)),
    'several-tiles': lambda w, h, tw, th: (slice(th // 2, 2 * th + 5), slice(tw + 3, 3 * tw + 14)),
    'right-edge': lambda w, h, tw, th: (slice(0, min(h, th + 5)), slice(w - 90, w)),
    'bottom-edge': lambda w, h, tw, th: (slice(h - 60, h), slice(0, min(w, 2 * tw + 1))),
    'bottom-right-corner': lambda w, h, tw, th: (slice(h - 40, h), slice(w - 50, w)),
    'strided': lambda w, h, tw, th: (slice(1, h, 7), slice(2, w, 5)),
}


@slide_params
@pytest.mark.parametrize('layout', ['cyx', 'yxc'])
def test_slices_across_tile_borders_and_edges_equal_the_crop(testdata, slide, layout):
    path = testdata / slide
    failures = []
    with tilestream.open(path) as s:
        group = zarr.open(s.aszarr(layout=layout), mode='r')
        for level in {0, s.level_count - 1}:
            want, tolerance, (tile_h, tile_w) = references(path)[level]
            height, width = want.shape[:2]
            array = group[str(level)]
            for name, make in SLICES.items():
                ys, xs = (slice(max(0, sl.start), sl.stop, sl.step) for sl in make(width, height, tile_w, tile_h))
                got = array[:, ys, xs] if layout == 'cyx' else array[ys, xs, :]
                try:
                    assert_pixels(as_hwc(got, layout), want[ys, xs], tolerance, f'level {level} {name}')
                except AssertionError as e:
                    failures.append(str(e))
    assert not failures, f'{slide} {layout}:\n' + '\n'.join(failures)


def test_xarray_opens_a_level_lazily(testdata):
    """NGFF levels share the dimension names c, y, x, so xarray takes one level per Dataset."""
    xr = pytest.importorskip('xarray')
    path = testdata / 'derived' / 'cmu1-pyramid-deflate-pred.tif'
    want = references(path)[1][0]
    with tilestream.open(path) as s:
        others = [str(n) for n in range(s.level_count) if n != 1]
        level = xr.open_zarr(s.aszarr(), consolidated=False, drop_variables=others)['1']
        assert level.dims == ('c', 'y', 'x') and level.shape == (3, *want.shape[:2])
        assert level.chunks == ((3,), (512, 512, 459), (512, 512, 86))
        assert_pixels(np.moveaxis(level[:, 100:700, 50:650].values, 0, -1), want[100:700, 50:650], 0, 'xarray')


def test_a_strip_image_is_chunked_by_strips(testdata):
    path = testdata / 'derived' / 'cmu1-crop-strips-lzw.tif'
    with tilestream.open(path) as s:
        assert not s._level_layout(0)['tiled']
        array = zarr.open_array(s.aszarr(), path='0', mode='r')
        assert array.shape == (3, 1200, 1000) and array.chunks == (3, 128, 1000)
        want = references(path)[0][0]
        # the last strip: 1200 = 9 x 128 + 48 rows
        np.testing.assert_array_equal(np.moveaxis(array[:, 1100:, 400:700], 0, -1), want[1100:, 400:700])


def test_writes_raise(testdata):
    with tilestream.open(testdata / 'derived' / 'cmu1-pyramid-lzw.tif') as s:
        store = s.aszarr()
        assert store.read_only and not store.supports_writes and not store.supports_deletes
        array = zarr.open_array(store, path='0', mode='r')
        before = array[0, :4, :4]
        with pytest.raises(ValueError):
            array[0, :4, :4] = 7
        np.testing.assert_array_equal(array[0, :4, :4], before)
        buffer = default_buffer_prototype().buffer.from_bytes(b'{}')
        for call in (store.set('0/c/0/0/0', buffer), store.set('new/zarr.json', buffer),
                     store.set_if_not_exists('new/zarr.json', buffer), store.delete('0/zarr.json')):
            with pytest.raises(ValueError, match='read-only'):
                run(call)
        assert zarr.open(store).read_only  # a read-only store opens read-only without mode='r'
        for mode in ('a', 'r+', 'w'):
            with pytest.raises(ValueError):
                zarr.open(store, mode=mode)
        with pytest.raises(ValueError, match='read-only'):
            store.with_read_only(False)
        assert store.with_read_only(True) == store


def test_keys_listing_sizes_and_byte_ranges(testdata):
    path = testdata / 'derived' / 'cmu1-pyramid-lzw.tif'
    with tilestream.open(path) as s:
        store = s.aszarr()
        layout = s._level_layout(0)
        rows = -(-layout['height'] // layout['tile_height'])
        columns = -(-layout['width'] // layout['tile_width'])
        assert sorted(run(collect(store.list_dir('')))) == sorted(['zarr.json', *map(str, range(s.level_count))])
        assert sorted(run(collect(store.list_dir('0')))) == ['c', 'zarr.json']
        assert run(collect(store.list_dir('0/c/'))) == ['0']
        assert run(collect(store.list_dir('0/c/0'))) == [str(i) for i in range(rows)]
        assert run(collect(store.list_dir('0/c/0/1'))) == [str(i) for i in range(columns)]
        assert run(collect(store.list_dir('0/c/1'))) == [] and run(collect(store.list_dir('nothing'))) == []
        level0 = run(collect(store.list_prefix('0/')))
        assert len(level0) == 1 + rows * columns and '0/zarr.json' in level0 and f'0/c/0/{rows - 1}/{columns - 1}' in level0
        everything = run(collect(store.list()))
        assert set(level0) < set(everything) and 'zarr.json' in everything
        assert len(everything) == len(set(everything))

        tile_bytes = 3 * layout['tile_height'] * layout['tile_width']
        key = f'0/c/0/{rows - 1}/{columns - 1}'  # the corner tile: zero-padded to the whole tile
        assert run(store.exists(key)) and run(store.getsize(key)) == tile_bytes
        for missing in (f'0/c/0/{rows}/0', '0/c/1/0/0', '0/c/0/0', '0/c/00/0/0', '99/zarr.json', '0/c/0/0/-1', 'x'):
            assert not run(store.exists(missing)), missing
            assert run(store.get(missing, default_buffer_prototype())) is None, missing
        with pytest.raises(FileNotFoundError):
            run(store.getsize('0/c/9/9/9'))

        prototype = default_buffer_prototype()
        whole = run(store.get(key, prototype)).to_bytes()
        assert len(whole) == tile_bytes
        chunk = np.frombuffer(whole, np.uint8).reshape(3, layout['tile_height'], layout['tile_width'])
        x0, y0 = (columns - 1) * layout['tile_width'], (rows - 1) * layout['tile_height']
        inside = s._read_level_rect(0, x0, y0, (layout['width'] - x0, layout['height'] - y0))
        np.testing.assert_array_equal(np.moveaxis(chunk[:, :inside.shape[0], :inside.shape[1]], 0, -1), inside)
        assert not chunk[:, inside.shape[0]:].any() and not chunk[:, :, inside.shape[1]:].any()
        for request, want in ((RangeByteRequest(10, 1000), whole[10:1000]), (OffsetByteRequest(5000), whole[5000:]),
                              (SuffixByteRequest(77), whole[-77:])):
            assert run(store.get(key, prototype, request)).to_bytes() == want
        partial = run(store.get_partial_values(prototype, [(key, RangeByteRequest(0, 4)), ('nope', None),
                                                            ('zarr.json', None)]))
        assert partial[0].to_bytes() == whole[:4] and partial[1] is None and b'"ome"' in partial[2].to_bytes()
        assert run(store.getsize('zarr.json')) == len(partial[2].to_bytes())


async def collect(iterator):
    return [key async for key in iterator]


def test_concurrent_chunk_reads_decode_in_parallel_threads(testdata):
    """Two chunk reads started together both run their decode at once, off the event loop's thread: each
    waits for the other at a barrier, which a store decoding on the loop (one at a time) never passes."""
    from tilestream._zarr_store import SlideStore

    barrier = threading.Barrier(2, timeout=20)
    threads = set()

    class Recording(SlideStore):
        def _read_chunk(self, level, chunk):
            threads.add(threading.get_ident())
            barrier.wait()
            return super()._read_chunk(level, chunk)

    async def both(store):
        loop_thread = threading.get_ident()
        prototype = default_buffer_prototype()
        chunks = await asyncio.gather(store.get('0/c/0/0/0', prototype), store.get('0/c/0/0/1', prototype))
        return loop_thread, chunks

    with tilestream.open(testdata / 'derived' / 'cmu1-pyramid-lzw.tif') as s:
        loop_thread, chunks = run(both(Recording(s)))
        assert len(threads) == 2 and loop_thread not in threads
        assert all(c is not None and len(c) == 3 * 256 * 256 for c in chunks)


def test_pickle_reopens_the_file(testdata):
    path = testdata / 'aperio' / 'CMU-1-Small-Region.svs'
    want = references(path)[0][0]
    with tilestream.open(path) as s:
        store = s.aszarr(layout='yxc')
        copy = pickle.loads(pickle.dumps(store))
        assert copy == store and copy.layout == 'yxc' and copy.slide is not s and not copy.slide.closed
        array = pickle.loads(pickle.dumps(zarr.open_array(store, path='0', mode='r')))
        lazy = pickle.loads(pickle.dumps(da.from_zarr(store, component='0')))
    # the slide is closed: the copies read through their own
    assert s.closed
    assert_pixels(array[100:400, 200:700], want[100:400, 200:700], 2, 'unpickled zarr array')
    assert_pixels(lazy[1000:1300].compute(), want[1000:1300], 2, 'unpickled dask array')
    assert_pixels(tilestream.to_dask(path, 0)[:50].compute(), want[:50], 2, 'to_dask')
    assert_pixels(pickle.loads(pickle.dumps(tilestream.to_dask(path, 0)))[:50].compute(), want[:50], 2,
                  'unpickled to_dask')
    copy.close()
    assert copy.slide.closed


def test_closing_the_slide_ends_its_stores_reads(testdata):
    with tilestream.open(testdata / 'derived' / 'cmu1-pyramid-lzw.tif') as s:
        array = zarr.open_array(s.aszarr(), path='0', mode='r')
        assert array[0, 0, 0] is not None
    with pytest.raises(tilestream.UsageError):
        array[0, :10, :10]


def test_to_dask_chunks_are_whole_tiles(testdata):
    path = testdata / 'derived' / 'cmu1-pyramid-jpeg-bigtiff.tif'
    want, tolerance, (tile_h, tile_w) = references(path)[0]
    height, width, samples = want.shape

    # default: tiles grouped up to Dask's chunk size, all samples in each chunk
    default = tilestream.to_dask(path)
    assert default.shape == (height, width, samples) and default.dtype == np.uint8
    assert default.numblocks == (1, 1, 1)  # 20 MB: under Dask's 128 MiB
    import dask

    with dask.config.set({'array.chunk-size': '1MiB'}):
        small = tilestream.to_dask(path)
    assert small.chunks[2] == (samples,) and small.numblocks[0] > 1 and small.numblocks[1] > 1
    assert all(c % tile_h == 0 for c in small.chunks[0][:-1]) and all(c % tile_w == 0 for c in small.chunks[1][:-1])
    assert max(small.chunks[0]) * max(small.chunks[1]) * samples <= 2 ** 20
    assert_pixels(small.compute(), want, tolerance, 'to_dask 1 MiB chunks')

    tiles = tilestream.to_dask(path, chunks='tiles', layout='cyx')
    assert tiles.chunksize == (samples, tile_h, tile_w) and tiles.numblocks == (1, -(-height // tile_h), -(-width // tile_w))
    explicit = tilestream.to_dask(path, chunks=(1000, 700, -1))
    assert explicit.chunksize == (1000, 700, samples)
    assert_pixels(explicit[900:1100, 650:760].compute(), want[900:1100, 650:760], tolerance, 'explicit chunks')
    assert tilestream.to_dask(path).name == default.name != tiles.name
    # an open slide works too, any level
    with tilestream.open(path) as s:
        last = s.level_count - 1
        w, h = s.level_dimensions[last]
        assert tilestream.to_dask(s, last).shape == tilestream.to_dask(s, np.int64(last)).shape == (h, w, samples)


def test_to_dask_and_aszarr_arguments_are_checked(testdata):
    path = testdata / 'derived' / 'cmu1-pyramid-lzw.tif'
    with tilestream.open(path) as s:
        levels = s.level_count
        with pytest.raises(tilestream.UsageError, match='layout'):
            s.aszarr(layout='xyc')
    with pytest.raises(tilestream.UsageError, match=f'level {levels} does not exist'):
        tilestream.to_dask(path, levels)
    with pytest.raises(tilestream.UsageError, match='level -1 does not exist'):
        tilestream.to_dask(path, -1)
    with pytest.raises(tilestream.UsageError, match='level 1.5 does not exist'):
        tilestream.to_dask(path, 1.5)
    with pytest.raises(tilestream.IoError):
        tilestream.to_dask(testdata / 'no such slide.svs')


def test_importing_tilestream_imports_neither_zarr_nor_dask_and_a_missing_zarr_says_so(testdata):
    path = testdata / 'derived' / 'cmu1-pyramid-lzw.tif'
    script = f'''
import sys
import tilestream
assert 'zarr' not in sys.modules and 'dask' not in sys.modules, sorted(sys.modules)
sys.modules['zarr'] = None  # as where zarr is not installed
try:
    tilestream.open({str(path)!r}).aszarr()
except ImportError as e:
    assert "pip install 'zarr>=3'" in str(e), e
else:
    raise AssertionError('no ImportError')
'''
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_method_is_documented_and_in_the_stubs():
    from pathlib import Path

    assert 'OME-NGFF' in tilestream.Slide.aszarr.__doc__ and 'chunk-size' in tilestream.to_dask.__doc__
    stub = Path(tilestream.__file__).parent / '_tilestream.pyi'
    if not stub.is_file():
        pytest.skip('no built stubs beside the package (a source checkout)')
    assert 'def aszarr(self' in stub.read_text()
