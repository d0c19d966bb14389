# tilestream.monai.TilestreamWSIReader against MONAI's own OpenSlideWSIReader, on every shared slide
# OpenSlide opens: the geometry calls (get_size, get_level_count, get_downsample_ratio, get_mpp, get_power,
# get_file_path), get_data for whole levels and for regions (pixels within the JPEG tolerance, the same
# metadata), in channel-first and channel-last, RGB and RGBA, uint8 and float32, the level chosen by mpp
# or power, several slides at once, get_wsi_at_mpp, and PatchWSIDataset with reader=TilestreamWSIReader
# against reader="OpenSlide". MONAI needs PyTorch: these skip where MONAI is absent (CI), except the
# two that check that `import tilestream` never imports MONAI and what importing tilestream.monai
# without it says. NDPI: OpenSlide's levels made by JPEG DCT scaling are compared too.
# Locations above level 0 are whole numbers of the level's pixels (OpenSlide resamples the others,
# tilestream floors them): levels whose downsample is not whole are compared at location (0, 0) only.
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

import tilestream
from conftest import slide_params
from tilestream_cli import max_abs_diff, open_openslide

TOLERANCE = 2
WHOLE_LEVEL_PIXELS = 4096 * 4096  # whole levels up to this many pixels are read by both


def run_python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)


def test_import_tilestream_imports_neither_monai_nor_torch():
    result = run_python('import sys, tilestream\n'
                        'print(sorted({m.split(".")[0] for m in sys.modules} & {"monai", "torch"}))')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'


def test_tilestream_monai_without_monai_says_what_to_install():
    # None in sys.modules makes the import fail as an absent package does, whether MONAI is here or not.
    result = run_python('import sys\nsys.modules["monai"] = None\nsys.modules["torch"] = None\n'
                        'try:\n    import tilestream.monai\nexcept ImportError as e:\n    print(e)\n'
                        'else:\n    print("imported")')
    assert result.returncode == 0, result.stderr
    assert 'tilestream.monai' in result.stdout and 'pip install monai' in result.stdout


@pytest.fixture(scope='module')
def readers():
    """(tilestream.monai, monai.data.wsi_reader): the module under test and MONAI's readers."""
    pytest.importorskip('monai', reason='MONAI (and PyTorch) not installed')
    import monai.data.wsi_reader as wsi_reader

    import tilestream.monai as ts_monai
    return ts_monai, wsi_reader


def open_both(readers, path, **options):
    """(ours, theirs, our slide, their slide, level count) with the same reader options."""
    ts_monai, wsi_reader = readers
    osr = open_openslide(path)  # skips where OpenSlide does not open the file
    osr.close()
    ours, theirs = ts_monai.TilestreamWSIReader(**options), wsi_reader.OpenSlideWSIReader(**options)
    our_slide, their_slide = ours.read(str(path)), theirs.read(str(path))
    return ours, theirs, our_slide, their_slide, ours.get_level_count(our_slide)


def whole_downsample(reader, slide, level):
    downsample = reader.get_downsample_ratio(slide, level)
    return downsample == int(downsample)


def assert_same_data(got, want, what):
    """get_data results: equal shape and dtype, pixels within TOLERANCE, the same metadata but the backend."""
    (a, meta_a), (b, meta_b) = got, want
    assert type(a) is type(b), what
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, f'{what}: {a.shape} {a.dtype}, want {b.shape} {b.dtype}'
    assert max_abs_diff(a, b) <= TOLERANCE, f'{what}: max |diff| {max_abs_diff(a, b)}'
    assert meta_a.pop('backend') == 'tilestream' and meta_b.pop('backend') == 'openslide'
    assert meta_a.keys() == meta_b.keys(), what
    for key in meta_b:
        assert np.array_equal(np.asarray(meta_a[key]), np.asarray(meta_b[key])), f'{what}: metadata {key}'


