"""CPU stand-in for cuCIM's CuImage as bench/decode.py calls it (read_region of a whole level, of a
list of locations with num_workers and batch_size, device "cuda" through the fake cupy of
bench/testing/fake_gpu), read with tifffile + imagecodecs. cucim.skimage and cucim.core come from
bench/testing/fake_cucim (scikit-image), found through this package's path. FAKE_CUCIM_WRONG=N adds N
to every sample it returns (to test the harness's MISMATCH). For bench/testing/test_decode_bench.py
only; never on sys.path elsewhere."""
import os
from pathlib import Path

import numpy as np

__path__.append(str(Path(__file__).resolve().parents[2] / "fake_cucim" / "cucim"))  # noqa: F821  (skimage, core)
__version__ = "fake-cpu"


def _wrong(pixels):
    shift = int(os.environ.get("FAKE_CUCIM_WRONG", "0"))
    return pixels if not shift else (pixels.astype(np.int32) + shift).clip(0, 255).astype(np.uint8)


def _on(device, pixels):
    if device == "cuda":
        import cupy
        return cupy.asarray(pixels)
    return pixels


class _Cache:
    type = 0
    memory_capacity = 0


class CuImage:
    _cache = _Cache()

    @classmethod
    def cache(cls, kind=None):
        return cls._cache

    def __init__(self, path):
        import tifffile
        self._path = path
        self._level0 = None
        with tifffile.TiffFile(path) as tif:
            page = tif.series[0].levels[0]
            self.shape = page.shape

    def _level(self):
        if self._level0 is None:
            import tifffile
            self._level0 = tifffile.imread(self._path, level=0)
        return self._level0

    def read_region(self, location=(0, 0), size=None, level=0, device="cpu", num_workers=0, batch_size=1):
        if level != 0:
            raise ValueError("the fake CuImage reads level 0 only")
        pixels = self._level()
        if size is None:
            size = (pixels.shape[1], pixels.shape[0])
        w, h = size
        if len(location) and not np.isscalar(location[0]):
            def batches():
                listed = list(location)
                for start in range(0, len(listed), batch_size):
                    part = listed[start:start + batch_size]
                    yield _on(device, _wrong(np.stack([pixels[y:y + h, x:x + w] for x, y in part])))
            return batches()
        x, y = location
        return _on(device, _wrong(np.ascontiguousarray(pixels[y:y + h, x:x + w])))
