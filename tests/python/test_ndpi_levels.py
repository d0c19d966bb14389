# NDPI levels read as OpenSlide 4.0.1 reads them (issue 15, item 5): each restart interval of a level's
# JPEG strip is a tile (found through McuStarts and McuStartsHighBytes, or by scanning the strip for
# restart markers where McuStarts is absent), decoded after the strip's header with the frame's size set
# to the interval's; and OpenSlide's level list: each stored level's copies at 1/2, 1/4 and 1/8 made by
# libjpeg's DCT scaling, one level a width. Level lists, sizes, downsamples, tile sizes and properties
# must be OpenSlide's, levels wider than JPEG's 65,535 pixels must read, pixels of every level must equal
# OpenSlide's (both decode with libjpeg-turbo: exactly) and tifffile's (4:4:4 stored levels) or a decode
# of each interval on its own (4:2:0), and a region must decode only the intervals it touches; `convert
# --ome` must read back in zarr-python. Slides are written by tests/python/ndpi_writer.py.
import io
import struct

import numpy as np
import pytest
import tifffile
from PIL import Image

from ndpi_writer import NdpiImage, _segments, patch, texture, write_ndpi
from tilestream_cli import assert_pixels

openslide = pytest.importorskip('openslide')


def macro():
    return NdpiImage(texture(64, 192, 9), -1.0)


# name -> the images of a slide (levels first, largest first).
SLIDES = {
    # PIL's strips: a restart marker every MCU row, no McuStarts (the strip is scanned for markers).
    'rows': lambda: [NdpiImage(texture(480, 640, 0), 20.0), NdpiImage(texture(240, 320, 1), 10.0),
                     NdpiImage(texture(120, 160, 2), 5.0), macro()],
    # Intervals narrower than a row, through McuStarts; McuStartsHighBytes (zeros) on level 1.
    'intervals': lambda: [NdpiImage(texture(480, 640, 3), 20.0, interval=80, mcu_starts='low'),
                          NdpiImage(texture(240, 320, 4), 10.0, interval=64, mcu_starts='high'),
                          NdpiImage(texture(120, 160, 5), 5.0, interval=32), macro()],
    # Levels wider than a JPEG frame can say (its SOF width is 0): 1,000-pixel intervals.
    'wide': lambda: [NdpiImage(texture(16, 66000, 6), 20.0, interval=1000, mcu_starts='low'),
                     NdpiImage(texture(8, 33000, 7), 10.0, interval=1000), macro()],
    # Strips without restart markers, read whole: OpenSlide scales the whole strip where its size divides
    # evenly (600 x 404: 1/2 and 1/4, not 1/8), and a level not half of the one before (280 x 200, all three).
    'whole': lambda: [NdpiImage(texture(404, 600, 10), 20.0, restart_markers=False),
                      NdpiImage(texture(200, 280, 11), 10.0, restart_markers=False), macro()],
}

# OpenSlide's level list of each slide (width, height), written out: each stored level and its copies at
# 1/2, 1/4 and 1/8, one level a width (a stored level over a copy, then the smallest stored level's copy).
OPENSLIDE_LEVELS = {
    'rows': [(640, 480), (320, 240), (160, 120), (80, 60), (40, 30), (20, 15)],
    'intervals': [(640, 480), (320, 240), (160, 120), (80, 60), (40, 30), (20, 15)],
    'wide': [(66000, 16), (33000, 8), (16500, 4), (8250, 2), (4125, 1)],
    'whole': [(600, 404), (300, 202), (280, 200), (150, 101), (140, 100), (70, 50), (35, 25)],
}


@pytest.fixture(scope='module')
def slides(tmp_path_factory):
    folder = tmp_path_factory.mktemp('ndpi-levels')
    out = {}
    for name, make in SLIDES.items():
        path = folder / f'{name}.ndpi'
        written = make()
        write_ndpi(path, written)
        out[name] = (path, written)
    return out


def stored_levels(written):
    return [image for image in written if image.lens > 0]


def openslide_level(osr, width):
    """OpenSlide's level of this width."""
    return [w for w, _ in osr.level_dimensions].index(width)


@pytest.mark.parametrize('name', SLIDES)
def test_tiles_are_openslides_restart_intervals(cli, slides, name):
    path, written = slides[name]
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    for image in stored_levels(written):
        level = next(lv for lv in info['levels'] if lv['width'] == image.pixels.shape[1])
        assert level['height'] == image.pixels.shape[0] and level['jpeg_scale_denom'] == 1
        n = openslide_level(osr, level['width'])
        theirs = tuple(int(osr.properties[f'openslide.level[{n}].tile-{side}']) for side in ('width', 'height'))
        assert (level['tile_width'], level['tile_height']) == theirs, f"level {level['level']}"
        assert level['tiled'] == image.restart_markers and level['tiles'] == max(1, len(image.starts))


