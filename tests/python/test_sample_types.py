# TIFF sample types beyond 8 and 16 bits: uint32 and int32 (SampleFormat 1 and 2, 32 bits), float16
# (SampleFormat 3, 16 bits, the floating-point predictor as 2 byte planes) and 1-bit masks (BitsPerSample
# 1, unpacked to uint8 0/1, or 0/255 with --bilevel-max 255). Files written by tifffile (+ imagecodecs)
# are read by `tilestream read` at every level, whole and in regions across tile borders, and compared
# with tifffile exactly; `convert --ome` of each is read back by zarr-python; `process` takes them
# where an op does and refuses them by name where it does not; broken variants fail in one line.
import json
import struct

import numpy as np
import pytest
import tifffile

from test_generated import write as write_generated
from tilestream_cli import assert_pixels, content, mean_2x2, reference_at




def expected(ref, photometric=1, bilevel_max=1, stored_samples=False):
    """tilestream's pixels for tifffile's: 1-bit masks as uint8 0/max, MinIsWhite ones inverted."""
    if ref.dtype != bool:
        return ref
    bits = ref.astype(np.uint8)
    if photometric == 0 and not stored_samples:
        bits = 1 - bits
    return bits * np.uint8(bilevel_max)


def case(name, samples=1, dtype='uint32', **kwargs):
    return pytest.param(dict(samples=samples, dtype=dtype, kwargs=kwargs), id=name)


T64 = dict(tile=(64, 64))
CASES = [
    # uint32 / int32: byte orders, the horizontal predictor at 32 bits, strips, planes, codecs
    case('uint32-gray-none-tiled'),
    case('uint32-gray-none-be-strips', byteorder='>', rowsperstrip=37),
    case('uint32-rgb-deflate-pred2-be', samples=3, compression='adobe_deflate', predictor=True, byteorder='>', **T64),
    case('uint32-gray-lzw-pred2-strips', compression='lzw', predictor=True, rowsperstrip=40),
    case('uint32-separate-zstd', samples=3, planarconfig='separate', compression='zstd', **T64),
    case('int32-gray-none-be', dtype='int32', byteorder='>', **T64),
    case('int32-gray-deflate-pred2', dtype='int32', compression='adobe_deflate', predictor=True, **T64),
    case('int32-rgb-packbits-be-strips', samples=3, dtype='int32', compression='packbits', byteorder='>', rowsperstrip=50),
    case('int32-gray-lzma-pred2-be', dtype='int32', compression='lzma', predictor=True, byteorder='>', **T64),
    # float16: the floating-point predictor (2 byte planes), byte orders, strips, planes
    case('float16-gray-deflate-pred3', dtype='float16', compression='adobe_deflate', predictor=3, **T64),
    case('float16-rgb-lzw-pred3-be', samples=3, dtype='float16', compression='lzw', predictor=3, byteorder='>', **T64),
    case('float16-gray-none-be-strips', dtype='float16', byteorder='>', rowsperstrip=40),
    case('float16-separate-zstd-pred3', samples=3, dtype='float16', planarconfig='separate', compression='zstd',
         predictor=3, tile=(128, 128)),
    case('float16-gray-lzma-pred3-be-bigtiff', dtype='float16', compression='lzma', predictor=3, byteorder='>',
         bigtiff=True, **T64),
    # 1-bit masks: rows padded to a byte (width 517 is not a multiple of 8), tiles and strips, codecs
    case('bit-minisblack-none-tiled', dtype='bool', photometric='minisblack', tile=(32, 48)),
    case('bit-minisblack-none-strips-be', dtype='bool', photometric='minisblack', byteorder='>', rowsperstrip=7),
    case('bit-miniswhite-packbits-strips', dtype='bool', photometric='miniswhite', compression='packbits', rowsperstrip=33),
    case('bit-minisblack-lzw-tiled-be', dtype='bool', photometric='minisblack', compression='lzw', byteorder='>', **T64),
    case('bit-miniswhite-deflate-tiled', dtype='bool', photometric='miniswhite', compression='adobe_deflate', **T64),
    case('bit-minisblack-zstd-strips', dtype='bool', photometric='minisblack', compression='zstd', rowsperstrip=64),
    case('bit-minisblack-lzma-tiled-bigtiff', dtype='bool', photometric='minisblack', compression='lzma', bigtiff=True,
         tile=(16, 16)),
]

