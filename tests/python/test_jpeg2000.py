# JPEG 2000 tiles (issue 15): TIFFs written by tifffile + imagecodecs (compression 34712) read equal to
# tifffile's pixels at every level, in regions across tile borders; Aperio SVS files of pre-encoded
# 33003 (YCbCr) and 33005 (RGB) tiles, and those `tilestream synth` writes, read equal to OpenSlide 4's
# read_region at every level; a conversion to OME-Zarr read back by zarr-python; truncated codestreams
# and layouts we refuse, named in one line.
#
# Tolerances: lossless (reversible 5/3) codestreams exactly. Lossy (irreversible 9/7) ones within 1 of
# tifffile and within 2 of OpenSlide: each reader decodes the same codestream with its own OpenJPEG
# (the system's here, imagecodecs' and openslide-bin's there), whose floating-point inverse wavelet may
# round a sample the other way; after OpenSlide's YCbCr conversion a Cr one off moves R by up to 2.
import numpy as np
import pytest
import tifffile

from test_generated import compare_file
from test_generated import write as write_generated
from tilestream_cli import assert_pixels, content, open_openslide, reference_at

imagecodecs = pytest.importorskip('imagecodecs')

LOSSY_TIFFFILE_TOLERANCE = 1
LOSSY_OPENSLIDE_TOLERANCE = 2


@pytest.fixture(scope='module', autouse=True)
def needs_openjpeg(cli, tmp_path_factory):
    probe = tmp_path_factory.mktemp('probe') / 'probe.tif'
    result = cli.run('synth', probe, '--compression', 'jpeg2000', '--size', '16x16')
    if 'has no OpenJPEG' in result.stderr:
        pytest.skip('this tilestream build has no OpenJPEG')
    assert result.returncode == 0, result.stderr


# ---- TIFFs with J2K tiles written by tifffile + imagecodecs (34712) --------------------------------

def case(name, height, width, samples=3, dtype='uint8', **kwargs):
    return pytest.param(dict(height=height, width=width, samples=samples, dtype=dtype, kwargs=kwargs), id=name)


T64 = dict(tile=(64, 64))
LOSSLESS = {'reversible': True}
CASES = [
    case('rgb-tiled', 333, 517, compressionargs=LOSSLESS, **T64),
    case('rgb-jp2-tiles', 333, 517, compressionargs={**LOSSLESS, 'codecformat': 'jp2'}, **T64),
    case('gray-uint16-be', 333, 517, samples=1, dtype='uint16', byteorder='>', compressionargs=LOSSLESS, **T64),
    case('gray-int16', 200, 150, samples=1, dtype='int16', compressionargs=LOSSLESS, **T64),
    case('rgba-uint16-edge', 129, 257, samples=4, dtype='uint16', extrasamples=['unassalpha'],
         compressionargs=LOSSLESS, tile=(128, 128)),
    case('rgb-strips-bigtiff', 333, 517, bigtiff=True, compressionargs=LOSSLESS, rowsperstrip=40),
    case('rgb-separate-planes', 333, 517, planarconfig='separate', compressionargs=LOSSLESS, **T64),
]


def write(path, spec):
    return write_generated(path, {**spec, 'kwargs': {'compression': 'jpeg2000', **spec['kwargs']}})


@pytest.mark.parametrize('spec', CASES)
def test_tifffile_written(cli, tmp_path, spec):
    path = tmp_path / 'j2k.tif'
    write(path, spec)
    info = compare_file(cli, path)
    level = info['levels'][0]
    assert (level['compression'], level['compression_name']) == (34712, 'JPEG 2000')
    assert (level['width'], level['height'], level['samples'], level['dtype']) == \
        (spec['width'], spec['height'], spec['samples'], spec['dtype'])
    # The files hold what we meant: lossless, so the pixels are the data written. (Not in big-endian
    # files: tifffile hands imagecodecs their byte-swapped samples, which the codestream then holds, and
    # which both readers give back as the codestream has them.)
    if spec['kwargs'].get('byteorder') != '>':
        written = content(spec['height'], spec['width'], spec['samples'], spec['dtype'])
        assert_pixels(cli.read_level(path, 0), written, 0, 'level 0 against the data written')