@pytest.mark.parametrize('name', SLIDES)
def test_level_list_and_properties_are_openslides(cli, slides, name):
    path, _ = slides[name]
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    assert list(osr.level_dimensions) == OPENSLIDE_LEVELS[name]
    assert [(lv['width'], lv['height']) for lv in info['levels']] == OPENSLIDE_LEVELS[name]
    assert [lv['downsample'] for lv in info['levels']] == list(osr.level_downsamples)
    props = info['properties']
    for key, value in osr.properties.items():
        if key.startswith('openslide.level'):
            assert props.get(key) == value, f'{key}: OpenSlide {value!r}, tilestream {props.get(key)!r}'
    assert sum(key.startswith('openslide.level[') for key in props) == 5 * osr.level_count


# Regions in the level's pixels (x, y, w, h), clipped to the level: across interval borders both ways, an
# interval's own pixels, the level's edges, the whole level.
REGIONS = [(5, 3, 200, 37), (75, 6, 10, 4), (630, 470, 10, 10), (300, 7, 2, 2), (0, 0, 1 << 20, 1 << 20),
           (31990, 1, 2030, 13), (65990, 14, 10, 2)]


def clip(region, width, height):
    x, y, w, h = region
    x, y = min(x, width - 1), min(y, height - 1)
    return x, y, min(w, width - x), min(h, height - y)


@pytest.mark.parametrize('name', SLIDES)
def test_levels_and_regions_equal_openslide_and_tifffile(cli, slides, name):
    path, written = slides[name]
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    with tifffile.TiffFile(path) as tf:
        for k, level in enumerate(info['levels']):
            whole = cli.read(path, '--level', k)
            if level['jpeg_scale_denom'] == 1:
                page = next(p for p in tf.pages if p.shape[1] == level['width'])
                assert_pixels(whole, page.asarray(), 0, f'{name} level {k} vs tifffile')
            assert openslide_level(osr, whole.shape[1]) == k
            # The whole level from OpenSlide's origin: every pixel, across every tile border.
            theirs = np.asarray(osr.read_region((0, 0), k, osr.level_dimensions[k]))
            assert (theirs[..., 3] == 255).all()
            assert_pixels(whole, theirs[..., :3], 0, f'{name} level {k} vs OpenSlide')
            scale = osr.level_downsamples[k]
            for region in REGIONS:
                x, y, w, h = clip(region, whole.shape[1], whole.shape[0])
                ours = cli.read(path, '--level', k, '--region', f'{x},{y},{w},{h}')
                assert_pixels(ours, whole[y:y + h, x:x + w], 0, f'{name} level {k} region {(x, y, w, h)}')
                if scale != int(scale):
                    continue  # OpenSlide would shift the region by a fraction of a pixel (and interpolate)
                theirs = np.asarray(osr.read_region((x * int(scale), y * int(scale)), k, (w, h)))
                assert (theirs[..., 3] == 255).all()
                assert_pixels(ours, theirs[..., :3], 0, f'{name} level {k} region {(x, y, w, h)} vs OpenSlide')


def test_a_last_row_of_part_intervals(cli, tmp_path):
    """A level 476 rows high: its last row of intervals holds 4 rows of pixels. OpenSlide's grid counts
    whole intervals only (476 // 8 = 59 rows of them) and leaves those rows transparent, at every level
    made of it; tilestream reads them, as tifffile does. The level list is OpenSlide's all the same,
    80 x 59 at 1/8 included (its tiles are the first 59 rows of intervals); elsewhere the pixels are
    OpenSlide's."""
    path = tmp_path / 'part-row.ndpi'
    written = [NdpiImage(texture(476, 640, 12), 20.0, interval=80, mcu_starts='low'), macro()]
    write_ndpi(path, written)
    osr = openslide.OpenSlide(str(path))
    info = cli.info(path)
    assert [(lv['width'], lv['height']) for lv in info['levels']] == list(osr.level_dimensions) == [
        (640, 476), (320, 238), (160, 119), (80, 59)]
    assert [lv['downsample'] for lv in info['levels']] == list(osr.level_downsamples)
    assert [lv['tiles'] for lv in info['levels']] == [8 * 60, 8 * 60, 8 * 60, 8 * 59]
    with tifffile.TiffFile(path) as tf:
        assert_pixels(cli.read(path, '--level', 0), tf.pages[0].asarray(), 0, 'level 0 vs tifffile')
    for k, (width, height) in enumerate(osr.level_dimensions):
        ours = cli.read(path, '--level', k)
        theirs = np.asarray(osr.read_region((0, 0), k, (width, height)))
        opaque = 59 * 8 // 2 ** k  # OpenSlide's rows: 59 whole rows of intervals
        assert (theirs[:opaque, :, 3] == 255).all() and (theirs[opaque:, :, 3] == 0).all(), f'level {k}'
        assert_pixels(ours[:opaque], theirs[:opaque, :, :3], 0, f'level {k} vs OpenSlide')