HEIGHT, WIDTH = 333, 517


def write(path, spec):
    write_generated(path, {**spec, 'height': HEIGHT, 'width': WIDTH})


def regions_across_borders(width, height, tile_width, tile_height):
    """Regions straddling tile (or strip) borders, one ending on the image's edge, one pixel."""
    tw, th = min(tile_width, width), min(tile_height, height)
    out = [(max(tw - 5, 0), max(th - 3, 0), min(11, width - max(tw - 5, 0)), min(9, height - max(th - 3, 0))),
           (width // 3, height // 3, width - width // 3, height - height // 3),
           (width - 1, height - 1, 1, 1)]
    if width > 2 * tw and height > 2 * th:
        out.append((tw - 7, th - 2, tw + 14, th + 4))  # three tiles across, three down
    return out


def compare_all_levels(cli, path, *options, convert=lambda ref: ref):
    """Every level in full and in regions across tile borders against tifffile (through `convert`)."""
    info = json.loads(cli.check('info', path, '--json', *options).stdout)
    for level in info['levels']:
        assert level['readable'], level['unsupported_reason']
        index = level['level']
        want = convert(reference_at(path, level['ifd_offset']))
        got = cli.read(path, '--level', index, *options)
        assert_pixels(got, want, 0, f'{path.name} level {index}')
        for x, y, w, h in regions_across_borders(level['width'], level['height'], level['tile_width'],
                                                 level['tile_height']):
            got = cli.read(path, '--level', index, '--region', f'{x},{y},{w},{h}', *options)
            assert_pixels(got, want[y:y + h, x:x + w], 0, f'{path.name} level {index} region {x},{y},{w},{h}')
    return info


@pytest.mark.parametrize('spec', CASES)
def test_tifffile_written(cli, tmp_path, spec):
    path = tmp_path / 'samples.tif'
    write(path, spec)
    kwargs = spec['kwargs']
    photometric = 0 if kwargs.get('photometric') == 'miniswhite' else 1
    info = compare_all_levels(cli, path, convert=lambda ref: expected(ref, photometric))
    level = info['levels'][0]
    bilevel = spec['dtype'] == 'bool'
    assert level['dtype'] == ('uint8' if bilevel else spec['dtype'])
    assert level['bits_per_sample'] == (1 if bilevel else np.dtype(spec['dtype']).itemsize * 8)
    assert level['samples'] == spec['samples']
    assert info['byte_order'] == ('big-endian' if kwargs.get('byteorder') == '>' else 'little-endian')
    predictor = kwargs.get('predictor')
    assert level['predictor'] == (1 if not predictor else 3 if predictor == 3 else 2)
    if bilevel:
        assert level['pixels'] == ('MinIsWhite 1-bit inverted' if photometric == 0 else 'as stored')
        # 0/255 and the stored bits, as the options ask
        ref = reference_at(path, level['ifd_offset'])
        got = cli.read(path, '--level', 0, '--bilevel-max', 255)
        assert_pixels(got, expected(ref, photometric, 255), 0, f'{path.name} --bilevel-max 255')
        got = cli.read(path, '--level', 0, '--region', '5,7,300,200', '--stored-samples', '--bilevel-max', 255)
        assert_pixels(got, expected(ref[7:207, 5:305], photometric, 255, stored_samples=True), 0,
                      f'{path.name} --stored-samples')


def test_info_lists_the_types(cli, tmp_path):
    for dtype in ('uint32', 'int32', 'float16'):
        path = tmp_path / f'{dtype}.tif'
        tifffile.imwrite(path, content(64, 80, 1, dtype)[..., 0], tile=(32, 32), metadata=None)
        text = cli.check('info', path).stdout
        assert f'80 x 64, tiles 32 x 32, 1 x {dtype}, none, IFD 0' in text, text
    path = tmp_path / 'mask.tif'
    tifffile.imwrite(path, content(64, 80, 1, 'bool')[..., 0], tile=(32, 32), photometric='miniswhite', metadata=None)
    text = cli.check('info', path).stdout
    assert '1 x uint8 of 1-bit samples (0/1) (MinIsWhite 1-bit inverted from 1 x uint8)' in text, text
    text = cli.check('info', path, '--bilevel-max', 255).stdout
    assert '1 x uint8 of 1-bit samples (0/255) (MinIsWhite 1-bit inverted from 1 x uint8)' in text, text


# --- pyramids: levels as reduced-resolution pages and as SubIFDs ---

@pytest.mark.parametrize('dtype', ['uint32', 'int32', 'float16', 'bool'])
@pytest.mark.parametrize('layout', ['pages', 'subifds'])
def test_pyramid_every_level(cli, tmp_path, dtype, layout):
    path = tmp_path / f'pyramid-{dtype}-{layout}.tif'
    sizes = [(300, 410), (150, 205), (75, 103)]
    predictor = {'uint32': True, 'int32': True, 'float16': 3, 'bool': None}[dtype]
    options = dict(tile=(64, 64), compression='zstd', metadata=None)
    if predictor:
        options['predictor'] = predictor
    if dtype == 'bool':
        options['photometric'] = 'minisblack'
    with tifffile.TiffWriter(path, byteorder='>' if dtype == 'int32' else '<') as tif:
        for k, (h, w) in enumerate(sizes):
            extra = {'subifds': len(sizes) - 1} if k == 0 and layout == 'subifds' else {}
            if k > 0 and layout == 'pages':
                extra = {'subfiletype': 1}
            tif.write(content(h, w, 1, dtype, seed=k)[..., 0], **options, **extra)
    info = compare_all_levels(cli, path, convert=expected)
    assert [(lv['height'], lv['width']) for lv in info['levels']] == sizes


# --- convert --ome: read back by zarr-python, built levels the 2x2 mean ---

@pytest.mark.parametrize('dtype', ['uint32', 'int32', 'float16', 'bool'])
@pytest.mark.parametrize('version', [2, 3])
def test_convert_ome_reads_back_equal(cli, tmp_path, dtype, version):
    zarr = pytest.importorskip('zarr')
    path = tmp_path / f'{dtype}.tif'
    levels = [content(200, 300, 3 if dtype != 'bool' else 1, dtype, seed=0)]
    levels.append(content(100, 150, levels[0].shape[2], dtype, seed=1))  # stored, not the mean of level 0
    with tifffile.TiffWriter(path) as tif:
        for k, data in enumerate(levels):
            photometric = 'minisblack' if data.shape[2] == 1 else 'rgb'
            tif.write(data if data.shape[2] > 1 else data[..., 0], tile=(64, 64), compression='adobe_deflate',
                      photometric=photometric, metadata=None, subfiletype=1 if k else 0)
    out = tmp_path / f'{dtype}.zarr'
    cli.check('convert', path, out, '--ome', '--zarr-version', version, '--chunk', 64, '--codec', 'zstd')
    group = zarr.open_group(out, mode='r')
    want_dtype = np.uint8 if dtype == 'bool' else np.dtype(dtype)
    previous = None
    for k in range(4):  # 200x300, 100x150 stored; 50x75, 25x38 built
        array = group[str(k)]
        assert array.dtype == want_dtype, f'dataset {k}'
        data = np.asarray(array[...])
        if k < 2:
            want = np.moveaxis(expected(levels[k]), -1, 0)
        else:
            want = mean_2x2(previous)
        assert data.shape == want.shape, f'dataset {k}'
        np.testing.assert_array_equal(data, want, err_msg=f'dataset {k}')
        previous = data
    assert str(4) not in group


def test_convert_bilevel_max_255(cli, tmp_path):
    zarr = pytest.importorskip('zarr')
    path = tmp_path / 'mask.tif'
    mask = content(100, 130, 1, 'bool')[..., 0]
    tifffile.imwrite(path, mask, photometric='minisblack', tile=(32, 32), compression='lzw', metadata=None)
    out = tmp_path / 'mask.zarr'
    cli.check('convert', path, out, '--bilevel-max', 255, '--chunk', 64, '--codec', 'none')
    np.testing.assert_array_equal(zarr.open_array(out / '0', mode='r')[...], mask[..., np.newaxis] * np.uint8(255))


# --- process: ops that take the types, ops that refuse them by name ---

def median3(image):
    """median:size=3 with 'nearest' borders of (y, x, c), in the sample type (float16 compared as float32)."""
    h, w, _ = image.shape
    padded = np.pad(image.astype(np.float64 if image.dtype != np.float16 else np.float32), ((1, 1), (1, 1), (0, 0)),
                    mode='edge')
    windows = np.stack([padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)])
    return np.sort(windows, axis=0)[4].astype(image.dtype)


