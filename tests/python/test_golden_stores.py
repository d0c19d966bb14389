# Golden stores: what `convert` and `process` write, byte for byte, for a matrix of options, compared with
# hashes recorded before the one-engine rework (issue 12) so that the rework cannot change a single byte
# of output without a test saying so. Recording (only when the output is meant to change, and saying why
# in the commit):
#     TILESTREAM_RECORD_GOLDEN=1 TILESTREAM_BIN=build/release/tilestream \
#         .venv/bin/python -m pytest -q tests/python/test_golden_stores.py
# The hash of a store covers every file under it (relative path and bytes, in path order); metadata
# documents and chunk data are also hashed apart, so that a failure says which of them changed.
# Generated sources are `tilestream synth` slides whose own sha256 is recorded too: when one differs, the
# source changed (synth, libjpeg), not the store.
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TESTDATA

GOLDEN_FILE = REPO_ROOT / 'tests' / 'data' / 'golden_stores.json'
RECORDING = os.environ.get('TILESTREAM_RECORD_GOLDEN') == '1'
METADATA_NAMES = {'.zarray', '.zgroup', '.zattrs', 'zarr.json'}

# Generated slides: sizes that no chunk size used below divides (edge chunks of every width).
SYNTH = {
    'deflate': ['--size', '1025x769', '--tile', 256, '--compression', 'deflate', '--aperio'],
    'jpeg': ['--size', '1025x769', '--tile', 256, '--compression', 'jpeg', '--quality', 90, '--aperio'],
    'lzw-1-level': ['--size', '700x513', '--tile', 128, '--compression', 'lzw', '--levels', 1],
}
REAL = {
    'svs': 'aperio/CMU-1-Small-Region.svs',
    'lzw-pyramid': 'derived/cmu1-pyramid-lzw.tif',
    'strips': 'derived/cmu1-crop-strips-lzw.tif',
}


@dataclass(frozen=True)
class Case:
    command: str  # convert or process
    source: str
    options: tuple

    @property
    def id(self) -> str:
        text = ' '.join(map(str, self.options)).replace('--', '').replace(' ', '-').replace(':', '-')
        return f'{self.command}-{self.source}-{text}'


def convert(source, *options):
    return Case('convert', source, tuple(options))


def process(source, *options):
    return Case('process', source, tuple(options))


