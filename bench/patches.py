#!/usr/bin/env python3
"""Random patches per second (issue 13's acceptance line): tilestream against openslide-python,
tiffslide, tifffile + zarr and cuCIM, reading the same random patches of level 0 from each slide
given, one patch per call on 1 and N Python threads and in batches (tilestream's read_regions and
PatchLoader, cuCIM's read_region with a list of locations, num_workers and batch_size), as NumPy
arrays and, with --devices cpu,cuda, as PyTorch tensors on the GPU.

    python3 bench/patches.py --slide svs=CMU-1-Small-Region.svs --slide synthetic-jpeg=seed-jpeg.tif \
        --sizes 256,512 --threads 1,16 --devices cpu,cuda --out-dir OUT
    python3 bench/patches.py --report OUT/patches.jsonl [MORE.jsonl ...] --out-dir DIR   (tables again)
On the GPU machine, bench/device/patches_bench.sh builds tilestream, writes the seed-size JPEG slide
and runs this file in one device command.

How it measures (each point is stated in the output too):
- locations: --patches top-left corners (default 4096) drawn uniformly over level 0, each patch whole
  inside the level, from --seed; every reader reads this one list; each timed read takes the next
  `count` patches of it (cyclically), the warm-up the first ones.
- tile caches: --tile-cache off (the default) turns them off on every side: OpenSlide's cache capacity
  0 (OpenSlideCache(0) set on every handle), cuCIM's CuImage.cache("no_cache") before any image is
  opened; tilestream, tiffslide and tifffile + zarr keep no decoded tiles. --tile-cache default leaves
  each library's own (OpenSlide 32 MiB per slide, cuCIM's configured default).
- page cache: warm; each slide file is read through once before anything is measured.
- a case (slide, reader, mode, device, patch size, threads) is read once to warm up (which also
  estimates its rate), then --repeats times `count` patches, `count` chosen for about --seconds a
  read (whole batches; a multiple of the threads); the figure is the median rate.
- threads: per-patch readers run N Python threads, each reading a contiguous share of the patches,
  each with its own handle, except tilestream, whose one Slide serves every thread (read_region
  decodes on the calling thread: threads=1); batched modes pass N as the library's workers
  (read_regions and PatchLoader threads=N; cuCIM num_workers=N).
- device "cuda": tilestream's DeviceArrays and cuCIM's device="cuda" batches taken by torch without a
  copy (torch.from_dlpack / torch.as_tensor), the GPU synchronised before the clock stops.
- correctness: the first --check patches of the list, read by each case, against tilestream's
  read_region: equal, within --tolerance (two JPEG decoders may round differently) or MISMATCH.
A reader or mode that is not installed, or a case that fails, becomes a row saying why; what no
longer fits before --deadline becomes a row saying "skipped: deadline", in the order of priority
(the headline slide at the first size first, tilestream and cuCIM first).

Output in --out-dir: patches.jsonl (a "run" line, then one line per case) and patches.md (the tables,
the ratios to cuCIM, the issue's targets).
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info  # noqa: E402

# The figures the issue measured on the GPU machine on 2026-12-02 (seed-size JPEG slide, 256 tiles,
# quality 80, random 256x256 patches at level 0), shown beside this run's for context.
ISSUE_FIGURES = [
    ("OpenSlide 4.0.1, 1 thread", 414),
    ("OpenSlide 4.0.1, 16 threads", 4420),
    ("cuCIM 26.10, 1 thread", 1170),
    ("cuCIM 26.10, batched, 16 workers", 12272),
    ('cuCIM 26.10, device="cuda" batches', 4001),
]
READERS = ("tilestream", "cucim", "openslide", "tiffslide", "tifffile")
MODES = ("per-patch", "batch", "loader")


class ReaderMissing(Exception):
    """A reader, or one of its modes, that this machine cannot run (not installed, no GPU...)."""


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


# --- arguments and small pure helpers ---

def parse_ints(text: str, name: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"patches.py: {name} must be a comma-separated list of integers, not {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise SystemExit(f"patches.py: {name} must list positive integers, not {text!r}")
    return values


def parse_names(text: str, allowed: tuple[str, ...], name: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise SystemExit(f"patches.py: {name} takes {', '.join(allowed)}; not {', '.join(unknown) or 'nothing'}")
    return names


def parse_slide(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise SystemExit(f"patches.py: --slide takes NAME=PATH, not {text!r}")
    return name, path


def random_locations(width: int, height: int, size: int, count: int, seed: int) -> np.ndarray:
    """(count, 2) int64 top-left corners (x, y), uniform over the level with the whole patch inside."""
    if size > width or size > height:
        raise ValueError(f"a {size}x{size} patch does not fit a {width}x{height} level")
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, width - size + 1, size=count, dtype=np.int64)
    ys = rng.integers(0, height - size + 1, size=count, dtype=np.int64)
    return np.column_stack([xs, ys])


def cyclic(locations: np.ndarray, start: int, count: int) -> np.ndarray:
    """`count` rows of `locations` from row `start` on, wrapping around."""
    index = (start + np.arange(count)) % len(locations)
    return locations[index]


def choose_count(rate: float, seconds: float, granule: int, available: int, cap_factor: int = 4) -> int:
    """Patches in one timed read: about `seconds` at `rate`, a whole number of granules (batches or
    threads), at least one granule and at most cap_factor times the list."""
    wanted = rate * seconds if rate > 0 and math.isfinite(rate) else granule
    granules = max(1, round(wanted / granule))
    granules = min(granules, max(1, (available * cap_factor) // granule))
    return granules * granule


def compare_patches(reference: np.ndarray, got: np.ndarray, tolerance: int) -> tuple[str, str]:
    """(status, text): "ok" when equal or within tolerance, else "mismatch"."""
    reference = np.asarray(reference)
    got = np.asarray(got)
    if got.shape != reference.shape:
        return "mismatch", f"MISMATCH: shape {got.shape} vs tilestream's {reference.shape}"
    if got.dtype != reference.dtype:
        return "mismatch", f"MISMATCH: dtype {got.dtype} vs tilestream's {reference.dtype}"
    diff = np.abs(got.astype(np.int32) - reference.astype(np.int32))
    worst = int(diff.max()) if diff.size else 0
    n = reference.shape[0]
    if worst == 0:
        return "ok", f"{n} patches equal"
    differing = int(np.count_nonzero(diff))
    text = f"max |diff| {worst} in {differing} of {diff.size} samples ({n} patches)"
    if worst <= tolerance:
        return "ok", text
    return "mismatch", "MISMATCH: " + text


def median_rate(runs: list[tuple[int, float]]) -> float:
    return statistics.median(count / seconds for count, seconds in runs if seconds > 0)


# --- the slides ---

@dataclass
class SlideInfo:
    name: str
    path: str
    width: int
    height: int
    file_bytes: int
    tile: str = "?"
    compression: str = "?"
    levels: int = 1
    vendor: str = "?"
    tiles: int = 0  # at level 0


def describe_slide(name: str, path: str) -> SlideInfo:
    import tilestream
    with tilestream.open(path) as slide:
        width, height = slide.dimensions
        levels = slide.level_count
        props = dict(slide.properties)
    info = SlideInfo(name, path, int(width), int(height), os.path.getsize(path), levels=int(levels),
                     vendor=props.get("openslide.vendor", "?"))
    tw, th = props.get("openslide.level[0].tile-width"), props.get("openslide.level[0].tile-height")
    if tw and th:
        info.tile = f"{tw}x{th}"
        info.tiles = -(-info.width // int(tw)) * -(-info.height // int(th))
    try:
        import tifffile
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            info.compression = page.compression.name.lower()
            if page.is_tiled:
                info.tile = f"{page.tilewidth}x{page.tilelength}"
                info.tiles = -(-info.width // page.tilewidth) * -(-info.height // page.tilelength)
            if page.compression.name == "JPEG":
                info.compression = f"jpeg ({page.photometric.name.lower()})"
    except Exception:  # noqa: BLE001  (only a description; tilestream has opened the file)
        pass
    return info


def warm_page_cache(path: str) -> int:
    """Reads the file through once, so that every reader finds it in the page cache."""
    total = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(16 << 20):
            total += len(chunk)
    return total


# --- delivery of device batches to PyTorch ---

def to_torch(batch):
    """A device batch as a torch tensor without a copy (DLPack, else the CUDA Array Interface)."""
    import torch
    if hasattr(batch, "__dlpack__"):
        try:
            return torch.from_dlpack(batch)
        except Exception:  # noqa: BLE001  (then through the CUDA Array Interface, where there is one)
            if not hasattr(batch, "__cuda_array_interface__"):
                raise
    return torch.as_tensor(batch, device="cuda")


def to_host(batch) -> np.ndarray:
    if isinstance(batch, np.ndarray):
        return batch
    if hasattr(batch, "__dlpack__") or hasattr(batch, "__cuda_array_interface__"):
        return to_torch(batch).cpu().numpy()
    return np.asarray(batch)


def cuda_sync():
    import torch
    torch.cuda.synchronize()


def need_cuda():
    try:
        import torch
    except ImportError as e:
        raise ReaderMissing(f"device cuda: PyTorch (the consumer) is not importable ({one_line(e)})") from None
    if not torch.cuda.is_available():
        raise ReaderMissing("device cuda: torch.cuda.is_available() is False (no GPU)")


# --- the readers: a table of name -> class, each knows how to load, open, and read in its modes ---

class Reader:
    """One library. load() imports it and applies the tile-cache setting (ReaderMissing when it
    cannot); per-patch handles come from open_handle(); batched modes from batch_runner()."""
    name = ""
    modes: dict[str, tuple[str, ...]] = {"per-patch": ("cpu",)}  # mode -> devices
    shared_handle = False  # one handle serves every thread

    def __init__(self, tile_cache: str):
        self.tile_cache = tile_cache
        self.version = "?"
        self.cache_text = "no tile cache"
        self.missing = ""  # why load() failed, if it did

    def load(self):
        raise NotImplementedError

    def open_handle(self, path: str):
        raise NotImplementedError

    def read(self, handle, x: int, y: int, size: int) -> np.ndarray:
        raise NotImplementedError

    def close_handle(self, handle):
        close = getattr(handle, "close", None)
        if close:
            close()

    def batch_runner(self, mode: str, path: str, size: int, threads: int, batch_size: int, device: str,
                     prefetch: int):
        raise ReaderMissing(f"{self.name} has no {mode} mode")


def import_or_missing(module: str, what: str):
    try:
        return importlib.import_module(module)
    except Exception as e:  # noqa: BLE001  (an ImportError, or a library failing as it loads)
        raise ReaderMissing(f"{what} is not importable: {one_line(e)}") from None


class TilestreamReader(Reader):
    name = "tilestream"
    modes = {"per-patch": ("cpu",), "batch": ("cpu", "cuda"), "loader": ("cpu", "cuda")}
    shared_handle = True

    def load(self):
        self.ts = import_or_missing("tilestream", "tilestream")
        self.version = self.ts.__version__
        self.cache_text = "no tile cache (tilestream keeps none)"

    def open_handle(self, path):
        return self.ts.open(path)

    def read(self, handle, x, y, size):
        return handle.read_region((int(x), int(y)), 0, (size, size), threads=1)

    def batch_runner(self, mode, path, size, threads, batch_size, device, prefetch):
        if device == "cuda" and not self.ts.with_cuda:
            raise ReaderMissing("tilestream was built without CUDA")
        if mode == "loader" and not hasattr(self.ts, "PatchLoader"):
            raise ReaderMissing("tilestream.PatchLoader is absent in this build")
        slide = self.ts.open(path)
        dev = "cuda" if device == "cuda" else None
        ts = self.ts

        def batches(locations):
            if mode == "batch":
                for start in range(0, len(locations), batch_size):
                    yield slide.read_regions(locations[start:start + batch_size], (size, size), 0, device=dev,
                                             threads=threads)
            else:
                loader = ts.PatchLoader(slide, size, 0, locations=locations, batch_size=batch_size, device=dev,
                                        prefetch=prefetch, threads=threads)
                try:
                    for batch in loader:
                        yield batch.images
                finally:
                    loader.close()

        return BatchRunner(batches, slide.close)


class OpenSlideReader(Reader):
    name = "openslide"

    def load(self):
        self.openslide = import_or_missing("openslide", "openslide-python")
        self.version = f"{self.openslide.__version__} (OpenSlide {self.openslide.__library_version__})"
        if self.tile_cache == "off":
            if not hasattr(self.openslide, "OpenSlideCache"):
                raise ReaderMissing("this openslide-python has no OpenSlideCache: the tile cache cannot be turned "
                                    "off (needs openslide-python >= 1.3 and OpenSlide >= 4.0)")
            self.cache_text = "cache capacity 0 (OpenSlideCache(0) on every handle)"
        else:
            self.cache_text = "default (32 MiB per handle)"

    def open_handle(self, path):
        slide = self.openslide.OpenSlide(path)
        if self.tile_cache == "off":
            slide.set_cache(self.openslide.OpenSlideCache(0))
        return slide

    def read(self, handle, x, y, size):
        # RGBA, alpha 255 inside the level (every patch here is inside): its RGB samples are the pixels.
        return np.asarray(handle.read_region((int(x), int(y)), 0, (size, size)))[:, :, :3]


class TiffslideReader(Reader):
    name = "tiffslide"

    def load(self):
        self.tiffslide = import_or_missing("tiffslide", "tiffslide")
        self.version = self.tiffslide.__version__
        self.cache_text = "no tile cache (tiffslide keeps none)"

    def open_handle(self, path):
        return self.tiffslide.TiffSlide(path)

    def read(self, handle, x, y, size):
        return handle.read_region((int(x), int(y)), 0, (size, size), as_array=True)


class TifffileZarrReader(Reader):
    name = "tifffile+zarr"

    def load(self):
        self.tifffile = import_or_missing("tifffile", "tifffile")
        self.zarr = import_or_missing("zarr", "zarr (for tifffile's aszarr store)")
        import_or_missing("imagecodecs", "imagecodecs (tifffile's JPEG decoder)")
        self.version = f"{self.tifffile.__version__} + zarr {self.zarr.__version__}"
        self.cache_text = "no tile cache (tifffile's Zarr store keeps none)"

    def open_handle(self, path):
        store = self.tifffile.imread(path, aszarr=True, level=0)
        return store, self.zarr.open(store, mode="r")

    def read(self, handle, x, y, size):
        return handle[1][int(y):int(y) + size, int(x):int(x) + size]

    def close_handle(self, handle):
        handle[0].close()


class CucimReader(Reader):
    name = "cucim"
    modes = {"per-patch": ("cpu",), "batch": ("cpu", "cuda")}

    def __init__(self, tile_cache, plugin="cuslide"):
        super().__init__(tile_cache)
        self.plugin = plugin
        if plugin != "cuslide":
            self.name = f"cucim[{plugin}]"

    def load(self):
        if self.plugin == "cuslide2":
            # Read when cuCIM loads its configuration: the nvImageCodec plugin instead of cuslide.
            os.environ["ENABLE_CUSLIDE2"] = "1"
        cucim = import_or_missing("cucim", "cucim")
        try:
            from cucim import CuImage
        except Exception as e:  # noqa: BLE001
            raise ReaderMissing(f"cucim.CuImage is not importable (cucim.clara needs click): {one_line(e)}") from None
        self.CuImage = CuImage
        self.version = f"{cucim.__version__} ({self.plugin})"
        if self.tile_cache == "off":
            cache = CuImage.cache("no_cache")  # before any image is opened: an image binds the cache of its open
            if int(cache.type) != 0 or cache.memory_capacity != 0:
                raise ReaderMissing(f"cuCIM's cache did not turn off: type {cache.type}, "
                                    f"capacity {cache.memory_capacity}")
            self.cache_text = 'CuImage.cache("no_cache") (type NoCache, capacity 0)'
        else:
            cache = CuImage.cache()
            self.cache_text = f"default ({cache.type}, capacity {cache.memory_capacity} bytes)"

    def open_handle(self, path):
        return self.CuImage(path)

    def read(self, handle, x, y, size):
        return np.asarray(handle.read_region((int(x), int(y)), (size, size), 0))

    def batch_runner(self, mode, path, size, threads, batch_size, device, prefetch):
        if mode != "batch":
            raise ReaderMissing(f"{self.name} has no {mode} mode")
        image = self.CuImage(path)

        def batches(locations):
            listed = [(int(x), int(y)) for x, y in locations]
            kwargs = {"num_workers": threads, "batch_size": batch_size}
            if device == "cuda":
                kwargs["device"] = "cuda"
            # With workers, an iterator of batches (cuCIM's BatchLoader reads ahead on its workers).
            yield from image.read_region(listed, (size, size), 0, **kwargs)

        return BatchRunner(batches, lambda: self.close_handle(image))


READER_CLASSES = {"tilestream": TilestreamReader, "openslide": OpenSlideReader, "tiffslide": TiffslideReader,
                  "tifffile": TifffileZarrReader, "cucim": CucimReader}


@dataclass
class BatchRunner:
    batches: object  # locations -> iterator of batches (NumPy arrays or device batches)
    close: object


# --- cases: what is measured, in order of priority ---

@dataclass
class Case:
    slide: str
    reader: str
    mode: str
    device: str
    size: int
    threads: int
    batch_size: int | None
    priority: int = 0

    def key(self):
        return (self.slide, self.reader, self.mode, self.device, self.size, self.threads)


def plan_cases(slides: list[str], headline: str, sizes: list[int], threads: list[int], readers: list[str],
               modes: list[str], devices: list[str], batch_size: int,
               reader_modes: dict[str, dict[str, tuple[str, ...]]]) -> list[Case]:
    """Every case, the issue's first: the headline slide at the first size with tilestream and cuCIM,
    then the other readers there, then the other slides at the first size, then the other sizes.
    Device cases are run at the largest thread count only."""
    most = max(threads)
    cases = []
    for slide in slides:
        for size in sizes:
            for reader in readers:
                for mode in MODES:
                    if mode not in modes or mode not in reader_modes[reader]:
                        continue
                    for device in ("cpu", "cuda"):
                        if device not in devices or device not in reader_modes[reader][mode]:
                            continue
                        for n in threads:
                            if device == "cuda" and n != most:
                                continue
                            if slide == headline and size == sizes[0]:
                                group = 0 if reader in ("tilestream", "cucim") else 1
                            elif size == sizes[0]:
                                group = 2
                            else:
                                group = 3
                            cases.append(Case(slide, reader, mode, device, size, n,
                                              None if mode == "per-patch" else batch_size, group))
    return sorted(cases, key=lambda c: c.priority)  # stable: the loops' order within a group


# --- measuring ---

def read_per_patch(reader: Reader, handles: list, locations: np.ndarray, size: int) -> int:
    """Reads every location on len(handles) threads (thread k: the k-th contiguous share, its handle);
    returns the patches read. One thread reads on the calling thread."""
    shares = np.array_split(locations, len(handles))
    if len(handles) == 1:
        for x, y in shares[0]:
            reader.read(handles[0], x, y, size)
        return len(locations)
    errors = []
    barrier = threading.Barrier(len(handles))

    def work(handle, share):
        try:
            barrier.wait()
            for x, y in share:
                reader.read(handle, x, y, size)
        except BaseException as e:  # noqa: BLE001  (rethrown on the calling thread)
            errors.append(e)
            barrier.abort()

    workers = [threading.Thread(target=work, args=(h, s)) for h, s in zip(handles, shares)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return len(locations)


def read_batches(runner: BatchRunner, locations: np.ndarray, device: str, keep=None) -> int:
    count = 0
    held = []
    for batch in runner.batches(locations):
        if device == "cuda":
            tensor = to_torch(batch)  # what a training loop takes
            count += tensor.shape[0]
            held = [tensor, batch]  # the previous batch may go, as in a loop
            if keep is not None:
                keep.append(to_host(tensor))
        else:
            array = np.asarray(batch)
            count += array.shape[0]
            if keep is not None:
                keep.append(array)
    if device == "cuda":
        cuda_sync()
    del held
    return count


@dataclass
class Settings:
    repeats: int = 3
    seconds: float = 0.8
    check: int = 8
    tolerance: int = 2
    prefetch: int = 2
    deadline: float = math.inf


@dataclass
class Row:
    slide: str
    reader: str
    mode: str
    device: str
    size: int
    threads: int
    batch_size: int | None
    status: str = "ok"  # ok | skipped | error
    reason: str = ""
    version: str = ""
    tile_cache: str = ""
    consumer: str = ""
    patches_per_s: float | None = None
    runs: list = field(default_factory=list)  # [patches, seconds] per timed read
    warmup: list = field(default_factory=list)  # [patches, seconds]
    check: str = ""
    check_status: str = ""
    kind: str = "case"


def estimate_seconds(settings: Settings) -> float:
    return 1.0 + (settings.repeats + 0.5) * settings.seconds


def measure_case(case: Case, reader: Reader, slide: SlideInfo, locations: np.ndarray, reference: np.ndarray,
                 settings: Settings) -> Row:
    row = Row(case.slide, reader.name, case.mode, case.device, case.size, case.threads, case.batch_size,
              version=reader.version, tile_cache=reader.cache_text,
              consumer="torch (zero copy), GPU synchronised" if case.device == "cuda" else "NumPy")
    checked = locations[:settings.check]
    if case.mode == "per-patch":
        handles = [reader.open_handle(slide.path)] * case.threads if reader.shared_handle else \
            [reader.open_handle(slide.path) for _ in range(case.threads)]
        try:
            row.check_status, row.check = compare_patches(
                reference, np.stack([reader.read(handles[0], x, y, case.size) for x, y in checked]),
                settings.tolerance)
            granule = case.threads

            def read(locs):
                return read_per_patch(reader, handles, locs, case.size)
            row.runs, row.warmup = time_reads(read, locations, granule, max(4 * case.threads, 16), settings)
        finally:
            for h in (handles[:1] if reader.shared_handle else handles):
                reader.close_handle(h)
    else:
        if case.device == "cuda":
            need_cuda()
        runner = reader.batch_runner(case.mode, slide.path, case.size, case.threads, case.batch_size, case.device,
                                     settings.prefetch)
        try:
            got = []
            read_batches(runner, checked, case.device, keep=got)
            row.check_status, row.check = compare_patches(reference, np.concatenate(got), settings.tolerance)

            def read(locs):
                return read_batches(runner, locs, case.device)
            row.runs, row.warmup = time_reads(read, locations, case.batch_size, case.batch_size, settings)
        finally:
            runner.close()
    row.patches_per_s = median_rate([tuple(r) for r in row.runs])
    return row


def time_reads(read, locations: np.ndarray, granule: int, warm: int, settings: Settings):
    """One warm-up read of `warm` patches (a whole number of granules), then settings.repeats timed
    reads of the next patches, each sized from the warm-up's rate."""
    warm = max(granule, -(-warm // granule) * granule)
    start = time.perf_counter()
    done = read(cyclic(locations, 0, warm))
    warm_seconds = time.perf_counter() - start
    count = choose_count(done / warm_seconds if warm_seconds > 0 else math.inf, settings.seconds, granule,
                         len(locations))
    runs, offset = [], warm
    for _ in range(settings.repeats):
        chunk = cyclic(locations, offset, count)
        offset += count
        start = time.perf_counter()
        done = read(chunk)
        runs.append([done, time.perf_counter() - start])
    return runs, [warm, warm_seconds]


# --- the run ---

def tree_commit() -> str:
    if os.environ.get("TILESTREAM_COMMIT"):
        return os.environ["TILESTREAM_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10, cwd=Path(__file__).resolve().parent)
        if out.returncode == 0:
            return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def load_readers(names: list[str], tile_cache: str, cucim_plugin: str) -> dict[str, Reader]:
    """Each reader loaded, or with `missing` saying why it could not be."""
    loaded = {}
    for name in names:
        reader = CucimReader(tile_cache, cucim_plugin) if name == "cucim" else READER_CLASSES[name](tile_cache)
        try:
            reader.load()
            log(f"patches.py: {reader.name} {reader.version}; tile cache: {reader.cache_text}")
        except ReaderMissing as e:
            reader.missing = str(e)
            log(f"patches.py: {reader.name}: skipped: {e}")
        loaded[name] = reader
    return loaded


def run_cases(args, slides: dict[str, SlideInfo], readers: dict, settings: Settings, emit) -> None:
    import tilestream
    reader_modes = {name: READER_CLASSES[name].modes for name in readers}
    cases = plan_cases(list(slides), args.headline or next(iter(slides)), args.sizes, args.threads, list(readers),
                       args.modes, args.devices, args.batch_size, reader_modes)
    locations = {}
    references = {}
    for case in cases:
        slide = slides[case.slide]
        reader = readers[case.reader]
        row = Row(case.slide, reader.name, case.mode, case.device, case.size, case.threads, case.batch_size)
        if reader.missing:
            row.status, row.reason = "skipped", reader.missing
            emit(row)
            continue
        if time.time() + estimate_seconds(settings) > settings.deadline:
            row.status, row.reason = "skipped", "deadline: no time left in this command"
            row.version = reader.version
            emit(row)
            continue
        key = (case.slide, case.size)
        if key not in locations:
            try:
                locations[key] = random_locations(slide.width, slide.height, case.size, args.patches, args.seed)
                with tilestream.open(slide.path) as ts:
                    references[key] = np.stack([ts.read_region((int(x), int(y)), 0, (case.size, case.size))
                                                for x, y in locations[key][:settings.check]])
            except (ValueError, OSError) as e:
                locations[key] = e
        if isinstance(locations[key], Exception):
            row.status, row.reason = "skipped", one_line(locations[key])
            emit(row)
            continue
        label = f"{case.slide} {reader.name} {case.mode} {case.device} {case.size}px {case.threads} threads"
        try:
            row = measure_case(case, reader, slide, locations[key], references[key], settings)
            log(f"patches.py: {label}: {row.patches_per_s:,.0f} patches/s ({row.check})")
        except ReaderMissing as e:
            row.status, row.reason, row.version = "skipped", str(e), reader.version
            log(f"patches.py: {label}: skipped: {e}")
        except Exception as e:  # noqa: BLE001  (one failing case never stops the others)
            row.status, row.reason, row.version = "error", one_line(e), reader.version
            log(f"patches.py: {label}: ERROR {one_line(e)}")
        emit(row)


def cuslide2_pass(args, rows_path: Path, deadline: float) -> list[dict]:
    """cuCIM's nvImageCodec plugin in a process of its own (cuCIM picks its plugin once, as it loads)."""
    command = [sys.executable, "-u", str(Path(__file__).resolve()), "--readers", "cucim", "--cucim-plugin", "cuslide2",
               "--rows-only", str(rows_path), "--deadline", str(deadline)] + args.passthrough
    log("patches.py: cuCIM's cuslide2 plugin, in a process of its own")
    env = dict(os.environ, ENABLE_CUSLIDE2="1")
    timeout = max(10.0, deadline - time.time() + 30) if math.isfinite(deadline) else None
    result = subprocess.run(command, env=env, timeout=timeout)
    rows = read_jsonl([rows_path]) if rows_path.exists() else []
    if result.returncode != 0 and not rows:
        rows = [asdict(Row(args.headline, "cucim[cuslide2]", "batch", "cpu", args.sizes[0],
                           max(args.threads), args.batch_size, status="error",
                           reason=f"the cuslide2 process exited with {result.returncode}"))]
    return rows


# --- the report ---

def read_jsonl(paths) -> list[dict]:
    records = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise SystemExit(f"patches.py: {path}:{number}: not JSON ({e})") from None
    return records


def baseline_rates(rows: list[dict]) -> dict:
    """cuCIM's rates by (slide, size, threads, mode, device), for the ratio columns."""
    rates = {}
    for r in rows:
        if r.get("reader") == "cucim" and r.get("status") == "ok" and r.get("patches_per_s"):
            rates[(r["slide"], r["size"], r["threads"], r["mode"], r["device"])] = r["patches_per_s"]
    return rates


def ratios(row: dict, rates: dict) -> tuple[float | None, float | None]:
    """(rate / cuCIM per-patch on the CPU, rate / cuCIM batched on the row's device), same slide,
    size and threads; None where either is missing."""
    rate = row.get("patches_per_s")
    if row.get("status") != "ok" or not rate:
        return None, None
    per_patch = rates.get((row["slide"], row["size"], row["threads"], "per-patch", "cpu"))
    batched = rates.get((row["slide"], row["size"], row["threads"], "batch", row["device"]))
    return (rate / per_patch if per_patch else None), (rate / batched if batched else None)


def fmt_rate(value) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_ratio(value) -> str:
    return "—" if value is None else f"{value:.2f}x"


def targets(rows: list[dict], headline: str, size: int, most: int) -> list[str]:
    """The issue's targets on the headline slide and size, each line PASS / FAIL / not measured."""
    ok = {(r["slide"], r["reader"], r["mode"], r["device"], r["size"], r["threads"]): r["patches_per_s"]
          for r in rows if r.get("status") == "ok" and r.get("patches_per_s")}

    def rate(reader, mode, device, threads):
        return ok.get((headline, reader, mode, device, size, threads))

    def verdict(value, goal, factor=1.0):
        if value is None or goal is None:
            return "not measured"
        return f"{'PASS' if value >= factor * goal else 'FAIL'} ({value / goal:.2f}x)"

    lines = []
    one = rate("cucim", "per-patch", "cpu", 1)
    lines.append(f"- 1 thread, tilestream per patch {fmt_rate(rate('tilestream', 'per-patch', 'cpu', 1))}/s "
                 f"≥ cuCIM per patch {fmt_rate(one)}/s: {verdict(rate('tilestream', 'per-patch', 'cpu', 1), one)}")
    batched = rate("cucim", "batch", "cpu", most)
    for mode, what in (("batch", "read_regions"), ("loader", "PatchLoader"), ("per-patch", "per patch")):
        value = rate("tilestream", mode, "cpu", most)
        lines.append(f"- {most} threads, tilestream {what} {fmt_rate(value)}/s ≥ 1.5 × cuCIM batched "
                     f"(num_workers {most}) {fmt_rate(batched)}/s: {verdict(value, batched, 1.5)}")
    loader = rate("tilestream", "loader", "cuda", most)
    cucim_cuda = rate("cucim", "batch", "cuda", most)
    against = f"; {loader / cucim_cuda:.2f}x of it" if loader and cucim_cuda else ""
    lines.append(f"- PatchLoader device=\"cuda\", batches as torch tensors on the GPU: {fmt_rate(loader)} patches/s "
                 f"(cuCIM device=\"cuda\" batches, {most} workers: {fmt_rate(cucim_cuda)}/s{against})")
    return lines


def reader_rank(label: str) -> int:
    """READERS' order for a row's reader ("tifffile+zarr" and "cucim[cuslide2]" by their prefix)."""
    for rank, name in enumerate(READERS):
        if label.startswith(name):
            return rank
    return len(READERS)


def render_markdown(run: dict, rows: list[dict]) -> str:
    date = run.get("date", "?")
    machine = run.get("machine", {})
    sizes = run.get("sizes") or sorted({r["size"] for r in rows})
    threads = run.get("threads") or sorted({r["threads"] for r in rows})
    headline = run.get("headline") or (rows[0]["slide"] if rows else "?")
    out = [f"# Random patches per second: tilestream, OpenSlide, tiffslide, tifffile + zarr, cuCIM ({date})", ""]
    out.append(f"- device: {machine.get('gpu') or 'no GPU'}; CPU {machine.get('cpu', '?')}, "
               f"{machine.get('cores', '?')} cores; host {machine.get('host', '?')}; Python {machine.get('python', '?')}")
    out.append(f"- tree: {run.get('commit', '?')}; command: `{run.get('command', '?')}`")
    for s in run.get("slides", []):
        levels = f"{s['levels']} level{'' if s['levels'] == 1 else 's'}"
        tiles = f" ({s['tiles']:,} at level 0)" if s.get("tiles") else ""
        out.append(f"- slide `{s['name']}`: {Path(s['path']).name}, {s['width']} x {s['height']} (level 0), "
                   f"{levels}, tiles {s['tile']}{tiles}, {s['compression']}, vendor {s['vendor']}, "
                   f"{s['file_bytes'] / 2**20:,.1f} MiB")
    out.append(f"- patches: {run.get('patches', '?')} random locations per slide and size (seed {run.get('seed', '?')}),"
               f" uniform over level 0, whole patches; the same list for every reader")
    out.append(f"- tile caches: {run.get('tile_cache_statement', '?')}")
    out.append(f"- page cache: {run.get('page_cache_statement', '?')}")
    out.append(f"- timing: {run.get('timing_statement', '?')}")
    out.append("- batched modes (tilestream read_regions and PatchLoader) decode a tile that several patches of one "
               "batch share once; on a slide of few tiles most of a batch's tiles are shared, so there its batched "
               "rates measure that saving as much as decoding")
    out.append(f"- versions: " + "; ".join(f"{k} {v}" for k, v in run.get("versions", {}).items()))
    out.append("")
    rates = baseline_rates(rows)
    for slide in dict.fromkeys(r["slide"] for r in rows):
        out.append(f"## {slide}")
        out.append("")
        out.append("| reader | mode | device | patch | threads | batch | patches/s | vs cuCIM per patch | "
                   "vs cuCIM batched | check |")
        out.append("|---|---|---|---|---|---|---:|---:|---:|---|")
        ordered = sorted((r for r in rows if r["slide"] == slide),
                         key=lambda r: (r["size"], r["threads"], r["device"], reader_rank(r["reader"]),
                                        MODES.index(r["mode"]) if r["mode"] in MODES else len(MODES)))
        for r in ordered:
            pp, batched = ratios(r, rates)
            if r.get("status") == "ok":
                rate, check = fmt_rate(r.get("patches_per_s")), r.get("check", "")
            else:
                rate, check = r.get("status", "?"), r.get("reason", "")
            out.append(f"| {r['reader']} | {r['mode']} | {r['device']} | {r['size']} | {r['threads']} | "
                       f"{r.get('batch_size') or '—'} | {rate} | {fmt_ratio(pp)} | {fmt_ratio(batched)} | {check} |")
        out.append("")
    out.append(f"## Targets ({headline}, {sizes[0]}x{sizes[0]}, same machine, same run)")
    out.append("")
    out.extend(targets(rows, headline, sizes[0], max(threads)))
    mismatches = [r for r in rows if r.get("check_status") == "mismatch"]
    if mismatches:
        out.append("")
        out.append("Patches that differ from tilestream's beyond the tolerance: " + "; ".join(
            f"{r['slide']} {r['reader']} {r['mode']} {r['device']} {r['size']}: {r['check']}" for r in mismatches))
    out.append("")
    out.append("The issue's figures, measured there on 2026-12-02 (seed-size JPEG slide, 256 tiles, quality 80, "
               "256x256 patches): " + "; ".join(f"{what} {value:,}/s" for what, value in ISSUE_FIGURES) + ".")
    out.append("")
    return "\n".join(out)


def write_report(records: list[dict], out_dir: Path) -> Path:
    runs = [r for r in records if r.get("kind") == "run"]
    rows = [r for r in records if r.get("kind", "case") == "case"]
    run = runs[0] if runs else {}
    path = out_dir / "patches.md"
    path.write_text(render_markdown(run, rows))
    return path


# --- main ---

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--slide", action="append", default=[], metavar="NAME=PATH", help="a slide to read (repeatable)")
    p.add_argument("--headline", help="the slide the issue's targets are about (default: the last --slide)")
    p.add_argument("--sizes", default="256,512", help="patch sides, the first the targets' (default 256,512)")
    p.add_argument("--threads", default=f"1,{os.cpu_count() or 1}", help="thread counts (default 1,<cores>)")
    p.add_argument("--readers", default=",".join(READERS), help=f"subset of {','.join(READERS)}")
    p.add_argument("--modes", default=",".join(MODES), help=f"subset of {','.join(MODES)}")
    p.add_argument("--devices", default="cpu", help="cpu or cpu,cuda (GPU batches as torch tensors)")
    p.add_argument("--batch-size", type=int, default=256, help="patches per batch in batched modes (default 256)")
    p.add_argument("--prefetch", type=int, default=2, help="PatchLoader's prefetch (default 2)")
    p.add_argument("--patches", type=int, default=4096, help="random locations per slide and size (default 4096)")
    p.add_argument("--seed", type=int, default=13, help="seed of the locations (default 13)")
    p.add_argument("--repeats", type=int, default=3, help="timed reads per case (default 3)")
    p.add_argument("--seconds", type=float, default=0.8, help="about how long one timed read lasts (default 0.8)")
    p.add_argument("--check", type=int, default=8, help="patches compared with tilestream's per case (default 8)")
    p.add_argument("--tolerance", type=int, default=2, help="largest sample difference still 'ok' (default 2)")
    p.add_argument("--tile-cache", choices=("off", "default"), default="off")
    p.add_argument("--cucim-plugins", default="cuslide",
                   help="cuslide, or cuslide,cuslide2 for a second cuCIM pass with the nvImageCodec plugin "
                        "(ENABLE_CUSLIDE2=1, a process of its own)")
    p.add_argument("--deadline", type=float, default=math.inf, help="epoch seconds; later cases become skipped rows")
    p.add_argument("--out-dir", type=Path, help="where patches.jsonl and patches.md go")
    p.add_argument("--report", nargs="+", type=Path, metavar="JSONL", help="only write patches.md from these files")
    p.add_argument("--cucim-plugin", default="cuslide", help=argparse.SUPPRESS)  # the cuslide2 child process
    p.add_argument("--rows-only", type=Path, help=argparse.SUPPRESS)  # the child's rows file
    return p


CHILD_DROPS = ("--readers", "--deadline", "--out-dir", "--cucim-plugins", "--report", "--rows-only", "--cucim-plugin")


def passthrough(argv: list[str], dropped=CHILD_DROPS) -> list[str]:
    """argv without the options named in `dropped` and their values (by default what a cuslide2 child
    does not take over from its parent: readers, deadline, outputs)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in dropped:
            skip = "=" not in arg
            continue
        out.append(arg)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.report:
        if not args.out_dir:
            raise SystemExit("patches.py: --report needs --out-dir")
        args.out_dir.mkdir(parents=True, exist_ok=True)
        path = write_report(read_jsonl(args.report), args.out_dir)
        print(path.read_text())
        return 0
    if not args.slide:
        raise SystemExit("patches.py: give at least one --slide NAME=PATH")
    if not args.out_dir and not args.rows_only:
        raise SystemExit("patches.py: give --out-dir")
    args.sizes = parse_ints(args.sizes, "--sizes")
    args.threads = parse_ints(args.threads, "--threads")
    args.readers = parse_names(args.readers, READERS, "--readers")
    args.modes = parse_names(args.modes, MODES, "--modes")
    args.devices = parse_names(args.devices, ("cpu", "cuda"), "--devices")
    plugins = parse_names(args.cucim_plugins, ("cuslide", "cuslide2"), "--cucim-plugins")
    slides_given = [parse_slide(s) for s in args.slide]
    args.headline = args.headline or slides_given[-1][0]
    args.passthrough = passthrough(argv)
    settings = Settings(args.repeats, args.seconds, args.check, args.tolerance, args.prefetch, args.deadline)

    try:
        import tilestream  # noqa: F401  (the reference every reader is checked against)
    except ImportError as e:
        raise SystemExit(f"patches.py: tilestream is not importable ({e}); put the built package on PYTHONPATH")
    slides = {}
    page_cache = []
    for name, path in slides_given:
        if not os.path.isfile(path):
            raise SystemExit(f"patches.py: --slide {name}: no such file {path}")
        slides[name] = describe_slide(name, path)
        if not args.rows_only:
            warm = warm_page_cache(path)
            page_cache.append(f"{name} {warm / 2**20:,.1f} MiB")
    child = args.rows_only is not None
    if child:
        args.readers = ["cucim"]
    readers = load_readers(args.readers, args.tile_cache, args.cucim_plugin)

    rows_path = args.rows_only or (args.out_dir / "patches.jsonl")
    if not child:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    sink = open(rows_path, "w")
    if not child:
        run = {
            "kind": "run", "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_info(), "commit": tree_commit(),
            "command": "python3 bench/patches.py " + " ".join(without_folders(passthrough(argv, ("--out-dir", "--deadline")), slides)),
            "slides": [dict(asdict(s), path=Path(s.path).name) for s in slides.values()], "headline": args.headline,
            "sizes": args.sizes, "threads": args.threads, "patches": args.patches, "seed": args.seed,
            "tile_cache_statement": tile_cache_statement(args.tile_cache, readers),
            "page_cache_statement": "warm: each slide file read through once before measuring (" +
                                    ", ".join(page_cache) + ")",
            "timing_statement": (f"a warm-up read, then {args.repeats} timed reads of about {args.seconds} s each "
                                 f"(whole batches of {args.batch_size}; PatchLoader prefetch {args.prefetch}, "
                                 f"threads = the row's threads); the median rate; "
                                 f"{args.check} patches per case checked against tilestream's read_region "
                                 f"(tolerance {args.tolerance})"),
            "versions": {r.name: ("absent: " + r.missing if r.missing else r.version) for r in readers.values()},
        }
        sink.write(json.dumps(run) + "\n")
        sink.flush()

    def emit(row: Row):
        sink.write(json.dumps(asdict(row)) + "\n")
        sink.flush()

    deadline = settings.deadline
    second = "cuslide2" in plugins and "cucim" in args.readers and not child
    if second and math.isfinite(deadline):
        # The cuslide2 pass gets a share of what is left; the main pass's cases come first.
        settings.deadline = deadline - max(30.0, 0.2 * (deadline - time.time()))
    run_cases(args, slides, readers, settings, emit)
    sink.close()
    if not child:
        records = read_jsonl([rows_path])
        if second:
            extra = cuslide2_pass(args, args.out_dir / "patches_cuslide2.jsonl", deadline)
            with open(rows_path, "a") as f:
                for r in extra:
                    f.write(json.dumps(r) + "\n")
            records += extra
        path = write_report(records, args.out_dir)
        log(f"patches.py: {rows_path} and {path}")
        print(path.read_text())
    return 0


def without_folders(argv: list[str], slides: dict[str, SlideInfo]) -> list[str]:
    """The command line as recorded: slides by file name, not by the folders of the machine it ran on."""
    out = []
    for arg in argv:
        for s in slides.values():
            arg = arg.replace(f"{s.name}={s.path}", f"{s.name}={Path(s.path).name}")
        out.append(arg)
    return out


def tile_cache_statement(setting: str, readers: dict) -> str:
    parts = [f"{r.name}: {r.cache_text}" for r in readers.values() if not r.missing]
    head = "off on every side" if setting == "off" else "each library's default"
    return f"{head} ({'; '.join(parts)})"


if __name__ == "__main__":
    sys.exit(main())
