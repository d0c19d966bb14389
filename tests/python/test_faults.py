# Faults injected for real into the real tilestream binary: reads that fail (EIO), come back short or
# meet a file truncated by another process, and writes that fail (EIO, ENOSPC, EDQUOT) on chunk
# files, metadata and fsync, through the LD_PRELOAD shim of tests/faults/fault_shim.c; and a real
# full disk (a small tmpfs). Every failing run must exit non-zero with a message naming the file and
# the byte offset, leave no chunk that differs from a clean run's (absent is fine) and no partial
# file, and leave a store that `--resume` completes to equal a clean run byte for byte.
#
# The shim is built next to the binary (libtilestream_fault_shim.so; TILESTREAM_FAULT_SHIM names
# another). Only release builds have it: a library preloaded ahead of the ASan runtime breaks ASan.
import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

SIZE = 1024    # level 0 of the synthetic slides: 4 x 4 tiles of 256
CHUNK = '256'
ERRNO_TEXT = {'EIO': 'Input/output error', 'ENOSPC': 'No space left on device', 'EDQUOT': 'Disk quota exceeded'}


@pytest.fixture(scope='session')
def shim(cli) -> str:
    value = os.environ.get('TILESTREAM_FAULT_SHIM')
    path = Path(value) if value else Path(cli.binary).parent / 'libtilestream_fault_shim.so'
    if not path.is_file():
        pytest.fail(f'fault shim not found at {path}: build the tilestream_fault_shim target (release builds) '
                    'or set TILESTREAM_FAULT_SHIM')
    return str(path)


def fault_env(shim: str, path: str, op: str = 'read', error: str = 'EIO', **more) -> dict:
    """Environment of a run with the shim preloaded after anything already preloaded."""
    env = dict(os.environ)
    env['LD_PRELOAD'] = ' '.join(p for p in (env.get('LD_PRELOAD'), shim) if p)
    env.update(TILESTREAM_FAULT_PATH=path, TILESTREAM_FAULT_OP=op, TILESTREAM_FAULT_ERROR=error)
    env.update({f'TILESTREAM_FAULT_{k.upper()}': str(v) for k, v in more.items()})
    return env


