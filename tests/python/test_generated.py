# Generated TIFFs (tifffile.imwrite and `tilestream synth`) read by tilestream and compared with
# tifffile's pixels over byte orders, BigTIFF, tiles and strips, every supported compression,
# predictors, sample counts, dtypes, planar configurations, edge tiles and both pyramid layouts.
import struct

import imagecodecs
import numpy as np
import pytest
import tifffile

from tilestream_cli import assert_pixels, content, patch_compression, reference_at, tolerance_for

REGIONS_PER_FILE = 3


def case(name, height, width, samples=3, dtype='uint8', **kwargs):
    return pytest.param(dict(height=height, width=width, samples=samples, dtype=dtype, kwargs=kwargs), id=name)


T64 = dict(tile=(64, 64))
CASES = [
    # uncompressed: byte orders, BigTIFF, tiles and strips
    case('none-tiled-le', 333, 517, **T64),
    case('none-tiled-be', 333, 517, byteorder='>', **T64),
    case('none-bigtiff-le', 333, 517, bigtiff=True, **T64),
    case('none-bigtiff-be', 333, 517, bigtiff=True, byteorder='>', **T64),
    case('none-strips-le', 333, 517, rowsperstrip=37),
    case('none-strips-be-uint16', 333, 517, dtype='uint16', byteorder='>', rowsperstrip=50),
    case('none-int16-be-gray', 200, 150, samples=1, dtype='int16', byteorder='>', **T64),
    case('none-rgba', 129, 257, samples=4, extrasamples=['unassalpha'], **T64),
    case('none-uint16-rgba-be', 129, 257, samples=4, dtype='uint16', byteorder='>', extrasamples=['unassalpha'], **T64),
    case('none-edge-1px', 129, 257, tile=(128, 128)),
    case('none-single-tile-larger-than-image', 50, 70, tile=(128, 128)),
    # LZW
    case('lzw-tiled', 333, 517, compression='lzw', **T64),
    case('lzw-tiled-pred', 333, 517, compression='lzw', predictor=True, **T64),
    case('lzw-strips-be-pred', 333, 517, compression='lzw', predictor=True, byteorder='>', rowsperstrip=40),
    case('lzw-gray-uint16-pred', 333, 517, samples=1, dtype='uint16', compression='lzw', predictor=True, **T64),
    case('lzw-uint16-pred-be', 333, 517, dtype='uint16', compression='lzw', predictor=True, byteorder='>', **T64),
    case('lzw-rgba-pred', 333, 517, samples=4, compression='lzw', predictor=True, extrasamples=['unassalpha'], **T64),
    case('lzw-bigtiff-be-edge', 129, 257, compression='lzw', bigtiff=True, byteorder='>', tile=(128, 128)),
    # deflate, both tag values
    case('adobe-deflate-tiled', 333, 517, compression='adobe_deflate', **T64),
    case('deflate-32946-tiled', 333, 517, compression='deflate', **T64),
    case('adobe-deflate-pred', 333, 517, compression='adobe_deflate', predictor=True, **T64),
    case('deflate-32946-pred-be', 333, 517, compression='deflate', predictor=True, byteorder='>', **T64),
    case('adobe-deflate-uint16-pred', 333, 517, dtype='uint16', compression='adobe_deflate', predictor=True, **T64),
    case('adobe-deflate-uint16-pred-be-strips', 333, 517, dtype='uint16', compression='adobe_deflate', predictor=True,
         byteorder='>', rowsperstrip=64),
    case('deflate-int16-gray-pred', 333, 517, samples=1, dtype='int16', compression='adobe_deflate', predictor=True, **T64),
    case('deflate-rgba-uint16', 129, 257, samples=4, dtype='uint16', compression='adobe_deflate',
         extrasamples=['unassalpha'], tile=(128, 128)),
    case('deflate-strips', 333, 517, compression='adobe_deflate', rowsperstrip=16),
    case('deflate-bigtiff-edge-pred', 129, 257, compression='adobe_deflate', predictor=True, bigtiff=True, tile=(128, 128)),
    # PackBits
    case('packbits-tiled-gray', 333, 517, samples=1, compression='packbits', **T64),
    case('packbits-tiled-rgb-be', 333, 517, compression='packbits', byteorder='>', **T64),
    case('packbits-strips', 333, 517, compression='packbits', rowsperstrip=33),
    case('packbits-uint16', 129, 257, dtype='uint16', compression='packbits', tile=(128, 128)),
    # planar configuration separate
    case('separate-none-tiled', 333, 517, planarconfig='separate', **T64),
    case('separate-none-strips-be', 333, 517, planarconfig='separate', byteorder='>', rowsperstrip=40),
    case('separate-deflate-tiled', 333, 517, planarconfig='separate', compression='adobe_deflate', **T64),
    case('separate-deflate-pred-uint16', 333, 517, dtype='uint16', planarconfig='separate', compression='adobe_deflate',
         predictor=True, **T64),
    case('separate-deflate-strips', 129, 257, planarconfig='separate', compression='deflate', rowsperstrip=20),
    # zstd (50000) and LZMA (34925): predictor, byte orders, strips, planes, uint16, RGBA
    case('zstd-tiled', 333, 517, compression='zstd', **T64),
    case('zstd-pred-uint16-be', 333, 517, dtype='uint16', compression='zstd', predictor=True, byteorder='>', **T64),
    case('zstd-gray-strips', 333, 517, samples=1, compression='zstd', rowsperstrip=40),
    case('zstd-separate-level-19', 333, 517, planarconfig='separate', compression='zstd', compressionargs={'level': 19}, **T64),
    case('lzma-tiled-pred', 333, 517, compression='lzma', predictor=True, **T64),
    case('lzma-uint16-rgba-be', 129, 257, samples=4, dtype='uint16', compression='lzma', byteorder='>',
         extrasamples=['unassalpha'], tile=(128, 128)),
    case('lzma-strips-bigtiff', 333, 517, compression='lzma', bigtiff=True, rowsperstrip=64),
    # WebP (50001), lossless: RGB and RGBA, edge tiles (lossy below)
    case('webp-lossless', 333, 517, compression='webp', compressionargs={'lossless': True}, **T64),
    case('webp-lossless-rgba-edge', 129, 257, samples=4, compression='webp', compressionargs={'lossless': True},
         extrasamples=['unassalpha'], tile=(128, 128)),
    # float32 samples (SampleFormat 3): the floating-point predictor (3) with deflate, LZW and zstd,
    # byte orders, strips, planes
    case('float32-gray-deflate-pred3', 333, 517, samples=1, dtype='float32', compression='adobe_deflate', predictor=3, **T64),
    case('float32-rgb-lzw-pred3-be', 333, 517, dtype='float32', compression='lzw', predictor=3, byteorder='>', **T64),
    case('float32-gray-none-be-strips', 333, 517, samples=1, dtype='float32', byteorder='>', rowsperstrip=40),
    case('float32-separate-zstd-pred3', 129, 257, dtype='float32', planarconfig='separate', compression='zstd', predictor=3,
         tile=(128, 128)),
    # JPEG: YCbCr with subsampling, RGB without, gray, strips, BigTIFF big-endian
    case('jpeg-ycbcr-22', 333, 517, compression='jpeg', compressionargs={'level': 90}, photometric='rgb', subsampling=(2, 2), **T64),
    case('jpeg-ycbcr-21', 333, 517, compression='jpeg', compressionargs={'level': 90}, photometric='rgb', subsampling=(2, 1), **T64),
    case('jpeg-ycbcr-11', 333, 517, compression='jpeg', compressionargs={'level': 90}, photometric='rgb', subsampling=(1, 1), **T64),
    case('jpeg-rgb', 333, 517, compression='jpeg', photometric='rgb', subsampling=(1, 1),
         compressionargs={'level': 90, 'outcolorspace': 'rgb'}, **T64),
    case('jpeg-gray', 333, 517, samples=1, compression='jpeg', compressionargs={'level': 85}, **T64),
    case('jpeg-strips-ycbcr-22', 333, 517, compression='jpeg', compressionargs={'level': 90}, photometric='rgb', subsampling=(2, 2),
         rowsperstrip=32),
    case('jpeg-bigtiff-be-edge', 129, 257, compression='jpeg', compressionargs={'level': 80}, photometric='rgb', bigtiff=True, byteorder='>',
         tile=(128, 128)),
]


