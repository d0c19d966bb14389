# Hamamatsu NDPI above 4 GiB (issue 15, item 5). NDPI is classic TIFF; past 4 GiB its offsets take
# their high 32 bits from 4 bytes per entry after each IFD's 8-byte next-IFD offset (OpenSlide 4.0.1 and
# tifffile read them so). The slides here are written by tests/python/ndpi_writer.py with a hole of 4 GiB
# before the data (a sparse file: the test skips where the file system keeps no holes), so level 0's
# strip starts below 4 GiB and ends above it, and every later strip, IFD and out-of-line value lies
# above. Levels, regions across restart intervals and across the 4 GiB line, associated images and
# properties must equal tifffile's and OpenSlide's; `convert --ome` must read back in zarr-python; broken
# high bits give one-line errors naming file and place.
import struct

import numpy as np
import pytest
import tifffile

from ndpi_writer import FOUR_GIB, NdpiImage, patch, sparse_files_work, texture, write_ndpi
from tilestream_cli import assert_pixels

openslide = pytest.importorskip('openslide')

LEVELS = [(480, 640, 20.0), (240, 320, 10.0), (120, 160, 5.0)]  # (height, width, SourceLens)
# OpenSlide's levels made of the smallest stored one by libjpeg's DCT scaling (width, height).
SCALED = [(80, 60), (40, 30), (20, 15)]
MACRO, MAP = (100, 300), (50, 150)
# Level 0's strip starts this far below 4 GiB and crosses the line.
BELOW_THE_LINE = 3000


def images():
    out = [NdpiImage(texture(h, w, k), lens) for k, (h, w, lens) in enumerate(LEVELS)]
    out.append(NdpiImage(texture(*MACRO, 9), -1.0))
    out.append(NdpiImage(texture(*MAP, 10)[..., 0].copy(), -2.0))
    return out


def write_big(path):
    why = sparse_files_work(path.parent)
    if why is not None:
        pytest.skip(f'an NDPI above 4 GiB needs a sparse file: {why}')
    written = images()
    write_ndpi(path, written, data_at=FOUR_GIB - BELOW_THE_LINE)
    assert path.stat().st_size > FOUR_GIB
    return written


@pytest.fixture(scope='module')
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp('ndpi') / 'above-4-gib.ndpi'
    return path, write_big(path)


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp('ndpi') / 'small.ndpi'
    written = images()
    write_ndpi(path, written)
    return path, written


def test_the_layout_is_above_4_gib(big):
    path, written = big
    level0, level1 = written[0], written[1]
    assert level0.strip_offset < FOUR_GIB < level0.strip_offset + len(level0.stored)
    assert level1.strip_offset > FOUR_GIB and all(image.ifd_offset > FOUR_GIB for image in written)
    with open(path, 'rb') as f:
        f.seek(level1.high_bits_at[273])
        assert struct.unpack('<I', f.read(4))[0] == 1  # StripOffsets of level 1: high bits 1


def test_info_lists_the_levels_and_associated_images(cli, big):
    path, written = big
    info = cli.info(path)
    assert info['vendor'] == 'hamamatsu' and not info['big_tiff']
    # The stored levels, then OpenSlide's copies of the smallest at 1/2, 1/4 and 1/8 (DCT scaling).
    assert [(lv['width'], lv['height']) for lv in info['levels']] == [(w, h) for h, w, _ in LEVELS] + SCALED
    assert [lv['ifd_offset'] for lv in info['levels']] == [image.ifd_offset for image in written[:3]] + [
        written[2].ifd_offset] * 3
    assert [lv['jpeg_scale_denom'] for lv in info['levels']] == [1, 1, 1, 2, 4, 8]
    assert {a['name']: (a['width'], a['height']) for a in info['associated']} == {
        'macro': MACRO[::-1], 'map': MAP[::-1]}


def test_every_image_equals_tifffile_and_the_small_file(cli, big, small):
    path, written = big
    with tifffile.TiffFile(path) as tf:
        assert tf.is_ndpi
        for k in range(len(LEVELS)):
            ours = cli.read(path, '--level', k)
            assert_pixels(ours, tf.pages[k].asarray(), 0, f'level {k} vs tifffile')
            assert_pixels(ours, cli.read(small[0], '--level', k), 0, f'level {k} vs the same file below 4 GiB')
            error = np.abs(ours.astype(int) - written[k].pixels).mean()  # JPEG: close, and a misplaced row shows
            assert error < 4, f'level {k}: mean |diff| {error} from the pixels written'
        assert_pixels(cli.read(path, '--associated', 'macro'), tf.pages[3].asarray(), 0, 'macro')
    grey = cli.read(path, '--associated', 'map')
    assert grey.shape == (*MAP, 1) and np.array_equal(grey[..., 0], written[4].pixels)


# Regions in the level's pixels (x, y, w, h): across the 8-row restart intervals, the level's edges, and (on
# level 0) the rows whose bytes lie either side of the 4 GiB line.
REGIONS = [(5, 3, 200, 37), (630, 470, 10, 10), (300, 7, 2, 2), (0, 0, 640, 480)]