CASES = [
    # Zarr v2 and v3, every codec family, default chunk
    convert('deflate', '--zarr-version', 2, '--codec', 'none'),
    convert('deflate', '--zarr-version', 2, '--codec', 'zstd'),
    convert('deflate', '--zarr-version', 2, '--codec', 'gzip:9'),
    convert('deflate', '--zarr-version', 2, '--codec', 'blosc:lz4'),
    convert('deflate', '--zarr-version', 3, '--codec', 'none'),
    convert('deflate', '--zarr-version', 3, '--codec', 'zstd:3'),
    convert('deflate', '--zarr-version', 3, '--codec', 'gzip'),
    convert('deflate', '--zarr-version', 3, '--codec', 'blosc:zstd:5'),
    # chunk sizes that divide nothing, key separators, layouts
    convert('deflate', '--zarr-version', 2, '--chunk', 300, '--separator', '.'),
    convert('deflate', '--zarr-version', 3, '--chunk', 300, '--layout', 'cyx'),
    convert('deflate', '--zarr-version', 2, '--chunk', 200, '--layout', 'cyx', '--codec', 'gzip'),
    # shards: 2x and 4x the chunk, edge shards, both layouts, codecs inside
    convert('deflate', '--chunk', 256, '--shard', 512),
    convert('deflate', '--chunk', 256, '--shard', 1024, '--codec', 'none'),
    convert('deflate', '--chunk', 128, '--shard', 512, '--layout', 'cyx', '--codec', 'gzip'),
    convert('deflate', '--chunk', 300, '--shard', 600, '--separator', '.'),
    # OME-Zarr (NGFF 0.4 on v2, 0.5 on v3) with built levels, sharded and not
    convert('deflate', '--ome', '--zarr-version', 2, '--chunk', 256),
    convert('deflate', '--ome', '--zarr-version', 3, '--chunk', 200, '--shard', 400),
    convert('lzw-1-level', '--ome', '--chunk', 128, '--codec', 'none'),
    # float32 output, levels chosen
    convert('deflate', '--dtype', 'float32', '--chunk', 300),
    convert('deflate', '--dtype', 'float32', '--ome', '--zarr-version', 2, '--codec', 'none'),
    convert('deflate', '--levels', '0,2', '--shard', 1024, '--codec', 'zstd:9'),
    # lossy source: what is stored is our decoding of it
    convert('jpeg', '--chunk', 256),
    convert('jpeg', '--ome', '--zarr-version', 2, '--chunk', 300, '--codec', 'blosc:lz4'),
    # real slides
    convert('svs', '--chunk', 512, '--shard', 1024),
    convert('svs', '--ome', '--chunk', 256),
    convert('svs', '--zarr-version', 2, '--codec', 'gzip', '--separator', '.', '--dtype', 'float32', '--levels', 0),
    convert('lzw-pyramid', '--zarr-version', 2, '--chunk', 300, '--layout', 'cyx'),
    convert('lzw-pyramid', '--ome', '--zarr-version', 3, '--shard', 1024),
    convert('strips', '--chunk', 256, '--codec', 'none'),
    convert('strips', '--ome', '--zarr-version', 2, '--chunk', 300),
    # process: each op, chains, both modes (tiled must equal global: same golden), v2/v3, codecs
    process('deflate', '--op', 'sobel', '--chunk', 256),
    process('deflate', '--op', 'sobel', '--chunk', 256, '--mode', 'global'),
    process('deflate', '--op', 'gaussian:sigma=2.5', '--chunk', 300, '--memory', '2M'),
    process('deflate', '--op', 'median:size=5', '--chunk', 200, '--zarr-version', 2, '--codec', 'gzip'),
    process('deflate', '--op', 'grayscale', '--op', 'downsample2x', '--chunk', 128, '--codec', 'none'),
    process('deflate', '--op', 'absorbance', '--op', 'gaussian:sigma=1', '--chunk', 256, '--mode', 'global'),
    process('deflate', '--op', 'downsample2x', '--op', 'median:size=3', '--level', 1, '--codec', 'blosc:lz4'),
    process('jpeg', '--op', 'sobel', '--op', 'downsample2x', '--chunk', 300, '--zarr-version', 2),
    process('svs', '--op', 'gaussian:sigma=2', '--op', 'sobel', '--chunk', 512, '--memory', '12M'),
    process('svs', '--op', 'grayscale', '--chunk', 512, '--zarr-version', 2, '--codec', 'none'),
    process('lzw-pyramid', '--op', 'median:size=3', '--op', 'downsample2x', '--chunk', 256, '--level', 1),
    process('strips', '--op', 'absorbance', '--chunk', 300, '--codec', 'zstd:5'),
]

# Runs that must give the same store as another case (tiled equals global bit for bit).
SAME_AS = {
    process('deflate', '--op', 'sobel', '--chunk', 256, '--mode', 'global').id:
        process('deflate', '--op', 'sobel', '--chunk', 256).id,
}


def store_hashes(root: Path) -> dict:
    """sha256 of the whole store, of its metadata documents and of its chunk data (relative path and
    bytes of each file, in path order), and its file count."""
    whole, metadata, chunks = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    files = sorted(p for p in root.rglob('*') if p.is_file() or p.is_symlink())
    for path in files:
        key = path.relative_to(root).as_posix()
        data = path.read_bytes()
        entry = hashlib.sha256(key.encode() + b'\0' + hashlib.sha256(data).digest()).digest()
        whole.update(entry)
        (metadata if path.name in METADATA_NAMES else chunks).update(entry)
    return {'store': whole.hexdigest(), 'metadata': metadata.hexdigest(), 'chunks': chunks.hexdigest(),
            'files': len(files)}


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Golden:
    """The recorded hashes; in recording mode, collects new ones and writes them at the end."""

    def __init__(self):
        self.recorded = json.loads(GOLDEN_FILE.read_text()) if GOLDEN_FILE.is_file() else {}
        self.new = {'sources': {}, 'stores': {}}

    def write(self):
        self.new['note'] = ('sha256 of stores written by tests/python/test_golden_stores.py; recorded with '
                            'TILESTREAM_RECORD_GOLDEN=1 (see the test)')
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO_ROOT, capture_output=True, text=True)
        self.new['recorded_at_commit'] = head.stdout.strip() or 'unknown'
        GOLDEN_FILE.write_text(json.dumps(self.new, indent=1, sort_keys=True) + '\n')


@pytest.fixture(scope='module')
def golden():
    record = Golden()
    if not RECORDING and not record.recorded:
        pytest.fail(f'{GOLDEN_FILE.relative_to(REPO_ROOT)} is missing; record it (see the test file)')
    yield record
    if RECORDING:
        record.write()