def write(path, spec):
    data = content(spec['height'], spec['width'], spec['samples'], spec['dtype'])
    kwargs = dict(spec['kwargs'])
    if kwargs.get('planarconfig') == 'separate':
        data = np.moveaxis(data, -1, 0)
    elif spec['samples'] == 1:
        data = data[..., 0]
    kwargs.setdefault('photometric', 'minisblack' if spec['samples'] == 1 else 'rgb')
    tifffile.imwrite(path, data, metadata=None, **kwargs)
    return data


def random_regions(width, height, seed):
    rng = np.random.default_rng(seed)
    regions = []
    for _ in range(REGIONS_PER_FILE):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(1, width - x + 1)), int(rng.integers(1, height - y + 1))
        regions.append((x, y, w, h))
    return regions


def compare_file(cli, path, seed=1234):
    """Every level of `path` in full and in REGIONS_PER_FILE random regions, against tifffile."""
    info = cli.info(path)
    for level in info['levels']:
        assert level['readable'], level['unsupported_reason']
        index = level['level']
        ref = reference_at(path, level['ifd_offset'])
        tolerance = tolerance_for(level['compression_name'])
        assert_pixels(cli.read_level(path, index), ref, tolerance, f'{path.name} level {index}')
        for x, y, w, h in random_regions(level['width'], level['height'], seed + index):
            assert_pixels(cli.read_level(path, index, region=(x, y, w, h)), ref[y:y + h, x:x + w], tolerance,
                          f'{path.name} level {index} region {x},{y},{w},{h}')
    return info


