# DICOM WSI series (issue 15, item 3) through the tilestream CLI, against the reference readers: every
# variant of test_dicom_writer.VARIANTS (written by dicom_writer.py, which that file checks against
# OpenSlide 4 and wsidicom alone) opened by its first file, by another file and by its folder. `info`
# lists the levels, tile sizes and associated images written, openslide.vendor and MPP, a minimum set of
# dicom.* properties with the files' values, and every property tilestream prints that OpenSlide has
# equals OpenSlide's text. `read` of every level, of regions across tile borders and of each associated
# image equals the pixels written (lossy syntaxes: the frames as imagecodecs decodes them), OpenSlide's
# RGB (alpha dropped: missing TILED_SPARSE tiles read as zeros) where OpenSlide opens the variant, and
# wsidicom's where it does (outside missing tiles, which wsidicom paints white; not with several optical
# paths, which it orders by chance). A level of several focal planes or optical paths reads its first
# plane of its first path. `convert --ome` and a plain Zarr v2 conversion read back by zarr-python
# equal the levels. A wsidicomizer conversion of the shared Aperio slide reads as OpenSlide reads it.
# Broken files (a frame missing, a frame offset past the end, PixelData cut) fail in one line naming the
# file and the frame; a folder of two series is refused, and a file of either opens its own series.
import re

import numpy as np
import pydicom
import pytest

from dicom_writer import Variant, drop_last_frame, set_frame_offset, truncate, write_series
from test_dicom_writer import (ASSOCIATED_SHAPES, LEVEL_SHAPES, VARIANTS, first_file, make_series, missing_mask,
                               openslide_rgb, wsidicom_associated, wsidicom_level, wsidicom_open)
from test_dicom_writer import series_of  # noqa: F401 (the fixture: each variant's series, written once)
from tilestream_cli import assert_pixels, content, mean_2x2

openslide = pytest.importorskip('openslide')
wsidicom = pytest.importorskip('wsidicom')

# Properties tilestream must print, whatever OpenSlide does with the variant: key -> the level-0
# dataset's value as OpenSlide writes it.
REQUIRED_PROPERTIES = {
    'dicom.ImageType[0]': lambda ds: ds.ImageType[0],
    'dicom.ImageType[1]': lambda ds: ds.ImageType[1],
    'dicom.ImageType[2]': lambda ds: ds.ImageType[2],
    'dicom.ImageType[3]': lambda ds: ds.ImageType[3],
    'dicom.SOPInstanceUID': lambda ds: ds.SOPInstanceUID,
    'dicom.SeriesInstanceUID': lambda ds: ds.SeriesInstanceUID,
    'dicom.TotalPixelMatrixColumns': lambda ds: str(ds.TotalPixelMatrixColumns),
    'dicom.TotalPixelMatrixRows': lambda ds: str(ds.TotalPixelMatrixRows),
    'dicom.Manufacturer': lambda ds: ds.Manufacturer,
    'dicom.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[0]':
        lambda ds: str(ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[0]),
    'dicom.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[1]':
        lambda ds: str(ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[1]),
}


def spec_param(spec):
    return spec.values[0]


# The variants tilestream reads whatever the build: HTJ2K depends on the OpenJPEG version
# (test_high_throughput_jpeg2000 below).
READ_VARIANTS = [v for v in VARIANTS if spec_param(v)['variant'].syntax != 'htj2k']
HTJ2K_VARIANTS = [v for v in VARIANTS if spec_param(v)['variant'].syntax == 'htj2k']


def opens_in_openslide(spec):
    return not spec['openslide_refuses']


def region_list(width, height, tile):
    """(x, y, w, h) in a level's pixels: across tile borders both ways, at the right and bottom edges,
    one pixel, the whole level."""
    columns, rows = tile
    cases = [(columns - 7, rows - 5, columns + 14, rows + 9), (width - 50, 3, 50, 2 * rows + 1),
             (1, height - 30, width - 2, 30), (columns, rows, 1, 1), (0, 0, width, height)]
    return [(x, y, min(w, width - x), min(h, height - y)) for x, y, w, h in cases if x < width and y < height]


