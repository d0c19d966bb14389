# read_region(device="cuda"): a DeviceArray in GPU memory that CuPy and PyTorch take without a copy
# (same device pointer) through DLPack and the CUDA Array Interface, equal to the host pixels, zeros
# outside the level as on the host, and alive as long as any consumer holds it. These run where a GPU
# and CuPy or PyTorch are present (the device machine); elsewhere the device argument's errors are
# checked instead. read_regions and PatchLoader on the device with decode="gpu" (nvJPEG, each tile a
# batch touches decoded once) equal read_region(device="cuda", decode="gpu") of each patch exactly and
# the host within the decode tolerance; decode="cpu" equals the host exactly.
import gc

import numpy as np
import pytest
import tifffile

import tilestream


@pytest.fixture(scope='module')
def slide_path(tmp_path_factory):
    path = tmp_path_factory.mktemp('device') / 'slide.tif'
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (900, 1300, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tw:
        tw.write(pixels, tile=(256, 256), compression='zlib', photometric='rgb')  # CPU decode + upload
        tw.write(pixels[::2, ::2], tile=(128, 128), photometric='rgb', subfiletype=1)  # raw tiles placed on the GPU
    return path


def gpu_present(slide_path):
    with tilestream.open(slide_path) as s:
        try:
            s.read_region((0, 0), 0, (1, 1), device='cuda')
            return True
        except tilestream.UsageError as e:
            if 'built without CUDA' in str(e) or 'no CUDA device' in str(e):
                return False
            raise


@pytest.fixture(scope='module')
def gpu(slide_path):
    if not gpu_present(slide_path):
        pytest.skip('no CUDA device here (or a build without CUDA)')


@pytest.mark.parametrize('device', ['gpu', 'cuda:', 'cuda:x', 'cuda:-1', 'CUDA'])
def test_a_device_that_is_not_cpu_or_cuda_is_a_usage_error(slide_path, device):
    with tilestream.open(slide_path) as s, pytest.raises(tilestream.UsageError, match='device'):
        s.read_region((0, 0), 0, (4, 4), device=device)


def test_without_a_gpu_device_reads_say_why(slide_path):
    if gpu_present(slide_path):
        pytest.skip('a GPU is present')
    with tilestream.open(slide_path) as s, pytest.raises(tilestream.UsageError, match='without CUDA|no CUDA device'):
        s.read_region((0, 0), 0, (4, 4), device='cuda')


def test_out_is_for_host_reads(slide_path, gpu):
    with tilestream.open(slide_path) as s, pytest.raises(tilestream.UsageError, match='out takes host arrays'):
        s.read_region((0, 0), 0, (4, 4), device='cuda', out=np.zeros((4, 4, 3), np.uint8))


REGIONS = [((0, 0), 0, (1300, 900)), ((250, 130), 0, (300, 200)), ((-20, -10), 0, (64, 48)),
           ((1280, 890), 0, (40, 30)), ((0, 0), 1, (650, 450)), ((301, 99), 1, (100, 60)), ((1200, 800), 1, (100, 90))]


@pytest.mark.parametrize('location, level, size', REGIONS)
def test_device_pixels_equal_the_host_pixels(slide_path, gpu, location, level, size):
    with tilestream.open(slide_path) as s:
        want = s.read_region(location, level, size)
        got = s.read_region(location, level, size, device='cuda')
        assert isinstance(got, tilestream.DeviceArray)
        assert got.shape == want.shape and got.dtype == 'uint8' and got.device == 0
        np.testing.assert_array_equal(got.get(), want)


def test_cupy_takes_it_without_a_copy(slide_path, gpu):
    cupy = pytest.importorskip('cupy')
    with tilestream.open(slide_path) as s:
        want = s.read_region((100, 50), 0, (500, 300))
        array = s.read_region((100, 50), 0, (500, 300), device='cuda')
        by_dlpack = cupy.from_dlpack(array)
        by_interface = cupy.asarray(array)
        assert by_dlpack.data.ptr == array.data_ptr == by_interface.data.ptr
        np.testing.assert_array_equal(cupy.asnumpy(by_dlpack), want)
        np.testing.assert_array_equal(cupy.asnumpy(by_interface), want)
        # The consumer keeps the memory alive after the DeviceArray is gone.
        del array, by_interface
        gc.collect()
        cupy.get_default_memory_pool().free_all_blocks()
        np.testing.assert_array_equal(cupy.asnumpy(by_dlpack * 1), want)


def test_torch_takes_it_without_a_copy(slide_path, gpu):
    torch = pytest.importorskip('torch')
    with tilestream.open(slide_path) as s:
        want = s.read_region((0, 0), 1, (650, 450))
        array = s.read_region((0, 0), 1, (650, 450), device='cuda')
        tensor = torch.from_dlpack(array)
        assert tensor.is_cuda and tensor.data_ptr() == array.data_ptr
        assert tuple(tensor.shape) == (450, 650, 3) and tensor.dtype == torch.uint8
        del array
        gc.collect()
        # Used on a stream of torch's own: the pixels were finished before the array existed.
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            doubled = tensor.to(torch.int32) * 2
        stream.synchronize()
        np.testing.assert_array_equal(doubled.cpu().numpy(), want.astype(np.int32) * 2)


def test_dlpack_protocol_details(slide_path, gpu):
    with tilestream.open(slide_path) as s:
        array = s.read_region((0, 0), 0, (8, 8), device='cuda')
        assert array.__dlpack_device__() == (2, 0)
        interface = array.__cuda_array_interface__
        assert interface['shape'] == (8, 8, 3) and interface['typestr'] == '|u1' and interface['version'] == 3
        assert interface['data'] == (array.data_ptr, False)
        with pytest.raises(BufferError):
            array.__dlpack__(copy=True)
        with pytest.raises(BufferError):
            array.__dlpack__(dl_device=(1, 0))
        capsule = array.__dlpack__(stream=None)
        del capsule  # an unconsumed capsule frees its share
        assert 'DeviceArray' in repr(array)


def test_many_threads_read_to_the_device(slide_path, gpu):
    import threading

    with tilestream.open(slide_path) as s:
        spots = [(x, y) for x in range(0, 1100, 200) for y in range(0, 700, 200)]
        results = {}

        def read(part):
            for spot in part:
                results[spot] = s.read_region(spot, 0, (200, 200), device='cuda').get()

        threads = [threading.Thread(target=read, args=(spots[k::4],)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for spot in spots:
            np.testing.assert_array_equal(results[spot], s.read_region(spot, 0, (200, 200)))


def test_read_regions_on_the_device_equal_the_host_batch(slide_path, gpu):
    cupy = pytest.importorskip('cupy')
    torch = pytest.importorskip('torch')
    with tilestream.open(slide_path) as s:
        locations = [(0, 0), (0, 0), (1250, 880), (-30, 400), (600, 300)]
        want = s.read_regions(locations, (128, 96), 0)
        batch = s.read_regions(locations, (128, 96), 0, device='cuda')
        assert batch.shape == (5, 96, 128, 3) and batch.dtype == 'uint8'
        np.testing.assert_array_equal(batch.get(), want)
        as_cupy, as_torch = cupy.from_dlpack(batch), torch.from_dlpack(batch)
        assert as_cupy.data.ptr == as_torch.data_ptr() == batch.data_ptr
        assert as_cupy.shape == (5, 96, 128, 3) and tuple(as_torch.shape) == (5, 96, 128, 3)
        np.testing.assert_array_equal(cupy.asnumpy(as_cupy), want)
        np.testing.assert_array_equal(as_torch.cpu().numpy(), want)
        np.testing.assert_array_equal(cupy.asnumpy(cupy.asarray(batch)), want)
        with pytest.raises(tilestream.UsageError, match='empty batch'):
            s.read_regions([], (8, 8), 0, device='cuda')


def test_patch_loader_batches_on_the_device_equal_the_host_batches(slide_path, gpu):
    torch = pytest.importorskip('torch')
    kwargs = dict(batch_size=8, shuffle=True, seed=2, prefetch=3)
    host = list(tilestream.PatchLoader(slide_path, (128, 96), 0, **kwargs))
    on_device = list(tilestream.PatchLoader(slide_path, (128, 96), 0, device='cuda', **kwargs))
    assert len(host) == len(on_device) > 1
    for h, d in zip(host, on_device):
        assert isinstance(d.images, tilestream.DeviceArray) and d.images.shape == h.images.shape
        as_torch = torch.from_dlpack(d.images)
        assert as_torch.data_ptr() == d.images.data_ptr and as_torch.is_cuda
        np.testing.assert_array_equal(as_torch.cpu().numpy(), h.images)
        np.testing.assert_array_equal(d.locations, h.locations)


def test_decode_argument_errors(slide_path):
    with tilestream.open(slide_path) as s:
        with pytest.raises(tilestream.UsageError, match="decode mode must be auto, cpu or gpu, not 'nvjpeg'"):
            s.read_region((0, 0), 0, (4, 4), decode='nvjpeg')
        with pytest.raises(tilestream.UsageError, match='decode gpu decodes into GPU memory: it needs device cuda'):
            s.read_region((0, 0), 0, (4, 4), decode='gpu')
        # On the host every mode but gpu reads as usual.
        np.testing.assert_array_equal(s.read_region((0, 0), 0, (4, 4), decode='cpu'), s.read_region((0, 0), 0, (4, 4)))


@pytest.fixture(scope='module')
def jpeg_path(tmp_path_factory):
    pytest.importorskip('imagecodecs')
    path = tmp_path_factory.mktemp('device_jpeg') / 'jpeg.tif'
    y, x = np.mgrid[0:700, 0:1000]
    pixels = np.stack([(x * 255 // 999), (y * 255 // 699), ((x + y) % 256)], axis=-1).astype(np.uint8)
    pixels[200:400, 300:600] = (200, 30, 90)  # colour edges, where upsampling shows
    tifffile.imwrite(path, pixels, tile=(256, 256), compression='jpeg', photometric='ycbcr')
    return path


def test_nvjpeg_reads_are_within_the_decode_tolerance(jpeg_path, gpu):
    with tilestream.open(jpeg_path) as s:
        want = s.read_region((0, 0), 0, (1000, 700)).astype(np.int16)
        exact = s.read_region((0, 0), 0, (1000, 700), device='cuda', decode='cpu').get()
        np.testing.assert_array_equal(exact, want)
        try:
            got = s.read_region((0, 0), 0, (1000, 700), device='cuda', decode='gpu').get().astype(np.int16)
        except tilestream.UnsupportedError as e:
            pytest.fail(f'nvJPEG is not available on this GPU machine: {e}')
        diff = np.abs(got - want)
        assert diff.max() <= 4 and diff.mean() <= 0.5, (diff.max(), diff.mean())
        again = s.read_region((0, 0), 0, (1000, 700), device='cuda', decode='gpu').get()
        np.testing.assert_array_equal(again, got.astype(np.uint8))


@pytest.fixture(scope='module')
def jpeg_levels_path(tmp_path_factory):
    """A two-level JPEG pyramid whose sides are not multiples of its 256-pixel tiles."""
    pytest.importorskip('imagecodecs')
    path = tmp_path_factory.mktemp('device_jpeg_levels') / 'jpeg_levels.tif'
    y, x = np.mgrid[0:750, 0:1100]
    pixels = np.stack([(x * 255 // 1099), ((x // 37 + y // 37) % 2) * 180 + 30, (y * 255 // 749)], axis=-1)
    pixels = pixels.astype(np.uint8)
    with tifffile.TiffWriter(path) as tw:
        tw.write(pixels, tile=(256, 256), compression='jpeg', photometric='ycbcr')
        tw.write(pixels[::2, ::2], tile=(256, 256), compression='jpeg', photometric='ycbcr', subfiletype=1)
    return path


# Inside, on tile borders, larger than a tile's share, repeated, sticking out on every side, wholly
# outside (level-0 pixels; the patches are 300 x 200 level pixels).
PATCH_LOCATIONS = [(0, 0), (0, 0), (256, 256), (250, 130), (-30, 400), (900, 600), (1000, 0), (0, -150),
                   (-400, -300), (1100, 0), (511, 255), (799, 549), (300, 749), (640, 480)]


def nvjpeg_or_fail(read):
    try:
        return read()
    except tilestream.UnsupportedError as e:
        pytest.fail(f'nvJPEG is not available on this GPU machine: {e}')


@pytest.mark.parametrize('level', [0, 1])
def test_read_regions_with_nvjpeg_equal_read_region_per_patch(jpeg_levels_path, gpu, level):
    size = (300, 200)
    with tilestream.open(jpeg_levels_path) as s:
        batch = nvjpeg_or_fail(lambda: s.read_regions(PATCH_LOCATIONS, size, level, device='cuda', decode='gpu'))
        assert isinstance(batch, tilestream.DeviceArray)
        assert batch.shape == (len(PATCH_LOCATIONS), 200, 300, 3) and batch.dtype == 'uint8'
        got = batch.get()
        for k, location in enumerate(PATCH_LOCATIONS):
            one = s.read_region(location, level, size, device='cuda', decode='gpu').get()
            np.testing.assert_array_equal(got[k], one, err_msg=f'patch {k} at {location}, level {level}')
        # Within the decode tolerance of the NumPy batch; decode cpu equals it exactly.
        host = s.read_regions(PATCH_LOCATIONS, size, level)
        diff = np.abs(got.astype(np.int16) - host.astype(np.int16))
        assert diff.max() <= 4 and diff.mean() <= 0.5, (diff.max(), diff.mean())
        np.testing.assert_array_equal(s.read_regions(PATCH_LOCATIONS, size, level, device='cuda', decode='cpu').get(),
                                      host)
        # Repeated reads are identical.
        np.testing.assert_array_equal(s.read_regions(PATCH_LOCATIONS, size, level, device='cuda', decode='gpu').get(),
                                      got)


def test_read_regions_on_the_device_read_other_compressions_as_the_host_does(slide_path, gpu):
    # Deflate and raw tiles are not nvJPEG's: every decode mode reads them as the host does.
    with tilestream.open(slide_path) as s:
        for level in (0, 1):
            want = s.read_regions(PATCH_LOCATIONS, (128, 96), level)
            for decode in (None, 'auto', 'cpu', 'gpu'):
                got = nvjpeg_or_fail(lambda: s.read_regions(PATCH_LOCATIONS, (128, 96), level, device='cuda',
                                                            decode=decode)).get()
                np.testing.assert_array_equal(got, want, err_msg=f'level {level}, decode {decode}')


@pytest.mark.parametrize('level', [0, 1])
def test_patch_loader_with_nvjpeg_equals_read_regions_on_the_device(jpeg_levels_path, gpu, level):
    size = (96, 64)
    loader = tilestream.PatchLoader(jpeg_levels_path, size, level, device='cuda', decode='gpu', batch_size=7,
                                    shuffle=True, seed=3, prefetch=2, cover_edges=True)
    with loader, tilestream.open(jpeg_levels_path) as s:
        batches = nvjpeg_or_fail(lambda: list(loader))
        assert len(batches) > 1
        seen = 0
        for batch in batches:
            assert isinstance(batch.images, tilestream.DeviceArray)
            want = s.read_regions(batch.locations, size, level, device='cuda', decode='gpu').get()
            np.testing.assert_array_equal(batch.images.get(), want)
            seen += len(want)
        assert seen == len(loader.locations)


def test_patch_loader_over_two_slides_with_nvjpeg_and_cpu_decode(jpeg_path, jpeg_levels_path, gpu):
    # Batches that mix the slides' patches: each patch equals read_region of its own slide.
    paths = [jpeg_path, jpeg_levels_path]
    kwargs = dict(batch_size=9, shuffle=True, seed=5, cover_edges=True)
    gpu_batches = nvjpeg_or_fail(lambda: list(tilestream.PatchLoader(paths, 128, 0, device='cuda', decode='gpu',
                                                                     **kwargs)))
    cpu_batches = list(tilestream.PatchLoader(paths, 128, 0, device='cuda', decode='cpu', **kwargs))
    host_batches = list(tilestream.PatchLoader(paths, 128, 0, **kwargs))
    assert len(gpu_batches) == len(cpu_batches) == len(host_batches) > 1
    assert any(len(set(h.slide_indices.tolist())) == 2 for h in host_batches)  # some batches mix them
    with tilestream.open(jpeg_path) as a, tilestream.open(jpeg_levels_path) as b:
        handles = [a, b]
        for on_gpu, on_cpu, host in zip(gpu_batches, cpu_batches, host_batches):
            np.testing.assert_array_equal(on_gpu.slide_indices, host.slide_indices)
            np.testing.assert_array_equal(on_gpu.locations, host.locations)
            np.testing.assert_array_equal(on_cpu.images.get(), host.images)
            got = on_gpu.images.get()
            for k, (index, (x, y)) in enumerate(zip(host.slide_indices, host.locations)):
                one = handles[int(index)].read_region((int(x), int(y)), 0, (128, 128), device='cuda', decode='gpu')
                np.testing.assert_array_equal(got[k], one.get(), err_msg=f'slide {index} at {(x, y)}')
