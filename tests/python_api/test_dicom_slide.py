# DICOM WSI series (issue 15, item 3) through the Python API: series written by tests/python/dicom_writer.py
# (checked against OpenSlide 4 and wsidicom in tests/python/test_dicom_writer.py) read by tilestream.open
# equal to the pixels written at every level and in regions across tile borders, and tilestream.OpenSlide
# against openslide.OpenSlide call for call where OpenSlide opens the series: geometry, properties,
# read_region as PIL RGBA (regions across tile borders on level 0, whole levels from (0, 0)) and the
# associated images. Missing TILED_SPARSE tiles are transparent black in both (RGBA 0, 0, 0, 0).
import numpy as np
import pytest

import tilestream
from dicom_writer import Variant, write_series
from tilestream_cli import assert_pixels, content

openslide = pytest.importorskip('openslide')

LEVEL_SHAPES = [(300, 333), (150, 167), (75, 84)]  # (height, width), a 2x pyramid not of whole tiles
ASSOCIATED_SHAPES = {'label': (40, 60), 'macro': (50, 120), 'thumbnail': (60, 66)}


def case(name, variant, samples=3, dtype='uint8', openslide_opens=True):
    return pytest.param(dict(variant=variant, samples=samples, dtype=dtype, openslide_opens=openslide_opens), id=name)


CASES = [
    case('explicit-rgb', Variant()),
    case('implicit-grey16', Variant('implicit', 'MONOCHROME2'), samples=1, dtype='uint16', openslide_opens=False),
    case('jpeg-ybr422', Variant('jpeg', 'YBR_FULL_422')),
    case('j2k-ybr-rct-extended', Variant('j2k', 'YBR_RCT', offset_table='extended')),
    case('sparse-jpeg-no-bot', Variant('jpeg', 'YBR_FULL_422', sparse=True, offset_table='empty', seed=3)),
    case('concatenation-full', Variant(tile=(96, 48), concatenation=2)),
]


@pytest.fixture(scope='module')
def series_of(tmp_path_factory):
    made = {}

    def make(spec):
        key = repr(spec['variant']) + spec['dtype'] + str(spec['samples'])
        if key not in made:
            levels = [content(h, w, spec['samples'], spec['dtype'], seed=k) for k, (h, w) in enumerate(LEVEL_SHAPES)]
            associated = {name: content(h, w, spec['samples'], spec['dtype'], seed=10 + k)
                          for k, (name, (h, w)) in enumerate(ASSOCIATED_SHAPES.items())}
            made[key] = write_series(tmp_path_factory.mktemp('dicom'), levels, spec['variant'], associated)
        return made[key]
    return make


def missing_mask(series, level):
    columns, rows = series.variant.tile
    mask = np.zeros(series.levels[level].expected.shape[:2], bool)
    for column, row in series.levels[level].missing:
        mask[row * rows:(row + 1) * rows, column * columns:(column + 1) * columns] = True
    return mask


def regions(width, height, tile):
    """(x, y, w, h) in level pixels: across tile borders, at the right and bottom edges, partly outside."""
    columns, rows = tile
    return [(columns - 7, rows - 5, columns + 14, rows + 9), (width - 50, 3, 50, 2 * rows + 1),
            (1, height - 30, width - 2, 30), (width - 20, height - 10, 40, 30)]


@pytest.mark.parametrize('spec', CASES)
def test_open_reads_the_pixels_written(series_of, spec):
    series = series_of(spec)
    with tilestream.open(series.levels[0].files[0].path) as s:
        assert list(s.level_dimensions) == [(w, h) for h, w in LEVEL_SHAPES]
        assert s.properties['openslide.vendor'] == 'dicom'
        for k, (height, width) in enumerate(LEVEL_SHAPES):
            expected = series.levels[k].expected
            assert_pixels(s.read_region((0, 0), k, (width, height)), expected, 0, f'level {k}')
        downsample = s.level_downsamples[0]
        for x, y, w, h in regions(LEVEL_SHAPES[0][1], LEVEL_SHAPES[0][0], spec['variant'].tile):
            got = s.read_region((int(x * downsample), int(y * downsample)), 0, (w, h))
            inside = series.levels[0].expected[y:y + h, x:x + w]
            assert not got[inside.shape[0]:].any() and not got[:, inside.shape[1]:].any()
            assert_pixels(got[:inside.shape[0], :inside.shape[1]], inside, 0, f'level 0 region {(x, y, w, h)}')
        for name, (_, expected) in series.associated.items():
            assert_pixels(np.asarray(s.associated_images[name]), expected, 0, name)