@pytest.mark.parametrize('spec', CASES)
def test_tifffile_written(cli, tmp_path, spec):
    path = tmp_path / 'generated.tif'
    write(path, spec)
    info = compare_file(cli, path)
    kwargs = spec['kwargs']
    level = info['levels'][0]
    assert (level['width'], level['height'], level['samples']) == (spec['width'], spec['height'], spec['samples'])
    assert level['dtype'] == spec['dtype']
    assert info['big_tiff'] == kwargs.get('bigtiff', False)
    assert info['byte_order'] == ('big-endian' if kwargs.get('byteorder') == '>' else 'little-endian')
    assert level['tiled'] == ('tile' in kwargs)
    predictor = kwargs.get('predictor')
    assert level['predictor'] == (1 if not predictor else 3 if predictor == 3 else 2)
    assert level['planar_config'] == (2 if kwargs.get('planarconfig') == 'separate' else 1)
    if 'compression' in kwargs:
        with tifffile.TiffFile(path) as tf:
            assert level['compression'] == int(tf.pages[0].compression)


# --- lossy WebP: both readers decode the same bitstream with libwebp, so the pixels agree within 2
# (the libwebp versions may round their upsampling differently) ---

@pytest.mark.parametrize('samples', [3, 4])
def test_webp_lossy(cli, tmp_path, samples):
    path = tmp_path / 'webp-lossy.tif'
    data = content(333, 517, samples, 'uint8')
    extra = {'extrasamples': ['unassalpha']} if samples == 4 else {}
    tifffile.imwrite(path, data, photometric='rgb', tile=(64, 64), compression='webp', compressionargs={'level': 80},
                     metadata=None, **extra)
    info = cli.info(path)
    level = info['levels'][0]
    assert level['readable'], level['unsupported_reason']
    assert (level['compression'], level['compression_name'], level['samples']) == (50001, 'WebP', samples)
    ref = reference_at(path, level['ifd_offset'])
    assert_pixels(cli.read_level(path, 0), ref, 2, path.name)
    assert_pixels(cli.read_level(path, 0, region=(30, 70, 200, 101)), ref[70:171, 30:230], 2, f'{path.name} region')


