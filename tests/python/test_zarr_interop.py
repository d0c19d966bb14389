# Zarr interop acceptance: what `tilestream convert` writes is read back by independent
# implementations (zarr-python 3, tensorstore, numcodecs on the raw chunk bytes) and equals the
# source slide's pixels as tifffile decodes them; OME-Zarr output validates with ome-zarr-models
# (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3), its pyramid is a 2x2 area mean of the dataset before, and
# its scale comes from the slide's MPP. Sources are small `tilestream synth` slides (sizes chosen so
# that edge chunks are 1 pixel wide) and, when present, shared real slides.
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numcodecs
import numpy as np
import ome_zarr_models.v04
import ome_zarr_models.v05
import pytest
import tensorstore as ts
import zarr

from conftest import TESTDATA
from tilestream_cli import assert_pixels, mean_2x2, reference_at

# 1025 % 256 == 1025 % 512 == 769 % 256 == 1 (1-pixel edge chunks), and 300 divides neither side.
WIDTH, HEIGHT = 1025, 769
STATS = re.compile(r'converted (\d+) arrays(?: on [^,]+)?, (\d+) blocks \((\d+) skipped\), ([0-9.]+) MB in ([0-9.]+) s '
                   r'\(([0-9.]+) MB/s\), (?:peak device memory [0-9.]+ MB, )?peak RSS ([0-9.]+) MB')


# --- sources ---

# name -> `tilestream synth` options; every slide is 1025 x 769 with 256 tiles.
SYNTH = {
    'deflate': ['--compression', 'deflate', '--aperio'],              # 4 levels, MPP 0.499
    'deflate-1-level': ['--compression', 'deflate', '--aperio', '--levels', '1'],
    'deflate-no-mpp': ['--compression', 'deflate'],
    'jpeg': ['--compression', 'jpeg', '--quality', '90', '--aperio'],
}
REAL = {'svs': 'aperio/CMU-1-Small-Region.svs', 'lzw-pyramid': 'derived/cmu1-pyramid-lzw.tif'}


@dataclass
class Source:
    path: Path
    levels: list  # tifffile's decoding of each slide level, (height, width, samples)
    mpp: float | None


class Sources:
    """Slides generated once per session, with their reference pixels, shared by every test."""

    def __init__(self, cli, tmp_factory, testdata_dir: Path):
        self.cli, self.tmp_factory, self.testdata_dir, self.cache = cli, tmp_factory, testdata_dir, {}

    def __call__(self, name: str) -> Source:
        if name not in self.cache:
            if name in SYNTH:
                path = self.tmp_factory.mktemp('slides') / f'{name}.tif'
                self.cli.check('synth', path, '--size', f'{WIDTH}x{HEIGHT}', '--tile', 256, *SYNTH[name])
            else:
                path = self.testdata_dir / REAL[name]
                if not path.is_file():
                    pytest.skip(f'shared test slide {path} not found')
            info = self.cli.info(path)
            levels = [reference_at(path, level['ifd_offset']) for level in info['levels']]
            mpp = info.get('properties', {}).get('openslide.mpp-x')
            self.cache[name] = Source(path, levels, float(mpp) if mpp else None)
        return self.cache[name]


@pytest.fixture(scope='session')
def sources(cli, tmp_path_factory) -> Sources:
    return Sources(cli, tmp_path_factory, TESTDATA.resolve())


# --- variants ---

@dataclass(frozen=True)
class Variant:
    version: int
    codec: str = 'none'
    chunk: int = 256
    shard: int = 0
    layout: str = 'yxc'
    separator: str = ''  # '' leaves the default ('/')
    source: str = 'deflate'

    @property
    def id(self) -> str:
        parts = [f'v{self.version}', self.codec.replace(':', '-'), f'chunk{self.chunk}']
        if self.shard:
            parts.append(f'shard{self.shard}')
        parts.append(self.layout)
        if self.separator:
            parts.append('sep-dot' if self.separator == '.' else 'sep-slash')
        if self.source != 'deflate':
            parts.append(self.source)
        return '-'.join(parts)

    def options(self) -> list:
        options = ['--zarr-version', self.version, '--codec', self.codec, '--chunk', self.chunk, '--layout', self.layout,
                   '--threads', 2]
        if self.shard:
            options += ['--shard', self.shard]
        if self.separator:
            options += ['--separator', self.separator]
        return options


