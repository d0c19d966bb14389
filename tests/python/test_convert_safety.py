# Safety of `tilestream convert` against real failures of the real process: killed mid-run (SIGKILL,
# SIGTERM, SIGINT) and then resumed, disk full (a 2 MiB tmpfs) and a file size limit (RLIMIT_FSIZE);
# and peak memory that does not grow with the slide. Every chunk file found in a store must decode
# to the right pixels: a present key always means a complete, correct value. The signals' default
# actions are restored in each child, so the tests pass however pytest was started (a background job
# ignores SIGINT); one case ignores SIGINT in the parent to prove it.
import contextlib
import gzip
import json
import os
import re
import resource
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

KILL_SIZE = 8192  # uncompressed 8192 x 8192 RGB: a few seconds to convert with gzip on 2 threads
KILL_ARGS = ['--chunk', '256', '--threads', '2', '--codec', 'gzip:6', '--zarr-version', '3']


def synth(cli, path: Path, size: int, compression: str) -> Path:
    if not path.exists():
        cli.check('synth', path, '--size', f'{size}x{size}', '--compression', compression, '--threads', '4')
    return path


def convert_cmd(cli, slide, out, *args):
    return [str(cli.binary), 'convert', str(slide), str(out), *map(str, args)]


def store_files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def chunk_files(root: Path):
    """(array path, chunk indices, file) of every chunk of a v3 store with default key encoding."""
    for meta in sorted(root.glob('*/zarr.json')):
        array = meta.parent
        for f in array.rglob('*'):
            parts = f.relative_to(array).parts
            if f.is_file() and parts[0] == 'c' and not f.name.endswith('.partial'):
                yield array.name, tuple(int(p) for p in parts[1:]), f


def decode_chunk(meta: dict, data: bytes) -> np.ndarray:
    """An unsharded v3 chunk with bytes + optional gzip / zstd, as an array of the chunk shape."""
    shape = meta['chunk_grid']['configuration']['chunk_shape']
    for codec in reversed(meta['codecs'][1:]):
        if codec['name'] == 'gzip':
            data = gzip.decompress(data)
        elif codec['name'] == 'zstd':
            import imagecodecs
            data = imagecodecs.zstd_decode(data)
        else:
            raise AssertionError(f'unexpected codec {codec}')
    assert len(data) == int(np.prod(shape)), f'chunk of {len(data)} bytes, want {int(np.prod(shape))}'
    return np.frombuffer(data, dtype=meta['data_type']).reshape(shape)


def check_chunks_valid(root: Path, level0: np.ndarray) -> int:
    """Every chunk of array "0" (y, x, c layout) decodes to level 0's pixels; returns how many."""
    meta = json.loads((root / '0' / 'zarr.json').read_text())
    cy, cx, _ = meta['chunk_grid']['configuration']['chunk_shape']
    count = 0
    for array, (by, bx, _), f in chunk_files(root):
        if array != '0':
            continue
        got = decode_chunk(meta, f.read_bytes())
        want = level0[by * cy:(by + 1) * cy, bx * cx:(bx + 1) * cx]
        h, w = want.shape[:2]
        assert np.array_equal(got[:h, :w], want), f'{f}: pixels differ from the slide'
        assert not got[h:, :].any() and not got[:, w:].any(), f'{f}: padding is not zero'
        count += 1
    return count


@pytest.fixture(scope='module')
def kill_slide(cli, tmp_path_factory):
    path = synth(cli, tmp_path_factory.mktemp('slides') / 'kill.tif', KILL_SIZE, 'none')
    return path, tifffile.imread(path, key=0)