# ---- info ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('spec', READ_VARIANTS)
def test_info_lists_levels_associated_images_and_properties(cli, series_of, spec):
    series, _, _ = series_of(spec)
    path = first_file(series)
    info = cli.info(path)
    assert info['vendor'] == 'dicom'
    assert [(lv['width'], lv['height']) for lv in info['levels']] == [(w, h) for h, w in LEVEL_SHAPES]
    assert {(lv['tile_width'], lv['tile_height']) for lv in info['levels']} == {spec['variant'].tile}
    assert {(lv['samples'], lv['dtype']) for lv in info['levels']} == {(spec['samples'], spec['dtype'])}
    assert {a['name']: (a['width'], a['height']) for a in info['associated']} == {
        name: (w, h) for name, (h, w) in ASSOCIATED_SHAPES.items()}
    props = info['properties']
    assert props['openslide.vendor'] == 'dicom'
    assert (props['openslide.mpp-x'], props['openslide.mpp-y']) == ('0.5', '0.25')  # PixelSpacing (0.00025, 0.0005)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    for key, value in REQUIRED_PROPERTIES.items():
        assert props.get(key) == value(ds), f'{key}: {props.get(key)!r}, the file has {value(ds)!r}'
    assert props['dicom.SeriesInstanceUID'] == series.series_instance_uid
    if opens_in_openslide(spec):
        theirs = openslide.OpenSlide(str(path)).properties
        dicom_keys = [key for key in props if key.startswith('dicom.')]
        assert len(dicom_keys) >= len(REQUIRED_PROPERTIES)
        failures = [f'{key}: OpenSlide {theirs.get(key, "(absent)")!r}, tilestream {props[key]!r}'
                    for key in sorted(props) if (key.startswith('dicom.') or key in theirs)
                    and theirs.get(key) != props[key]]
        assert not failures, '\n'.join(failures)
        levels = [(lv['width'], lv['height']) for lv in info['levels']]
        osr = openslide.OpenSlide(str(path))
        assert levels == list(osr.level_dimensions)
        assert [lv['downsample'] for lv in info['levels']] == list(osr.level_downsamples)


@pytest.mark.parametrize('spec', READ_VARIANTS)
def test_any_file_or_the_folder_opens_the_series(cli, series_of, spec):
    series, _, _ = series_of(spec)
    want = cli.info(first_file(series))
    for path in [series.folder, *series.paths()[1:]]:
        info = cli.info(path)
        assert [(lv['width'], lv['height']) for lv in info['levels']] == [(lv['width'], lv['height'])
                                                                          for lv in want['levels']], path.name
        assert [a['name'] for a in info['associated']] == [a['name'] for a in want['associated']], path.name
        assert info['properties']['dicom.SeriesInstanceUID'] == series.series_instance_uid, path.name
    assert_pixels(cli.read(series.folder, '--level', 1), series.levels[1].expected, 0, 'level 1 by the folder')


# ---- pixels ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('spec', READ_VARIANTS)
def test_every_level_equals_the_pixels_and_the_references(cli, series_of, spec):
    series, _, _ = series_of(spec)
    path = first_file(series)
    osr = openslide.OpenSlide(str(path)) if opens_in_openslide(spec) else None
    wsi = wsidicom_open(series.folder) if spec['wsidicom_levels'] else None
    for k in range(len(LEVEL_SHAPES)):
        ours = cli.read(path, '--level', k)
        assert_pixels(ours, series.levels[k].expected, 0, f'level {k} against the pixels written')
        missing = missing_mask(series, k)
        if osr is not None:
            rgb, alpha = openslide_rgb(osr, k)
            assert (alpha[missing] == 0).all() and (alpha[~missing] == 255).all()
            assert_pixels(ours, rgb, 0, f'level {k} against OpenSlide')
        if wsi is not None:
            theirs = wsidicom_level(wsi, k).astype(ours.dtype)
            assert_pixels(ours[~missing], theirs[~missing], 0, f'level {k} against wsidicom')
            assert not ours[missing].any(), f'level {k}: missing tiles read as zeros'


