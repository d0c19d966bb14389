# tilestream.OpenSlide against openslide.OpenSlide, call for call, on every shared slide OpenSlide
# opens: the geometry, properties (same keys, same text), best levels, read_region as PIL RGBA (JPEG
# within 2; transparent outside the level, regions across tile borders and edges, every level whose
# downsample is whole), associated images, get_thumbnail, detect_format and the context manager.
# NDPI: the levels OpenSlide makes by JPEG DCT scaling are listed and compared too.
import numpy as np
import pytest
from PIL import Image

import tilestream
from conftest import slide_params
from tilestream_cli import max_abs_diff, open_openslide

TOLERANCE = 2


@slide_params
def test_geometry_properties_and_best_levels(testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    with tilestream.OpenSlide(str(path)) as shim:
        assert shim.level_count == osr.level_count
        assert shim.dimensions == osr.dimensions
        assert shim.level_dimensions == osr.level_dimensions
        assert shim.level_downsamples == pytest.approx(osr.level_downsamples, rel=1e-12)
        theirs = dict(osr.properties)
        ours = dict(shim.properties)
        differing = {k for k in theirs if ours.get(k) != theirs[k]}
        assert not differing, {k: (ours.get(k), theirs[k]) for k in sorted(differing)}
        for downsample in (0.5, 1, 1.9, 2, 3.99, 4, 4.01, 15, 16, 17, 64, 1e6):
            assert shim.get_best_level_for_downsample(downsample) == osr.get_best_level_for_downsample(downsample)
        assert shim.color_profile is None or shim.color_profile == osr.color_profile


def regions(width, height, tile):
    """(x, y, w, h) in level pixels: across tile borders, at the edges, and partly or wholly outside."""
    return [
        (tile - 37, tile - 21, 100, 80), (width - 90, 5, 90, 70), (5, height - 60, 130, 60),
        (width - 50, height - 40, 50, 40), (-20, -10, 64, 48), (width - 30, height - 20, 60, 50),
        (width + 10, 0, 16, 16),
    ]


@slide_params
def test_read_region_is_openslides_rgba(testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    failures, compared = [], 0
    with tilestream.OpenSlide(str(path)) as shim:
        for level in range(shim.level_count):
            downsample = shim.level_downsamples[level]
            if downsample != int(downsample):
                continue  # OpenSlide resamples locations that are not whole level pixels
            width, height = shim.level_dimensions[level]
            for x, y, w, h in regions(width, height, min(256, width)):
                location = (int(x * downsample), int(y * downsample))
                ours, theirs = shim.read_region(location, level, (w, h)), osr.read_region(location, level, (w, h))
                assert ours.mode == theirs.mode == 'RGBA' and ours.size == theirs.size
                a, b = np.asarray(ours), np.asarray(theirs)
                compared += 1
                if not np.array_equal(a[..., 3], b[..., 3]):
                    failures.append(f'level {level} {(x, y, w, h)}: alpha differs')
                elif max_abs_diff(a, b) > TOLERANCE:
                    failures.append(f'level {level} {(x, y, w, h)}: max |diff| {max_abs_diff(a, b)}')
    assert compared
    assert not failures, f'{slide}:\n' + '\n'.join(failures)


@slide_params
def test_associated_images_and_thumbnail(testdata, slide):
    path = testdata / slide
    osr = open_openslide(path)
    with tilestream.OpenSlide(str(path)) as shim:
        assert set(osr.associated_images) <= set(shim.associated_images)
        for name, theirs in osr.associated_images.items():
            ours = shim.associated_images[name]
            assert ours.mode == theirs.mode and ours.size == theirs.size, name
            assert max_abs_diff(np.asarray(ours), np.asarray(theirs)) <= TOLERANCE, name
        for size in ((256, 256), (300, 120)):
            ours, theirs = shim.get_thumbnail(size), osr.get_thumbnail(size)
            assert ours.mode == theirs.mode == 'RGB' and ours.size == theirs.size, size
            # Lanczos over inputs that differ by up to 2 (JPEG): close everywhere, nearly equal on average
            difference = np.abs(np.asarray(ours, np.int16) - np.asarray(theirs, np.int16))
            assert difference.max() <= 8 and difference.mean() < 0.5, (size, difference.max(), difference.mean())


def test_detect_format_and_closing(testdata, tmp_path):
    path = testdata / 'aperio' / 'CMU-1-Small-Region.svs'
    if not path.is_file():
        pytest.skip(f'{path} not found')
    assert tilestream.OpenSlide.detect_format(str(path)) == 'aperio'
    text = tmp_path / 'notes.txt'
    text.write_text('not a slide')
    assert tilestream.OpenSlide.detect_format(str(text)) is None
    shim = tilestream.OpenSlide(str(path))
    with shim:
        assert isinstance(shim.read_region((0, 0), 0, (8, 8)), Image.Image)
    with pytest.raises(tilestream.UsageError, match='closed'):
        shim.read_region((0, 0), 0, (8, 8))


def test_unwritten_tiles_are_transparent(tmp_path):
    """A tiled TIFF with a tile never written (offset and byte count 0): OpenSlide leaves it transparent,
    (0, 0, 0, 0), and so does the shim; the written tiles are opaque and equal."""
    import struct

    import tifffile
    openslide = pytest.importorskip('openslide')
    pixels = (np.arange(512 * 512 * 3) % 251).astype(np.uint8).reshape(512, 512, 3)
    path = tmp_path / 'sparse.tif'
    tifffile.imwrite(path, pixels, tile=(256, 256), photometric='rgb', compression='zlib', metadata=None)
    with tifffile.TiffFile(path) as tif:
        offsets, counts = tif.pages[0].tags['TileOffsets'], tif.pages[0].tags['TileByteCounts']
        assert offsets.dtype == counts.dtype == 4  # LONG: 4 bytes each
    with open(path, 'r+b') as f:
        for tag in (offsets, counts):
            f.seek(tag.valueoffset + 4 * 1)  # tile 1: row 0, column 1
            f.write(struct.pack('<I', 0))
    theirs = np.asarray(openslide.OpenSlide(str(path)).read_region((0, 0), 0, (512, 512)))
    with tilestream.OpenSlide(str(path)) as shim:
        ours = np.asarray(shim.read_region((0, 0), 0, (512, 512)))
    assert not theirs[:256, 256:].any() and (theirs[..., 3][:256, :256] == 255).all()
    assert np.array_equal(ours, theirs)