def test_webp_gray_is_refused_by_name(cli, tmp_path):
    # tifffile writes what libtiff would refuse; the level is listed as unreadable with the reason.
    path = tmp_path / 'gray.tif'
    tifffile.imwrite(path, content(64, 64, 1, 'uint8')[..., 0], tile=(64, 64), metadata=None)
    patch_compression(path, 50001)
    entry = cli.info(path)['levels'][0]
    assert not entry['readable']
    assert 'WebP tiles hold interleaved 8-bit RGB or RGBA, not 1 uint8 sample' in entry['unsupported_reason']


# --- JPEG with shared JPEGTables (abbreviated tile streams), as Aperio and libvips write them ---

def split_jpeg_tables(stream: bytes):
    """(tables, abbreviated image) of a baseline JPEG: DQT and DHT segments move to the tables."""
    assert stream[:2] == b'\xff\xd8'
    tables, image, pos = bytearray(b'\xff\xd8'), bytearray(b'\xff\xd8'), 2
    while True:
        marker = stream[pos:pos + 2]
        length = struct.unpack('>H', stream[pos + 2:pos + 4])[0]
        segment = stream[pos:pos + 2 + length]
        if marker == b'\xff\xda':  # start of scan: the rest is entropy-coded data and EOI
            image += stream[pos:]
            break
        if marker in (b'\xff\xdb', b'\xff\xc4'):
            tables += segment
        elif marker[1] not in range(0xe0, 0xf0):  # drop APPn (JFIF), keep SOF, DRI, ...
            image += segment
        pos += 2 + length
    return bytes(tables + b'\xff\xd9'), bytes(image)


@pytest.mark.parametrize('colorspace,subsampling', [('rgb', (1, 1)), ('ycbcr', (2, 2)), ('ycbcr', (2, 1))],
                         ids=['rgb', 'ycbcr-22', 'ycbcr-21'])