def test_convert_ome_reads_back_in_zarr_python(cli, slides, tmp_path):
    zarr = pytest.importorskip('zarr')
    path, _ = slides['intervals']
    out = tmp_path / 'intervals.zarr'
    cli.check('convert', path, out, '--ome', '--chunk', 32)  # datasets down to 20 x 15: every level
    group = zarr.open_group(str(out), mode='r')
    levels = cli.info(path)['levels']
    assert len(levels) == len(OPENSLIDE_LEVELS['intervals'])
    for k in range(len(levels)):
        data = np.asarray(group[str(k)][...])  # (c, y, x); levels 3 to 5 are DCT-scaled ones
        assert_pixels(data.transpose(1, 2, 0), cli.read(path, '--level', k), 0, f'dataset {k}')
    assert str(len(levels)) not in group


def interval_by_interval(image: NdpiImage, interval: int, mcu: int) -> np.ndarray:
    """A level decoded as OpenSlide and tilestream decode it, by PIL: each interval after the strip's
    header with the frame's size set to the interval's and its restart marker made EOI."""
    strip, starts = image.stored, image.starts
    header = bytearray(strip[:starts[0]])
    sof = next(start for marker, start, _ in _segments(strip) if marker in (0xC0, 0xC1))
    header[sof + 5:sof + 9] = struct.pack('>HH', mcu, interval)
    h, w = image.pixels.shape[:2]
    across = -(-w // interval)
    out = np.zeros((-(-h // mcu) * mcu, across * interval, 3), np.uint8)
    for i, start in enumerate(starts):
        data = strip[start:starts[i + 1] if i + 1 < len(starts) else len(strip)]
        tile = np.asarray(Image.open(io.BytesIO(bytes(header) + data[:-1] + b'\xd9')))
        out[(i // across) * mcu:(i // across + 1) * mcu, (i % across) * interval:(i % across + 1) * interval] = tile
    return out[:h, :w]


def test_subsampled_intervals_decode_each_on_its_own(cli, tmp_path):
    """4:2:0 (MCU 16 x 16): chroma is upsampled inside each interval, as OpenSlide decodes NDPI (OpenSlide
    4.0.1 itself fails on such a file whose frame states the whole level: libjpeg then looks for the MCU
    row below; tifffile upsamples otherwise at the interval edges)."""
    path = tmp_path / 'subsampled.ndpi'
    written = [NdpiImage(texture(240, 320, 8), 20.0, interval=64, subsampling=2, mcu_starts='low'), macro()]
    write_ndpi(path, written)
    level = cli.info(path)['levels'][0]
    assert (level['tile_width'], level['tile_height'], level['tiles']) == (64, 16, 5 * 15)
    whole = cli.read(path, '--level', 0)
    assert_pixels(whole, interval_by_interval(written[0], 64, 16), 0, '4:2:0 level vs interval by interval')
    x, y, w, h = 60, 14, 70, 20
    assert_pixels(cli.read(path, '--level', 0, '--region', f'{x},{y},{w},{h}'), whole[y:y + h, x:x + w], 0, 'region')


def test_a_region_decodes_only_the_intervals_it_touches(cli, tmp_path):
    """Interval 23 (column 7, row 2 of 8 x 60) is broken: regions beside it read, one over it names it."""
    path = tmp_path / 'one-broken-interval.ndpi'
    written = [NdpiImage(texture(480, 640, 3), 20.0, interval=80, mcu_starts='low'), macro()]
    write_ndpi(path, written)
    clean = cli.read(path, '--level', 0)
    level = written[0]
    start = level.strip_offset + level.starts[23]
    patch(path, start + 4, b'\xff\x00' * 3 + b'\xff\xd9')  # EOI inside the interval: libjpeg reports it
    assert_pixels(cli.read(path, '--level', 0, '--region', '0,0,560,480'), clean[:, :560], 0, 'left of it')
    assert_pixels(cli.read(path, '--level', 0, '--region', '560,24,80,456'), clean[24:, 560:], 0, 'below it')
    result = cli.run('read', path, '--level', 0, '--region', '600,20,8,8', '-o', tmp_path / 'x.npy')
    assert result.returncode != 0
    message = result.stderr.strip()
    assert '\n' not in message and str(path) in message, message
    assert f'level 0 (IFD 0), tile 23 (column 7, row 2) at offset {start}' in message, message


# ---- malformed McuStarts: one-line errors naming file, IFD and tag ---------------------------------

def malformed(tmp_path, name, mcu_starts='high'):
    path = tmp_path / f'{name}.ndpi'
    written = [NdpiImage(texture(64, 160, 3), 20.0, interval=32, mcu_starts=mcu_starts), macro()]
    write_ndpi(path, written)
    return path, written[0]


def entry_at(path, level, tag):
    """File offset of tag `tag`'s entry in the level's IFD."""
    with open(path, 'rb') as f:
        f.seek(level.ifd_offset)
        count = struct.unpack('<H', f.read(2))[0]
        entries = f.read(12 * count)
    return next(level.ifd_offset + 2 + i for i in range(0, len(entries), 12)
                if struct.unpack('<H', entries[i:i + 2])[0] == tag)


def set_mcu_start(path, level, entry, value, tag=65426):
    """Entry `entry` of McuStarts or McuStartsHighBytes (out of line: the entry holds the array's offset)."""
    with open(path, 'rb') as f:
        f.seek(entry_at(path, level, tag) + 8)
        values_at = struct.unpack('<I', f.read(4))[0]
    patch(path, values_at + 4 * entry, struct.pack('<I', value))


def one_line_error(cli, path):
    result = cli.run('info', path)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert '\n' not in message and str(path) in message, message
    return message


def test_mcu_starts_out_of_order(cli, tmp_path):
    path, level = malformed(tmp_path, 'out-of-order')
    set_mcu_start(path, level, 7, level.starts[5])
    assert (f'IFD 0: NDPI McuStarts (65426) entry 7 ({level.starts[5]}) is not after entry 6 ({level.starts[6]}): '
            'the restart intervals are out of order') in one_line_error(cli, path)


def test_mcu_starts_past_the_strip(cli, tmp_path):
    path, level = malformed(tmp_path, 'past-the-strip')
    set_mcu_start(path, level, 39, len(level.stored) + 10)
    assert (f'IFD 0: NDPI McuStarts (65426) entry 39 ({len(level.stored) + 10}) lies past the JPEG strip\'s '
            f'{len(level.stored)} bytes') in one_line_error(cli, path)


def test_mcu_starts_high_bytes_past_the_strip(cli, tmp_path):
    path, level = malformed(tmp_path, 'high-bytes')
    set_mcu_start(path, level, 3, 1, tag=65432)
    assert (f'IFD 0: NDPI McuStarts (65426) entry 3 ({(1 << 32) | level.starts[3]}) lies past the JPEG strip\'s '
            f'{len(level.stored)} bytes') in one_line_error(cli, path)


def test_mcu_starts_count_not_matching_the_grid(cli, tmp_path):
    path, level = malformed(tmp_path, 'count', mcu_starts='low')
    patch(path, entry_at(path, level, 65426) + 4, struct.pack('<I', 39))
    assert ('IFD 0: NDPI McuStarts (65426) has 39 entries but the level has 5 x 8 = 40 restart intervals of '
            '32 x 8 pixels') in one_line_error(cli, path)


def test_mcu_starts_high_bytes_count_not_matching_the_grid(cli, tmp_path):
    path, level = malformed(tmp_path, 'high-count')
    patch(path, entry_at(path, level, 65432) + 4, struct.pack('<I', 41))
    assert ('IFD 0: NDPI McuStartsHighBytes (65432) has 41 entries but the level has 5 x 8 = 40 restart '
            'intervals of 32 x 8 pixels') in one_line_error(cli, path)


def test_missing_restart_markers_without_mcu_starts(cli, tmp_path):
    """No McuStarts: the strip is scanned; a restart marker overwritten leaves one interval too few."""
    path, level = malformed(tmp_path, 'marker-gone', mcu_starts='')
    patch(path, level.strip_offset + level.starts[9] - 2, b'\x00\x00')
    assert ('IFD 0: the JPEG strip (StripOffsets (273)) holds 38 restart markers, the level has 5 x 8 = 40 restart '
            'intervals of 32 x 8 pixels (it has no NDPI McuStarts (65426))') in one_line_error(cli, path)