CODECS = ['none', 'zstd', 'zstd:3', 'gzip', 'gzip:9', 'blosc:lz4', 'blosc:zstd:5']
VARIANTS = (
    [Variant(2, codec) for codec in CODECS]
    + [Variant(3, codec) for codec in CODECS]
    + [
        # v2 key separators
        Variant(2, 'zstd', separator='.'), Variant(2, 'none', separator='.'), Variant(2, 'blosc:lz4', separator='.'),
        Variant(2, 'gzip', separator='/'), Variant(3, 'zstd', separator='.'),
        Variant(3, 'zstd', shard=512, separator='.'),
        # layouts
        Variant(2, 'zstd', layout='cyx'), Variant(3, 'zstd', layout='cyx'), Variant(2, 'blosc:lz4', layout='cyx'),
        # chunk shapes: 512 (1-pixel edge chunks in x), 300 (divides nothing), 128
        Variant(2, 'zstd', chunk=512), Variant(3, 'zstd', chunk=512), Variant(2, 'gzip', chunk=300),
        Variant(3, 'zstd', chunk=300), Variant(3, 'none', chunk=300, layout='cyx'),
        # v3 sharding: 2x and 4x the chunk, edge shards, both layouts, codecs inside the shard
        Variant(3, 'zstd', shard=512), Variant(3, 'none', shard=512), Variant(3, 'zstd', shard=1024),
        Variant(3, 'none', shard=1024), Variant(3, 'zstd:3', chunk=128, shard=512, layout='cyx'),
        Variant(3, 'gzip', chunk=300, shard=600), Variant(3, 'blosc:lz4', shard=512),
        # lossy source (JPEG tiles): the arrays must equal tifffile's decoding of the same file
        Variant(3, 'zstd', source='jpeg'), Variant(3, 'zstd', shard=1024, source='jpeg'),
        Variant(2, 'blosc:zstd', layout='cyx', separator='.', source='jpeg'),
        # real slides
        Variant(3, 'zstd', chunk=512, shard=1024, source='svs'), Variant(2, 'gzip', separator='.', source='svs'),
        Variant(3, 'zstd', shard=1024, layout='cyx', source='lzw-pyramid'),
        Variant(2, 'blosc:lz4', chunk=300, source='lzw-pyramid'),
    ]
)
variant_params = pytest.mark.parametrize('variant', [pytest.param(v, id=v.id) for v in VARIANTS])


def parse_stats(stderr: str) -> dict:
    lines = [line for line in stderr.splitlines() if line.strip()]
    match = STATS.fullmatch(lines[-1].strip()) if lines else None
    assert match, f'no final "converted N arrays, ..." line on stderr: {stderr!r}'
    arrays, blocks, skipped = map(int, match.group(1, 2, 3))
    return dict(arrays=arrays, blocks=blocks, skipped=skipped, megabytes=float(match.group(4)))


def convert(cli, source: Path, out: Path, *options) -> dict:
    result = cli.run('convert', source, out, *options)
    assert result.returncode == 0, (f'tilestream convert {source.name} {out.name} {" ".join(map(str, options))} '
                                    f'failed ({result.returncode}): {result.stderr}')
    return parse_stats(result.stderr)


@pytest.fixture(scope='session')
def blosc_built(cli, sources, tmp_path_factory):
    """Skips the calling test where the binary was built without blosc (it says so when asked for it)."""
    out = tmp_path_factory.mktemp('blosc-probe') / 'probe.zarr'
    result = cli.run('convert', sources('deflate').path, out, '--codec', 'blosc', '--levels', '3')
    if result.returncode != 0 and 'blosc support was not built' in result.stderr:
        return result.stderr.strip()
    assert result.returncode == 0, f'probing blosc support failed: {result.stderr}'
    return None