def test_jpeg_with_jpegtables(cli, tmp_path, colorspace, subsampling):
    height, width, tile = 333, 517, 64
    data = content(height, width, 3, 'uint8', seed=5)
    padded = np.zeros((-(-height // tile) * tile, -(-width // tile) * tile, 3), np.uint8)
    padded[:height, :width] = data
    tables, tiles = None, []
    for ty in range(0, padded.shape[0], tile):
        for tx in range(0, padded.shape[1], tile):
            stream = imagecodecs.jpeg8_encode(padded[ty:ty + tile, tx:tx + tile], level=90, colorspace='RGB',
                                              outcolorspace=colorspace.upper(), subsampling=subsampling)
            tile_tables, abbreviated = split_jpeg_tables(stream)
            assert tables in (None, tile_tables), 'tiles encoded with different tables'
            tables = tile_tables
            tiles.append(abbreviated)
    path = tmp_path / 'jpegtables.tif'
    tifffile.imwrite(path, iter(tiles), shape=(height, width, 3), dtype=np.uint8, tile=(tile, tile),
                     photometric='rgb', compression='jpeg', subsampling=subsampling, jpegtables=tables,
                     compressionargs={'outcolorspace': colorspace}, metadata=None)
    with tifffile.TiffFile(path) as tf:
        page = tf.pages[0]
        assert page.jpegtables == tables
        assert int(page.photometric) == (6 if colorspace == 'ycbcr' else 2)
        assert np.abs(page.asarray().astype(int) - data).mean() < 8  # the file is what we meant to write
    compare_file(cli, path)


# --- pyramids ---

PYRAMID_SHAPES = [(700, 900), (350, 450), (175, 225), (88, 113)]


@pytest.mark.parametrize('layout', ['subifds', 'subfiletype'])
@pytest.mark.parametrize('compression', [None, 'lzw', 'jpeg'])
def test_pyramid(cli, tmp_path, layout, compression):
    path = tmp_path / f'pyramid-{layout}.tif'
    options = dict(tile=(128, 128), photometric='rgb', compression=compression, metadata=None)
    if compression == 'jpeg':
        options['compressionargs'] = {'level': 90}
    with tifffile.TiffWriter(path) as tw:
        for i, (h, w) in enumerate(PYRAMID_SHAPES):
            data = content(h, w, 3, 'uint8', seed=i)
            if layout == 'subifds':
                tw.write(data, subifds=len(PYRAMID_SHAPES) - 1 if i == 0 else None,
                         subfiletype=0 if i == 0 else 1, **options)
            else:
                tw.write(data, subfiletype=0 if i == 0 else 1, **options)
    info = compare_file(cli, path)
    with tifffile.TiffFile(path) as tf:
        series_levels = tf.series[0].levels
        assert len(info['levels']) == len(series_levels) == len(PYRAMID_SHAPES)
        for ours, theirs in zip(info['levels'], series_levels):
            assert (ours['height'], ours['width']) == theirs.shape[:2]
            assert ours['ifd_offset'] == theirs.keyframe.offset
    for i, level in enumerate(info['levels']):
        expected = PYRAMID_SHAPES[0][1] / PYRAMID_SHAPES[i][1], PYRAMID_SHAPES[0][0] / PYRAMID_SHAPES[i][0]
        assert min(expected) - 1e-9 <= level['downsample'] <= max(expected) + 1e-9


# --- files written by `tilestream synth` ---

SYNTH_BASE = {'--size': '700x500', '--tile': '128', '--levels': '3', '--seed': '7'}
SYNTH_CASES = {
    'default-jpeg': [],
    'jpeg-q50': ['--compression', 'jpeg', '--quality', '50'],
    'none': ['--compression', 'none'],
    'deflate': ['--compression', 'deflate'],
    'deflate-predictor': ['--compression', 'deflate', '--predictor'],
    'lzw': ['--compression', 'lzw'],
    'lzw-predictor': ['--compression', 'lzw', '--predictor'],
    'packbits': ['--compression', 'packbits'],
    'zstd-predictor': ['--compression', 'zstd', '--predictor'],
    'zstd-uint16-be': ['--compression', 'zstd', '--dtype', 'uint16', '--big-endian'],
    'lzma-gray': ['--compression', 'lzma', '--samples', '1'],
    'webp': ['--compression', 'webp'],
    'webp-rgba-strips': ['--compression', 'webp', '--samples', '4', '--strips', '64'],
    'gray': ['--compression', 'deflate', '--samples', '1'],
    'rgba': ['--compression', 'lzw', '--samples', '4'],
    'gray-jpeg': ['--compression', 'jpeg', '--samples', '1'],
    'uint16': ['--compression', 'none', '--dtype', 'uint16'],
    'uint16-deflate-predictor': ['--compression', 'deflate', '--dtype', 'uint16', '--predictor'],
    'uint16-lzw-predictor-be': ['--compression', 'lzw', '--dtype', 'uint16', '--predictor', '--big-endian'],
    'bigtiff': ['--compression', 'deflate', '--bigtiff'],
    'big-endian': ['--compression', 'deflate', '--big-endian'],
    'bigtiff-big-endian-jpeg': ['--compression', 'jpeg', '--bigtiff', '--big-endian'],
    'strips-lzw': ['--compression', 'lzw', '--strips', '64'],
    'strips-none-be': ['--compression', 'none', '--strips', '37', '--big-endian'],
    'strips-jpeg': ['--compression', 'jpeg', '--strips', '32'],
    'threads-1': ['--compression', 'deflate', '--threads', '1'],
    'aperio': ['--compression', 'jpeg', '--aperio'],
    'tile-64-odd-size': ['--compression', 'lzw', '--tile', '64', '--size', '333x517'],
    'one-level': ['--compression', 'deflate', '--levels', '1'],
}


def synth(cli, path, options):
    base = [item for key, value in SYNTH_BASE.items() if key not in options for item in (key, value)]
    result = cli.check('synth', path, *base, *options)
    assert path.is_file()
    return result


def option_value(options, name, default):
    return options[options.index(name) + 1] if name in options else default


@pytest.mark.parametrize('options', SYNTH_CASES.values(), ids=SYNTH_CASES.keys())
def test_synth_round_trip(cli, tmp_path, options):
    path = tmp_path / 'synth.tif'
    synth(cli, path, options)
    info = compare_file(cli, path)
    width, height = map(int, option_value(options, '--size', '700x500').split('x'))
    levels = int(option_value(options, '--levels', '3'))
    samples = int(option_value(options, '--samples', '3'))
    dtype = option_value(options, '--dtype', 'uint8')
    compression = option_value(options, '--compression', 'jpeg')
    assert len(info['levels']) == levels
    assert info['big_tiff'] == ('--bigtiff' in options)
    assert info['byte_order'] == ('big-endian' if '--big-endian' in options else 'little-endian')
    names = {'none': 'none', 'deflate': 'deflate', 'jpeg': 'JPEG', 'lzw': 'LZW', 'packbits': 'PackBits',
             'zstd': 'zstd', 'lzma': 'LZMA', 'webp': 'WebP'}
    for i, level in enumerate(info['levels']):
        assert (level['width'], level['height']) == (-(-width // 2 ** i), -(-height // 2 ** i)) or \
               (level['width'], level['height']) == (width // 2 ** i, height // 2 ** i), level
        assert level['samples'] == samples and level['dtype'] == dtype
        assert names[compression].lower() in level['compression_name'].lower()
        assert level['predictor'] == (2 if '--predictor' in options else 1)
        if '--strips' in options:
            assert not level['tiled'] and level['tile_height'] == int(option_value(options, '--strips', 0))
        else:
            assert level['tiled'] and level['tile_width'] == int(option_value(options, '--tile', '128'))
    with tifffile.TiffFile(path) as tf:
        assert tf.is_bigtiff == ('--bigtiff' in options)
        assert tf.byteorder == ('>' if '--big-endian' in options else '<')
        pages = [p for p in tf.pages if p.subfiletype in (0, 1)]
        assert len(pages) >= levels
    if '--aperio' in options:
        assert info['vendor'] == 'aperio'
        assert info['properties']['aperio.AppMag'] == '20'
        assert float(info['properties']['openslide.mpp-x']) > 0


def test_synth_is_deterministic(cli, tmp_path):
    a, b, c = tmp_path / 'a.tif', tmp_path / 'b.tif', tmp_path / 'c.tif'
    synth(cli, a, ['--compression', 'deflate', '--threads', '1'])
    synth(cli, b, ['--compression', 'deflate', '--threads', '4'])
    synth(cli, c, ['--compression', 'deflate', '--seed', '8'])
    assert a.read_bytes() == b.read_bytes()
    assert not np.array_equal(cli.read_level(a, 0), cli.read_level(c, 0))


def test_synth_aperio_opens_in_openslide(cli, tmp_path):
    openslide = pytest.importorskip('openslide')
    path = tmp_path / 'synth.svs'
    synth(cli, path, ['--compression', 'jpeg', '--aperio'])
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    assert osr.properties['openslide.vendor'] == 'aperio'
    assert osr.level_dimensions == tuple((lv['width'], lv['height']) for lv in info['levels'])
    ours = cli.read_level(path, 0, region=(100, 60, 300, 200))
    theirs = np.asarray(osr.read_region((100, 60), 0, (300, 200)))[..., :3]
    assert np.abs(ours.astype(int) - theirs).max() <= 2


# --- float samples: float32 converts to a float32 Zarr array that zarr-python reads back equal (float16,
# and float64's refusal: test_sample_types.py) ---

def test_float32_converts_to_an_equal_zarr_array(cli, tmp_path):
    import zarr
    path = tmp_path / 'float.tif'
    data = content(200, 300, 3, 'float32')
    tifffile.imwrite(path, data, photometric='rgb', tile=(64, 64), compression='zstd', predictor=3, metadata=None)
    out = tmp_path / 'float.zarr'
    cli.check('convert', path, out, '--zarr-version', '3', '--codec', 'zstd', '--chunk', '128')
    array = zarr.open_array(out / '0', mode='r')
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array[...], data)

