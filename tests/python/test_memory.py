# Memory honesty of the command line: whole-level reads and global mode are checked against the memory
# this process may still take (MemAvailable, RLIMIT_AS) before allocating, and refused with one line
# naming the file, the level, the bytes and the way out, never a crash or std::bad_alloc. The levels are
# sparse BigTIFFs (every TileByteCount 0): gigabytes of pixels in a file of kilobytes.
import math
import resource
import struct
import subprocess

import pytest

GiB = 1 << 30


def write_sparse_tiff(path, width, height, samples=3, tile=1024):
    """A little-endian BigTIFF, one uncompressed uint8 level, every tile sparse (read as zeros)."""
    tiles = math.ceil(width / tile) * math.ceil(height / tile)
    array_offset = 16 + 8 + 11 * 20 + 8
    bits = struct.unpack('<Q', struct.pack('<HHHH', 8, 8, 8, 0))[0] if samples == 3 else 8
    entries = [  # tag, type, count, value (inline, left-justified) or offset
        (256, 16, 1, width), (257, 16, 1, height), (258, 3, samples, bits), (259, 3, 1, 1),
        (262, 3, 1, 2 if samples == 3 else 1), (277, 3, 1, samples), (284, 3, 1, 1),
        (322, 4, 1, tile), (323, 4, 1, tile),
        (324, 16, tiles, 0 if tiles == 1 else array_offset),  # TileOffsets: all 0
        (325, 16, tiles, 0 if tiles == 1 else array_offset),  # TileByteCounts: all 0, the same zeros
    ]
    data = bytearray(b'II' + struct.pack('<HHHQ', 43, 8, 0, 16) + struct.pack('<Q', len(entries)))
    for tag, kind, count, value in entries:
        data += struct.pack('<HHQQ', tag, kind, count, value)
    data += struct.pack('<Q', 0) + bytes(8 * tiles)
    path.write_bytes(bytes(data))
    return path


def run_limited(cli, address_space, *args, timeout=120):
    """The CLI with RLIMIT_AS (ulimit -v) set in the child to `address_space` bytes."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    return subprocess.run([str(cli.binary), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit)


def refusal(proc, *parts):
    """The one line a refusal prints, checked for exit status 1 (no signal, no abort) and `parts`."""
    assert proc.returncode == 1, f'exit {proc.returncode}, want 1: {proc.stderr}'
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f'want one line on stderr, got: {proc.stderr!r}'
    line = lines[0]
    assert line.startswith('tilestream: not enough memory: '), line
    assert 'bad_alloc' not in line and 'cannot allocate' not in line, line
    for part in parts:
        assert str(part) in line, f'{part!r} not in {line!r}'
    return line


def meminfo():
    fields = {}
    with open('/proc/meminfo') as f:
        for line in f:
            key, value = line.split(':', 1)
            number, *unit = value.split()
            fields[key] = int(number) * (1024 if unit == ['kB'] else 1)
    return fields


# --- (a) under ulimit -v: a level larger than the address space the process may still map ---

LIMIT = 2 * GiB
BIG = (40000, 30000)  # width, height: 3.6 GB of RGB, more than LIMIT


@pytest.fixture
def big_slide(tmp_path):
    return write_sparse_tiff(tmp_path / 'big.tif', *BIG)


def test_read_whole_level_under_rlimit_as_is_refused(cli, big_slide, tmp_path):
    proc = run_limited(cli, LIMIT, 'read', big_slide, '--level', 0, '-o', tmp_path / 'out.npy')
    refusal(proc, f'{big_slide}: level 0: reading 30000 x 40000 x 3 uint8 (the whole image) needs 3600000000 bytes',
            'RLIMIT_AS (ulimit -v) of 2147483648 bytes', 'nothing was allocated',
            'read a region', '(on the command line: --region x,y,width,height)')
    assert not (tmp_path / 'out.npy').exists()
    # A region of the same level reads under the same limit: the limit refuses the size, not the file.
    proc = run_limited(cli, LIMIT, 'read', big_slide, '--region', '39000,29000,1000,1000', '-o', tmp_path / 'part.npy')
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / 'part.npy').stat().st_size > 3_000_000


def test_process_global_mode_under_rlimit_as_is_refused_before_the_output(cli, big_slide, tmp_path):
    out = tmp_path / 'out.zarr'
    proc = run_limited(cli, LIMIT, 'process', big_slide, out, '--op', 'sobel', '--mode', 'global')
    refusal(proc, f'{big_slide}: level 0: global mode on cpu', 'RLIMIT_AS (ulimit -v)',
            'process in tiled mode', '(on the command line: --mode tiled, --memory SIZE)')
    assert not out.exists(), 'the output was touched'


# --- (b) a level between available and total memory: refused, though the machine "has" it ---

def test_read_level_between_available_and_total_memory_is_refused(cli, tmp_path):
    for attempt in range(3):  # other processes may free memory between our reading and the child's
        info = meminfo()
        available, total = info['MemAvailable'], info['MemTotal']
        gap = total - available
        if gap < GiB // 2:
            pytest.skip(f'MemTotal - MemAvailable is only {gap} bytes: no room to place a level between them')
        width = 65536
        height = (available + gap * 3 // 4) // (3 * width)
        level = width * height * 3
        assert available < level < total
        path = write_sparse_tiff(tmp_path / f'between{attempt}.tif', width, height)
        # The safety net: with RLIMIT_AS at the level's size the read can never allocate it, so a broken
        # check fails this test with an error instead of waking the OOM killer. MemAvailable stays the
        # smaller bound as long as the process maps less than level - available (a few hundred MB).
        proc = run_limited(cli, level, 'read', path, '--level', 0, '-o', tmp_path / 'out.npy')
        line = refusal(proc, f'{path}: level 0: reading {height} x {width} x 3 uint8 (the whole image) needs '
                             f'{level} bytes', '--region x,y,width,height')
        if 'MemAvailable in /proc/meminfo' in line:
            assert f'of {total} bytes' in line, line  # the total is named beside what is available
            assert not (tmp_path / 'out.npy').exists()
            return
        assert 'RLIMIT_AS' in line, line
    pytest.fail(f'MemAvailable never was the binding limit: {line}')
