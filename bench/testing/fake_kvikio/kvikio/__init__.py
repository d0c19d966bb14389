"""CPU stand-in for kvikio.CuFile.pread (reads into the fake cupy's host arrays), for the tests of
bench/gpu_io_bench.py on a machine without a GPU."""
import os

from . import defaults  # noqa: F401

__version__ = "fake-cpu"


class _Future:
    def __init__(self, count):
        self.count = count

    def get(self):
        return self.count


class CuFile:
    def __init__(self, path, flags="r"):
        self.fd = os.open(path, os.O_RDONLY)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

    def pread(self, buf, size=None, file_offset=0, task_size=None):
        view = memoryview(buf).cast("B")
        size = len(view) if size is None else size
        done = 0
        while done < size:
            n = os.preadv(self.fd, [view[done:size]], file_offset + done)
            if n <= 0:
                break
            done += n
        return _Future(done)