@slide_params
def test_geometry_resolution_and_power(readers, testdata, slide):
    ours, theirs, a, b, levels = open_both(readers, testdata / slide)
    assert ours.get_level_count(a) == theirs.get_level_count(b)
    assert ours.get_file_path(a) == theirs.get_file_path(b) == str((testdata / slide).resolve())
    for level in range(levels):
        assert ours.get_size(a, level) == theirs.get_size(b, level)
        assert ours.get_downsample_ratio(a, level) == pytest.approx(theirs.get_downsample_ratio(b, level), rel=1e-12)
        for name in ('get_mpp', 'get_power'):
            try:
                want = getattr(theirs, name)(b, level)
            except ValueError:
                with pytest.raises(ValueError):
                    getattr(ours, name)(a, level)
                continue
            assert getattr(ours, name)(a, level) == pytest.approx(want, rel=1e-12), f'{name} level {level}'


def test_the_file_path_is_absolute(readers, testdata, monkeypatch):
    monkeypatch.chdir(testdata)
    ours, theirs, a, b, _ = open_both(readers, Path('aperio') / 'CMU-1-Small-Region.svs')
    assert ours.get_file_path(a) == theirs.get_file_path(b) == str(testdata / 'aperio' / 'CMU-1-Small-Region.svs')