def run(cli, args, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli.binary), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture(scope='module')
def slide(cli, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('slides') / 'faulty.tif'
    cli.check('synth', path, '--size', f'{SIZE}x{SIZE}', '--compression', 'jpeg', '--threads', '2')
    return path


def tile_offset(slide: Path, tile: int) -> int:
    with tifffile.TiffFile(slide) as tf:
        return int(tf.pages[0].dataoffsets[tile])


def store_files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def assert_no_wrong_chunk(out: Path, reference: dict) -> int:
    """Every file in the store is one the clean run wrote, with the same bytes; no partial file is
    left. Returns how many files are there."""
    got = store_files(out) if out.exists() else {}
    partial = [k for k in got if k.endswith('.partial')]
    assert not partial, f'partial files left: {partial[:3]}'
    stray = [k for k in got if k not in reference]
    assert not stray, f'files a clean run does not write: {stray[:3]}'
    wrong = [k for k in got if got[k] != reference[k]]
    assert not wrong, f'{len(wrong)} files differ from a clean run, e.g. {wrong[:3]}'
    return len(got)


def assert_resume_completes(cli, args, out: Path, reference: dict) -> None:
    resumed = run(cli, [*args, '--resume'])
    assert resumed.returncode == 0, resumed.stderr
    got = store_files(out)
    assert sorted(got) == sorted(reference), 'key sets differ from a clean run'
    different = [k for k in reference if reference[k] != got[k]]
    assert not different, f'{len(different)} files differ from a clean run after --resume, e.g. {different[:3]}'


# Commands that write a store, as (id, arguments after the slide and the output).
STORE_COMMANDS = {
    'convert-v2': ['convert', '--zarr-version', '2', '--chunk', CHUNK, '--codec', 'none'],
    'convert-v3': ['convert', '--zarr-version', '3', '--chunk', CHUNK, '--codec', 'none'],
    'convert-sharded': ['convert', '--zarr-version', '3', '--chunk', '128', '--shard', '256', '--codec', 'zstd'],
    'convert-gzip': ['convert', '--zarr-version', '3', '--chunk', CHUNK, '--codec', 'gzip'],
    'process-global': ['process', '--op', 'gaussian:sigma=1.5', '--mode', 'global', '--chunk', CHUNK, '--codec', 'none'],
    'process-tiled': ['process', '--op', 'gaussian:sigma=1.5', '--mode', 'tiled', '--chunk', CHUNK, '--codec', 'zstd'],
}


def store_args(name: str, slide: Path, out: Path, *extra) -> list:
    command, *options = STORE_COMMANDS[name]
    return [command, slide, out, *options, '--threads', '2', *extra]


@pytest.fixture(scope='module')
def references(cli, slide, tmp_path_factory) -> dict:
    """The clean stores, by command id, and the clean level-0 read."""
    root = tmp_path_factory.mktemp('reference')
    stores = {}
    for name in STORE_COMMANDS:
        out = root / f'{name}.zarr'
        cli.check(*store_args(name, slide, out))
        stores[name] = store_files(out)
    npy = root / 'level0.npy'
    cli.check('read', slide, '--level', '0', '-o', npy)
    stores['read'] = npy.read_bytes()
    return stores


# --- reads -------------------------------------------------------------------------------------

TILE = 6  # level 0, column 2, row 1


@pytest.mark.parametrize('name', ['read', *STORE_COMMANDS])
def test_read_error_at_a_tile(cli, shim, slide, references, tmp_path, name):
    offset = tile_offset(slide, TILE)
    out = tmp_path / ('out.npy' if name == 'read' else 'out.zarr')
    args = ['read', slide, '--level', '0', '-o', out] if name == 'read' else store_args(name, slide, out)
    r = run(cli, args, fault_env(shim, slide.name, 'read', 'EIO', offset=offset))
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert str(slide) in r.stderr and 'Input/output error' in r.stderr, r.stderr
    assert f'offset {offset}' in r.stderr, r.stderr
    assert f'tile {TILE} (column 2, row 1)' in r.stderr and 'level 0' in r.stderr, r.stderr
    if name == 'read':
        assert not out.exists() and not list(tmp_path.glob('*.partial')), list(tmp_path.iterdir())
        return
    assert_no_wrong_chunk(out, references[name])
    assert_resume_completes(cli, args, out, references[name])


@pytest.mark.parametrize('name', ['read', 'convert-v3', 'convert-sharded', 'process-tiled', 'process-global'])
def test_short_reads_are_completed(cli, shim, slide, references, tmp_path, name):
    """Every read of the slide returns half of what was asked: the output is still exact."""
    out = tmp_path / ('out.npy' if name == 'read' else 'out.zarr')
    args = ['read', slide, '--level', '0', '-o', out] if name == 'read' else store_args(name, slide, out)
    log = tmp_path / 'faults.log'
    r = run(cli, args, fault_env(shim, slide.name, 'read', 'short', log=log))
    assert r.returncode == 0, r.stderr
    assert len(log.read_text().splitlines()) > 16, 'the shim shortened too few reads'
    if name == 'read':
        assert out.read_bytes() == references['read']
    else:
        assert store_files(out) == references[name]


# --- writes ------------------------------------------------------------------------------------

def chunk_path(name: str, out: Path) -> str:
    """A substring of every chunk file's path (the level-0 array's for convert)."""
    if name == 'convert-v2':
        return f'{out.name}/0/'  # v2 keys: 0/1.2.0 beside 0/.zarray, which is written first
    return f'{out.name}/0/c/' if name.startswith('convert') else f'{out.name}/c/'


CHUNK_KEY = re.compile(r'(0/)?(c/)?\d+[/.]\d+[/.]0')


@pytest.mark.parametrize('error', ['EIO', 'ENOSPC', 'EDQUOT'])
@pytest.mark.parametrize('name', [*STORE_COMMANDS])
def test_chunk_write_error(cli, shim, slide, references, tmp_path, name, error):
    out = tmp_path / 'out.zarr'
    args = store_args(name, slide, out)
    # Let a few chunk writes through first (v2 also counts its .zarray and .zattrs).
    r = run(cli, args, fault_env(shim, chunk_path(name, out), 'write', error, after=4))
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert ERRNO_TEXT[error] in r.stderr, r.stderr
    assert str(out) in r.stderr and CHUNK_KEY.search(r.stderr), 'the message does not name the chunk file'
    assert re.search(r'at offset \d+', r.stderr), 'the message does not name the offset'
    assert_no_wrong_chunk(out, references[name])
    assert_resume_completes(cli, args, out, references[name])


@pytest.mark.parametrize('error', ['short'])
@pytest.mark.parametrize('name', ['convert-v2', 'convert-v3', 'convert-sharded', 'convert-gzip', 'process-tiled',
                                  'process-global'])
def test_short_writes_are_completed(cli, shim, slide, references, tmp_path, name, error):
    out = tmp_path / 'out.zarr'
    r = run(cli, store_args(name, slide, out), fault_env(shim, out.name, 'write', error))
    assert r.returncode == 0, r.stderr
    assert store_files(out) == references[name]


# Metadata: the level-0 array's (written before its chunks) and the root group's (written last).
METADATA = [
    ('convert-v3', 'array', '{out}/0/zarr.json'),
    ('convert-v3', 'group', '{out}/zarr.json'),
    ('convert-v2', 'group', '{out}/.zgroup'),
    ('process-tiled', 'array', '{out}/zarr.json'),
]


@pytest.mark.parametrize('name, which, path', METADATA, ids=[f'{n}-{w}' for n, w, _ in METADATA])
@pytest.mark.parametrize('error', ['EIO', 'ENOSPC'])
def test_metadata_write_error(cli, shim, slide, references, tmp_path, name, which, path, error):
    out = tmp_path / 'out.zarr'
    args = store_args(name, slide, out)
    target = path.format(out=out.name)
    r = run(cli, args, fault_env(shim, target, 'write', error))
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert ERRNO_TEXT[error] in r.stderr and str(out / target.split('/', 1)[1]) in r.stderr, r.stderr
    assert_no_wrong_chunk(out, references[name])
    assert not (out / target.split('/', 1)[1]).exists()
    assert_resume_completes(cli, args, out, references[name])


@pytest.mark.parametrize('name', ['convert-v3', 'convert-gzip', 'process-tiled', 'process-global'])
def test_fsync_error(cli, shim, slide, references, tmp_path, name):
    out = tmp_path / 'out.zarr'
    args = store_args(name, slide, out, '--fsync')
    r = run(cli, args, fault_env(shim, chunk_path(name, out), 'sync', 'EIO', after=2))
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert 'cannot fsync' in r.stderr and 'Input/output error' in r.stderr, r.stderr
    assert str(out) in r.stderr and CHUNK_KEY.search(r.stderr), 'the message does not name the chunk file'
    assert_no_wrong_chunk(out, references[name])
    assert_resume_completes(cli, args, out, references[name])


@pytest.mark.parametrize('name', ['convert-v2', 'convert-v3', 'convert-sharded', 'convert-gzip', 'process-tiled',
                                  'process-global'])
def test_fsync_policy(cli, shim, slide, references, tmp_path, name):
    """--fsync is one policy for every writer (zarr/store.hpp): each value's file is fsynced before its
    rename, every folder of the store after the renames into it, and the root's entry in its parent.
    The shim logs every fsync (error 'short' lets them through); without --fsync there is none."""
    out = tmp_path / 'out.zarr'
    for fsync in (False, True):
        log = tmp_path / f'fsync-{fsync}.log'
        args = store_args(name, slide, out, '--overwrite', *(['--fsync'] if fsync else []))
        r = run(cli, args, fault_env(shim, os.path.realpath(tmp_path), 'sync', 'short', log=log))
        assert r.returncode == 0, r.stderr
        assert store_files(out) == references[name]
        synced = [line.split(' ')[1] for line in log.read_text().splitlines()] if log.exists() else []
        if not fsync:
            assert synced == [], synced[:3]
            continue
        root = os.path.realpath(out)
        files = [os.path.join(root, k) for k in store_files(out)]
        partial = re.compile(r'(.*)\.[0-9a-f]{16}\.partial$')
        synced_values = {m.group(1) for m in map(partial.match, synced) if m}
        missing = [f for f in files if f not in synced_values]
        assert not missing, f'values not fsynced before their rename: {missing[:3]}'
        folders = {root, os.path.dirname(root)} | {os.path.dirname(f) for f in files}
        for f in files:  # every folder on the way to a value
            folder = os.path.dirname(f)
            while len(folder) > len(root):
                folders.add(folder)
                folder = os.path.dirname(folder)
        unsynced = sorted(folders - set(synced))
        assert not unsynced, f'folders not fsynced: {unsynced[:3]}'


@pytest.mark.parametrize('suffix', ['.npy', '.png'])
@pytest.mark.parametrize('error', ['EIO', 'ENOSPC'])
def test_image_write_error(cli, shim, slide, tmp_path, suffix, error):
    out = tmp_path / f'out{suffix}'
    r = run(cli, ['read', slide, '--level', '1', '-o', out], fault_env(shim, out.name, 'write', error, after=1))
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert ERRNO_TEXT[error] in r.stderr and str(out) in r.stderr and 'at offset' in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == [], 'a failed write left a file'


def test_store_read_error_while_downsampling(cli, shim, slide, tmp_path):
    """--ome builds the levels the slide lacks from the stored level above: a failing read of a
    stored chunk is an error naming it, and --resume completes the store."""
    args = ['convert', slide, None, '--ome', '--chunk', '128', '--codec', 'none', '--threads', '2']
    clean = tmp_path / 'clean.zarr'
    cli.check(*[a if a is not None else clean for a in args])
    reference = store_files(clean)
    out = tmp_path / 'out.zarr'
    args = [a if a is not None else out for a in args]
    # Level 3 (128 x 128) is the first the slide lacks (it has 1024, 512 and 256): built from level 2.
    r = run(cli, args, fault_env(shim, f'{out.name}/2/c/', 'read', 'EIO'))
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert 'Input/output error' in r.stderr and re.search(rf'{out}/2/c/0/\d+/\d+', r.stderr), r.stderr
    assert 'offset' in r.stderr, r.stderr
    assert_no_wrong_chunk(out, reference)
    assert_resume_completes(cli, args, out, reference)


@pytest.mark.parametrize('options, message', [
    (['--op', 'gaussian:sigma=1.5', '--chunk', '128'], 'other options'),
    (['--op', 'sobel', '--chunk', CHUNK], 'other options'),
    (['--op', 'gaussian:sigma=1.5', '--chunk', CHUNK, '--zarr-version', '2'], 'holds a Zarr v3 store, this run writes v2'),
    (['--op', 'gaussian:sigma=1.5', '--chunk', CHUNK, '--overwrite'], 'contradict'),
], ids=['chunk', 'op', 'zarr-version', 'overwrite'])
def test_process_resume_refuses_another_run(cli, slide, tmp_path, options, message):
    out = tmp_path / 'out.zarr'
    cli.check('process', slide, out, '--op', 'gaussian:sigma=1.5', '--chunk', CHUNK)
    before = store_files(out)
    r = run(cli, ['process', slide, out, *options, '--resume'])
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert store_files(out) == before


# --- a real full disk --------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['convert-v3', 'process-tiled'])
def test_full_tmpfs_then_resume(cli, slide, references, tmp_path, name):
    mnt = tmp_path / 'tiny'
    mnt.mkdir()
    # 1 MiB holds about a third of the 1024 x 1024 x 3 uncompressed level 0 (256 x 256 chunks).
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(mnt)], capture_output=True,
                             text=True)
    if mounted.returncode:
        pytest.skip(f'cannot mount a tmpfs here: {mounted.stderr.strip()}')
    try:
        out = mnt / 'out.zarr'
        command, *options = STORE_COMMANDS[name]
        options = [o if o != 'zstd' else 'none' for o in options]  # uncompressed, so it fills
        args = [command, slide, out, *options, '--threads', '2']
        clean = tmp_path / 'clean.zarr'
        cli.check(command, slide, clean, *options, '--threads', '2')
        reference = store_files(clean)
        r = run(cli, args)
        print(r.stderr.strip())
        assert r.returncode == 1, r.stderr
        assert 'No space left on device' in r.stderr and CHUNK_KEY.search(r.stderr), r.stderr
        present = assert_no_wrong_chunk(out, reference)
        assert 0 < present < len(reference)
        grown = subprocess.run(['mount', '-o', 'remount,size=64m', str(mnt)], capture_output=True, text=True)
        assert grown.returncode == 0, grown.stderr
        assert_resume_completes(cli, args, out, reference)
    finally:
        subprocess.run(['umount', str(mnt)], check=False)