class Conversions:
    """Each variant converted once per session: (source, output path, the convert stats)."""

    def __init__(self, cli, sources, tmp_factory):
        self.cli, self.sources, self.tmp_factory, self.cache = cli, sources, tmp_factory, {}

    def __call__(self, variant: Variant):
        if variant not in self.cache:
            source = self.sources(variant.source)
            out = self.tmp_factory.mktemp('zarr') / f'{variant.id}.zarr'
            stats = convert(self.cli, source.path, out, *variant.options())
            self.cache[variant] = (source, out, stats)
        return self.cache[variant]


@pytest.fixture(scope='session')
def conversions(cli, sources, tmp_path_factory) -> Conversions:
    return Conversions(cli, sources, tmp_path_factory)


@pytest.fixture
def converted(request, conversions, blosc_built):
    variant = request.getfixturevalue('variant')
    if variant.codec.startswith('blosc') and blosc_built:
        pytest.skip(f'tilestream built without blosc: {blosc_built}')
    return conversions(variant)


# --- expectations ---

def in_layout(image: np.ndarray, layout: str) -> np.ndarray:
    """A (height, width, samples) reference in the array's axis order."""
    return image if layout == 'yxc' else np.moveaxis(image, -1, 0)


def spatial_axes(layout: str):
    return (0, 1) if layout == 'yxc' else (1, 2)


