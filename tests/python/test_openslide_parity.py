# OpenSlide parity in the details users script against (issue 11): on every shared slide that
# openslide-python opens, every property OpenSlide reports has the same text in `info --json`, the
# levels and associated images agree, and Palette, MinIsWhite and CMYK files read as OpenSlide renders
# them, while --stored-samples gives the stored samples. The deliberate difference is the associated
# image OpenSlide does not list (EXTRA_ASSOCIATED below, with its reason); README.md lists it.
import json

import numpy as np
import pytest
import tifffile

from conftest import REPO_ROOT, TESTDATA
from tilestream_cli import open_openslide

openslide = pytest.importorskip('openslide')

SLIDE_SUFFIXES = {'.tif', '.tiff', '.svs', '.ndpi'}
SLIDES = sorted(p.relative_to(TESTDATA).as_posix() for p in TESTDATA.rglob('*')
                if p.suffix.lower() in SLIDE_SUFFIXES) if TESTDATA.is_dir() else []
slide_params = pytest.mark.parametrize('slide', SLIDES or ['(testdata absent)'])

# Associated images tilestream lists that OpenSlide does not, with the reason.
EXTRA_ASSOCIATED = {
    ('hamamatsu', 'map'): 'the NDPI map image (SourceLens -2), which OpenSlide does not expose',
}

# What README.md must say of each deliberate difference.
README_PHRASES = ['map image (SourceLens -2)']


