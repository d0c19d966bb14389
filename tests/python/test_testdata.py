# Acceptance against the shared real slides (../shared/testdata): every level and associated image
# equals tifffile's decoding of the same IFD (NDPI's levels made by DCT scaling: OpenSlide's pixels),
# regions equal OpenSlide's read_region, properties agree with OpenSlide's, thread count does not
# change pixels, and .png output equals .npy output.
import math

import imagecodecs
import numpy as np
import pytest
import tifffile

from conftest import TESTDATA
from tilestream_cli import as_hws, assert_pixels, max_abs_diff, open_openslide, reference_at, tolerance_for

SLIDE_SUFFIXES = {'.tif', '.tiff', '.svs', '.ndpi'}
SLIDES = sorted(p.relative_to(TESTDATA).as_posix() for p in TESTDATA.rglob('*')
                if p.suffix.lower() in SLIDE_SUFFIXES) if TESTDATA.is_dir() else []
# Without the folder, one placeholder case per test reports the skip instead of vanishing silently.
slide_params = pytest.mark.parametrize('slide', SLIDES or ['(testdata absent)'])

# Files OpenSlide is expected to open; the others are tried too and skip with OpenSlide's message.
OPENSLIDE_TOLERANCE = 2


def slide_path(testdata, slide):
    return testdata / slide


def test_testdata_has_the_documented_slides(testdata):
    expected = {
        'aperio/CMU-1-Small-Region.svs', 'hamamatsu/test3-DAPI-2-387.ndpi', 'ome/4D-series.ome.tiff',
        'derived/cmu1-pyramid-jpeg-bigtiff.tif', 'derived/cmu1-pyramid-deflate-pred.tif',
        'derived/cmu1-pyramid-lzw.tif', 'derived/cmu1-bigendian-zip-pred-128.tif',
        'derived/cmu1-crop-strips-lzw.tif', 'derived/cmu1-crop-tiled-raw.tif',
    }
    assert expected <= set(SLIDES)