def expected_chunks(shape, variant: Variant):
    """Chunk and shard (or None) shape: chunks clipped to the image, the channel axis whole;
    shards clipped to the image rounded up to whole chunks."""
    chunks, shards = list(shape), list(shape)
    for axis in spatial_axes(variant.layout):
        chunks[axis] = min(variant.chunk, shape[axis])
        whole = -(-shape[axis] // chunks[axis]) * chunks[axis]
        shards[axis] = chunks[axis] if chunks[axis] < variant.chunk else min(variant.shard, whole)
    return tuple(chunks), (tuple(shards) if variant.shard else None)


def grid(shape, block):
    return tuple(-(-n // b) for n, b in zip(shape, block))


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def array_metadata(out: Path, key: str, version: int) -> dict:
    return read_json(out / key / ('.zarray' if version == 2 else 'zarr.json'))


def chunk_key(metadata: dict, version: int, coords) -> str:
    if version == 2:
        return metadata.get('dimension_separator', '.').join(map(str, coords))
    encoding = metadata['chunk_key_encoding']
    separator = encoding.get('configuration', {}).get('separator', '/' if encoding['name'] == 'default' else '.')
    if encoding['name'] == 'v2':
        return separator.join(map(str, coords))
    return separator.join(['c', *map(str, coords)])


def check_compressor(variant: Variant, metadata: dict) -> None:
    """The stored compressor is the one asked for: v2 "compressor", v3 codecs after "bytes"."""
    name, _, rest = variant.codec.partition(':')
    if variant.version == 2:
        compressor = metadata['compressor']
        if name == 'none':
            assert compressor is None
            return
        assert compressor['id'] == name, compressor
        config = compressor
    else:
        codecs = metadata['codecs']
        if variant.shard:
            assert [c['name'] for c in codecs] == ['sharding_indexed'], codecs
            codecs = codecs[0]['configuration']['codecs']
        assert codecs[0]['name'] == 'bytes', codecs
        rest_codecs = codecs[1:]
        if name == 'none':
            assert rest_codecs == [], codecs
            return
        assert [c['name'] for c in rest_codecs] == [name], codecs
        config = rest_codecs[0].get('configuration', {})
    if name == 'blosc':
        cname, _, level = rest.partition(':')
        assert config['cname'] == (cname or 'lz4'), config
        if level:
            assert config['clevel'] == int(level), config
    elif rest:
        assert config['level'] == int(rest), config


def decode_chunk(metadata: dict, version: int, stored: bytes, shape) -> np.ndarray:
    """Decodes one unsharded chunk's bytes with numcodecs alone (no zarr), as the spec describes."""
    if version == 2:
        codec = numcodecs.get_codec(metadata['compressor']) if metadata['compressor'] else None
        raw = codec.decode(stored) if codec else stored
        assert metadata['order'] == 'C' and not metadata.get('filters')
    else:
        raw = stored
        codecs = metadata['codecs']
        assert codecs[0]['name'] == 'bytes', codecs
        for codec in reversed(codecs[1:]):
            if codec['name'] == 'zstd':
                raw = numcodecs.Zstd().decode(raw)
            elif codec['name'] == 'gzip':
                raw = numcodecs.GZip().decode(raw)
            elif codec['name'] == 'blosc':
                raw = numcodecs.Blosc().decode(raw)
            else:
                raise AssertionError(f'no reference decoder for v3 codec {codec}')
    return np.frombuffer(bytes(raw), dtype=np.uint8).reshape(shape)


def expected_levels(variant: Variant, source: Source):
    return [in_layout(level, variant.layout) for level in source.levels]


# --- tests over the variants ---

@variant_params
def test_zarr_python_reads_every_variant(variant, converted):
    source, out, stats = converted
    expected = expected_levels(variant, source)
    group = zarr.open_group(out, mode='r')
    assert group.metadata.zarr_format == variant.version
    assert sorted(group.array_keys(), key=int) == [str(n) for n in range(len(expected))]
    blocks = 0
    for n, want in enumerate(expected):
        array = group[str(n)]
        assert isinstance(array, zarr.Array)
        assert array.metadata.zarr_format == variant.version
        assert array.shape == want.shape and array.dtype == want.dtype, f'level {n}'
        chunks, shards = expected_chunks(want.shape, variant)
        assert array.chunks == chunks, f'level {n}'
        assert array.shards == shards, f'level {n}'
        metadata = array_metadata(out, str(n), variant.version)
        check_compressor(variant, metadata)
        if variant.version == 2:
            assert metadata.get('dimension_separator', '.') == (variant.separator or '/')
        else:
            assert metadata['dimension_names'] == list(variant.layout)
            assert metadata['chunk_key_encoding'] == {'name': 'default',
                                                      'configuration': {'separator': variant.separator or '/'}}
        assert_pixels(np.asarray(array[...]), want, 0, f'{variant.id} level {n} via zarr-python')
        # a region across chunk borders and the 1-pixel edge
        y_axis, x_axis = spatial_axes(variant.layout)
        region = [slice(None)] * 3
        region[y_axis] = slice(want.shape[y_axis] // 3, want.shape[y_axis])
        region[x_axis] = slice(want.shape[x_axis] // 2 - 1, want.shape[x_axis])
        assert_pixels(np.asarray(array[tuple(region)]), want[tuple(region)], 0, f'{variant.id} level {n} region')
        blocks += math.prod(grid(want.shape, shards or chunks))
    assert stats == dict(arrays=len(expected), blocks=blocks, skipped=0, megabytes=stats['megabytes'])


@variant_params
def test_raw_chunks_decode_with_numcodecs(variant, converted):
    """First and last chunk of every level, read as files and decoded with numcodecs alone."""
    if variant.shard:
        pytest.skip('sharded: covered by zarr-python and tensorstore')
    source, out, _ = converted
    for n, want in enumerate(expected_levels(variant, source)):
        metadata = array_metadata(out, str(n), variant.version)
        chunks, _ = expected_chunks(want.shape, variant)
        counts = grid(want.shape, chunks)
        for coords in [(0, 0, 0), tuple(c - 1 for c in counts)]:
            key = chunk_key(metadata, variant.version, coords)
            path = out / str(n) / key
            assert path.is_file(), f'level {n}: chunk {coords} missing at {path.relative_to(out)}'
            block = decode_chunk(metadata, variant.version, path.read_bytes(), chunks)
            inside = tuple(slice(c * s, min((c + 1) * s, size)) for c, s, size in zip(coords, chunks, want.shape))
            part = block[tuple(slice(0, i.stop - i.start) for i in inside)]
            assert_pixels(part, want[inside], 0, f'{variant.id} level {n} chunk {coords} via numcodecs')
            if variant.separator == '.' and variant.version == 2:
                assert '/' not in key


@variant_params
def test_tensorstore_reads_every_variant(variant, converted):
    source, out, _ = converted
    driver = 'zarr3' if variant.version == 3 else 'zarr'
    for n, want in enumerate(expected_levels(variant, source)):
        store = ts.open({'driver': driver, 'kvstore': {'driver': 'file', 'path': str(out / str(n))}},
                        read=True).result()
        assert tuple(store.shape) == want.shape, f'level {n}'
        assert_pixels(store.read().result(), want, 0, f'{variant.id} level {n} via tensorstore')


# --- OME-Zarr ---

@dataclass(frozen=True)
class OmeCase:
    version: int
    source: str
    chunk: int = 128
    codec: str = 'zstd'
    shard: int = 0

    @property
    def id(self):
        return f'v{self.version}-{self.source}-chunk{self.chunk}' + (f'-shard{self.shard}' if self.shard else '')


OME_CASES = [
    # stored levels 0-3, dataset 4 (65 x 49) built from level 3
    OmeCase(2, 'deflate'), OmeCase(3, 'deflate'), OmeCase(3, 'deflate', shard=512),
    # every dataset past 0 built by 2x downsampling
    OmeCase(2, 'deflate-1-level'), OmeCase(3, 'deflate-1-level', chunk=64),
    # no MPP: no unit, scale in pixels
    OmeCase(2, 'deflate-no-mpp'), OmeCase(3, 'deflate-no-mpp'),
    OmeCase(3, 'jpeg', chunk=256, shard=1024),
    OmeCase(2, 'svs', chunk=512, codec='gzip'), OmeCase(3, 'svs', chunk=256, shard=512),
    OmeCase(3, 'lzw-pyramid', chunk=256), OmeCase(2, 'lzw-pyramid', chunk=256, codec='none'),
]


def expected_pyramid(source: Source, chunk: int):
    """(dataset shape (c, y, x), the stored level it reads or None when built) per dataset."""
    levels = [in_layout(level, 'cyx') for level in source.levels]
    c, h0, w0 = levels[0].shape
    plan = []
    for k in range(64):
        target_h, target_w = -(-h0 // 2 ** k), -(-w0 // 2 ** k)
        stored = next((n for n, level in enumerate(levels)
                       if abs(level.shape[1] - target_h) <= 1 and abs(level.shape[2] - target_w) <= 1), None)
        if stored is not None:
            shape = levels[stored].shape
        else:
            _, h, w = plan[-1][0]
            shape = (c, -(-h // 2), -(-w // 2))
        plan.append((shape, stored))
        if shape[1] <= chunk and shape[2] <= chunk:
            return plan, levels
    raise AssertionError('pyramid does not end')


@pytest.mark.parametrize('case', [pytest.param(c, id=c.id) for c in OME_CASES])
def test_ome_zarr(cli, sources, tmp_path, case):
    source = sources(case.source)
    out = tmp_path / 'ome.zarr'
    options = ['--ome', '--zarr-version', case.version, '--chunk', case.chunk, '--codec', case.codec, '--threads', 2]
    if case.shard:
        options += ['--shard', case.shard]
    stats = convert(cli, source.path, out, *options)
    plan, levels = expected_pyramid(source, case.chunk)

    group = zarr.open_group(out, mode='r')
    assert group.metadata.zarr_format == case.version
    models = {2: ome_zarr_models.v04.Image, 3: ome_zarr_models.v05.Image}
    image = models[case.version].from_zarr(group)  # raises pydantic's ValidationError when invalid
    assert len(image.ome_attributes.multiscales) == 1

    attributes = group.attrs.asdict()
    if case.version == 2:
        multiscale = attributes['multiscales'][0]
        assert multiscale['version'] == '0.4'
    else:
        assert attributes['ome']['version'] == '0.5'
        multiscale = attributes['ome']['multiscales'][0]
    unit = {'unit': 'micrometer'} if source.mpp else {}
    assert multiscale['axes'] == [{'name': 'c', 'type': 'channel'}, {'name': 'y', 'type': 'space', **unit},
                                  {'name': 'x', 'type': 'space', **unit}]
    datasets = multiscale['datasets']
    assert [d['path'] for d in datasets] == [str(k) for k in range(len(plan))]
    pixel = source.mpp or 1.0
    for k, dataset in enumerate(datasets):
        transforms = dataset['coordinateTransformations']
        assert [t['type'] for t in transforms] == ['scale'], transforms
        assert transforms[0]['scale'] == pytest.approx([1, pixel * 2 ** k, pixel * 2 ** k], rel=1e-6), f'dataset {k}'

    blocks = 0
    previous = None
    for k, (shape, stored) in enumerate(plan):
        array = group[str(k)]
        assert array.shape == shape, f'dataset {k}'
        if case.version == 3:
            assert array.metadata.dimension_names == ('c', 'y', 'x')
        data = np.asarray(array[...])
        if stored is not None:
            assert_pixels(data, levels[stored], 0, f'dataset {k} (slide level {stored})')
        else:
            assert_pixels(data, mean_2x2(previous), 1, f'dataset {k} (2x2 mean of dataset {k - 1})')
        previous = data
        chunk = (shape[0], min(case.chunk, shape[1]), min(case.chunk, shape[2]))
        assert array.chunks == chunk, f'dataset {k}'
        blocks += math.prod(grid(shape, array.shards or chunk))
    assert (stats['arrays'], stats['blocks'], stats['skipped']) == (len(plan), blocks, 0)


# --- output handling: resume, overwrite, levels ---

def test_resume_rewrites_only_missing_blocks(cli, sources, tmp_path):
    source = sources('deflate')
    out = tmp_path / 'resume.zarr'
    options = ['--zarr-version', 3, '--codec', 'zstd', '--chunk', 256, '--threads', 2]
    first = convert(cli, source.path, out, *options)
    removed = [out / '0' / 'c' / '0' / '0' / '0', out / '0' / 'c' / '3' / '4' / '0', out / '1' / 'c' / '1' / '2' / '0']
    for path in removed:
        assert path.is_file(), path
        path.unlink()
    again = cli.run('convert', source.path, out, *options)
    assert again.returncode != 0, 'a second convert into a non-empty output without --resume/--overwrite succeeded'
    assert '--overwrite' in again.stderr or '--resume' in again.stderr, again.stderr
    second = convert(cli, source.path, out, *options, '--resume')
    assert second['skipped'] == first['blocks'] - len(removed), second
    assert all(path.is_file() for path in removed)
    group = zarr.open_group(out, mode='r')
    for n, want in enumerate(source.levels):
        assert_pixels(np.asarray(group[str(n)][...]), want, 0, f'level {n} after --resume')


def test_overwrite_replaces_another_format(cli, sources, tmp_path):
    source = sources('deflate')
    out = tmp_path / 'overwrite.zarr'
    convert(cli, source.path, out, '--zarr-version', 2, '--codec', 'gzip', '--chunk', 300)
    convert(cli, source.path, out, '--zarr-version', 3, '--codec', 'zstd', '--chunk', 256, '--overwrite')
    assert not list(out.rglob('.zarray')) and not list(out.rglob('.zgroup')), 'v2 metadata left behind'
    group = zarr.open_group(out, mode='r')
    assert group.metadata.zarr_format == 3
    for n, want in enumerate(source.levels):
        array = group[str(n)]
        assert array.chunks == (min(256, want.shape[0]), min(256, want.shape[1]), 3)
        assert_pixels(np.asarray(array[...]), want, 0, f'level {n} after --overwrite')


def test_levels_list_writes_those_levels(cli, sources, tmp_path):
    source = sources('deflate')
    out = tmp_path / 'levels.zarr'
    stats = convert(cli, source.path, out, '--zarr-version', 3, '--levels', '0,2')
    group = zarr.open_group(out, mode='r')
    assert sorted(group.array_keys()) == ['0', '2']
    assert stats['arrays'] == 2
    for n in (0, 2):
        assert_pixels(np.asarray(group[str(n)][...]), source.levels[n], 0, f'level {n}')
