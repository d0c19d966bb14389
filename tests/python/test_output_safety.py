# What `convert` and `process` may delete: only a Zarr store of ours. --overwrite and --resume on a
# directory holding anything else (a text file, a folder, a .git folder, a symbolic link out of the
# store), on a file, on /, on $HOME, on the current directory or a directory above it, exit 2, name
# what they found and leave every entry in place, byte for byte; a real store of ours (v2, v3, sharded,
# OME, with partial files and folders of an interrupted run) is replaced by --overwrite and completed
# by --resume, ending equal to one clean run.
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PARTIAL = '.0123456789abcdef.partial'  # the suffix of our temporary files (FileStore)


@pytest.fixture(scope='module')
def slide(cli, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('slide') / 's.tif'
    cli.check('synth', path, '--size', '1200x1000', '--compression', 'jpeg', '--threads', '2')
    return path


def run(cli, *args, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli.binary), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **env} if env else None)


def snapshot(root: Path) -> dict:
    """Every entry under `root` (and root itself), links not followed: bytes, 'dir' or the link's target."""
    entries = {}
    for path in [root, *sorted(root.rglob('*'))] if root.is_dir() and not root.is_symlink() else [root]:
        key = str(path.relative_to(root.parent))
        if path.is_symlink():
            entries[key] = ('link', os.readlink(path))
        elif path.is_dir():
            entries[key] = 'dir'
        else:
            entries[key] = path.read_bytes()
    return entries


def store_files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


# The commands that remove files from their output, as argument lists around (slide, output).
COMMANDS = {
    'convert-overwrite': lambda slide, out: ['convert', slide, out, '--threads', 2, '--overwrite'],
    'convert-resume': lambda slide, out: ['convert', slide, out, '--threads', 2, '--resume'],
    'process-overwrite': lambda slide, out: ['process', slide, out, '--op', 'grayscale', '--threads', 2, '--overwrite'],
}


def plain(command):
    """The command without --overwrite / --resume: writes a fresh store of ours."""
    return lambda slide, out: [a for a in COMMANDS[command](slide, out) if a not in ('--overwrite', '--resume')]


def first_block(store: Path) -> Path:
    """A block file of the store (a name made of digits, maybe after 'c/')."""
    return next(p for p in sorted(store.rglob('*')) if p.is_file() and p.name.replace('.', '').isdigit())


# Foreign content put into the output: (name, function(out, tmp) -> the text the refusal must name).
def text_file(out: Path, tmp: Path) -> str:
    (out / 'notes.txt').write_text('my notes\n')
    return 'notes.txt'


def sub_folder(out: Path, tmp: Path) -> str:
    (out / 'photos').mkdir()
    (out / 'photos' / 'a.jpg').write_bytes(b'\xff\xd8 not really')
    return 'photos/'


def git_folder(out: Path, tmp: Path) -> str:
    (out / '.git' / 'objects' / 'ab').mkdir(parents=True)
    (out / '.git' / 'HEAD').write_text('ref: refs/heads/main\n')
    (out / '.git' / 'objects' / 'ab' / 'cdef').write_bytes(b'blob')
    return '.git/'


def link_out(out: Path, tmp: Path) -> str:
    """A symbolic link in place of a block of ours (or at the top of an empty output) to a folder outside."""
    outside = tmp / 'outside'
    outside.mkdir(exist_ok=True)
    (outside / 'precious.txt').write_text('keep me\n')
    blocks = [p for p in out.rglob('*') if p.is_file()]
    link = first_block(out) if blocks else out / '0'
    if link.exists():
        link.unlink()
    link.symlink_to(outside)
    return f'{link.relative_to(out)} -> {outside} (symbolic link)'


FOREIGN = {f.__name__: f for f in (text_file, sub_folder, git_folder, link_out)}


@pytest.mark.parametrize('base', ['empty', 'our_store'])
@pytest.mark.parametrize('foreign', FOREIGN)
@pytest.mark.parametrize('command', COMMANDS)
def test_foreign_content_is_refused_and_kept(cli, slide, tmp_path, command, foreign, base):
    out = tmp_path / 'out.zarr'
    out.mkdir()
    if base == 'our_store':
        r = run(cli, *plain(command)(slide, out))
        assert r.returncode == 0, r.stderr
    named = FOREIGN[foreign](out, tmp_path)
    before = snapshot(tmp_path)
    r = run(cli, *COMMANDS[command](slide, out))
    assert r.returncode == 2, f'exit {r.returncode}: {r.stderr}'
    assert named in r.stderr, r.stderr
    assert str(out) in r.stderr and 'is not a Zarr store written by tilestream' in r.stderr, r.stderr
    assert 'nothing was removed' in r.stderr, r.stderr
    assert snapshot(tmp_path) == before, 'an entry changed although the command was refused'