@slide_params
def test_every_openslide_property_has_the_same_text(cli, testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    ours = cli.info(path)['properties']
    failures = [f'{key}: OpenSlide {value!r}, tilestream {ours.get(key, "(absent)")!r}'
                for key, value in sorted(osr.properties.items()) if ours.get(key) != value]
    assert not failures, f'{slide}:\n' + '\n'.join(failures)


@slide_params
def test_levels_and_associated_images_agree(cli, testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    info = cli.info(path)
    vendor = osr.properties['openslide.vendor']
    ours = [(lv['width'], lv['height']) for lv in info['levels']]
    assert ours == list(osr.level_dimensions)  # NDPI: OpenSlide's levels made by DCT scaling too
    for lv, theirs in zip(info['levels'], osr.level_downsamples):
        assert lv['downsample'] == theirs, f"level {lv['level']}: {lv['downsample']!r} != {theirs!r}"
    names = {a['name']: (a['width'], a['height']) for a in info['associated']}
    for name, image in osr.associated_images.items():
        assert names.get(name) == image.size, f'associated {name}: OpenSlide {image.size}, tilestream {names.get(name)}'
    for name in set(names) - set(osr.associated_images):
        assert (vendor, name) in EXTRA_ASSOCIATED, f'associated image {name} is not in OpenSlide\'s list'


def test_deliberate_differences_are_in_the_readme():
    text = (REPO_ROOT / 'README.md').read_text()
    for phrase in README_PHRASES:
        assert phrase in text, f'README.md does not list the deliberate difference: {phrase}'


# ---- photometric conversions against OpenSlide, on files made here ---------------------------------

def pattern(height, width, samples=1, dtype=np.uint8):
    y, x = np.mgrid[0:height, 0:width]
    planes = [((x * 5 + y * 3 + 60 * s) % 256) for s in range(samples)]
    image = np.stack(planes, axis=-1).astype(np.uint16)
    if dtype == np.uint16:
        image = image * 257 + (x[..., None] & 7)
    return image.astype(dtype)


def sixteen_bit_map():
    i = np.arange(256, dtype=np.uint32)
    return np.stack([((255 - i) * 256 + 0x80 + i) & 0xffff, (i * 256 + 0x3f) & 0xffff,
                     ((i * 7 % 256) * 256 + 0xff) & 0xffff]).astype(np.uint16)


def eight_bit_values_map():
    i = np.arange(256, dtype=np.uint16)
    return np.stack([i, 255 - i, (i * 3) % 256]).astype(np.uint16)


# name -> (tifffile.imwrite arguments, stored array)
H, W = 150, 170  # not a multiple of the 64-pixel tiles: edge tiles are cut
SYNTHETIC = {
    'palette-16bit-map': dict(data=pattern(H, W)[..., 0], photometric='palette', colormap=sixteen_bit_map()),
    'palette-8bit-values': dict(data=pattern(H, W)[..., 0], photometric='palette', colormap=eight_bit_values_map()),
    'miniswhite-8': dict(data=pattern(H, W)[..., 0], photometric='miniswhite'),
    # Whole tiles only: libtiff's RGBA path (OpenSlide's) misplaces 16-bit grey in cut edge tiles.
    'miniswhite-16': dict(data=pattern(128, 192, dtype=np.uint16)[..., 0], photometric='miniswhite'),
    'cmyk': dict(data=pattern(H, W, 4), photometric='separated'),
}


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp('photometric')
    paths = {}
    for name, kwargs in SYNTHETIC.items():
        path = folder / f'{name}.tif'
        tifffile.imwrite(path, tile=(64, 64), compression='zlib', metadata=None, **kwargs)
        paths[name] = path
    return paths


@pytest.mark.parametrize('name', SYNTHETIC)
def test_converted_pixels_equal_openslide(cli, synthetic, name):
    path = synthetic[name]
    osr = openslide.OpenSlide(str(path))
    theirs = np.asarray(osr.read_region((0, 0), 0, osr.dimensions))
    assert (theirs[..., 3] == 255).all()
    theirs = theirs[..., :3]
    ours = cli.read(path, '--level', 0)
    info = cli.info(path)['levels'][0]
    assert (info['samples'], info['dtype']) == (ours.shape[-1], str(ours.dtype))
    if name.startswith('miniswhite'):
        assert ours.shape[-1] == 1  # grey stays one sample, in the stored type
        if ours.dtype == np.uint16:
            ours = (ours >> 8).astype(np.uint8)  # OpenSlide keeps the high byte of 16-bit grey
        ours = np.repeat(ours, 3, axis=-1)
    else:
        assert (info['samples'], info['dtype']) == (3, 'uint8')
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs), f'{name}: max |diff| {np.abs(ours.astype(int) - theirs).max()}'
    # Regions that cut tiles give the same pixels as the level.
    region = cli.read(path, '--level', 0, '--region', '30,41,100,70')
    full = cli.read(path, '--level', 0)
    assert np.array_equal(region, full[41:111, 30:130])


@pytest.mark.parametrize('name', SYNTHETIC)
def test_properties_of_made_files_equal_openslide(cli, synthetic, name):
    path = synthetic[name]
    osr = openslide.OpenSlide(str(path))
    ours = cli.info(path)['properties']
    for key, value in osr.properties.items():
        assert ours.get(key) == value, f'{key}: OpenSlide {value!r}, tilestream {ours.get(key)!r}'


@pytest.mark.parametrize('name', SYNTHETIC)
def test_stored_samples_are_the_file_values(cli, synthetic, name):
    path = synthetic[name]
    stored = cli.read(path, '--level', 0, '--stored-samples')
    want = SYNTHETIC[name]['data']
    if want.ndim == 2:
        want = want[..., np.newaxis]
    assert stored.dtype == want.dtype and np.array_equal(stored, want)
    info = json.loads(cli.check('info', path, '--json', '--stored-samples').stdout)
    assert info['stored_samples'] is True
    assert info['levels'][0]['samples'] == want.shape[-1]


def test_convert_expands_palettes_unless_stored_samples_are_asked(cli, synthetic, tmp_path):
    zarr = pytest.importorskip('zarr')
    path = synthetic['palette-16bit-map']
    rgb = cli.read(path, '--level', 0)
    for options, want in (((), rgb), (('--stored-samples',), SYNTHETIC['palette-16bit-map']['data'][..., None])):
        out = tmp_path / f'out{len(options)}.zarr'
        cli.check('convert', path, out, *options)
        got = np.asarray(zarr.open_group(str(out), mode='r')['0'])
        assert got.shape == want.shape and np.array_equal(got, want), options


def test_unconverted_photometric_is_refused_with_a_clear_error(cli, tmp_path):
    path = tmp_path / 'ycbcr-raw.tif'
    tifffile.imwrite(path, pattern(64, 64, 3), photometric='ycbcr', subsampling=(1, 1), tile=(32, 32),
                     metadata=None)
    result = cli.run('read', path, '--level', '0', '-o', tmp_path / 'x.npy')
    assert result.returncode != 0
    for piece in (str(path), 'IFD 0', 'PhotometricInterpretation 6 (YCbCr)', 'stored_samples'):
        assert piece in result.stderr, result.stderr
    stored = cli.read(path, '--level', 0, '--stored-samples')
    assert np.array_equal(stored, pattern(64, 64, 3))


def test_mixed_sample_formats_are_refused(cli, tmp_path):
    path = tmp_path / 'mixed.tif'
    # tifffile writes one SampleFormat per sample (2, 2, 2 for int8); the values are then patched.
    tifffile.imwrite(path, pattern(32, 32, 3).astype(np.int8), photometric='rgb', metadata=None)
    with tifffile.TiffFile(path) as tf:
        tag = tf.pages[0].tags[339]
        assert tag.count == 3 and tf.byteorder == '<'
        at = tag.valueoffset
    data = bytearray(path.read_bytes())
    data[at:at + 6] = np.array([1, 3, 1], '<u2').tobytes()
    path.write_bytes(bytes(data))  # (tifffile itself cannot read the result back: it refuses mixed formats too)
    result = cli.run('read', path, '--level', '0', '-o', tmp_path / 'x.npy')
    assert result.returncode != 0
    assert 'different SampleFormat (1, 3, 1)' in result.stderr and str(path) in result.stderr, result.stderr


@pytest.mark.parametrize('options', [['--aperio'], ['--compression', 'deflate'], ['--compression', 'none', '--levels', '1']],
                         ids=['aperio-jpeg', 'generic-deflate', 'generic-one-level'])
def test_properties_of_synthetic_slides_equal_openslide(cli, tmp_path, options):
    path = tmp_path / ('synth.svs' if '--aperio' in options else 'synth.tif')
    cli.check('synth', path, '--size', '1500x1100', '--tile', '256', *options)
    osr = openslide.OpenSlide(str(path))
    ours = cli.info(path)['properties']
    # The one-level raw slide's tiles hold more than 5 MiB: neither hashes it.
    assert ('openslide.quickhash-1' in osr.properties) == ('one' not in path.name and '--levels' not in options)
    assert ('openslide.quickhash-1' in ours) == ('openslide.quickhash-1' in osr.properties)
    for key, value in osr.properties.items():
        assert ours.get(key) == value, f'{key}: OpenSlide {value!r}, tilestream {ours.get(key)!r}'