@pytest.mark.parametrize('spec', READ_VARIANTS)
def test_regions_across_tile_borders(cli, series_of, spec):
    series, _, _ = series_of(spec)
    path = first_file(series)
    osr = openslide.OpenSlide(str(path)) if opens_in_openslide(spec) else None
    for k, (height, width) in enumerate(LEVEL_SHAPES):
        expected = series.levels[k].expected
        for x, y, w, h in region_list(width, height, spec['variant'].tile):
            ours = cli.read(path, '--level', k, '--region', f'{x},{y},{w},{h}')
            assert_pixels(ours, expected[y:y + h, x:x + w], 0, f'level {k} region {(x, y, w, h)}')
            if osr is not None and k == 0:  # OpenSlide resamples other levels' regions (downsample 333 / 167)
                rgb, _ = openslide_rgb(osr, k, (x, y, w, h))
                assert_pixels(ours, rgb, 0, f'level {k} region {(x, y, w, h)} against OpenSlide')


@pytest.mark.parametrize('spec', READ_VARIANTS)
def test_associated_images(cli, series_of, spec):
    series, _, _ = series_of(spec)
    path = first_file(series)
    osr = openslide.OpenSlide(str(path)) if opens_in_openslide(spec) else None
    wsi = None if spec['wsidicom_refuses'] else wsidicom_open(series.folder)
    for name, (_, expected) in series.associated.items():
        ours = cli.read(path, '--associated', name)
        assert_pixels(ours, expected, 0, name)
        if osr is not None:
            rgba = np.asarray(osr.associated_images[name])
            assert_pixels(ours, rgba[..., :3], 0, f'{name} against OpenSlide')
        if wsi is not None:
            assert_pixels(ours, wsidicom_associated(wsi, name).astype(ours.dtype), 0, f'{name} against wsidicom')


# ---- conversions -----------------------------------------------------------------------------------

@pytest.mark.parametrize('spec', READ_VARIANTS)
def test_convert_ome_reads_back_in_zarr_python(cli, series_of, spec, tmp_path):
    zarr = pytest.importorskip('zarr')
    series, _, _ = series_of(spec)
    out = tmp_path / 'series.zarr'
    cli.check('convert', first_file(series), out, '--ome', '--chunk', 64)
    group = zarr.open_group(str(out), mode='r')
    for k in range(len(LEVEL_SHAPES)):
        data = np.asarray(group[str(k)][...])  # (c, y, x)
        assert_pixels(data.transpose(1, 2, 0), series.levels[k].expected, 0, f'dataset {k}')
    # The 2x pyramid goes on below the smallest level (38 x 42) by 2x2 means.
    last = np.asarray(group[str(len(LEVEL_SHAPES))][...])
    assert_pixels(last, mean_2x2(np.asarray(group[str(len(LEVEL_SHAPES) - 1)][...])), 0, 'built dataset')


V2_VARIANTS = ['explicit-rgb', 'implicit-grey16', 'jpeg-ybr422', 'j2k-lossy-ybr-ict', 'sparse-jpeg-no-bot',
               'concatenation-full', 'focal-planes-2']


@pytest.mark.parametrize('spec', [v for v in READ_VARIANTS if spec_param(v)['name'] in V2_VARIANTS])
def test_convert_zarr_v2_reads_back_in_zarr_python(cli, series_of, spec, tmp_path):
    zarr = pytest.importorskip('zarr')
    series, _, _ = series_of(spec)
    out = tmp_path / 'series-v2.zarr'
    cli.check('convert', series.folder, out, '--zarr-version', 2, '--chunk', 100)
    assert (out / '0' / '.zarray').is_file()
    group = zarr.open_group(str(out), mode='r')
    for k in range(len(LEVEL_SHAPES)):
        assert_pixels(np.asarray(group[str(k)][...]), series.levels[k].expected, 0, f'array {k}')  # (y, x, c)


# ---- a wsidicomizer conversion of a real slide ----------------------------------------------------

@pytest.fixture(scope='module')
def dicomized(testdata, tmp_path_factory):
    """CMU-1-Small-Region.svs as wsidicomizer converts it (its JPEG tiles kept as RGB frames; the label
    re-encoded as YBR_FULL_422). Only its own level: the levels wsidicomizer adds with
    add_missing_levels=True have edge frames not padded to the tile (240 x 120 in 240 x 240 tiles), which
    OpenSlide refuses ("Dimensional mismatch reading JPEG")."""
    wsidicomizer = pytest.importorskip('wsidicomizer')
    source = testdata / 'aperio' / 'CMU-1-Small-Region.svs'
    if not source.is_file():
        pytest.skip(f'{source.name} is not in the shared test slides')
    folder = tmp_path_factory.mktemp('dicomized')
    files = wsidicomizer.WsiDicomizer.convert(source, folder, workers=1)
    assert len(files) == 4  # the level, label, overview, thumbnail
    return source, folder