def test_lossy_within_tolerance_of_tifffile(cli, tmp_path):
    path = tmp_path / 'lossy.tif'
    data = content(333, 517, 3, 'uint8', seed=3)
    tifffile.imwrite(path, data, photometric='rgb', tile=(64, 64), compression='jpeg2000',
                     compressionargs={'level': 40}, metadata=None)
    level = cli.info(path)['levels'][0]
    ref = reference_at(path, level['ifd_offset'])
    assert np.abs(ref.astype(int) - data).max() > 0, 'the file should be lossy'
    assert_pixels(cli.read_level(path, 0), ref, LOSSY_TIFFFILE_TOLERANCE, path.name)
    assert_pixels(cli.read_level(path, 0, region=(30, 70, 200, 101)), ref[70:171, 30:230], LOSSY_TIFFFILE_TOLERANCE,
                  f'{path.name} region')


def test_subifd_pyramid(cli, tmp_path):
    path = tmp_path / 'pyramid.tif'
    shapes = [(700, 900), (350, 450), (175, 225)]
    with tifffile.TiffWriter(path) as tw:
        for i, (h, w) in enumerate(shapes):
            tw.write(content(h, w, 3, 'uint8', seed=i), subifds=len(shapes) - 1 if i == 0 else None,
                     subfiletype=0 if i == 0 else 1, tile=(128, 128), photometric='rgb', compression='jpeg2000',
                     compressionargs=LOSSLESS, metadata=None)
    info = compare_file(cli, path)
    assert [(lv['height'], lv['width']) for lv in info['levels']] == shapes


# ---- Aperio SVS of pre-encoded tiles, against OpenSlide ------------------------------------------

APERIO = 'Aperio Image Library v12.0.15 \r\n'


def tiles_of(image, tile, encode):
    h, w, _ = image.shape
    out = []
    for ty in range(0, h, tile):
        for tx in range(0, w, tile):
            padded = np.zeros((tile, tile, image.shape[2]), image.dtype)
            part = image[ty:ty + tile, tx:tx + tile]
            padded[:part.shape[0], :part.shape[1]] = part
            out.append(encode(padded))
    return out


def write_aperio(path, levels, compression, tile, encode):
    """An SVS: tiled levels of pre-encoded tiles, with the stripped JPEG thumbnail Aperio puts second."""
    h, w, _ = levels[0].shape
    with tifffile.TiffWriter(path) as tw:
        for k, image in enumerate(levels):
            lh, lw, _ = image.shape
            description = (f'{APERIO}{w}x{h} [0,0 {w}x{h}] ({tile}x{tile}) J2K/YUV16 Q=70|AppMag = 20|MPP = 0.4990'
                           if k == 0 else f'{APERIO}{w}x{h} -> {lw}x{lh}')
            tw.write(iter(tiles_of(image, tile, encode)), shape=image.shape, dtype=np.uint8, tile=(tile, tile),
                     photometric='rgb', compression=compression, description=description, metadata=None)
            if k == 0:
                tw.write(image[::4, ::4], photometric='rgb', compression='jpeg', rowsperstrip=16,
                         description=f'{APERIO}{w}x{h} -> thumbnail', metadata=None)