@pytest.mark.parametrize('level', range(len(LEVELS)))
def test_regions_equal_the_level_and_openslide(cli, big, level):
    path, _ = big
    osr = openslide.OpenSlide(str(path))
    whole = cli.read(path, '--level', level)
    height, width = whole.shape[:2]
    scale = 2 ** level
    for x, y, w, h in REGIONS:
        w, h = min(w, width - min(x, width - 1)), min(h, height - min(y, height - 1))
        x, y = min(x, width - w), min(y, height - h)
        region = cli.read(path, '--level', level, '--region', f'{x},{y},{w},{h}')  # in the level's pixels
        assert_pixels(region, whole[y:y + h, x:x + w], 0, f'level {level} region {(x, y, w, h)}')
        theirs = np.asarray(osr.read_region((x * scale, y * scale), level, (w, h)))
        assert (theirs[..., 3] == 255).all()
        assert_pixels(region, theirs[..., :3], 0, f'level {level} region {(x, y, w, h)} vs OpenSlide')


def test_levels_and_properties_equal_openslide(cli, big):
    path, _ = big
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    ours = [(lv['width'], lv['height']) for lv in info['levels']]
    # The stored levels and OpenSlide's copies of the smallest at 1/2, 1/4 and 1/8 (DCT scaling).
    assert list(osr.level_dimensions) == ours == [(w, h) for h, w, _ in LEVELS] + SCALED
    assert [lv['downsample'] for lv in info['levels']] == list(osr.level_downsamples)
    assert {name: image.size for name, image in osr.associated_images.items()} == {'macro': MACRO[::-1]}
    props = info['properties']
    for key, value in osr.properties.items():
        assert props.get(key) == value, f'{key}: OpenSlide {value!r}, tilestream {props.get(key)!r}'
    assert 'openslide.quickhash-1' in props and props['hamamatsu.Reference'] == 'A1'


def test_convert_ome_reads_back_in_zarr_python(cli, big, tmp_path):
    zarr = pytest.importorskip('zarr')
    path, _ = big
    out = tmp_path / 'above-4-gib.zarr'
    cli.check('convert', path, out, '--ome', '--chunk', 128)
    group = zarr.open_group(str(out), mode='r')
    for k in range(len(LEVELS)):
        data = np.asarray(group[str(k)][...])  # (c, y, x)
        assert_pixels(data.transpose(1, 2, 0), cli.read(path, '--level', k), 0, f'dataset {k}')


# ---- broken high bits, in a fresh sparse file each ---------------------------------------------------

def one_line_error(cli, path, *args):
    result = cli.run(*args)
    assert result.returncode != 0, f'{args}: no error'
    message = result.stderr.strip()
    assert '\n' not in message, message
    assert str(path) in message, message
    return message


def test_strip_high_bits_past_the_end(cli, tmp_path):
    path = tmp_path / 'strip-past-end.ndpi'
    written = write_big(path)
    level1 = written[1]
    patch(path, level1.high_bits_at[273], struct.pack('<I', 2))  # 8 GiB further than it is
    message = one_line_error(cli, path, 'info', path)
    offset = (2 << 32) | (level1.strip_offset & 0xffffffff)
    assert (f'IFD 1: strip 0 at offset {offset} with {len(level1.stored)} bytes extends past the end of the file '
            f'({path.stat().st_size} bytes)') in message, message
    assert 'StripOffsets (273)' in message, message


def test_next_ifd_high_bits_past_the_end(cli, tmp_path):
    path = tmp_path / 'next-ifd-past-end.ndpi'
    written = write_big(path)
    next_at = written[0].high_bits_at[256] - 8  # the 8-byte next-IFD offset ends where the high bits begin
    patch(path, next_at + 4, struct.pack('<I', 7))
    message = one_line_error(cli, path, 'info', path)
    assert f'IFD 1 at offset {(7 << 32) | (written[1].ifd_offset & 0xffffffff)} lies past the end' in message


def test_out_of_line_value_high_bits_past_the_end(cli, tmp_path):
    path = tmp_path / 'property-map-past-end.ndpi'
    written = write_big(path)
    patch(path, written[0].high_bits_at[65449], struct.pack('<I', 3))
    message = one_line_error(cli, path, 'info', path)
    assert 'IFD 0: NDPI PropertyMap (65449) values (' in message and 'extend past the end of the file' in message, message


def test_missing_high_bits_read_the_low_offset_as_openslide_does(cli, tmp_path):
    """An NDPI above 4 GiB whose high bits were left 0 (a writer that knew only classic TIFF): neither
    OpenSlide 4.0.1 nor tifffile guesses them, and neither does tilestream: level 1's strip is looked
    for 4 GiB lower, where the file holds zeros, and reading it fails naming the level, strip and the
    offset read. (OpenSlide 4.0.0 guessed high bits that put the data below its IFD; 4.0.1 reads them
    from the file, as here.)"""
    path = tmp_path / 'missing-high-bits.ndpi'
    written = write_big(path)
    level1 = written[1]
    patch(path, level1.high_bits_at[273], struct.pack('<I', 0))
    low = level1.strip_offset & 0xffffffff
    info = cli.info(path)  # the offset is inside the file: the index is valid
    assert [lv['width'] for lv in info['levels']] == [w for _, w, _ in LEVELS] + [w for w, _ in SCALED]
    message = one_line_error(cli, path, 'read', path, '--level', 1, '-o', tmp_path / 'x.npy')
    assert 'level 1 (IFD 1), strip 0' in message and f'at offset {low}' in message and 'JPEG' in message, message
    with pytest.raises(openslide.OpenSlideError):
        openslide.OpenSlide(str(path))
    # The other levels still read.
    assert cli.read(path, '--level', 2).shape == (*LEVELS[2][:2], 3)