def test_the_count_of_foreign_entries_is_given(cli, slide, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    for n in range(12):
        (out / f'file{n:02}.txt').write_text(str(n))
    before = snapshot(tmp_path)
    r = run(cli, 'convert', slide, out, '--overwrite')
    assert r.returncode == 2, r.stderr
    assert '12 entries' in r.stderr and 'file00.txt, file01.txt' in r.stderr and 'and 7 more' in r.stderr, r.stderr
    assert snapshot(tmp_path) == before


WRITERS = {**COMMANDS, 'convert': plain('convert-overwrite'), 'process': plain('process-overwrite')}


@pytest.mark.parametrize('command', WRITERS)
def test_a_file_as_output_is_refused(cli, slide, tmp_path, command):
    out = tmp_path / 'out.zarr'
    out.write_bytes(b'a file, not a store\n')
    r = run(cli, *WRITERS[command](slide, out))
    assert r.returncode == 2 and 'is a file' in r.stderr and str(out) in r.stderr, r.stderr
    assert out.read_bytes() == b'a file, not a store\n'


@pytest.mark.parametrize('command', COMMANDS)
def test_the_root_directory_is_refused(cli, slide, command):
    r = run(cli, *COMMANDS[command](slide, '/'))
    assert r.returncode == 2 and 'is the root directory' in r.stderr, r.stderr


@pytest.mark.parametrize('command', COMMANDS)
def test_the_home_directory_is_refused(cli, slide, tmp_path, command):
    home = tmp_path / 'home'
    home.mkdir()
    (home / '.profile').write_text('export A=1\n')
    before = snapshot(tmp_path)
    for output, reason in ((home, 'is the home directory'), (tmp_path, 'is a directory above the home directory')):
        r = run(cli, *COMMANDS[command](slide, output), env={'HOME': str(home)})
        assert r.returncode == 2 and reason in r.stderr, r.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize('command', COMMANDS)
def test_the_current_directory_and_those_above_are_refused(cli, slide, tmp_path, command):
    work = tmp_path / 'a' / 'b'
    work.mkdir(parents=True)
    (work / 'draft.txt').write_text('draft\n')
    (tmp_path / 'a' / 'keep.txt').write_text('keep\n')
    before = snapshot(tmp_path)
    for output, reason in (('.', 'is the current directory'), (work, 'is the current directory'),
                           ('..', 'is a directory above the current directory'),
                           (tmp_path / 'a', 'is a directory above the current directory')):
        r = run(cli, *COMMANDS[command](slide, output), cwd=work)
        assert r.returncode == 2 and reason in r.stderr, f'{output}: {r.stderr}'
    assert snapshot(tmp_path) == before


# Layouts of our stores: (convert options of the first run, options of the replacing run).
LAYOUTS = {
    'v2': (['--zarr-version', 2, '--chunk', 256], ['--zarr-version', 2, '--chunk', 512]),
    'v2-dot-keys': (['--zarr-version', 2, '--separator', '.', '--chunk', 256], ['--zarr-version', 3]),
    'v3': (['--chunk', 256, '--codec', 'gzip'], ['--chunk', 128, '--codec', 'zstd']),
    'v3-sharded': (['--chunk', 128, '--shard', 512], ['--chunk', 256]),
    'ome': (['--ome', '--chunk', 256], ['--ome', '--zarr-version', 2, '--chunk', 128]),
    'levels': (['--levels', '0,1,2', '--chunk', 256], ['--levels', '0', '--chunk', 256]),
}


def interrupt(store: Path) -> None:
    """Makes `store` look like a run of ours that was killed: no root metadata, blocks missing (one
    folder of blocks left empty), partial files next to blocks and metadata."""
    for name in ('zarr.json', '.zgroup', '.zattrs'):
        if (store / name).exists():
            (store / name).unlink()
    blocks = sorted(p for p in store.rglob('*') if p.is_file() and p.name.replace('.', '').isdigit())
    assert len(blocks) >= 4, blocks
    for block in blocks[::3]:
        block.unlink()
    last = blocks[-1]
    for sibling in list(last.parent.iterdir()):
        if sibling.is_file() and sibling.name.replace('.', '').isdigit():
            sibling.unlink()
    (blocks[1].parent / (blocks[1].name + PARTIAL)).write_bytes(b'half a block')
    metadata = next(store.rglob('zarr.json'), None) or next(store.rglob('.zarray'))
    (metadata.parent / (metadata.name + PARTIAL)).write_bytes(b'{"half')


@pytest.mark.parametrize('layout', LAYOUTS)
def test_overwrite_replaces_our_interrupted_store(cli, slide, tmp_path, layout):
    first, second = LAYOUTS[layout]
    out, reference = tmp_path / 'out.zarr', tmp_path / 'reference.zarr'
    assert run(cli, 'convert', slide, out, *first).returncode == 0
    interrupt(out)
    r = run(cli, 'convert', slide, out, *second, '--overwrite')
    assert r.returncode == 0, r.stderr
    assert run(cli, 'convert', slide, reference, *second).returncode == 0
    assert store_files(out) == store_files(reference)
    assert not list(out.rglob('*.partial'))


@pytest.mark.parametrize('layout', LAYOUTS)
def test_resume_completes_our_interrupted_store(cli, slide, tmp_path, layout):
    options = LAYOUTS[layout][0]
    out, reference = tmp_path / 'out.zarr', tmp_path / 'reference.zarr'
    assert run(cli, 'convert', slide, reference, *options).returncode == 0
    shutil.copytree(reference, out)
    interrupt(out)
    r = run(cli, 'convert', slide, out, *options, '--resume')
    assert r.returncode == 0, r.stderr
    assert store_files(out) == store_files(reference)
    assert not list(out.rglob('*.partial'))


def test_process_overwrite_replaces_its_own_store(cli, slide, tmp_path):
    out, reference = tmp_path / 'out.zarr', tmp_path / 'reference.zarr'
    assert run(cli, 'process', slide, out, '--op', 'grayscale', '--zarr-version', 2, '--chunk', 300).returncode == 0
    (first_block(out).parent / (first_block(out).name + PARTIAL)).write_bytes(b'half')
    r = run(cli, 'process', slide, out, '--op', 'sobel', '--chunk', 256, '--overwrite')
    assert r.returncode == 0, r.stderr
    assert run(cli, 'process', slide, reference, '--op', 'sobel', '--chunk', 256).returncode == 0
    assert store_files(out) == store_files(reference)
