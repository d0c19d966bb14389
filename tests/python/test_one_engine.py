# What the one engine (pipeline/executor.hpp) gives every command: `process` writes what `convert`
# writes (OME-Zarr pyramids that ome-zarr-models validates, shards, (c, y, x), --resume), and every
# mode of a run writes the same store: tiled and global, small and large memory budgets.
import hashlib
from pathlib import Path

import numpy as np
import ome_zarr_models.v04
import ome_zarr_models.v05
import pytest
import zarr

from tilestream_cli import mean_2x2


def store_files(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def slide(cli, tmp_path_factory) -> Path:
    """Two stored levels (odd sizes), so an OME pyramid has stored and built levels."""
    path = tmp_path_factory.mktemp('engine') / 'slide.tif'
    cli.check('synth', path, '--size', '1001x777', '--tile', 128, '--compression', 'deflate', '--levels', 2)
    return path


@pytest.mark.parametrize('version,shard', [(2, None), (3, None), (3, 128)])
def test_process_ome_pyramid(cli, slide, tmp_path, version, shard):
    plain = tmp_path / 'plain.zarr'
    cli.check('process', slide, plain, '--op', 'gaussian:sigma=1.5', '--chunk', 64, '--threads', 2)
    result = np.asarray(zarr.open_array(plain, mode='r')[...])  # (y, x, c) float32
    out = tmp_path / 'ome.zarr'
    options = ['--op', 'gaussian:sigma=1.5', '--ome', '--zarr-version', version, '--chunk', 64, '--threads', 2]
    if shard:
        options += ['--shard', shard]
    cli.check('process', slide, out, *options)
    group = zarr.open_group(out, mode='r')
    models = {2: ome_zarr_models.v04.Image, 3: ome_zarr_models.v05.Image}
    image = models[version].from_zarr(group)  # raises pydantic's ValidationError when invalid
    multiscale = image.ome_attributes.multiscales[0]
    paths = [d.path for d in multiscale.datasets]
    assert paths == [str(k) for k in range(len(paths))] and len(paths) == 5, paths  # 777 -> 49 rows: 5 levels
    previous = None
    for k, path in enumerate(paths):
        array = group[path]
        data = np.asarray(array[...])
        if shard:  # whole chunks, clipped to the chunk-rounded level; one chunk where the level is smaller
            rows = data.shape[1]
            assert array.shards[1] == (min(shard, -(-rows // 64) * 64) if rows >= 64 else rows), (k, array.shards)
        if k == 0:
            np.testing.assert_array_equal(data, np.moveaxis(result, 2, 0), 'dataset 0 is the result, (c, y, x)')
        else:
            assert data.shape == (3, -(-previous.shape[1] // 2), -(-previous.shape[2] // 2))
            np.testing.assert_array_equal(data, mean_2x2(previous), f'dataset {k}: downsample2x of {k - 1}')
        previous = data
    assert max(previous.shape[1:]) <= 64


def test_process_layout_and_shard_hold_the_same_pixels(cli, slide, tmp_path):
    outs = {}
    for name, options in {'plain': [], 'cyx': ['--layout', 'cyx'], 'sharded': ['--shard', 200],
                          'v2_cyx': ['--layout', 'cyx', '--zarr-version', 2, '--codec', 'gzip']}.items():
        outs[name] = tmp_path / f'{name}.zarr'
        cli.check('process', slide, outs[name], '--op', 'grayscale', '--op', 'sobel', '--chunk', 100, '--threads', 2,
                  *options)
    plain = np.asarray(zarr.open_array(outs['plain'], mode='r')[...])
    for name in ('cyx', 'v2_cyx'):
        array = zarr.open_array(outs[name], mode='r')
        assert array.chunks == (1, 100, 100)
        np.testing.assert_array_equal(np.asarray(array[...]), np.moveaxis(plain, 2, 0), name)
    sharded = zarr.open_array(outs['sharded'], mode='r')
    assert sharded.shards == (200, 200, 1) and sharded.chunks == (100, 100, 1)
    np.testing.assert_array_equal(np.asarray(sharded[...]), plain)


def test_process_refuses_a_shard_that_is_not_whole_chunks(cli, slide, tmp_path):
    r = cli.run('process', slide, tmp_path / 'x.zarr', '--op', 'sobel', '--chunk', 100, '--shard', 150)
    assert r.returncode == 2 and '--shard (150) must be a multiple of --chunk (100)' in r.stderr, r.stderr
    assert not (tmp_path / 'x.zarr').exists()


def test_process_ome_resume_finishes_an_interrupted_run(cli, slide, tmp_path):
    out = tmp_path / 'ome.zarr'
    options = ['--op', 'median:size=3', '--ome', '--chunk', 128, '--codec', 'zstd', '--threads', 2]
    cli.check('process', slide, out, *options)
    whole = store_files(out)
    # An interrupted run: the root group (written last) and some blocks of two levels missing.
    (out / 'zarr.json').unlink()
    for victim in [out / '0' / 'c' / '0' / '1' / '2', out / '2' / 'c' / '0' / '0' / '0']:
        assert victim.exists(), victim
        victim.unlink()
    again = cli.run('process', slide, out, *options, '--json')
    assert again.returncode == 2 and 'is not empty' in again.stderr
    cli.check('process', slide, out, *options, '--resume')
    assert store_files(out) == whole
    other = cli.run('process', slide, out, '--op', 'median:size=5', '--ome', '--chunk', 128, '--resume')
    assert other.returncode == 2 and 'other options' in other.stderr, other.stderr


@pytest.mark.parametrize('options', [['--ome', '--chunk', 100, '--codec', 'zstd'],
                                     ['--chunk', 256, '--codec', 'none', '--dtype', 'float32'],
                                     ['--ome', '--chunk', 64, '--shard', 256, '--codec', 'none']],
                         ids=['ome_zstd', 'float32_raw', 'ome_sharded'])
def test_convert_modes_and_budgets_write_the_same_store(cli, slide, tmp_path, options):
    stores = {}
    for name, extra in {'tiled': [], 'global': ['--mode', 'global'], 'small_budget': ['--memory', '4M'],
                        'one_thread': ['--threads', 1]}.items():
        out = tmp_path / f'{name}.zarr'
        cli.check('convert', slide, out, *options, *extra)
        stores[name] = store_files(out)
    assert len(stores['tiled']) > 4
    for name, files in stores.items():
        assert files == stores['tiled'], name


def test_convert_memory_below_one_block_is_refused(cli, slide, tmp_path):
    r = cli.run('convert', slide, tmp_path / 'x.zarr', '--chunk', 512, '--dtype', 'float32', '--memory', '1M')
    assert r.returncode == 2 and 'raise --memory or lower --chunk' in r.stderr, r.stderr
    assert not (tmp_path / 'x.zarr').exists()


def test_process_ome_scale_is_the_slides_pixel_size(cli, tmp_path):
    """The pyramid's scale comes from the slide's MPP, times the level 0 pixels a result pixel spans."""
    slide = tmp_path / 'aperio.svs'
    cli.check('synth', slide, '--size', '900x700', '--tile', 128, '--compression', 'deflate', '--aperio')
    mpp = float(cli.info(slide)['properties']['openslide.mpp-x'])
    for ops, factor in ((['--op', 'grayscale'], 1), (['--op', 'downsample2x'], 2)):
        out = tmp_path / f'ome{factor}.zarr'
        cli.check('process', slide, out, *ops, '--ome', '--chunk', 128, '--threads', 2)
        multiscale = zarr.open_group(out, mode='r').attrs.asdict()['ome']['multiscales'][0]
        assert multiscale['axes'][1] == {'name': 'y', 'type': 'space', 'unit': 'micrometer'}
        for k, dataset in enumerate(multiscale['datasets']):
            scale = dataset['coordinateTransformations'][0]['scale']
            assert scale == pytest.approx([1, mpp * factor * 2 ** k, mpp * factor * 2 ** k], rel=1e-9), (ops, k)