@pytest.fixture(scope='module')
def slides(cli, tmp_path_factory, golden):
    cache = {}

    def get(name: str) -> Path:
        if name not in cache:
            if name in SYNTH:
                path = tmp_path_factory.mktemp('golden-slides') / f'{name}.tif'
                cli.check('synth', path, *SYNTH[name])
                digest = file_sha256(path)
                if RECORDING:
                    golden.new['sources'][name] = digest
                else:
                    want = golden.recorded['sources'].get(name)
                    assert digest == want, (f'generated slide {name} changed (synth or its codecs), so its stores '
                                            f'cannot be compared: sha256 {digest}, recorded {want}')
            else:
                path = TESTDATA / REAL[name]
                if not path.is_file():
                    pytest.skip(f'shared test slide {path} not found')
            cache[name] = path
        return cache[name]

    return get


@pytest.mark.parametrize('case', [pytest.param(c, id=c.id) for c in CASES])
def test_store_equals_the_golden_one(cli, slides, golden, tmp_path, case):
    out = tmp_path / 'out.zarr'
    cli.check(case.command, slides(case.source), out, *case.options, '--threads', 2)
    got = store_hashes(out)
    if RECORDING:
        golden.new['stores'][case.id] = got
        return
    want = golden.recorded['stores'].get(case.id)
    assert want is not None, f'no golden hashes for {case.id}; record them (see the test file)'
    changed = [part for part in ('metadata', 'chunks') if got[part] != want[part]]
    assert got['files'] == want['files'] and not changed, (
        f'{case.command} {" ".join(map(str, case.options))} on {case.source}: the store differs from the golden '
        f'one ({", ".join(changed) or "file count"} changed; {got["files"]} files, recorded {want["files"]})')


def test_tiled_and_global_goldens_agree(golden):
    """The recorded matrix itself holds the halo rule: tiled and global runs wrote the same store."""
    stores = golden.new['stores'] if RECORDING else golden.recorded.get('stores', {})
    for case_id, other in SAME_AS.items():
        assert stores[case_id]['store'] == stores[other]['store'], f'{case_id} and {other} differ'


@pytest.fixture(scope='module')
def cuda_device(cli, tmp_path_factory):
    """Skips the device runs where this tilestream has no CUDA or the machine no GPU."""
    path = tmp_path_factory.mktemp('probe') / 'probe.tif'
    cli.check('synth', path, '--size', '64x64', '--tile', 64, '--levels', 1)
    probe = cli.run('read', path, '--device', 'cuda', '-o', path.with_suffix('.npy'))
    if probe.returncode != 0:
        pytest.skip(f'no CUDA run here: {probe.stderr.strip()}')


def without_memory(options: tuple) -> tuple:
    """The options less --memory N: a budget sized for CPU chunks may be below one device task."""
    out, skip = [], False
    for option in options:
        if skip:
            skip = False
        elif option == '--memory':
            skip = True
        else:
            out.append(option)
    return tuple(out)


# The same matrix on the CUDA backend: every store equals, byte for byte, the CPU store that the same
# binary writes on the same machine (casts and pyramid levels built on the GPU, tiled by default; global
# for process where the case says so). Comparing with the CPU run here rather than with the recorded
# hashes keeps the codec libraries out of it: a GPU machine's libzstd or c-blosc may compress the same
# bytes differently from CI's, which the CPU golden test above would report on its own.
@pytest.mark.parametrize('case', [pytest.param(c, id=c.id) for c in CASES])
def test_device_store_equals_the_cpu_store(cli, slides, cuda_device, tmp_path, case):
    if RECORDING:
        pytest.skip('goldens are recorded on the CPU')
    options = without_memory(case.options)
    cpu, device = tmp_path / 'cpu.zarr', tmp_path / 'device.zarr'
    cli.check(case.command, slides(case.source), cpu, *options, '--threads', 2)
    # The CPU's JPEG decoder and codecs, so that the bytes are the CPU's (nvJPEG and nvCOMP are tested
    # against them within their own terms in tests/slide/device_jpeg_gpu_test.cpp and
    # tests/cuda/device_encode_test.cpp).
    cli.check(case.command, slides(case.source), device, *options, '--threads', 2, '--device', 'cuda',
              '--decode', 'cpu', '--encode', 'cpu')
    got, want = store_hashes(device), store_hashes(cpu)
    changed = [part for part in ('metadata', 'chunks') if got[part] != want[part]]
    assert got['files'] == want['files'] and not changed, (
        f'{case.command} --device cuda {" ".join(map(str, options))} on {case.source}: the store differs '
        f'from the CPU one ({", ".join(changed) or "file count"} changed)')