@pytest.mark.parametrize('unit, resolution', [
    ('CENTIMETER', (40000, 20000)), ('INCH', (5080, 2540)), ('NONE', (1, 1)),
])
def test_mpp_from_the_resolution_tags(readers, tmp_path, unit, resolution):
    """A generic TIFF whose x and y resolutions differ (get_mpp is (y, x)); without a unit neither knows the mpp."""
    path = tmp_path / 'resolution.tif'
    pixels = np.random.default_rng(3).integers(0, 256, (600, 700, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tw:
        tw.write(pixels, tile=(256, 256), compression='zlib', photometric='rgb', resolution=resolution,
                 resolutionunit=unit)
        tw.write(pixels[::2, ::2], tile=(128, 128), compression='zlib', photometric='rgb', subfiletype=1,
                 resolution=resolution, resolutionunit=unit)
    ours, theirs, a, b, levels = open_both(readers, path)
    assert levels == 2
    for level in range(levels):
        if unit == 'NONE':
            with pytest.raises(ValueError):
                theirs.get_mpp(b, level)
            with pytest.raises(ValueError):
                ours.get_mpp(a, level)
        else:
            mpp_y, mpp_x = ours.get_mpp(a, level)
            assert mpp_y > mpp_x and (mpp_y, mpp_x) == pytest.approx(theirs.get_mpp(b, level), rel=1e-12)


@slide_params
def test_whole_levels(readers, testdata, slide):
    ours, theirs, a, b, levels = open_both(readers, testdata / slide)
    compared = 0
    for level in range(levels):
        height, width = ours.get_size(a, level)
        if height * width > WHOLE_LEVEL_PIXELS:
            continue
        got, want = ours.get_data(a, level=level), theirs.get_data(b, level=level)
        assert got[0].shape == (3, height, width)
        assert_same_data(got, want, f'{slide} level {level}')
        compared += 1
    assert compared


def regions(height, width):
    """(row, column, height, width) in level pixels: across tile borders, at the edges, partly outside."""
    return [(0, 0, 224, 224), (231, 245, 100, 80), (height - 70, 5, 70, 90), (5, width - 60, 130, 60),
            (height - 40, width - 50, 40, 50), (height - 20, width - 30, 64, 64), (height // 2, width // 2, 1, 1)]


@slide_params
@pytest.mark.parametrize('options', [
    {}, {'channel_dim': -1}, {'mode': 'RGBA'}, {'dtype': np.float32, 'channel_dim': 2},
], ids=['chw-rgb-uint8', 'hwc', 'rgba', 'hwc-float32'])
def test_regions(readers, testdata, slide, options):
    ours, theirs, a, b, levels = open_both(readers, testdata / slide, **options)
    compared = 0
    for level in range(levels):
        height, width = ours.get_size(a, level)
        downsample = ours.get_downsample_ratio(a, level)
        cases = regions(height, width) if whole_downsample(ours, a, level) else [(0, 0, 100, 130)]
        for row, column, h, w in cases:
            location = (int(row * downsample), int(column * downsample))
            got = ours.get_data(a, location=location, size=(h, w), level=level)
            want = theirs.get_data(b, location=location, size=(h, w), level=level)
            assert_same_data(got, want, f'{slide} level {level} {location} {(h, w)}')
            compared += 1
    assert compared


@slide_params
def test_the_level_chosen_by_mpp_or_power_is_openslides(readers, testdata, slide):
    ours, theirs, a, b, levels = open_both(readers, testdata / slide)
    for level in range(levels):
        for resolution in ('mpp', 'power'):
            try:
                value = getattr(theirs, f'get_{resolution}')(b, level)
            except ValueError:
                continue
            value = value[0] if resolution == 'mpp' else value
            got = ours.get_data(a, location=(0, 0), size=(64, 48), **{resolution: value})
            want = theirs.get_data(b, location=(0, 0), size=(64, 48), **{resolution: value})
            assert got[1]['level'] == want[1]['level'] == level
            assert_same_data(got, want, f'{slide} {resolution} {value}')
    with pytest.raises(ValueError, match='mpp'):
        ours.get_data(a, location=(0, 0), size=(8, 8), mpp=1e6)  # no level has it (or no mpp at all)


def test_errors_are_monais(readers, testdata):
    ours, theirs, a, b, levels = open_both(readers, testdata / 'aperio' / 'CMU-1-Small-Region.svs')
    for request in ({'level': levels}, {'location': (10**6, 0), 'size': (8, 8)}, {'location': (8, 8)},
                    {'size': (0, 8)}, {'level': 0, 'mpp': 0.5}):
        with pytest.raises(ValueError):
            theirs.get_data(b, **request)
        with pytest.raises(ValueError):
            ours.get_data(a, **request)
    with pytest.raises(ValueError, match="'RGB' or 'RGBA'"):
        ours.get_data(a, size=(8, 8), mode='CMYK')


def test_several_slides_at_once(readers, testdata):
    ts_monai, wsi_reader = readers
    paths = [str(testdata / 'aperio' / 'CMU-1-Small-Region.svs'), str(testdata / 'derived' / 'cmu1-pyramid-lzw.tif')]
    open_openslide(testdata / 'derived' / 'cmu1-pyramid-lzw.tif').close()
    ours, theirs = ts_monai.TilestreamWSIReader(), wsi_reader.OpenSlideWSIReader()
    slides = ours.read(paths)
    assert isinstance(slides, list) and [str(s.path) for s in slides] == paths
    got = ours.get_data(slides, location=(700, 900), size=(120, 160))
    want = theirs.get_data(theirs.read(paths), location=(700, 900), size=(120, 160))
    assert got[0].shape == (6, 120, 160)
    assert_same_data(got, want, 'two slides')


@pytest.mark.parametrize('slide, mpp', [
    ('derived/cmu1-pyramid-lzw.tif', 0.499 * 4.002024291497976),  # a level's own
    ('derived/cmu1-pyramid-lzw.tif', 3.0),  # nearest a coarser level: the finer one below it, resized
    ('derived/cmu1-pyramid-lzw.tif', 2.5),  # nearest a finer level: that one, resized
    ('aperio/CMU-1-Small-Region.svs', 2.0),  # coarser than the only level
])
def test_get_wsi_at_mpp(readers, testdata, slide, mpp):
    pytest.importorskip('PIL')
    ours, theirs, a, b, _ = open_both(readers, testdata / slide, channel_dim=-1)
    got, want = ours.get_wsi_at_mpp(a, mpp), theirs.get_wsi_at_mpp(b, mpp)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert max_abs_diff(got, want) <= TOLERANCE


def patch_samples(path, height, width, downsample, patch_size):
    """PatchWSIDataset items: centre locations (row, column) in level-0 pixels, across the slide and its edges.
    The dataset takes half the patch size (in level pixels) off the centre; each corner it reads is made a
    whole number of level pixels (OpenSlide resamples the others)."""
    centres = [(112, 112), (height // 2, width // 3), (height - 50, width - 20), (height // 3, 5), (900, 1300)]
    half = [n // 2 for n in patch_size]
    return [{'image': path, 'location': [downsample * (c // downsample) + h for c, h in zip(centre, half)], 'label': i}
            for i, centre in enumerate(centres)]


@pytest.mark.parametrize('reader_as', ['class', 'instance'])
@pytest.mark.parametrize('slide, patch_level', [
    ('aperio/CMU-1-Small-Region.svs', 0),
    ('derived/cmu1-pyramid-jpeg-bigtiff.tif', 0),
    ('hamamatsu/test3-DAPI-2-387.ndpi', 1),
    ('hamamatsu/test3-DAPI-2-387.ndpi', 3),
])
def test_patch_wsi_dataset_yields_openslides_patches(readers, testdata, slide, patch_level, reader_as):
    ts_monai, _ = readers
    from monai.data import PatchWSIDataset

    path = testdata / slide
    open_openslide(path).close()
    with tilestream.open(path) as s:
        (width, height), downsample = s.dimensions, int(s.level_downsamples[patch_level])
    data = patch_samples(str(path), height, width, downsample, (96, 128))
    reader = ts_monai.TilestreamWSIReader if reader_as == 'class' else ts_monai.TilestreamWSIReader(level=patch_level)
    ours = PatchWSIDataset(data, patch_size=(96, 128), patch_level=patch_level, reader=reader)
    theirs = PatchWSIDataset(data, patch_size=(96, 128), patch_level=patch_level, reader='OpenSlide')
    assert len(ours) == len(theirs) == len(data)
    for i in range(len(data)):
        got, want = ours[i], theirs[i]
        assert got['label'].item() == want['label'].item() == i
        a, b = got['image'], want['image']
        assert a.shape == b.shape == (3, 96, 128) and a.dtype == b.dtype
        assert max_abs_diff(a.numpy(), b.numpy()) <= TOLERANCE, f'{slide} item {i}'
        assert a.meta.pop('backend') == 'tilestream' and b.meta.pop('backend') == 'openslide'
        assert a.meta.keys() == b.meta.keys() >= {'location', 'size', 'level', 'path', 'count',
                                                  'spatial_shape', 'original_channel_dim'}
        for key in b.meta:
            assert np.array_equal(np.asarray(a.meta[key]), np.asarray(b.meta[key])), f'{slide} item {i}: {key}'


@pytest.fixture(scope='module')
def cuda(readers):
    import torch

    if not (tilestream.with_cuda and torch.cuda.is_available()):
        pytest.skip('no CUDA device for PyTorch here, or a tilestream built without CUDA')
    return torch


@pytest.mark.parametrize('options', [{}, {'channel_dim': -1, 'dtype': np.float32}, {'mode': 'RGBA'}],
                         ids=['chw-uint8', 'hwc-float32', 'rgba'])
def test_device_cuda_gives_torch_tensors_there_equal_to_the_host_patch(readers, cuda, testdata, options):
    ts_monai, _ = readers
    path = str(testdata / 'aperio' / 'CMU-1-Small-Region.svs')
    # decode='cpu': the same decoder as the host read, so equal bit for bit (nvJPEG's pixels are
    # checked within their tolerance below).
    on_gpu = ts_monai.TilestreamWSIReader(device='cuda', decode='cpu', **options)
    on_host = ts_monai.TilestreamWSIReader(**options)
    a, b = on_gpu.read(path), on_host.read(path)
    for location, size in [((0, 0), (224, 224)), ((2900, 2100), (100, 150)), ((0, 0), None)]:
        request = {'location': location, 'size': size} if size else {}
        (patch, meta), (want, want_meta) = on_gpu.get_data(a, **request), on_host.get_data(b, **request)
        assert isinstance(patch, cuda.Tensor) and patch.device.type == 'cuda'
        assert patch.dtype == cuda.from_numpy(np.empty(0, want.dtype)).dtype
        assert np.array_equal(patch.cpu().numpy(), want)
        assert np.array_equal(meta['spatial_shape'], want_meta['spatial_shape'])


def test_device_cuda_with_nvjpeg_is_within_the_decode_tolerance(readers, cuda, testdata):
    ts_monai, _ = readers
    path = str(testdata / 'aperio' / 'CMU-1-Small-Region.svs')
    on_gpu, on_host = ts_monai.TilestreamWSIReader(device='cuda'), ts_monai.TilestreamWSIReader()
    a, b = on_gpu.read(path), on_host.read(path)
    (patch, _), (want, _) = on_gpu.get_data(a), on_host.get_data(b)
    diff = np.abs(patch.cpu().numpy().astype(np.int16) - want.astype(np.int16))
    assert diff.max() <= 4 and diff.mean() <= 0.5, (diff.max(), diff.mean())