def ycbcr_grid(height, width, shift):
    """Y, Cb, Cr components covering every (Cb, Cr) pair of the conversion tables, Y across its range."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x * 7 + y * 13 + shift) % 256, (x + shift) % 256, (y + 2 * shift) % 256], axis=-1).astype(np.uint8)


def compare_with_openslide(cli, path, tolerance, regions_per_level=3, seed=5):
    """Every level of `path` in full and in random regions (across tile borders), against read_region."""
    osr = open_openslide(path)
    info = cli.info(path)
    assert info['vendor'] == 'aperio'
    assert [(lv['width'], lv['height']) for lv in info['levels']] == list(osr.level_dimensions)
    rng = np.random.default_rng(seed)
    for level in info['levels']:
        k, width, height = level['level'], level['width'], level['height']
        downsample = osr.level_downsamples[k]
        theirs = np.asarray(osr.read_region((0, 0), k, (width, height)))
        assert (theirs[..., 3] == 255).all()
        assert_pixels(cli.read_level(path, k), theirs[..., :3], tolerance, f'{path.name} level {k}')
        for _ in range(regions_per_level):
            x, y = int(rng.integers(0, width - 1)), int(rng.integers(0, height - 1))
            w, h = int(rng.integers(1, width - x + 1)), int(rng.integers(1, height - y + 1))
            region = np.asarray(osr.read_region((round(x * downsample), round(y * downsample)), k, (w, h)))[..., :3]
            assert_pixels(cli.read_level(path, k, region=(x, y, w, h)), region, tolerance,
                          f'{path.name} level {k} region {x},{y},{w},{h}')
    return info


def test_aperio_ycbcr_every_table_entry_equals_openslide(cli, tmp_path):
    # Full-resolution chroma: each (Cb, Cr) pair of 0..255 x 0..255 once, through OpenSlide's conversion.
    path = tmp_path / 'ycbcr.svs'
    levels = [ycbcr_grid(512, 384, 0), ycbcr_grid(256, 192, 77)]
    encode = lambda t: imagecodecs.jpeg2k_encode(t, codecformat='j2k', reversible=True, mct=False)  # noqa: E731
    write_aperio(path, levels, 33003, 128, encode)
    info = compare_with_openslide(cli, path, 0)
    assert info['levels'][0]['compression_name'] == 'JPEG 2000 (Aperio YCbCr)'
    # Not the components as stored: the decoder converted them.
    assert not np.array_equal(cli.read_level(path, 0), levels[0])


def test_aperio_rgb_equals_openslide_and_tifffile(cli, tmp_path):
    path = tmp_path / 'rgb.svs'
    levels = [content(500, 400, 3, 'uint8', seed=1), content(250, 200, 3, 'uint8', seed=2)]
    encode = lambda t: imagecodecs.jpeg2k_encode(t, codecformat='j2k', reversible=True)  # noqa: E731
    write_aperio(path, levels, 33005, 128, encode)
    info = compare_with_openslide(cli, path, 0)
    assert info['levels'][0]['compression_name'] == 'JPEG 2000 (Aperio RGB)'
    for level, data in zip(info['levels'], levels):
        assert_pixels(cli.read_level(path, level['level']), data, 0, f'level {level["level"]} against the data')


SYNTH = {  # name: (synth options, tolerance against OpenSlide)
    'aperio-j2k-lossless': (['--compression', 'aperio-j2k'], 0),
    'aperio-j2k-q70': (['--compression', 'aperio-j2k', '--quality', '70'], LOSSY_OPENSLIDE_TOLERANCE),
    'aperio-j2k-rgb-lossless': (['--compression', 'aperio-j2k-rgb'], 0),
    'aperio-j2k-rgb-q50': (['--compression', 'aperio-j2k-rgb', '--quality', '50'], LOSSY_OPENSLIDE_TOLERANCE),
}


@pytest.mark.parametrize('name', SYNTH)
def test_synth_aperio_jpeg2000_equals_openslide(cli, tmp_path, name):
    # Aperio's YCbCr with chroma subsampled 2 x 1, as Aperio writes it (OpenSlide's fast path).
    options, tolerance = SYNTH[name]
    path = tmp_path / f'{name}.svs'
    cli.check('synth', path, '--size', '1000x700', '--tile', '240', '--levels', '3', '--seed', '3', *options)
    info = compare_with_openslide(cli, path, tolerance)
    assert len(info['levels']) == 3
    assert info['properties']['aperio.AppMag'] == '20'


# ---- synth --compression jpeg2000 (34712), against tifffile ----------------------------------------

SYNTH_GENERIC = {
    'lossless': [],
    'lossy-q60': ['--quality', '60'],
    'gray-uint16': ['--samples', '1', '--dtype', 'uint16'],
    'rgba-strips-be': ['--samples', '4', '--strips', '48', '--big-endian'],
}


@pytest.mark.parametrize('options', SYNTH_GENERIC.values(), ids=SYNTH_GENERIC.keys())
def test_synth_jpeg2000(cli, tmp_path, options):
    path = tmp_path / 'synth.tif'
    cli.check('synth', path, '--size', '700x500', '--tile', '128', '--levels', '3', '--compression', 'jpeg2000', *options)
    if '--quality' in options:
        info = cli.info(path)
        for level in info['levels']:
            ref = reference_at(path, level['ifd_offset'])
            assert_pixels(cli.read_level(path, level['level']), ref, LOSSY_TIFFFILE_TOLERANCE, f'level {level["level"]}')
    else:
        info = compare_file(cli, path)
    assert len(info['levels']) == 3
    assert all(level['compression'] == 34712 for level in info['levels'])


# ---- OME-Zarr round trip -------------------------------------------------------------------------

@pytest.mark.parametrize('compression', ['aperio-j2k', 'jpeg2000'])
def test_convert_to_ome_zarr_reads_back_equal(cli, tmp_path, compression):
    zarr = pytest.importorskip('zarr')
    path = tmp_path / 'slide.svs'
    cli.check('synth', path, '--size', '600x400', '--tile', '128', '--levels', '2', '--compression', compression)
    out = tmp_path / 'slide.zarr'
    cli.check('convert', path, out, '--ome', '--zarr-version', '3', '--chunk', '256', '--codec', 'zstd')
    group = zarr.open_group(str(out), mode='r')
    for k in range(2):
        want = np.moveaxis(cli.read_level(path, k), -1, 0)
        got = np.asarray(group[str(k)][...])
        assert_pixels(got, want, 0, f'dataset {k}')


# ---- refusals and broken files ---------------------------------------------------------------------

def test_truncated_codestream_is_one_line_naming_file_ifd_and_tile(cli, tmp_path):
    path = tmp_path / 'truncated.tif'
    tifffile.imwrite(path, content(200, 300, 3, 'uint8'), photometric='rgb', tile=(64, 64), compression='jpeg2000',
                     compressionargs=LOSSLESS, metadata=None)
    with tifffile.TiffFile(path) as tf:
        tag = tf.pages[0].tags['TileByteCounts']
        counts = list(tag.value)
        assert tag.dtype in (4, 16) and tf.byteorder == '<'  # LONG counts, little-endian
        at = tag.valueoffset
    data = bytearray(path.read_bytes())
    data[at + 4 * 6:at + 4 * 7] = (counts[6] // 2).to_bytes(4, 'little')  # tile 6: column 1, row 1
    path.write_bytes(bytes(data))
    result = cli.run('read', path, '--level', '0', '-o', tmp_path / 'x.npy')
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for piece in (str(path), 'IFD 0', 'tile 6 (column 1, row 1)', 'J2K codestream of', 'is corrupt or truncated'):
        assert piece in lines[0], lines[0]
    # Regions away from the broken tile still read.
    region = cli.read_level(path, 0, region=(0, 0, 64, 64))
    assert_pixels(region, content(200, 300, 3, 'uint8')[:64, :64], 0, 'tile 0')


@pytest.mark.parametrize('compression,photometric,samples,reason', [
    (34712, 'ycbcr', 3, 'YCbCr outside JPEG'),
    (33005, 'minisblack', 1, 'JPEG 2000 (Aperio RGB) tiles hold 3 interleaved uint8 samples, not 1 uint8'),
    (33003, 'rgb', 4, 'JPEG 2000 (Aperio YCbCr) tiles hold 3 interleaved uint8 samples, not 4 uint8'),
])
def test_layouts_we_do_not_read_are_listed_with_the_reason(cli, tmp_path, compression, photometric, samples, reason):
    path = tmp_path / 'refused.tif'
    data = content(64, 64, samples, 'uint8')
    extra = {'extrasamples': ['unassalpha']} if samples == 4 else {}
    if photometric == 'ycbcr':
        extra['subsampling'] = (1, 1)
    tiles = tiles_of(data, 64, lambda t: imagecodecs.jpeg2k_encode(t.squeeze(), codecformat='j2k', reversible=True))
    tifffile.imwrite(path, iter(tiles), shape=data.shape if samples > 1 else data.shape[:2], dtype=np.uint8,
                     tile=(64, 64), photometric=photometric, compression=compression, metadata=None, **extra)
    entry = cli.info(path)['levels'][0]
    assert not entry['readable']
    assert reason in entry['unsupported_reason'], entry['unsupported_reason']


def test_ycbcr_jpeg2000_stored_samples_equal_tifffile(cli, tmp_path):
    # 34712 with YCbCr photometric is not converted (refused above), but its components read as stored
    # are tifffile's pixels.
    path = tmp_path / 'ycbcr.tif'
    data = content(100, 130, 3, 'uint8')
    tiles = tiles_of(data, 64, lambda t: imagecodecs.jpeg2k_encode(t, codecformat='j2k', reversible=True, mct=False))
    tifffile.imwrite(path, iter(tiles), shape=data.shape, dtype=np.uint8, tile=(64, 64), photometric='ycbcr',
                     subsampling=(1, 1), compression=34712, metadata=None)
    ref = reference_at(path, cli.info(path)['levels'][0]['ifd_offset'])
    assert_pixels(ref, data, 0, 'tifffile reads the components')
    assert_pixels(cli.read(path, '--level', 0, '--stored-samples'), ref, 0, 'stored samples')
