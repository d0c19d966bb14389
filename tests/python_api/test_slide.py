# tilestream.open / Slide against the references on every shared slide: levels and associated images
# equal tifffile's decoding of the same IFD (lossless exactly, JPEG within 2; NDPI's levels made by DCT
# scaling: OpenSlide's, exactly), regions across tile
# borders and at edges equal the same crop of it, level-0 addressed regions equal OpenSlide's
# read_region within 2, associated images equal OpenSlide's, and the slide's geometry and properties
# agree with OpenSlide's.
import math

import numpy as np
import pytest
import tifffile

import tilestream
from conftest import slide_params
from tilestream_cli import assert_pixels, max_abs_diff, open_openslide, reference_at, tolerance_for

OPENSLIDE_TOLERANCE = 2


def level_references(path, slide):
    """Each level's tifffile reference (whole level) and the tolerance for its compression; for NDPI's
    levels made by JPEG DCT scaling (no IFD holds them), OpenSlide's pixels (libjpeg-turbo's scaling, as
    tilestream's: exactly)."""
    out = []
    with tifffile.TiffFile(path) as tf:
        pages = {(p.imagewidth, p.imagelength): p for p in reversed(list(tf.pages))}
        for level, (width, height) in enumerate(slide.level_dimensions):
            page = pages.get((width, height))
            if page is None:
                rgba = np.asarray(open_openslide(path).read_region((0, 0), level, (width, height)))
                out.append((rgba[..., :3], 0))
                continue
            out.append((reference_at(path, page.offset), tolerance_for(page.compression.name)))
    return out


@slide_params
def test_every_level_equals_tifffile(testdata, slide):
    path = testdata / slide
    with tilestream.open(path) as s:
        for level, (want, tolerance) in enumerate(level_references(path, s)):
            width, height = s.level_dimensions[level]
            got = s.read_region((0, 0), level, (width, height))
            assert_pixels(got, want, tolerance, f'{slide} level {level}')


