# read_region(device="cuda"): a DeviceArray in GPU memory that CuPy and PyTorch take without a copy
# (same device pointer) through DLPack and the CUDA Array Interface, equal to the host pixels, zeros
# outside the level as on the host, and alive as long as any consumer holds it. These run where a GPU
# and CuPy or PyTorch are present (the device machine); elsewhere the device argument's errors are
# checked instead.
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