@pytest.mark.parametrize('dtype', ['uint32', 'int32', 'float16', 'bool'])
@pytest.mark.parametrize('mode', ['global', 'tiled'])
def test_process_ops_that_take_the_types(cli, tmp_path, dtype, mode):
    zarr = pytest.importorskip('zarr')
    path = tmp_path / f'{dtype}.tif'
    data = content(150, 170, 1, dtype)
    tifffile.imwrite(path, data[..., 0], tile=(64, 64), compression='zstd', photometric='minisblack', metadata=None)
    source = expected(data)
    out = tmp_path / 'median.zarr'
    cli.check('process', path, out, '--op', 'median:size=3', '--mode', mode, '--chunk', 64, '--codec', 'none')
    np.testing.assert_array_equal(zarr.open_array(out, mode='r')[...], median3(source))
    out = tmp_path / 'cast.zarr'
    cli.check('process', path, out, '--op', 'cast:dtype=float32', '--mode', mode, '--chunk', 64)
    got = zarr.open_array(out, mode='r')[...]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, source.astype(np.float32))  # numpy's astype: nearest even for 32 bits
    out = tmp_path / 'down.zarr'
    cli.check('process', path, out, '--op', 'downsample2x', '--mode', mode, '--chunk', 64)
    got = zarr.open_array(out, mode='r')[...]
    np.testing.assert_array_equal(got, np.moveaxis(mean_2x2(np.moveaxis(source, -1, 0)), 0, -1))