# Regions as functions of (level width, level height, tile size), in level pixels.
REGIONS = {
    'inside-one-tile': lambda w, h, t: (min(10, w - 1), min(12, h - 1), 40, 30),
    'crossing-tiles': lambda w, h, t: (t - 37, t - 21, 100, 80),
    'several-tiles': lambda w, h, t: (t + 3, 2 * t - 7, 2 * t + 11, t + 5),
    'right-edge': lambda w, h, t: (w - 90, t + 5, 90, 70),
    'bottom-edge': lambda w, h, t: (t // 2, h - 60, 130, 60),
    'bottom-right-corner': lambda w, h, t: (w - 50, h - 40, 50, 40),
}


def clip(region, width, height):
    x, y, w, h = region
    x, y = max(0, min(x, width - 1)), max(0, min(y, height - 1))
    return x, y, max(1, min(w, width - x)), max(1, min(h, height - y))


@slide_params
def test_regions_equal_the_crop_of_tifffiles_level(testdata, slide):
    """Level-0 addressed like OpenSlide: location = level pixels x downsample for integer downsamples."""
    path = testdata / slide
    failures = []
    with tilestream.open(path) as s:
        for level, (want, tolerance) in enumerate(level_references(path, s)):
            width, height = s.level_dimensions[level]
            downsample = s.level_downsamples[level]
            if downsample != int(downsample):
                continue  # level-0 locations map to level pixels by flooring; checked at level 0 and integer levels
            with tifffile.TiffFile(path) as tf:
                # NDPI's levels made by DCT scaling have no page: their own tile
                tile = next((p.tilewidth or 256 for p in tf.pages if (p.imagewidth, p.imagelength) == (width, height)),
                            s._level_layout(level)['tile_width'])
            for name, make in REGIONS.items():
                x, y, w, h = clip(make(width, height, min(tile, width)), width, height)
                got = s.read_region((int(x * downsample), int(y * downsample)), level, (w, h))
                try:
                    assert_pixels(got, want[y:y + h, x:x + w], tolerance, f'level {level} {name} {(x, y, w, h)}')
                except AssertionError as e:
                    failures.append(str(e))
    assert not failures, f'{slide}:\n' + '\n'.join(failures)


@slide_params
def test_regions_outside_the_level_are_zero_as_openslides_are_transparent(testdata, slide):
    path = testdata / slide
    with tilestream.open(path) as s:
        want, _ = level_references(path, s)[0]
        width, height = s.dimensions
        # 30 x 20 pixels above-left of the origin, the rest inside
        got = s.read_region((-30, -20), 0, (100, 60))
        assert got.shape == (60, 100, want.shape[2])
        assert not got[:20].any() and not got[:, :30].any()
        np.testing.assert_array_equal(got[20:, 30:], s.read_region((0, 0), 0, (70, 40)))
        # past the bottom-right corner
        got = s.read_region((width - 10, height - 5), 0, (40, 30))
        assert not got[5:].any() and not got[:, 10:].any()
        np.testing.assert_array_equal(got[:5, :10], s.read_region((width - 10, height - 5), 0, (10, 5)))
        # wholly outside
        assert not s.read_region((width + 100, 0), 0, (16, 16)).any()
        assert s.read_region((0, 0), 0, (0, 0)).shape == (0, 0, want.shape[2])


@slide_params
def test_regions_equal_openslide(testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    failures, compared = [], 0
    with tilestream.open(path) as s:
        for level, (width, height) in enumerate(s.level_dimensions):
            downsample = s.level_downsamples[level]
            for name, make in REGIONS.items():
                x, y, w, h = clip(make(width, height, min(256, width)), width, height)
                if downsample != int(downsample) and (x, y) != (0, 0):
                    continue  # OpenSlide resamples offsets that are not whole level pixels
                location = (int(x * downsample), int(y * downsample))
                ours = s.read_region(location, level, (w, h))
                rgba = np.asarray(osr.read_region(location, level, (w, h)))
                opaque = rgba[..., 3] == 255
                if ours.shape[-1] == 1:
                    ours = np.repeat(ours, 3, axis=-1)
                diff = max_abs_diff(ours[opaque], rgba[..., :3][opaque])
                compared += 1
                if diff > OPENSLIDE_TOLERANCE:
                    failures.append(f'level {level} {name} {location} {(w, h)}: max |diff| {diff}')
    assert compared > 0
    assert not failures, f'{slide}:\n' + '\n'.join(failures)


@slide_params
def test_geometry_and_properties_agree_with_openslide(testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    with tilestream.open(path) as s:
        props = s.properties
        assert props['openslide.vendor'] == osr.properties['openslide.vendor']
        for key in ('openslide.mpp-x', 'openslide.mpp-y', 'openslide.objective-power'):
            if key in osr.properties:
                assert math.isclose(float(props[key]), float(osr.properties[key]), rel_tol=1e-6), key
        assert s.level_dimensions == tuple(osr.level_dimensions)  # NDPI: OpenSlide's DCT-scaled levels too
        assert s.dimensions == osr.dimensions
        for ours, theirs in zip(s.level_downsamples, osr.level_downsamples, strict=True):
            assert math.isclose(ours, theirs, rel_tol=1e-9)
        for downsample in (0.5, 1, 1.5, 2, 3.9, 4, 4.1, 16, 17, 1000):
            assert s.get_best_level_for_downsample(downsample) == osr.get_best_level_for_downsample(downsample), downsample
        assert set(osr.associated_images) <= set(s.associated_images)


@slide_params
def test_associated_images_equal_openslides(testdata, slide):
    path = testdata / slide
    with tilestream.open(path) as s:
        images = s.associated_images
        if not len(images):
            pytest.skip(f'{slide} has no associated images')
        from collections.abc import Mapping
        assert isinstance(images, Mapping) and list(images) == images.keys()
        osr = None
        try:
            import openslide
            osr = openslide.OpenSlide(str(path))
        except Exception:
            pass
        for name in images:
            got = images[name]
            if osr is not None and name in osr.associated_images:
                ref = np.asarray(osr.associated_images[name].convert('RGB'))
                if got.shape[-1] == 1:
                    got = np.repeat(got, 3, axis=-1)
                assert got.shape == ref.shape and max_abs_diff(got, ref) <= OPENSLIDE_TOLERANCE, name
        with pytest.raises(KeyError):
            images['no such image']