@pytest.mark.parametrize('spec', [c for c in CASES if c.values[0]['openslide_opens']])
def test_the_shim_is_openslide(series_of, spec):
    series = series_of(spec)
    path = str(series.levels[0].files[0].path)
    osr = openslide.OpenSlide(path)
    with tilestream.OpenSlide(path) as shim:
        assert shim.level_count == osr.level_count
        assert shim.dimensions == osr.dimensions
        assert shim.level_dimensions == osr.level_dimensions
        assert shim.level_downsamples == pytest.approx(osr.level_downsamples, rel=1e-12)
        ours, theirs = dict(shim.properties), dict(osr.properties)
        shared = [key for key in ours if key.startswith('dicom.') or key in theirs]
        differing = {key: (ours[key], theirs.get(key)) for key in shared if ours[key] != theirs.get(key)}
        assert not differing, differing
        for key in ('openslide.vendor', 'openslide.mpp-x', 'openslide.mpp-y', 'dicom.SeriesInstanceUID',
                    'dicom.SOPInstanceUID', 'dicom.ImageType[2]', 'dicom.TotalPixelMatrixColumns'):
            assert ours.get(key) == theirs[key], key
        checks = [(k, (0, 0) + tuple(osr.level_dimensions[k])) for k in range(osr.level_count)]
        checks += [(0, region) for region in regions(*osr.dimensions, spec['variant'].tile)]
        for level, (x, y, w, h) in checks:
            a = np.asarray(shim.read_region((x, y), level, (w, h)))
            b = np.asarray(osr.read_region((x, y), level, (w, h)))
            assert a.shape == b.shape, (level, x, y)
            assert_pixels(a, b, 0, f'level {level} {(x, y, w, h)} RGBA')
            missing = missing_mask(series, level)[y:y + h, x:x + w]
            assert not a[:missing.shape[0], :missing.shape[1]][missing].any(), \
                f'level {level} {(x, y, w, h)}: a missing tile is not transparent'
        assert set(shim.associated_images) == set(osr.associated_images)
        for name, theirs_image in osr.associated_images.items():
            ours_image = shim.associated_images[name]
            assert ours_image.mode == theirs_image.mode and ours_image.size == theirs_image.size, name
            assert np.array_equal(np.asarray(ours_image), np.asarray(theirs_image)), name


def test_open_takes_the_list_of_files(series_of, tmp_path):
    """tilestream.open([paths]) reads exactly those files: here level 0 and the label only, though their
    folder holds the whole series; a list of one file opens that file's series as a path does."""
    series = series_of(CASES[0].values[0])
    level0 = [str(i.path) for i in series.levels[0].files]
    label = str(series.associated['label'][0].path)
    with tilestream.open(level0 + [label]) as s:
        assert list(s.level_dimensions) == [(LEVEL_SHAPES[0][1], LEVEL_SHAPES[0][0])]
        assert list(s.associated_images) == ['label']
        assert_pixels(s.read_region((0, 0), 0, s.level_dimensions[0]), series.levels[0].expected, 0, 'level 0')
    with tilestream.open(level0[:1]) as s:
        assert len(s.level_dimensions) == len(LEVEL_SHAPES)
    (tmp_path / 'notes.txt').write_bytes(b'x' * 300)
    with pytest.raises(tilestream.FormatError, match='notes.txt: not a DICOM file'):
        tilestream.open(level0 + [str(tmp_path / 'notes.txt')])
