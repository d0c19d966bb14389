# Mutated real slides, as data (OpenSlide style): each row of tests/data/mutations.tsv names a shared
# slide (checked by its sha256 first), a binary patch, a tilestream command and the exact outcome:
# "ok" (exit 0), or exit 1 with one error line that names the patched file and matches the row's
# regular expression (the place: IFD, tag, level, tile, byte offset). The slides themselves are never
# copied into the project; a row whose slide is absent skips with a message.
#
# Columns (tab-separated; '#' starts a comment line):
#   name     the test id, also the patched file's name (with the base's suffix)
#   base     slide path relative to ../shared/testdata
#   sha256   of the base slide
#   edits    ';'-separated: OFFSET:HEX (overwrite bytes at decimal OFFSET), truncate:LENGTH
#   command  info | read [OPTIONS...]   (read writes to a temporary .npy)
#   expect   ok (exit 0), ok:REGEX (exit 0 and REGEX found in stdout), or a Python regular
#            expression searched in the error line
import re
import shlex

import pytest

from conftest import TESTDATA
from mutation_table import load_table, write_mutated

ROWS = load_table()


def test_table_is_well_formed():
    for row in ROWS:
        assert re.fullmatch(r'[0-9a-f]{64}', row.sha256), row.name
        assert row.command.split()[0] in ('info', 'read'), row.name
        re.compile(row.expect.removeprefix('ok:'))
        for edit in row.edits.split(';'):
            assert re.fullmatch(r'\s*(truncate:\d+|\d+:([0-9a-f]{2})+)\s*', edit), f'{row.name}: bad edit {edit!r}'


@pytest.mark.parametrize('row', ROWS, ids=[row.name for row in ROWS])
def test_mutation(row, cli, tmp_path):
    path = write_mutated(row, tmp_path)
    if path is None:
        pytest.skip(f'shared slide {row.base} not found under {TESTDATA.resolve()}')
    verb, *options = shlex.split(row.command)
    args = [verb, path, *options]
    if verb == 'read':
        args += ['-o', tmp_path / 'out.npy']
    result = cli.run(*args)
    if row.expect == 'ok' or row.expect.startswith('ok:'):
        assert result.returncode == 0, f'exit {result.returncode}: {result.stderr}'
        wanted = row.expect.removeprefix('ok').removeprefix(':')
        assert re.search(wanted, result.stdout), f'{wanted!r} not found in: {result.stdout}'
        return
    assert result.returncode == 1, f'exit {result.returncode}, want 1: {result.stderr}'
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('tilestream: '), f'want one error line: {result.stderr!r}'
    assert str(path) in lines[0], f'the message does not name the file: {lines[0]}'
    assert re.search(row.expect, lines[0]), f'{row.expect!r} not found in: {lines[0]}'