def test_wsidicomizer_conversion_reads_as_openslide(cli, dicomized):
    source, folder = dicomized
    path = sorted(folder.iterdir())[0]
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    assert [(lv['width'], lv['height']) for lv in info['levels']] == list(osr.level_dimensions)
    assert {a['name']: (a['width'], a['height']) for a in info['associated']} == {
        name: image.size for name, image in osr.associated_images.items()}
    props = info['properties']
    for key, value in osr.properties.items():
        if key.startswith('dicom.') and key in props:
            assert props[key] == value, f'{key}: OpenSlide {value!r}, tilestream {props[key]!r}'
    assert props['openslide.mpp-x'] == osr.properties['openslide.mpp-x']
    wsi = wsidicom_open(folder)
    for k in range(osr.level_count):
        ours = cli.read(folder, '--level', k)
        rgb, alpha = openslide_rgb(osr, k)
        assert (alpha == 255).all()
        assert_pixels(ours, rgb, 0, f'level {k} against OpenSlide')
        assert_pixels(ours, wsidicom_level(wsi, k), 0, f'level {k} against wsidicom')
    # The Aperio slide's pixels are the DICOM frames' (the JPEG tiles were kept as they were).
    aperio = openslide.OpenSlide(str(source))
    assert_pixels(cli.read(path, '--level', 0), openslide_rgb(aperio, 0)[0], 0, 'level 0 against the SVS')
    for name, image in osr.associated_images.items():
        assert_pixels(cli.read(path, '--associated', name), np.asarray(image)[..., :3], 0, name)


# ---- broken files ----------------------------------------------------------------------------------
# The references on the same damage: a frame missing, OpenSlide 4.0.1 "libdicom Parse error: reading
# BasicOffsetTable failed - too few frames in PixelData" (or "BasicOffsetTable too large"; native: "libdicom
# IO error: end of filehandle"), wsidicom "ImageData contained less frames 29 than NumberOfFrames 30"; a
# frame offset past the end (Basic or Extended Offset Table), OpenSlide crashes (SIGSEGV) reading that tile,
# wsidicom "Invalid frame length";
# PixelData cut, OpenSlide "end of filehandle", wsidicom EOFError.

def one_line_error(cli, broken, *args):
    """The one-line error of a run that must fail over `broken`, naming it; returned without the file's
    folder (the test's temporary folder is named after the test) for the caller's word checks."""
    result = cli.run(*args)
    assert result.returncode != 0, f'{args}: no error'
    message = result.stderr.strip()
    assert message and '\n' not in message, message
    assert 'Traceback' not in message, message
    assert broken.name in message, message
    return message.replace(str(broken.parent), '')


def says(message, *words):
    """Whether `message` holds one of `words` as a word (not 'tile' in 'tilestream')."""
    return re.search(r'\b(' + '|'.join(words) + r')s?\b', message, re.IGNORECASE) is not None


def broken_series(tmp_path, variant):
    """A fresh series of the variant; its level-0 file, to break."""
    series, _, _ = make_series(tmp_path / 'series', {'variant': variant, 'samples': 3, 'dtype': 'uint8'})
    return series.levels[0].files[0].path


BROKEN_VARIANTS = [pytest.param(Variant(), id='explicit'), pytest.param(Variant('implicit'), id='implicit'),
                   pytest.param(Variant('jpeg', 'YBR_FULL_422'), id='jpeg-bot'),
                   pytest.param(Variant('jpeg', 'YBR_FULL_422', offset_table='empty'), id='jpeg-no-bot'),
                   pytest.param(Variant('j2k', 'YBR_RCT', offset_table='extended'), id='j2k-extended')]


@pytest.mark.parametrize('variant', BROKEN_VARIANTS)
def test_a_level_file_lacking_its_last_frame(cli, tmp_path, variant):
    """NumberOfFrames counts a frame whose bytes are gone: one fragment fewer, or native PixelData one
    frame short."""
    level0 = broken_series(tmp_path, variant)
    drop_last_frame(level0, variant)
    message = one_line_error(cli, level0, 'read', level0, '--level', 0, '-o', tmp_path / 'out.npy')
    assert says(message, 'frame', 'tile'), message