# --- the slide truncated by another process while it is read -----------------------------------

@pytest.mark.parametrize('name', ['read', 'convert-v3', 'process-tiled'])
def test_slide_truncated_while_read(cli, shim, slide, references, tmp_path, name):
    """The shim pauses the read of tile 9 until the test has truncated the slide to that tile's
    offset: the run must say that the file shrank, and name it and the offset."""
    victim = tmp_path / slide.name  # a copy under the same name: process's attributes name the file
    victim.write_bytes(slide.read_bytes())
    offset = tile_offset(victim, 9)
    paused, resume = tmp_path / 'paused', tmp_path / 'resume'
    out = tmp_path / ('out.npy' if name == 'read' else 'out.zarr')
    args = ['read', victim, '--level', '0', '-o', out, '--threads', '1'] if name == 'read' else [
        *store_args(name, victim, out)[:-2], '--threads', '1']
    env = fault_env(shim, str(victim), 'read', 'pause', offset=offset, times=1, paused=paused, resume=resume)
    proc = subprocess.Popen([str(cli.binary), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not paused.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert paused.exists(), f'the run never reached the tile at offset {offset}: {proc.communicate()}'
        size = victim.stat().st_size
        os.truncate(victim, offset)
        resume.touch()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(stderr.strip())
    assert proc.returncode == 1, stderr
    assert str(victim) in stderr and f'shrank from {size} to {offset} bytes' in stderr, stderr
    assert f'offset {offset}' in stderr and 'level 0' in stderr, stderr
    if name == 'read':
        assert not out.exists()
        return
    assert_no_wrong_chunk(out, references[name])