@pytest.fixture(scope='module')
def reference_store(cli, kill_slide, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'ref.zarr'
    result = subprocess.run(convert_cmd(cli, kill_slide[0], out, *KILL_ARGS), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def default_signal_actions():
    """Runs in the child before exec: SIGINT and SIGTERM back to their default action and unblocked.
    A shell starts a background job with SIGINT ignored, and an ignored signal stays ignored across
    fork and exec, so without this the interrupt tests would depend on how pytest was started."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


@contextlib.contextmanager
def ignored_in_parent(ignore: bool):
    """SIGINT and SIGTERM ignored in this process for the block, as in a background job."""
    if not ignore:
        yield
        return
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, action in saved.items():
            signal.signal(sig, action)


@pytest.mark.parametrize('sig, parent_ignores', [(signal.SIGKILL, False), (signal.SIGTERM, False),
                                                 (signal.SIGINT, False), (signal.SIGINT, True)],
                         ids=['KILL', 'TERM', 'INT', 'INT-parent-ignores-it'])
def test_killed_then_resumed_equals_one_run(cli, kill_slide, reference_store, tmp_path, sig, parent_ignores):
    slide, level0 = kill_slide
    out = tmp_path / 'out.zarr'
    with ignored_in_parent(parent_ignores):
        proc = subprocess.Popen(convert_cmd(cli, slide, out, *KILL_ARGS), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=default_signal_actions)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(1 for _ in chunk_files(out)) >= 20 if (out / '0' / 'zarr.json').exists() else False:
            break
        time.sleep(0.01)
    assert proc.poll() is None, 'the conversion finished before it could be killed: make the slide bigger'
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode == -sig, f'exit {proc.returncode}'
    present = check_chunks_valid(out, level0)
    total = (KILL_SIZE // 256) ** 2
    print(f'{sig.name}: {present} of {total} level-0 chunks present, '
          f'{len(list(out.rglob("*.partial")))} .partial files left')
    assert 0 < present < total
    assert not (out / 'zarr.json').exists(), 'root metadata written before the conversion finished'

    refused = subprocess.run(convert_cmd(cli, slide, out, *KILL_ARGS), capture_output=True, text=True)
    assert refused.returncode == 2 and 'not empty' in refused.stderr
    resumed = subprocess.run(convert_cmd(cli, slide, out, *KILL_ARGS, '--resume'), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    skipped = int(re.search(r'\((\d+) skipped\)', resumed.stderr).group(1))
    assert skipped >= present
    print(resumed.stderr.strip().splitlines()[-1])
    want, got = store_files(reference_store), store_files(out)
    assert sorted(got) == sorted(want), 'key sets differ'
    different = [k for k in want if want[k] != got[k]]
    assert not different, f'{len(different)} files differ, e.g. {different[:3]}'


def test_resume_with_other_options_is_refused(cli, tmp_path):
    slide = synth(cli, tmp_path / 's.tif', 1024, 'jpeg')
    out = tmp_path / 'o.zarr'
    cli.check('convert', slide, out, '--chunk', '256')
    r = cli.run('convert', slide, out, '--chunk', '128', '--resume')
    assert r.returncode == 2 and 'other options' in r.stderr, r.stderr


def small_slide(cli, tmp_path) -> tuple:
    slide = synth(cli, tmp_path / 'small.tif', 2048, 'jpeg')
    return slide, tifffile.imread(slide, key=0)


def test_disk_full_on_tmpfs(cli, tmp_path):
    slide, level0 = small_slide(cli, tmp_path)
    mnt = tmp_path / 'tiny'
    mnt.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(mnt)], capture_output=True).returncode:
        pytest.skip('cannot mount a tmpfs here (needs root)')
    try:
        out = mnt / 'o.zarr'
        r = subprocess.run(convert_cmd(cli, slide, out, '--chunk', '256', '--codec', 'none', '--threads', '2'),
                           capture_output=True, text=True, timeout=120)
        print(r.stderr.strip())
        assert r.returncode == 1, r.stderr
        assert 'No space left on device' in r.stderr, r.stderr
        assert re.search(r'0/c/\d+/\d+/0', r.stderr), 'the message does not name the chunk key'
        present = check_chunks_valid(out, level0)
        print(f'disk full: {present} valid chunks left, {len(list(out.rglob("*.partial")))} .partial files')
        assert present > 0
    finally:
        subprocess.run(['umount', str(mnt)], check=False)


def test_file_size_limit(cli, tmp_path):
    slide, level0 = small_slide(cli, tmp_path)
    out = tmp_path / 'o.zarr'
    limit = 1 << 20  # chunks of 1024 x 1024 x 3 = 3 MiB uncompressed cannot be written

    def limit_writes():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    r = subprocess.run(convert_cmd(cli, slide, out, '--chunk', '1024', '--codec', 'none', '--threads', '2'),
                       capture_output=True, text=True, timeout=120, preexec_fn=limit_writes)
    print(r.stderr.strip())
    assert r.returncode == 1, r.stderr
    assert 'File too large' in r.stderr, r.stderr
    assert re.search(r'0/c/\d+/\d+/0', r.stderr), 'the message does not name the chunk key'
    for _, _, f in chunk_files(out):
        assert f.stat().st_size != limit, f'{f}: a truncated chunk under a real key'
    check_chunks_valid(out, level0)


def peak_rss_mb(cli, slide, out) -> float:
    r = subprocess.run(convert_cmd(cli, slide, out, '--chunk', '512', '--threads', '2', '--codec', 'zstd'),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return float(re.search(r'peak RSS (\d+) MB', r.stderr).group(1))


def test_peak_memory_does_not_grow_with_the_slide(cli, tmp_path):
    small = synth(cli, tmp_path / 'a.tif', 4096, 'jpeg')
    big = synth(cli, tmp_path / 'b.tif', 8192, 'jpeg')
    rss_small = peak_rss_mb(cli, small, tmp_path / 'a.zarr')
    rss_big = peak_rss_mb(cli, big, tmp_path / 'b.zarr')
    print(f'peak RSS: 4096x4096 {rss_small:.0f} MB, 8192x8192 {rss_big:.0f} MB')
    assert rss_big < 1.3 * rss_small + 20