@pytest.mark.parametrize('variant', [pytest.param(Variant('jpeg', 'YBR_FULL_422'), id='basic-offset-table'),
                                     pytest.param(Variant('j2k', 'YBR_RCT', offset_table='extended'),
                                                  id='extended-offset-table')])
def test_a_frame_offset_past_the_end(cli, tmp_path, variant):
    level0 = broken_series(tmp_path, variant)
    set_frame_offset(level0, 3, level0.stat().st_size + 4096)
    message = one_line_error(cli, level0, 'read', level0, '--level', 0, '-o', tmp_path / 'out.npy')
    assert says(message, 'frame', 'tile'), message


@pytest.mark.parametrize('variant', BROKEN_VARIANTS)
def test_a_file_whose_pixel_data_is_cut(cli, tmp_path, variant):
    level0 = broken_series(tmp_path, variant)
    size = level0.stat().st_size
    truncate(level0, size - size // 5)  # well inside PixelData: the frames are most of the file
    message = one_line_error(cli, level0, 'read', level0, '--level', 0, '-o', tmp_path / 'out.npy')
    assert says(message, 'frame', 'tile', 'PixelData'), message


# ---- two series in one folder ----------------------------------------------------------------------

@pytest.fixture(scope='module')
def two_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp('pair')  # a name without the word checked for
    a = write_series(folder, [content(200, 260, 3, 'uint8', seed=21), content(100, 130, 3, 'uint8', seed=22)],
                     Variant('jpeg', 'YBR_FULL_422'), {'label': content(30, 40, 3, 'uint8', seed=23)}, prefix='a-')
    b = write_series(folder, [content(180, 150, 3, 'uint8', seed=31)], Variant(tile=(32, 32)),
                     {'macro': content(20, 50, 3, 'uint8', seed=32)}, prefix='b-')
    return folder, a, b


def test_a_file_opens_its_own_series_beside_another(cli, two_series):
    _, a, b = two_series
    for series, path in [(a, a.levels[1].files[0].path), (b, b.levels[0].files[0].path), (a, a.folder / 'a-label.dcm')]:
        info = cli.info(path)
        assert info['properties']['dicom.SeriesInstanceUID'] == series.series_instance_uid, path.name
        assert [(lv['height'], lv['width']) for lv in info['levels']] == [lv.expected.shape[:2] for lv in series.levels]
        assert [x['name'] for x in info['associated']] == list(series.associated), path.name
        osr = openslide.OpenSlide(str(path))  # OpenSlide too takes the series of the file it is given
        assert osr.properties['dicom.SeriesInstanceUID'] == series.series_instance_uid
        for k, level in enumerate(series.levels):
            assert_pixels(cli.read(path, '--level', k), level.expected, 0, f'{path.name} level {k}')


def test_a_folder_of_two_series_is_refused(cli, two_series):
    folder, a, b = two_series
    message = one_line_error(cli, folder, 'info', folder)
    assert says(message, 'series'), message


@pytest.mark.parametrize('spec', HTJ2K_VARIANTS)
def test_high_throughput_jpeg2000(cli, series_of, spec):
    """HTJ2K frames are read where the build's OpenJPEG decodes them correctly (2.5.4 and later), equal to
    the pixels written; with an older one (Debian 12's 2.5.0 returns some frames flat grey without an
    error) the levels are listed with the reason and reading one fails in one line naming it."""
    series, _, _ = series_of(spec)
    level0 = first_file(series)
    info = cli.info(level0)
    reason = info['levels'][0]['unsupported_reason']
    if reason:
        assert 'needs OpenJPEG 2.5.4 or later' in reason and '1.2.840.10008.1.2.4.201' in reason, reason
        r = cli.run('read', level0, '--level', 0, '-o', str(level0) + '.npy')
        assert r.returncode != 0 and r.stderr.count('\n') == 1, r.stderr
        assert 'needs OpenJPEG 2.5.4 or later' in r.stderr and level0.name in r.stderr, r.stderr
        return
    for k, level in enumerate(series.levels):
        assert_pixels(cli.read(level0, '--level', k), level.expected, 0, f'level {k}')

