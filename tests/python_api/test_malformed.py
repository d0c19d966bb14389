# Malformed input through the Python API: no input crashes the interpreter, and every failure is a
# tilestream error (a subclass of OSError or ValueError) whose message names the file and the place.
# Two corpora: the fuzz seeds and kept findings of the slide reader (fuzz/corpus/fuzz_slide,
# fuzz/regressions/fuzz_slide), each opened and read like the fuzz target reads it, and the table of
# mutated real slides (tests/data/mutations.tsv), whose rows expect the same message as on the command
# line.
import re
import shlex

import numpy as np
import pytest

import tilestream
from conftest import REPO_ROOT, TESTDATA
from mutation_table import load_table, write_mutated

FUZZ_INPUTS = sorted((REPO_ROOT / 'fuzz' / 'corpus' / 'fuzz_slide').iterdir()) + \
    sorted((REPO_ROOT / 'fuzz' / 'regressions' / 'fuzz_slide').iterdir())


def read_everything_small(path):
    """What the fuzz target does: open, then small regions at the corners of every level and every
    associated image."""
    with tilestream.open(path) as s:
        s.properties
        for level, (width, height) in enumerate(s.level_dimensions):
            downsample = s.level_downsamples[level]
            for x, y in ((0, 0), (max(0, width - 16), max(0, height - 16))):
                s.read_region((int(x * downsample), int(y * downsample)), level, (16, 16))
        for name in s.associated_images:
            s.associated_images[name]


@pytest.mark.parametrize('path', FUZZ_INPUTS, ids=[p.name for p in FUZZ_INPUTS])
def test_fuzz_inputs_read_or_raise_tilestream_errors(path, tmp_path):
    copy = tmp_path / path.name  # the message names the file the user gave
    copy.write_bytes(path.read_bytes())
    try:
        read_everything_small(copy)
    except tilestream.Error as e:
        assert isinstance(e, (OSError, ValueError, MemoryError)), type(e)
        assert str(copy) in str(e), f'the message does not name the file: {e}'


ROWS = load_table()


def run_row_command(path, command):
    """The table's CLI command through the API: info opens and reads the properties; read --level N
    [--region x,y,w,h] or --associated NAME reads those pixels."""
    verb, *options = shlex.split(command)
    with tilestream.open(path) as s:
        s.properties
        if verb == 'info':
            return
        args = dict(zip(options[0::2], options[1::2]))
        if '--associated' in args:
            s.associated_images[args['--associated']]
            return
        level = int(args['--level'])
        x, y, w, h = map(int, args['--region'].split(',')) if '--region' in args else (0, 0, *s.level_dimensions[level])
        downsample = s.level_downsamples[level]
        pixels = s.read_region((int(x * downsample), int(y * downsample)), level, (w, h))
        assert pixels.shape[:2] == (h, w) and isinstance(pixels, np.ndarray)


@pytest.mark.parametrize('row', ROWS, ids=[row.name for row in ROWS])
def test_mutated_slides_raise_the_commands_error(row, tmp_path):
    path = write_mutated(row, tmp_path)
    if path is None:
        pytest.skip(f'shared slide {row.base} not found under {TESTDATA.resolve()}')
    if row.expect == 'ok' or row.expect.startswith('ok:'):
        run_row_command(path, row.command)
        return
    with pytest.raises(tilestream.Error) as caught:
        run_row_command(path, row.command)
    message = str(caught.value)
    assert str(path) in message, f'the message does not name the file: {message}'
    assert re.search(row.expect, message), f'{row.expect!r} not found in: {message}'