@pytest.mark.parametrize('dtype', ['uint32', 'int32', 'float16'])
def test_process_ops_that_refuse_the_types(cli, tmp_path, dtype):
    path = tmp_path / f'{dtype}.tif'
    tifffile.imwrite(path, content(64, 64, 1, dtype)[..., 0], tile=(32, 32), metadata=None)
    for op in ('sobel', 'gaussian:sigma=1'):
        result = cli.run('process', path, tmp_path / 'out.zarr', '--op', op)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f'{op}: needs uint8, uint16 or float32 samples, not {dtype} (cast:dtype=float32 before it converts them)' \
            in lines[0], lines[0]
    out = tmp_path / 'chain.zarr'
    cli.check('process', path, out, '--op', 'cast:dtype=float32', '--op', 'sobel')


def test_convert_dtype_names_every_type(cli, tmp_path):
    path = tmp_path / 'u8.tif'
    tifffile.imwrite(path, content(32, 32, 1, 'uint8')[..., 0], metadata=None)
    result = cli.run('convert', path, tmp_path / 'out.zarr', '--dtype', 'float64')
    assert result.returncode == 2
    assert 'uint8, uint16, int8, int16, float32, uint32, int32, float16' in result.stderr, result.stderr


# --- FillOrder 2 (bits least significant first), written by patching a tag tifffile does not write ---

# Stand-ins for tags tifffile will not write itself: the tag just below that no image here has, renamed
# after writing so that the IFD stays sorted.
STAND_IN = {266: 265, 339: 337}  # FillOrder: CellLength; SampleFormat: TargetPrinter


def write_with_tag(path, data, code, value, **kwargs):
    """tifffile.imwrite with the SHORT tag `code` (FillOrder, SampleFormat of a bool image) set to `value`."""
    tifffile.imwrite(path, data, metadata=None, extratags=[(STAND_IN[code], 'H', 1, value, False)], **kwargs)
    with tifffile.TiffFile(path) as tf:
        entry, order = tf.pages[0].tags[STAND_IN[code]].offset, tf.byteorder
    patched = bytearray(path.read_bytes())
    patched[entry:entry + 2] = struct.pack(order + 'H', code)
    path.write_bytes(bytes(patched))


@pytest.mark.parametrize('compression', ['none', 'lzw'])
def test_fill_order_2(cli, tmp_path, compression):
    # The strips as written, each byte's bits then reversed: the stream of a FillOrder 2 writer.
    path = tmp_path / 'lsb.tif'
    mask = content(40, 61, 1, 'bool')[..., 0]
    write_with_tag(path, mask, 266, 2, photometric='minisblack', rowsperstrip=9, compression=compression)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tf:
        page = tf.pages[0]
        assert page.fillorder == 2
        for offset, count in zip(page.dataoffsets, page.databytecounts):
            data[offset:offset + count] = bytes(int(f'{b:08b}'[::-1], 2) for b in data[offset:offset + count])
    path.write_bytes(bytes(data))
    with tifffile.TiffFile(path) as tf:
        want = tf.pages[0].asarray()
    np.testing.assert_array_equal(want, mask)  # tifffile reverses the bits back before decoding
    assert_pixels(cli.read(path, '--level', 0), expected(want[..., np.newaxis]), 0, 'FillOrder 2')


