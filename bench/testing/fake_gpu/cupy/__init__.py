"""CPU stand-in for the cupy calls bench/gpu_io_bench.py and bench/gpu_process_bench.py make, so
that the drivers can be run end to end on a machine without a GPU (bench/testing/test_io_bench.py,
test_process_bench.py). "Device" arrays are numpy arrays; copies are memcpy; events are wall-clock
stamps; any other name (cupy.log, cupy.clip, cupy.float64, ...) is numpy's. Never on sys.path
outside those tests."""
import ctypes
import time
import types

import numpy as np

uint8 = np.uint8
float32 = np.float32
__version__ = "fake-cpu"


class _Pointer:
    def __init__(self, ptr):
        self.ptr = ptr


class ndarray(np.ndarray):
    """A host array posing as a device array (`.data.ptr` like cupy's)."""

    @property
    def data(self):
        return _Pointer(self.ctypes.data)


def asarray(a, dtype=None):
    return np.array(a, dtype=dtype, copy=True).view(ndarray)


def asnumpy(a):
    return np.array(a, copy=True).view(np.ndarray)


def empty(shape, dtype=float):
    return np.empty(shape, dtype).view(ndarray)


def zeros(shape, dtype=float):
    return np.zeros(shape, dtype).view(ndarray)


class _Pool:
    def free_all_blocks(self):
        pass


def get_default_memory_pool():
    return _Pool()


def get_default_pinned_memory_pool():
    return _Pool()


class _Event:
    def __init__(self):
        self.stamp = None

    def record(self, stream=None):
        self.stamp = time.perf_counter()

    def synchronize(self):
        pass


class _Stream:
    def __init__(self, non_blocking=False):
        self.ptr = 0


def _memcpy_async(dst, src, size, kind, stream):
    ctypes.memmove(dst, src, size)


runtime = types.SimpleNamespace(deviceSynchronize=lambda: None, memcpyAsync=_memcpy_async)
cuda = types.SimpleNamespace(runtime=runtime, Event=_Event, Stream=_Stream,
                             get_elapsed_time=lambda a, b: (b.stamp - a.stamp) * 1e3)


def __getattr__(name):
    """The array functions and dtypes cupy shares with numpy."""
    try:
        return getattr(np, name)
    except AttributeError:
        raise AttributeError(f"module 'cupy' (fake) has no attribute {name!r}") from None
