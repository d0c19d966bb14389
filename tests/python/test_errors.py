# CLI error behaviour, as data: each case is a file (real or generated, possibly mutated), a command
# and the exit status and message parts a user needs (the file, the level, the tile, the codec).
import struct

import numpy as np
import pytest
import tifffile

from conftest import TESTDATA
from tilestream_cli import patch_compression

SVS = TESTDATA / 'aperio' / 'CMU-1-Small-Region.svs'


def error_line(result):
    """The single 'tilestream: <kind>: ...' line every failure must print."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f'want one line on stderr, got: {result.stderr!r}'
    assert lines[0].startswith('tilestream: '), lines[0]
    return lines[0]


def assert_fails(result, returncode, *parts):
    assert result.returncode == returncode, f'exit {result.returncode}, want {returncode}: {result.stderr}'
    line = error_line(result)
    for part in parts:
        assert str(part) in line, f'{part!r} not in {line!r}'
    return line


def image(height=100, width=130, samples=3, dtype=np.uint8):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x * 3 + y * s) % 251 for s in range(1, samples + 1)], axis=-1).astype(dtype)


def write_tiff(path, compression=None, **kwargs):
    kwargs.setdefault('tile', (64, 64))
    tifffile.imwrite(path, image(), photometric='rgb', compression=compression, metadata=None, **kwargs)
    return path


# --- unsupported compressions: info lists them as unreadable, read names the codec and level ---

WRITTEN_UNSUPPORTED = [  # tifffile compression, code, name tilestream should give
    ('jpegxl', 50002, 'JPEG XL'),
]
PATCHED_UNSUPPORTED = [  # code patched into a deflate file, byte order, name
    (34887, '<', 'LERC'),
    (34887, '>', 'LERC'),
    (50002, '<', 'JPEG XL'),
    (6, '>', 'old-style JPEG'),
    (65000, '<', '65000'),
]


def check_unsupported(cli, path, code, name, level=0):
    info = cli.info(path)
    entry = info['levels'][level]
    assert entry['compression'] == code
    assert not entry['readable']
    assert name in entry['compression_name'] or name in entry['unsupported_reason']
    assert str(code) in entry['unsupported_reason']
    text = cli.check('info', path).stdout  # the plain listing says so too
    assert 'cannot read' in text and str(code) in text
    result = cli.run('read', path, '--level', level, '-o', path.with_suffix('.npy'))
    assert_fails(result, 1, path.name, name, f'level {level}', 'not supported')
    assert not path.with_suffix('.npy').exists()


@pytest.mark.parametrize('compression,code,name', WRITTEN_UNSUPPORTED, ids=[c[0] for c in WRITTEN_UNSUPPORTED])
def test_unsupported_compression_written(cli, tmp_path, compression, code, name):
    path = tmp_path / f'{compression}.tif'
    try:
        write_tiff(path, compression)
    except Exception as e:  # imagecodecs built without this encoder
        pytest.skip(f'tifffile cannot write {compression}: {e}')
    check_unsupported(cli, path, code, name)


@pytest.mark.parametrize('code,byteorder,name', PATCHED_UNSUPPORTED,
                         ids=[f'{c}-{"be" if b == ">" else "le"}' for c, b, _ in PATCHED_UNSUPPORTED])
def test_unsupported_compression_patched(cli, tmp_path, code, byteorder, name):
    path = patch_compression(write_tiff(tmp_path / 'patched.tif', 'adobe_deflate', byteorder=byteorder), code)
    check_unsupported(cli, path, code, name)


def test_unsupported_level_does_not_hide_readable_ones(cli, tmp_path):
    path = tmp_path / 'mixed.tif'
    with tifffile.TiffWriter(path) as tw:
        tw.write(image(), photometric='rgb', tile=(64, 64), compression='adobe_deflate', metadata=None)
        tw.write(image(50, 65), photometric='rgb', tile=(64, 64), compression='adobe_deflate', subfiletype=1)
    with tifffile.TiffFile(path) as tf:
        tag = tf.pages[1].tags['Compression']
    data = bytearray(path.read_bytes())
    data[tag.valueoffset:tag.valueoffset + 2] = struct.pack('<H', 50002)
    path.write_bytes(bytes(data))
    check_unsupported(cli, path, 50002, 'JPEG XL', level=1)
    out = tmp_path / 'level0.npy'
    cli.check('read', path, '--level', 0, '-o', out)
    assert np.array_equal(np.load(out), image())


# --- files that are missing, not TIFF, truncated or corrupt ---

def truncated_half(source):
    def make(tmp_path):
        if not source.is_file():
            pytest.skip(f'{source} absent')
        path = tmp_path / f'half-{source.name}'
        data = source.read_bytes()
        path.write_bytes(data[:len(data) // 2])
        return path
    return make


def tile_data_cut(compression):
    """tifffile puts the IFD first, so cutting the file keeps the index and loses tiles."""
    def make(tmp_path):
        path = write_tiff(tmp_path / f'cut-{compression}.tif', compression)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) * 2 // 3])
        return path
    return make


def tile_corrupted(compression, splice):
    """Overwrites bytes inside tile 3 (column 3, row 0): `splice(tile bytes) -> new tile bytes`."""
    def make(tmp_path):
        path = write_tiff(tmp_path / f'corrupt-{compression}.tif', compression, tile=(32, 32))
        with tifffile.TiffFile(path) as tf:
            offset, count = tf.pages[0].dataoffsets[3], tf.pages[0].databytecounts[3]
        data = bytearray(path.read_bytes())
        data[offset:offset + count] = splice(bytes(data[offset:offset + count]))
        path.write_bytes(bytes(data))
        return path
    return make


def first_ifd_past_end(tmp_path):
    path = write_tiff(tmp_path / 'bad-ifd-offset.tif', 'adobe_deflate')
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack('<I', len(data) + 1000)
    path.write_bytes(bytes(data))
    return path


def bad_magic(tmp_path):
    path = write_tiff(tmp_path / 'bad-magic.tif')
    data = bytearray(path.read_bytes())
    data[2:4] = struct.pack('<H', 41)
    path.write_bytes(bytes(data))
    return path


def bytes_file(name, content):
    def make(tmp_path):
        path = tmp_path / name
        path.write_bytes(content)
        return path
    return make


def zero_middle(tile):
    return tile[:len(tile) // 4] + b'\x00' * (len(tile) // 2) + tile[len(tile) // 4 + len(tile) // 2:]


def eoi_middle(tile):
    return tile[:len(tile) // 2] + b'\xff\xd9' + tile[len(tile) // 2 + 2:]


BROKEN_FILES = {  # name: (maker, command, exit status, message parts besides the file name)
    'nonexistent': (lambda tmp: tmp / 'no-such-slide.svs', 'info', 1, ['No such file']),
    'nonexistent-read': (lambda tmp: tmp / 'no-such-slide.svs', 'read', 1, ['No such file']),
    'directory': (lambda tmp: tmp, 'info', 1, ['no DICOM file in the folder']),
    'empty': (bytes_file('empty.tif', b''), 'info', 1, ['not a TIFF']),
    'text': (bytes_file('notes.tif', b'these are not the pixels you are looking for\n' * 20), 'info', 1,
             ['not a TIFF']),
    'png-named-tif': (bytes_file('image.tif', b'\x89PNG\r\n\x1a\n' + bytes(200)), 'read', 1, ['not a TIFF']),
    'bad-magic': (bad_magic, 'info', 1, ['format error']),
    'first-ifd-past-end': (first_ifd_past_end, 'info', 1, ['format error', 'IFD 0']),
    'svs-cut-in-half-info': (truncated_half(SVS), 'info', 1, ['format error']),
    'svs-cut-in-half-read': (truncated_half(SVS), 'read', 1, ['format error']),
    'tiles-cut-deflate': (tile_data_cut('adobe_deflate'), 'read', 1, ['truncated']),
    'tiles-cut-raw': (tile_data_cut(None), 'read', 1, ['truncated']),
    'corrupt-deflate-tile': (tile_corrupted('adobe_deflate', zero_middle), 'read', 1,
                             ['codec error', 'level 0', 'tile 3', 'deflate']),
    'corrupt-lzw-tile': (tile_corrupted('lzw', zero_middle), 'read', 1, ['codec error', 'level 0', 'tile 3', 'LZW']),
    'corrupt-packbits-tile': (tile_corrupted('packbits', lambda t: t[:len(t) // 3] + b'\x7f' * (len(t) - len(t) // 3)),
                              'read', 1, ['codec error', 'level 0', 'tile 3', 'PackBits']),
    'corrupt-jpeg-tile': (tile_corrupted('jpeg', eoi_middle), 'read', 1, ['codec error', 'level 0', 'tile 3', 'JPEG']),
    # the codestream's SIZ marker segment overwritten: its header no longer parses
    'corrupt-jpeg2000-tile': (tile_corrupted('jpeg2000', lambda t: t[:30] + b'\xff' * (len(t) - 30)), 'read', 1,
                              ['codec error', 'level 0', 'tile 3', 'J2K codestream', 'header is corrupt or truncated']),
}


@pytest.mark.parametrize('maker,command,returncode,parts', BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_broken_file(cli, tmp_path, maker, command, returncode, parts):
    path = maker(tmp_path)
    args = ['info', path] if command == 'info' else ['read', path, '-o', tmp_path / 'out.npy']
    assert_fails(cli.run(*args), returncode, path.name, *parts)
    assert not (tmp_path / 'out.npy').exists()
    assert not (tmp_path / 'out.npy.partial').exists()


# --- bad arguments ---

@pytest.fixture
def slide(tmp_path):
    """A small two-level RGB slide with a label, so that argument errors do not depend on testdata."""
    path = tmp_path / 'slide.tif'
    with tifffile.TiffWriter(path) as tw:
        tw.write(image(), photometric='rgb', tile=(64, 64), compression='adobe_deflate', metadata=None)
        tw.write(image(50, 65), photometric='rgb', tile=(64, 64), compression='adobe_deflate', subfiletype=1)
    return path


BAD_READ_ARGS = {  # name: (arguments after FILE, exit status, message parts)
    'level-99': (['--level', '99'], 2, ['usage error', 'level 99', 'does not exist', '2 levels']),
    'level-negative': (['--level', '-1'], 2, ['-1']),
    'region-outside': (['--region', '100,90,50,20'], 2, ['usage error', 'outside', '130 x 100']),
    'region-far-outside': (['--region', '5000,5000,1,1'], 2, ['usage error', 'outside']),
    'region-on-level-1-outside': (['--level', '1', '--region', '0,0,66,10'], 2, ['usage error', 'level 1', 'outside']),
    'region-empty': (['--region', '0,0,0,10'], 2, ['usage error', 'empty region']),
    'region-garbage': (['--region', 'abc'], 2, ['usage error', '--region', "'abc'"]),
    'region-three-numbers': (['--region', '1,2,3'], 2, ['usage error', '--region', "'1,2,3'"]),
    'region-five-numbers': (['--region', '1,2,3,4,5'], 2, ['usage error', '--region', 'trailing']),
    'region-negative': (['--region', '-1,2,3,4'], 2, ['usage error', '--region', 'non-negative']),
    'associated-missing': (['--associated', 'label'], 2, ['usage error', "no associated image 'label'"]),
    'threads-zero': (['--threads', '0'], 2, ['--threads']),
    'decode-gpu-on-the-cpu': (['--decode', 'gpu'], 2, ['usage error', '--decode gpu', 'needs --device cuda']),
    'decode-unknown': (['--decode', 'nvjpeg'], 2, ['usage error', 'decode mode must be auto, cpu or gpu', "'nvjpeg'"]),
    'unknown-option': (['--bogus'], 2, ['--bogus']),
}


@pytest.mark.parametrize('extra,returncode,parts', BAD_READ_ARGS.values(), ids=BAD_READ_ARGS.keys())
def test_bad_read_arguments(cli, slide, tmp_path, extra, returncode, parts):
    out = tmp_path / 'out.npy'
    line = assert_fails(cli.run('read', slide, *extra, '-o', out), returncode, *parts)
    assert '18446744073709551615' not in line  # a negative number must not wrap around
    assert not out.exists()


@pytest.mark.parametrize('name', ['out.jpg', 'out.tif', 'out', 'out.NPY.txt'])
def test_unknown_output_extension(cli, slide, tmp_path, name):
    out = tmp_path / name
    assert_fails(cli.run('read', slide, '-o', out), 2, 'usage error', name, '.npy or .png')
    assert not out.exists()


def test_png_of_signed_samples_is_refused(cli, tmp_path):
    path = tmp_path / 'int16.tif'
    tifffile.imwrite(path, image(samples=1, dtype=np.int16)[..., 0] - 100, photometric='minisblack')
    out = tmp_path / 'out.png'
    assert_fails(cli.run('read', path, '-o', out), 2, 'usage error', 'PNG cannot hold signed samples', 'int16')
    assert not out.exists()


def test_output_into_missing_folder(cli, slide, tmp_path):
    out = tmp_path / 'no-such-folder' / 'out.npy'
    assert_fails(cli.run('read', slide, '-o', out), 1, 'I/O error', 'no-such-folder', 'No such file')


def test_associated_and_region_conflict(cli, testdata, tmp_path):
    out = tmp_path / 'out.npy'
    assert_fails(cli.run('read', SVS, '--associated', 'label', '--region', '0,0,1,1', '-o', out), 2,
                 'usage error', '--region', '--associated')
    assert not out.exists()


def test_associated_and_level_conflict(cli, testdata, tmp_path):
    # --level is meaningless with --associated; reading the label while the user asked for level 1 hides a mistake.
    out = tmp_path / 'out.npy'
    assert_fails(cli.run('read', SVS, '--associated', 'label', '--level', '1', '-o', out), 2, '--level', '--associated')


BAD_CLI = {  # name: (arguments, exit status, message parts)
    'no-subcommand': ([], 2, ['subcommand']),
    'unknown-subcommand': (['bogus'], 2, ['bogus']),
    'info-without-file': (['info'], 2, ['FILE']),
    'read-without-output': (['read', str(SVS)], 2, ['--output']),
    'info-unknown-option': (['info', str(SVS), '--bogus'], 2, ['--bogus']),
}


@pytest.mark.parametrize('args,returncode,parts', BAD_CLI.values(), ids=BAD_CLI.keys())
def test_command_line_parse_errors(cli, args, returncode, parts):
    """Usage errors found by the argument parser follow the same one-line format and exit status 2."""
    assert_fails(cli.run(*args), returncode, *parts)


BAD_SYNTH_ARGS = {  # name: (arguments, message parts)
    'tile-not-multiple-of-16': (['--tile', '100'], ['tile size 100', 'multiple of 16']),
    'samples-2': (['--samples', '2'], ['samples', '2']),
    'compression-unknown': (['--compression', 'jpegxl'], ['--compression', "'jpegxl'"]),
    'dtype-float': (['--dtype', 'float32'], ['--dtype', "'float32'"]),
    'quality-0': (['--quality', '0'], ['quality', '0']),
    'quality-101': (['--quality', '101'], ['quality', '101']),
    'size-garbage': (['--size', '10by10'], ['--size', "'10by10'"]),
    'size-zero': (['--size', '0x10'], ['--size', "'0x10'"]),
    'jpeg-uint16': (['--compression', 'jpeg', '--dtype', 'uint16'], ['JPEG', 'uint16']),
    'jpeg-predictor': (['--compression', 'jpeg', '--predictor'], ['predictor', 'JPEG']),
    'jpeg-rgba': (['--compression', 'jpeg', '--samples', '4'], ['JPEG', '4-sample']),
    'jpeg-strips-not-multiple-of-16': (['--compression', 'jpeg', '--strips', '20'], ['JPEG strips', '20']),
    'jpeg-color-unknown': (['--jpeg-color', '411'], ['--jpeg-color', '420, 422, 444 or rgb', "'411'"]),
    'strips-zero': (['--compression', 'none', '--strips', '0'], ['--strips']),
}


@pytest.mark.parametrize('args,parts', BAD_SYNTH_ARGS.values(), ids=BAD_SYNTH_ARGS.keys())
def test_bad_synth_arguments(cli, tmp_path, args, parts):
    out = tmp_path / 'synth.tif'
    defaults = [] if '--size' in args else ['--size', '100x100']
    assert_fails(cli.run('synth', out, *defaults, *args), 2, 'usage error', *parts)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_synth_into_missing_folder(cli, tmp_path):
    out = tmp_path / 'no-such-folder' / 'synth.tif'
    assert_fails(cli.run('synth', out, '--size', '100x100'), 1, 'I/O error', 'no-such-folder')


BAD_SETTINGS = {  # variable: (value, message parts)
    'TILESTREAM_THREADS': ('many', ['TILESTREAM_THREADS', "'many'"]),
    'TILESTREAM_MEMORY': ('1X', ['TILESTREAM_MEMORY', "'1X'"]),
    'TILESTREAM_BAND_BYTES': ('-4M', ['TILESTREAM_BAND_BYTES', "'-4M'"]),
    'TILESTREAM_PATCH_CPU_SHARE': ('2', ['TILESTREAM_PATCH_CPU_SHARE', 'from 0 to 1', "'2'"]),
    'TILESTREAM_PATCH_SPLIT': ('both', ['TILESTREAM_PATCH_SPLIT', 'tiles or patches', "'both'"]),
    'TILESTREAM_ENCODE_BATCH': ('0', ['TILESTREAM_ENCODE_BATCH', 'from 1 to 4096', "'0'"]),
    'TILESTREAM_TILED_GROUP': ('x8', ['TILESTREAM_TILED_GROUP', 'from 1 to 4096', "'x8'"]),
    'TILESTREAM_ENCODE_IN_FLIGHT': ('70000', ['TILESTREAM_ENCODE_IN_FLIGHT', 'from 1 to 65536', "'70000'"]),
}


@pytest.mark.parametrize('variable,value,parts', [(k, *v) for k, v in BAD_SETTINGS.items()], ids=BAD_SETTINGS.keys())
def test_bad_setting_in_the_environment(cli, tmp_path, variable, value, parts):
    slide = write_tiff(tmp_path / 'slide.tif')
    out = tmp_path / 'out.zarr'
    result = cli.run('process', slide, out, '--op', 'sobel', env={variable: value})
    assert_fails(result, 2, 'usage error', *parts)
    assert not out.exists()


# The library names its options; the CLI's one table (src/cli/option_flags.cpp) spells them as flags.
@pytest.mark.parametrize('command, extra, message', [
    ('convert', ['--chunk', 64, '--shard', 100], '--shard (100) must be a multiple of --chunk (64)'),
    ('convert', ['--zarr-version', 2, '--shard', 512], '--shard needs --zarr-version 3'),
    ('convert', ['--overwrite', '--resume'], '--overwrite and --resume contradict each other'),
    ('convert', ['--levels', '7'], '--levels: level 7 does not exist'),
    ('convert', ['--mode', 'stream'], '--mode must be global or tiled'),
    ('process', ['--op', 'sobel', '--chunk', 0], '--chunk must be at least 1'),
    ('convert', ['--levels', '0,0'], '--levels: level 0 is listed twice'),
    ('process', ['--op', 'sobel', '--shard', 700], '--shard (700) must be a multiple of --chunk (512)'),
], ids=['shard-chunk', 'shard-v2', 'overwrite-resume', 'levels', 'mode', 'chunk', 'levels-twice', 'process-shard'])
def test_library_options_are_named_as_flags(cli, slide, tmp_path, command, extra, message):
    out = tmp_path / 'out.zarr'
    result = cli.run(command, slide, out, *extra)
    line = error_line(result)
    assert result.returncode == 2 and message in line, line
    assert '\x1f' not in result.stderr
    assert not out.exists()


BAD_CONVERT_ARGS = {  # name: (arguments, message parts)
    'encode-gpu-on-the-cpu': (['--encode', 'gpu'], ['--encode gpu', 'needs --device cuda']),
    'encode-unknown': (['--encode', 'nvcomp'], ['encode mode must be auto, cpu or gpu', "'nvcomp'"]),
    'decode-gpu-on-the-cpu': (['--decode', 'gpu'], ['--decode gpu', 'needs --device cuda']),
}


@pytest.mark.parametrize('args,parts', BAD_CONVERT_ARGS.values(), ids=BAD_CONVERT_ARGS.keys())
def test_bad_decode_and_encode_arguments(cli, slide, tmp_path, args, parts):
    out = tmp_path / 'out.zarr'
    assert_fails(cli.run('convert', slide, out, *args), 2, 'usage error', *parts)
    assert not out.exists()


@pytest.mark.parametrize('color, photometric, subsampling', [('420', 6, (2, 2)), ('422', 6, (2, 1)),
                                                             ('444', 6, (1, 1)), ('rgb', 2, None)])
def test_synth_jpeg_colours_are_what_tiff_says(cli, tmp_path, color, photometric, subsampling):
    """synth's JPEG sampling is what the file's tags and the streams say, and every reader decodes it."""
    import json

    out = tmp_path / f'{color}.tif'
    cli.check('synth', out, '--size', '300x200', '--tile', '64', '--jpeg-color', color)
    with tifffile.TiffFile(out) as tf:
        page = tf.pages[0]
        assert page.photometric == photometric
        tag = page.tags.get('YCbCrSubSampling')
        assert (tuple(tag.value) if tag else None) == subsampling
    report = json.loads(cli.check('read', out, '--json').stdout)
    assert report['decode']['decoder'] == 'CPU' and 'CPU' in report['decode']['detail']