# --- refusals and broken files: one line naming file and IFD ---

def patch_values(path, tag_name, values):
    """Rewrites the values of the first IFD's tag `tag_name` in place (same count and type)."""
    with tifffile.TiffFile(path) as tf:
        tag = tf.pages[0].tags[tag_name]
        fmt = tf.byteorder + {3: 'H', 4: 'I', 16: 'Q'}[int(tag.dtype)] * len(values)
    data = bytearray(path.read_bytes())
    data[tag.valueoffset:tag.valueoffset + struct.calcsize(fmt)] = struct.pack(fmt, *values)
    path.write_bytes(bytes(data))


def test_float64_refused_by_name(cli, tmp_path):
    path = tmp_path / 'float64.tif'
    tifffile.imwrite(path, content(64, 64, 1, 'float64')[..., 0], tile=(64, 64), metadata=None)
    entry = cli.info(path)['levels'][0]
    assert not entry['readable']
    assert '64-bit floating-point samples are not supported (16- and 32-bit ones are)' in entry['unsupported_reason']


@pytest.mark.parametrize('name, write_options, tag, values, message', [
    # 40 rows of 521 pixels: 5 strips of 8 rows of 66 bytes; strip 1 says 3 bytes
    ('bilevel-short-strip', dict(rowsperstrip=8), 'StripByteCounts', lambda v: [v[0], 3, *v[2:]],
     'IFD 0), strip 1 (column 0, row 1) at offset'),
    ('bilevel-rgb', dict(tile=(32, 32)), 'SamplesPerPixel', lambda v: [3],
     'IFD 0: 1-bit images with 3 samples per pixel are not supported (one sample is)'),
    ('bilevel-palette', dict(tile=(32, 32)), 'PhotometricInterpretation', lambda v: [3],
     'IFD 0: 1-bit images with PhotometricInterpretation 3 (Palette) are not supported'),
])
def test_broken_bilevel_files(cli, tmp_path, name, write_options, tag, values, message):
    path = tmp_path / f'{name}.tif'
    tifffile.imwrite(path, content(40, 521, 1, 'bool')[..., 0], photometric='minisblack', metadata=None, **write_options)
    with tifffile.TiffFile(path) as tf:
        value = tf.pages[0].tags[tag].value
    patch_values(path, tag, values(list(value) if isinstance(value, tuple) else [int(value)]))
    result = cli.run('read', path, '--level', 0, '-o', tmp_path / 'out.npy')
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and 'IFD 0' in lines[0], lines[0]
    assert message in lines[0], lines[0]


@pytest.mark.parametrize('sample_format, message', [
    (3, 'IFD 0: 1-bit floating-point samples are not supported (16- and 32-bit ones are)'),
    (2, 'IFD 0: 1-bit samples with SampleFormat 2 (signed integer) are not supported'),
])
def test_bilevel_with_another_sample_format(cli, tmp_path, sample_format, message):
    path = tmp_path / f'bilevel-format-{sample_format}.tif'
    write_with_tag(path, content(40, 64, 1, 'bool')[..., 0], 339, sample_format, photometric='minisblack',
                   tile=(32, 32))
    entry = cli.info(path)['levels'][0]
    assert not entry['readable'] and message in entry['unsupported_reason'], entry
    result = cli.run('read', path, '--level', 0, '-o', tmp_path / 'out.npy')
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and message in lines[0], result.stderr


def test_bilevel_max_must_be_1_or_255(cli, tmp_path):
    path = tmp_path / 'mask.tif'
    tifffile.imwrite(path, content(16, 16, 1, 'bool')[..., 0], photometric='minisblack', metadata=None)
    result = cli.run('read', path, '--bilevel-max', 2, '-o', tmp_path / 'out.npy')
    assert result.returncode == 2
    assert '--bilevel-max' in result.stderr, result.stderr