@slide_params
def test_info_matches_tifffile_ifds(cli, testdata, slide):
    path = slide_path(testdata, slide)
    info = cli.info(path)
    assert info['levels'], 'no levels'
    with tifffile.TiffFile(path) as tf:
        assert info['big_tiff'] == tf.is_bigtiff
        assert info['byte_order'] == ('big-endian' if tf.byteorder == '>' else 'little-endian')
        for image in info['levels'] + info['associated']:
            tf.filehandle.seek(image['ifd_offset'])
            page = tifffile.TiffPage(tf, index=0)
            scale = image.get('jpeg_scale_denom', 1)  # NDPI: OpenSlide's levels made by DCT scaling
            assert (image['width'], image['height']) == (page.imagewidth // scale, page.imagelength // scale), image['ifd']
            assert image['samples'] == page.samplesperpixel, image['ifd']
            assert image['compression'] == int(page.compression), image['ifd']
            assert image['dtype'] == str(page.dtype), image['ifd']
            assert image['readable'], f"{image['ifd']}: {image['unsupported_reason']}"
    for i, level in enumerate(info['levels']):
        assert level['level'] == i
        if i > 0:
            prev = info['levels'][i - 1]
            assert level['width'] < prev['width'] and level['height'] < prev['height']


@slide_params
def test_every_image_matches_tifffile(cli, testdata, slide):
    path = slide_path(testdata, slide)
    info = cli.info(path)
    images = [(('--level', lv['level']), lv) for lv in info['levels']]
    images += [(('--associated', a['name']), a) for a in info['associated']]
    failures = []
    for options, image in images:
        what = f"{slide} {' '.join(map(str, options))} ({image['compression_name']})"
        try:
            if image.get('jpeg_scale_denom', 1) != 1:
                # NDPI's levels made by DCT scaling: no IFD holds them; OpenSlide's (the same libjpeg-turbo).
                osr = open_openslide(path)
                want = np.asarray(osr.read_region((0, 0), image['level'], (image['width'], image['height'])))[..., :3]
                assert_pixels(cli.read(path, *options), want, 0, what)
                continue
            assert_pixels(cli.read(path, *options), reference_at(path, image['ifd_offset']),
                          tolerance_for(image['compression_name']), what)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, '\n'.join(failures)


# Regions as functions of (level width, level height, tile width, tile height), clipped to the level.
REGIONS = {
    'inside-one-tile': lambda w, h, tw, th: (min(10, w - 1), min(12, h - 1), 40, 30),
    'crossing-tiles': lambda w, h, tw, th: (tw - 37, th - 21, 100, 80),
    'several-tiles': lambda w, h, tw, th: (tw + 3, 2 * th - 7, 2 * tw + 11, th + 5),
    'right-edge': lambda w, h, tw, th: (w - 90, th + 5, 90, 70),
    'bottom-edge': lambda w, h, tw, th: (tw // 2, h - 60, 130, 60),
    'bottom-right-corner': lambda w, h, tw, th: (w - 50, h - 40, 50, 40),
    'whole-level': lambda w, h, tw, th: (0, 0, w, h),
}


def clip_region(region, width, height):
    x, y, w, h = region
    x = max(0, min(x, width - 1))
    y = max(0, min(y, height - 1))
    return x, y, max(1, min(w, width - x)), max(1, min(h, height - y))


@slide_params
def test_regions_match_openslide(cli, testdata, slide):
    path = slide_path(testdata, slide)
    osr = open_openslide(path)
    info = cli.info(path)
    failures = []
    compared = 0
    for level in info['levels']:
        index, width, height = level['level'], level['width'], level['height']
        if index >= osr.level_count or osr.level_dimensions[index] != (width, height):
            failures.append(f'level {index}: OpenSlide has {osr.level_dimensions[index:index + 1]}, we {width}x{height}')
            continue
        downsample = osr.level_downsamples[index]
        # read_region takes level-0 coordinates; with a non-integer downsample OpenSlide resamples
        # any offset that is not 0, so such levels are compared from the origin only.
        exact = downsample == int(downsample)
        tw, th = min(level['tile_width'], width), min(level['tile_height'], height)
        for name, make in REGIONS.items():
            x, y, w, h = clip_region(make(width, height, tw, th), width, height)
            if not exact and (x, y) != (0, 0):
                continue
            if name == 'whole-level' and width * height > 1200 * 1200:
                continue
            ours = cli.read_level(path, index, region=(x, y, w, h))
            rgba = np.asarray(osr.read_region((round(x * downsample), round(y * downsample)), index, (w, h)))
            opaque = rgba[..., 3] == 255
            if not opaque.all():
                failures.append(f'level {index} {name} {(x, y, w, h)}: OpenSlide left {(~opaque).sum()} pixels '
                                'transparent inside the level')
            ref = rgba[..., :3]
            if ours.shape[-1] == 1:
                ours = np.repeat(ours, 3, axis=-1)
            if ours.shape != ref.shape:
                failures.append(f'level {index} {name}: shape {ours.shape}, OpenSlide {ref.shape}')
                continue
            diff = max_abs_diff(ours[opaque], ref[opaque])
            compared += 1
            if diff > OPENSLIDE_TOLERANCE:
                failures.append(f'level {index} {name} {(x, y, w, h)}: max |diff| {diff} > {OPENSLIDE_TOLERANCE}')
    assert compared > 0
    assert not failures, f'{slide}:\n' + '\n'.join(failures)


@slide_params
def test_properties_match_openslide(cli, testdata, slide):
    path = slide_path(testdata, slide)
    osr = open_openslide(path)
    ours = cli.info(path)
    props = ours['properties']
    theirs = osr.properties
    assert props['openslide.vendor'] == theirs['openslide.vendor']
    for key in ('openslide.mpp-x', 'openslide.mpp-y', 'openslide.objective-power'):
        if key in theirs:
            assert key in props, f'{key} missing (OpenSlide: {theirs[key]})'
            assert math.isclose(float(props[key]), float(theirs[key]), rel_tol=1e-6), key
        else:
            assert key not in props, f'{key}={props[key]}, OpenSlide has none'
    ours_dims = [(lv['width'], lv['height']) for lv in ours['levels']]
    ours_downsamples = [lv['downsample'] for lv in ours['levels']]
    assert int(props['openslide.level-count']) == len(ours_dims)
    assert osr.level_count == len(ours_dims)  # NDPI: OpenSlide's levels made by DCT scaling too
    assert list(osr.level_dimensions) == ours_dims
    theirs_downsamples = osr.level_downsamples
    for i, (a, b) in enumerate(zip(ours_downsamples, theirs_downsamples)):
        assert math.isclose(a, b, rel_tol=1e-9), f'level {i}: downsample {a}, OpenSlide {b}'
    assert sorted(a['name'] for a in ours['associated']) >= sorted(osr.associated_images)


@slide_params
def test_associated_images_match_openslide(cli, testdata, slide):
    path = slide_path(testdata, slide)
    osr = open_openslide(path)
    if not osr.associated_images:
        pytest.skip(f'OpenSlide lists no associated images in {slide}')
    for name, image in osr.associated_images.items():
        ref = np.asarray(image.convert('RGB'))
        ours = cli.read(path, '--associated', name)
        if ours.shape[-1] == 1:
            ours = np.repeat(ours, 3, axis=-1)
        assert ours.shape == ref.shape, name
        assert max_abs_diff(ours, ref) <= OPENSLIDE_TOLERANCE, name


@slide_params
@pytest.mark.parametrize('region', [None, (100, 150, 517, 333)], ids=['level0', 'region'])
def test_thread_count_does_not_change_pixels(cli, testdata, slide, region):
    path = slide_path(testdata, slide)
    if region is not None:
        level = cli.info(path)['levels'][0]
        region = clip_region(region, level['width'], level['height'])
    one = cli.read_level(path, 0, region=region, threads=1)
    four = cli.read_level(path, 0, region=region, threads=4)
    assert one.shape == four.shape
    assert np.array_equal(one, four)


@slide_params
def test_png_output_equals_npy(cli, testdata, tmp_path, slide):
    path = slide_path(testdata, slide)
    info = cli.info(path)
    if info['levels'][0]['dtype'].startswith('int'):
        result = cli.run('read', path, '-o', tmp_path / 'signed.png')
        assert result.returncode == 2 and 'PNG cannot hold signed samples' in result.stderr, result.stderr
        return
    options = ('--level', len(info['levels']) - 1)
    npy = cli.read(path, *options)
    png = imagecodecs.png_decode(cli.read(path, *options, suffix='.png'))
    assert_pixels(as_hws(png), npy, 0, f'{slide} png vs npy')
