#!/usr/bin/env python3
"""Decode benchmark of issue 14: level 0 of JPEG slides to the GPU, random 256x256 patch batches, the
round trip slide -> sobel -> Zarr (zstd) and the conversion to OME-Zarr v3, tilestream (nvJPEG and
its CPU-decode path) against cuCIM (device="cuda" and CPU), tifffile + imagecodecs and nvJPEG's own
ceiling, with wall time, GB/s of decoded pixels and host CPU seconds in one run.

    python3 bench/decode.py --slide t256-q80=seed-t256-q80.tif --slide svs=CMU-1-Small-Region.svs \
        --bin build/tilestream --ceiling build/bench/tilestream_nvjpeg_ceiling --threads 16 --out-dir OUT
    python3 bench/decode.py --report OUT/decode.jsonl [MORE.jsonl ...] --out-dir DIR   (tables again)
On the GPU machine, bench/device/decode_bench.sh builds tilestream, writes the synthetic slides and
runs this file in one device command.

Sections, per slide (--sections; the round trip and the conversion on --pipeline-slides only):
  level     level 0 whole: tilestream read_region(device="cuda", decode="gpu"), decode="cpu" (the CPU
            path: --threads libjpeg-turbo threads, then uploaded) and to NumPy (the reference every
            case's pixels are checked against); tilestream's CLI `read --decode gpu --json` once, for
            the decoder it reports (tiles on the GPU, CPU fallbacks); cuCIM CuImage.read_region(level=0)
            with device="cuda" and on the CPU; tifffile.imread(level=0) + imagecodecs, and the same
            uploaded with cupy (or torch); OpenSlide's read_region of level 0 (one call, RGBA cut to RGB;
            Aperio and other formats OpenSlide reads, JPEG 2000 SVS included); the nvJPEG ceiling
            (tilestream_nvjpeg_ceiling, a process).
  patches   batches of --batch-size random --patch x --patch patches of level 0 (one seeded list, the
            same for every reader): tilestream read_regions (device "cuda" and NumPy) and PatchLoader
            (device "cuda"), cuCIM read_region(locations, num_workers, batch_size) on both devices.
  roundtrip `tilestream process --op sobel --codec zstd` (--device cuda, and cpu for context) against
            cuCIM's level 0 on the GPU + cucim.skimage.filters.sobel per channel + zarr-python writing
            zstd chunks of tilestream's chunk shape and level.
  convert   `tilestream convert --ome --codec zstd --zarr-version 3`, --device cuda and --device cpu
            (--threads), both stores read back level by level with zarr-python and compared.
Measuring: each in-process case is run once to warm up (its pixels are the ones checked), then
--repeats times; the figure is the median wall time, the GPU synchronised before the clock stops;
GB/s = decoded bytes (h * w * 3) / seconds; host CPU seconds = getrusage(RUSAGE_SELF) user + system
per run (every thread of this process), RUSAGE_CHILDREN for the CLI and the ceiling. Pixels against
tilestream's CPU decode: equal, within tolerance (max |diff| <= --tolerance and mean <= --mean-tolerance;
two JPEG decoders round differently) or MISMATCH, with the max and mean stated.
A library that is not installed, a case that fails, or one that no longer fits before --deadline
becomes a row saying why. Output in --out-dir: decode.jsonl (a "run" line, then one line per case)
and decode.md (the tables, the ratios and the issue's acceptance lines, PASS / FAIL / not measured).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import importlib
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info  # noqa: E402

SECTIONS = ("level", "patches", "roundtrip", "convert")
READERS = ("tilestream", "cucim", "tifffile", "openslide", "ceiling")

# Case key -> (section, reader, device, label). The order is the order of the tables and of the run.
CASES = {
    "tilestream-host": ("level", "tilestream", "cpu", "tilestream read_region to NumPy (CPU decode; the reference)"),
    "tilestream-gpu": ("level", "tilestream", "cuda", 'tilestream read_region device="cuda" decode="gpu"'),
    "tilestream-cpu": ("level", "tilestream", "cuda", 'tilestream read_region device="cuda" decode="cpu"'),
    "tilestream-cli-gpu": ("level", "tilestream", "cuda", "tilestream read --device cuda --decode gpu (CLI)"),
    "cucim-cuda": ("level", "cucim", "cuda", 'cuCIM CuImage.read_region(level=0, device="cuda")'),
    "ceiling": ("level", "ceiling", "cuda", "nvJPEG ceiling (tiles in memory, no I/O)"),
    "cucim-cpu": ("level", "cucim", "cpu", "cuCIM CuImage.read_region(level=0)"),
    "tifffile-cpu": ("level", "tifffile", "cpu", "tifffile.imread(level=0) + imagecodecs"),
    "tifffile-cuda": ("level", "tifffile", "cuda", "tifffile.imread(level=0) + imagecodecs, uploaded"),
    "openslide-cpu": ("level", "openslide", "cpu", "OpenSlide read_region(level 0), RGBA to RGB"),
    "convert-cuda": ("convert", "tilestream", "cuda", "tilestream convert --device cuda"),
    "convert-cpu": ("convert", "tilestream", "cpu", "tilestream convert --device cpu"),
    "patches-tilestream-cuda": ("patches", "tilestream", "cuda", 'tilestream read_regions device="cuda" decode="gpu"'),
    "patches-loader-cuda": ("patches", "tilestream", "cuda", 'tilestream PatchLoader device="cuda" decode="gpu"'),
    "patches-tilestream-cuda-auto": ("patches", "tilestream", "cuda",
                                     'tilestream read_regions device="cuda" decode="auto" (nvJPEG + CPU threads)'),
    "patches-loader-cuda-auto": ("patches", "tilestream", "cuda",
                                 'tilestream PatchLoader device="cuda" decode="auto" (nvJPEG + CPU threads)'),
    "patches-tilestream-cuda-cpu": ("patches", "tilestream", "cuda", 'tilestream read_regions device="cuda" decode="cpu"'),
    "patches-loader-cuda-cpu": ("patches", "tilestream", "cuda", 'tilestream PatchLoader device="cuda" decode="cpu"'),
    "patches-tilestream-cpu": ("patches", "tilestream", "cpu", "tilestream read_regions to NumPy (the reference)"),
    "patches-cucim-cuda": ("patches", "cucim", "cuda", 'cuCIM read_region(locations, device="cuda")'),
    "patches-cucim-cpu": ("patches", "cucim", "cpu", "cuCIM read_region(locations)"),
    "process-cuda": ("roundtrip", "tilestream", "cuda", "tilestream process --op sobel --device cuda"),
    "cucim-sobel-zarr": ("roundtrip", "cucim", "cuda", "cuCIM cuda + cucim.skimage sobel + zarr-python"),
    "process-cpu": ("roundtrip", "tilestream", "cpu", "tilestream process --op sobel --device cpu"),
}
# What each case roughly decodes per second (bytes), for the deadline's estimate of a case.
RATE_GUESS = {"cuda": 3e9, "cpu": 0.6e9}


class Missing(Exception):
    """A library, build feature or device this machine does not have: a skipped row saying why."""


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def import_or_missing(module: str, what: str):
    try:
        return importlib.import_module(module)
    except Exception as e:  # noqa: BLE001  (an ImportError, or a library failing as it loads)
        raise Missing(f"{what} is not importable: {one_line(e)}") from None


# --- measuring helpers ---

def cpu_now(who=resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def cuda_sync():
    """Waits for the GPU (cupy where importable, else torch); nothing where neither is."""
    try:
        import cupy
        cupy.cuda.runtime.deviceSynchronize()
        return
    except ImportError:
        pass
    try:
        import torch
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    except ImportError:
        pass


def to_host(array) -> np.ndarray:
    """Pixels on the host: tilestream DeviceArrays by .get(), CUDA arrays through cupy, else NumPy's view."""
    if hasattr(array, "get") and type(array).__name__ == "DeviceArray":
        return np.asarray(array.get())
    if hasattr(array, "__cuda_array_interface__"):
        import cupy
        return cupy.asnumpy(cupy.asarray(array))
    if type(array).__module__.startswith("torch"):
        return array.cpu().numpy()
    return np.asarray(array)


def upload(host: np.ndarray):
    """A host array on the GPU, finished: cupy where importable, else torch."""
    try:
        import cupy
        return cupy.asarray(host)
    except ImportError:
        pass
    try:
        import torch
    except ImportError:
        raise Missing("no cupy or torch to upload with") from None
    if not torch.cuda.is_available():
        raise Missing("torch.cuda.is_available() is False (no GPU)")
    return torch.from_numpy(host).cuda()


def uploader_name() -> str:
    for module in ("cupy", "torch"):
        try:
            return f"{module} {importlib.import_module(module).__version__}"
        except ImportError:
            continue
    return "none"


def compare_pixels(reference: np.ndarray, got: np.ndarray, tolerance: float, mean_tolerance: float,
                   what: str = "tilestream's CPU decode") -> tuple[str, str, float | None, float | None]:
    """(status, text, max, mean) of |got - reference| over every sample: "ok" when equal or within both
    tolerances, else "mismatch". Integer samples are compared without wrap-around; float samples in
    float64. Rows in blocks on threads (NumPy releases the GIL), so a level of 1.6 GB takes a fraction
    of a second."""
    reference = np.asarray(reference)
    got = np.asarray(got)
    if got.ndim == reference.ndim and got.shape[:-1] == reference.shape[:-1] and got.shape[-1] == 4 \
            and reference.shape[-1] == 3:
        got = got[..., :3]  # RGBA from a reader: its RGB samples are the pixels
    if got.shape != reference.shape:
        return "mismatch", f"MISMATCH: shape {got.shape} vs {what}'s {reference.shape}", None, None
    if got.size == 0:
        return "ok", "equal (empty)", 0.0, 0.0
    kind = np.float64 if reference.dtype.kind == "f" or got.dtype.kind == "f" else np.int32
    a = reference.reshape(reference.shape[0], -1)
    b = got.reshape(got.shape[0], -1)
    rows = max(1, (1 << 22) // max(1, a.shape[1]))

    def block(start):
        d = np.abs(b[start:start + rows].astype(kind) - a[start:start + rows].astype(kind))
        return float(d.max()), float(d.sum(dtype=np.float64))

    with concurrent.futures.ThreadPoolExecutor(min(16, os.cpu_count() or 1)) as pool:
        parts = list(pool.map(block, range(0, a.shape[0], rows)))
    worst = max(p[0] for p in parts)
    mean = sum(p[1] for p in parts) / got.size
    if worst == 0:
        return "ok", "equal", 0.0, 0.0
    text = f"max |diff| {worst:g}, mean {mean:.4f}"
    if worst <= tolerance and mean <= mean_tolerance:
        return "ok", f"within tolerance: {text}", worst, mean
    return "mismatch", f"MISMATCH: {text}", worst, mean


def random_locations(width: int, height: int, size: int, count: int, seed: int) -> np.ndarray:
    """(count, 2) int64 top-left corners (x, y), uniform over the level with the whole patch inside."""
    if size > width or size > height:
        raise ValueError(f"a {size}x{size} patch does not fit a {width}x{height} level")
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.integers(0, width - size + 1, size=count, dtype=np.int64),
                            rng.integers(0, height - size + 1, size=count, dtype=np.int64)])


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --- rows ---

@dataclass
class Row:
    slide: str
    section: str
    case: str
    reader: str
    device: str
    label: str
    threads: int | None = None
    status: str = "ok"  # ok | skipped | error
    reason: str = ""
    call: str = ""  # what was measured, in words or code
    version: str = ""
    decoder: str = ""
    seconds: float | None = None  # median of runs
    runs: list = field(default_factory=list)  # wall seconds per timed run
    warmup: float | None = None
    cpu_seconds: float | None = None  # median host CPU seconds per run
    cpu_runs: list = field(default_factory=list)
    bytes: int | None = None  # decoded (or processed) bytes per run
    gb_per_s: float | None = None
    patches_per_s: float | None = None
    check: str = ""
    check_status: str = ""
    max_diff: float | None = None
    mean_diff: float | None = None
    detail: dict = field(default_factory=dict)
    kind: str = "case"

    def finish(self, runs: list[float], cpu_runs: list[float], nbytes: int | None, patches: int | None = None):
        self.runs, self.cpu_runs = [round(r, 6) for r in runs], [round(c, 4) for c in cpu_runs]
        self.seconds = median(runs)
        self.cpu_seconds = median(cpu_runs)
        self.bytes = nbytes
        if self.seconds and nbytes:
            self.gb_per_s = nbytes / self.seconds / 1e9
        if self.seconds and patches:
            self.patches_per_s = patches / self.seconds


def time_in_process(read, repeats: int, check) -> tuple[list[float], list[float], float]:
    """Warm-up read (handed to `check`, then dropped), then `repeats` timed reads: wall and CPU seconds
    of each, the GPU synchronised before the clock stops. A result is dropped before the next read."""
    start = time.perf_counter()
    result = read()
    cuda_sync()
    warm = time.perf_counter() - start
    check(result)
    del result
    runs, cpus = [], []
    for _ in range(repeats):
        c0, t0 = cpu_now(), time.perf_counter()
        result = read()
        cuda_sync()
        t1, c1 = time.perf_counter(), cpu_now()
        del result
        runs.append(t1 - t0)
        cpus.append(c1 - c0)
    return runs, cpus, warm


def run_child(command: list[str], timeout: float | None, env=None) -> tuple[subprocess.CompletedProcess, float, float]:
    """(result, wall seconds, CPU seconds of the child: RUSAGE_CHILDREN delta)."""
    c0, t0 = cpu_now(resource.RUSAGE_CHILDREN), time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"deadline: killed after {timeout:.0f} s") from None
    return result, time.perf_counter() - t0, cpu_now(resource.RUSAGE_CHILDREN) - c0


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object on stdout")


def child_failure(command: list[str], result) -> str:
    tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
    return f"{Path(command[0]).name} {command[1] if len(command) > 1 else ''} exited {result.returncode}: " + \
        " / ".join(tail)[:300]


def decode_text(decode: dict | None) -> str:
    if not decode:
        return ""
    text = decode.get("decoder", "?")
    gpu, cpu = decode.get("tiles_gpu"), decode.get("tiles_cpu_fallback")
    if gpu or cpu:
        text += f" ({gpu or 0} tiles on the GPU, {cpu or 0} on the CPU"
        text += f": {decode['fallback_reason']})" if decode.get("fallback_reason") else ")"
    return text


# --- slides ---

@dataclass
class SlideInfo:
    name: str
    path: str
    width: int
    height: int
    levels: int
    file_bytes: int
    tile: str = "?"
    compression: str = "?"
    tiles: int = 0

    @property
    def jpeg2000(self) -> bool:
        """JPEG 2000 tiles (tifffile's compression names: jpeg2000, aperio_jp2000_*), decoded by nvJPEG2000
        and OpenJPEG rather than nvJPEG and libjpeg-turbo."""
        return "jp2000" in self.compression or "jpeg2000" in self.compression

    @property
    def level0_bytes(self) -> int:
        return self.width * self.height * 3


def describe_slide(name: str, path: str) -> SlideInfo:
    import tilestream
    with tilestream.open(path) as slide:
        width, height = slide.level_dimensions[0]
        info = SlideInfo(name, path, int(width), int(height), int(slide.level_count), os.path.getsize(path))
    try:
        import tifffile
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            info.compression = page.compression.name.lower()
            if page.compression.name == "JPEG":
                info.compression = f"jpeg ({page.photometric.name.lower()})"
            if page.is_tiled:
                info.tile = f"{page.tilewidth}x{page.tilelength}"
                info.tiles = -(-info.width // page.tilewidth) * -(-info.height // page.tilelength)
    except Exception:  # noqa: BLE001  (only a description; tilestream has opened the file)
        pass
    return info


def warm_page_cache(path: str) -> int:
    total = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(16 << 20):
            total += len(chunk)
    return total


# --- the run's context: settings and what each slide's cases share ---

@dataclass
class Settings:
    threads: int = 16
    repeats: int = 3
    pipeline_repeats: int = 1
    tolerance: float = 4
    mean_tolerance: float = 0.5
    patch: int = 256
    batch_size: int = 256
    seed: int = 14
    bin: str = ""
    ceiling: str = ""
    work: Path = Path(".")
    deadline: float = math.inf
    prefetch: int = 2


class SlideState:
    """What the cases of one slide share: the reference pixels (tilestream's CPU decode) of the level
    and of the patch batches, the locations."""

    def __init__(self, info: SlideInfo, settings: Settings):
        self.info = info
        self.level_reference: np.ndarray | None = None
        self.level_reference_why = "not read (its case did not run)"
        self.batches: list[np.ndarray] | None = None  # warm-up batch, then one per timed run
        self.batches_why = ""
        try:
            locations = random_locations(info.width, info.height, settings.patch,
                                         settings.batch_size * (settings.repeats + 1), settings.seed)
            self.batches = [locations[i:i + settings.batch_size]
                            for i in range(0, len(locations), settings.batch_size)]
        except ValueError as e:
            self.batches_why = str(e)
        self.patch_reference: np.ndarray | None = None
        self.patch_reference_why = "not read (its case did not run)"
        self.sobel_stores: dict[str, Path] = {}  # device -> tilestream process's store
        self.ome_stores: dict[str, Path] = {}  # device -> tilestream convert's store
        self.convert_cuda_row: Row | None = None  # checked when the CPU path's store is there

    def remove_stores(self):
        for path in list(self.sobel_stores.values()) + list(self.ome_stores.values()):
            shutil.rmtree(path, ignore_errors=True)
        self.sobel_stores.clear()
        self.ome_stores.clear()


def check_level(row: Row, state: SlideState, settings: Settings, pixels):
    if state.level_reference is None:
        row.check, row.check_status = f"not checked: no reference ({state.level_reference_why})", ""
        return
    row.check_status, row.check, row.max_diff, row.mean_diff = compare_pixels(
        state.level_reference, to_host(pixels), settings.tolerance, settings.mean_tolerance)


def check_batch(row: Row, state: SlideState, settings: Settings, pixels):
    if state.patch_reference is None:
        row.check, row.check_status = f"not checked: no reference ({state.patch_reference_why})", ""
        return
    row.check_status, row.check, row.max_diff, row.mean_diff = compare_pixels(
        state.patch_reference, to_host(pixels), settings.tolerance, settings.mean_tolerance)


# --- level 0, whole ---

def tilestream_module():
    return import_or_missing("tilestream", "tilestream")


def need_tilestream_cuda(ts):
    if not getattr(ts, "with_cuda", False):
        raise Missing("tilestream was built without CUDA")


def level_tilestream(row: Row, state: SlideState, s: Settings, device: str | None, decode: str | None):
    ts = tilestream_module()
    row.version = ts.__version__
    if device:
        need_tilestream_cuda(ts)
    info = state.info
    slide = ts.open(info.path)
    kwargs = {"threads": s.threads}
    if device:
        kwargs["device"] = device
    if decode:
        kwargs["decode"] = decode
    row.call = f"read_region((0, 0), 0, ({info.width}, {info.height}), " + \
        ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    gpu, cpu = ("nvJPEG2000", "OpenJPEG") if info.jpeg2000 else ("nvJPEG", "libjpeg-turbo")
    row.decoder = {"gpu": f"{gpu} (asked: decode=\"gpu\")", "cpu": f"{cpu}, then uploaded"}.get(decode, cpu)

    def read():
        return slide.read_region((0, 0), 0, (info.width, info.height), **kwargs)

    def check(pixels):
        if device is None:
            state.level_reference = np.asarray(pixels)
            row.check, row.check_status = "the reference", "ok"
        else:
            check_level(row, state, s, pixels)

    try:
        runs, cpus, warm = time_in_process(read, s.repeats, check)
    except TypeError as e:
        if not decode or ("decode" not in str(e) and "incompatible" not in str(e)):
            raise
        raise Missing(f"this tilestream's read_region takes no decode= (a build before the nvJPEG stage): "
                      f"{one_line(e)}") from None
    except getattr(ts, "UnsupportedError", ()) as e:
        raise Missing(f"tilestream: {one_line(e)}") from None
    finally:
        slide.close()
    row.warmup = warm
    row.finish(runs, cpus, info.level0_bytes)


def level_cli(row: Row, state: SlideState, s: Settings):
    """The CLI's read with --decode gpu: the decoder it names and its tile counts (the Python API does
    not report them), and its own timings (R runs with one reader; the first includes set-up)."""
    if not s.bin or not os.path.exists(s.bin):
        raise Missing(f"no tilestream CLI (--bin {s.bin or 'not given'})")
    command = [s.bin, "read", state.info.path, "--level", "0", "--device", "cuda", "--decode", "gpu",
               "--threads", str(s.threads), "--repeat", str(s.repeats + 1), "--json"]
    row.call = "tilestream " + " ".join(command[1:2] + ["SLIDE"] + command[3:])
    result, wall, cpu = run_child(command, child_timeout(s))
    if result.returncode != 0:
        raise RuntimeError(child_failure(command, result))
    report = last_json(result.stdout)
    runs = report.get("runs_seconds", [])
    row.decoder = decode_text(report.get("decode"))
    row.detail = {"decode": report.get("decode"), "path": report.get("path"), "setup_seconds": report.get("setup_seconds"),
                  "command_cpu_seconds": round(cpu, 3), "command_wall_seconds": round(wall, 3)}
    row.warmup = runs[0] if runs else None
    row.finish(runs[1:] or runs, [], report.get("bytes") or state.info.level0_bytes)
    row.check = "not compared (checksum " + str(report.get("checksum", "?")) + "); CPU seconds: whole command " \
        f"{cpu:.2f} s for {len(runs)} reads"


class CucimLoaded:
    CuImage = None
    version = ""


def cucim_image():
    if CucimLoaded.CuImage is None:
        cucim = import_or_missing("cucim", "cucim")
        try:
            from cucim import CuImage
        except Exception as e:  # noqa: BLE001
            raise Missing(f"cucim.CuImage is not importable: {one_line(e)}") from None
        CucimLoaded.CuImage, CucimLoaded.version = CuImage, getattr(cucim, "__version__", "?")
        cache = getattr(CuImage, "cache", None)
        if cache is not None:
            try:
                cache("no_cache")  # no decoded-tile cache: every read decodes, as tilestream's
            except Exception:  # noqa: BLE001  (a cuCIM without the call: its default stands, stated below)
                pass
    return CucimLoaded.CuImage


def cucim_decoder(device: str) -> str:
    return "cuCIM cuslide: " + ("nvJPEG" if device == "cuda" else "libjpeg-turbo")


def level_cucim(row: Row, state: SlideState, s: Settings, device: str):
    CuImage = cucim_image()
    row.version = CucimLoaded.version
    if device == "cuda":
        import_or_missing("cupy", "cupy (cuCIM's device arrays)")
    info = state.info
    image = CuImage(info.path)
    kwargs = {"num_workers": s.threads}
    if device == "cuda":
        kwargs["device"] = "cuda"
    row.call = f"CuImage(path).read_region((0, 0), ({info.width}, {info.height}), 0, " + \
        ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + '); CuImage.cache("no_cache")'
    row.decoder = cucim_decoder(device)

    def read():
        region = image.read_region((0, 0), (info.width, info.height), 0, **kwargs)
        if not hasattr(region, "__array_interface__") and not hasattr(region, "__cuda_array_interface__") \
                and hasattr(region, "__next__"):
            region = next(region)  # a cuCIM that hands a batch iterator back for num_workers: its one region
        if device == "cuda":
            import cupy
            return cupy.asarray(region)  # the device array a consumer takes (no copy)
        return np.asarray(region)

    runs, cpus, warm = time_in_process(read, s.repeats, lambda p: check_level(row, state, s, p))
    row.warmup = warm
    row.finish(runs, cpus, info.level0_bytes)


def level_tifffile(row: Row, state: SlideState, s: Settings, device: str):
    tifffile = import_or_missing("tifffile", "tifffile")
    imagecodecs = import_or_missing("imagecodecs", "imagecodecs (tifffile's JPEG decoder)")
    row.version = f"tifffile {tifffile.__version__}, imagecodecs {imagecodecs.__version__}"
    if device == "cuda":
        name = uploader_name()
        if name == "none":
            raise Missing("no cupy or torch to upload with")
        row.version += f", {name}"
    info = state.info
    row.call = f"tifffile.imread(path, level=0, maxworkers={s.threads})" + (" then uploaded" if device == "cuda" else "")
    row.decoder = "imagecodecs (libjpeg-turbo)"

    def read():
        host = tifffile.imread(info.path, level=0, maxworkers=s.threads)
        return upload(host) if device == "cuda" else host

    runs, cpus, warm = time_in_process(read, s.repeats, lambda p: check_level(row, state, s, p))
    row.warmup = warm
    row.finish(runs, cpus, info.level0_bytes)


def level_openslide(row: Row, state: SlideState, s: Settings):
    openslide = import_or_missing("openslide", "openslide-python (and openslide-bin)")
    row.version = f"openslide-python {openslide.__version__}, OpenSlide {getattr(openslide, '__library_version__', '?')}"
    info = state.info
    row.call = f"OpenSlide(path).read_region((0, 0), 0, ({info.width}, {info.height})), RGBA -> RGB"
    row.decoder = "OpenSlide (one thread; OpenJPEG for JPEG 2000, libjpeg for JPEG)"
    slide = openslide.OpenSlide(info.path)

    def read():
        rgba = np.asarray(slide.read_region((0, 0), 0, (info.width, info.height)))
        return np.ascontiguousarray(rgba[..., :3])

    runs, cpus, warm = time_in_process(read, s.repeats, lambda p: check_level(row, state, s, p))
    row.warmup = warm
    row.finish(runs, cpus, info.level0_bytes)


def level_ceiling(row: Row, state: SlideState, s: Settings):
    if not s.ceiling or not os.path.exists(s.ceiling):
        raise Missing(f"no tilestream_nvjpeg_ceiling ({s.ceiling or '--ceiling not given'}); "
                      "the CMake target tilestream_nvjpeg_ceiling builds it (TILESTREAM_BENCH=ON, with CUDA)")
    command = [s.ceiling, state.info.path, "--level", "0", "--threads", str(s.threads), "--repeat", str(s.repeats + 1)]
    row.call = "tilestream_nvjpeg_ceiling SLIDE " + " ".join(command[2:]) + " (the first run dropped as warm-up)"
    result, wall, cpu = run_child(command, child_timeout(s))
    if result.returncode != 0:
        raise RuntimeError(child_failure(command, result))
    report = last_json(result.stdout)
    runs, cpus = report.get("runs_seconds", []), report.get("cpu_seconds", [])
    row.decoder = str(report.get("decoder", "?"))
    row.detail = {k: report.get(k) for k in ("tiles", "bytes", "lanes", "batch_tiles")}
    row.detail.update(command_cpu_seconds=round(cpu, 3), command_wall_seconds=round(wall, 3))
    row.warmup = runs[0] if runs else None
    row.finish(runs[1:] or runs, cpus[1:] or cpus, report.get("bytes") or state.info.level0_bytes)
    row.check = "no pixels (decodes only)"


# --- patch batches ---

def patches_tilestream(row: Row, state: SlideState, s: Settings, device: str | None, loader: bool = False,
                       decode: str | None = None):
    ts = tilestream_module()
    row.version = ts.__version__
    if state.batches is None:
        raise Missing(state.batches_why)
    if device:
        need_tilestream_cuda(ts)
    slide = ts.open(state.info.path)
    size = (s.patch, s.patch)
    batch_bytes = s.batch_size * s.patch * s.patch * 3
    row.decoder = ("nvJPEG (tiles each batch touches, decoded once on the GPU)" if decode == "gpu" else
                   "nvJPEG and CPU threads (a fixed share of the tiles on libjpeg-turbo)" if decode == "auto" else
                   "libjpeg-turbo (decoded on the CPU" + (", then uploaded)" if device else ")"))
    try:
        if loader:
            if not hasattr(ts, "PatchLoader"):
                raise Missing("tilestream.PatchLoader is absent in this build")
            row.call = (f"PatchLoader(slide, {s.patch}, 0, locations, batch_size={s.batch_size}, device={device!r}, "
                        f"decode={decode!r}, prefetch={s.prefetch}, threads={s.threads}): seconds between batches")
            runs, cpus, warm = time_loader(ts, slide, state, s, device, row, decode)
        else:
            kwargs = {"threads": s.threads}
            if device:
                kwargs["device"] = device
            if decode:
                kwargs["decode"] = decode
            row.call = f"read_regions(locations[{s.batch_size}], {size}, 0, " + \
                ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
            batches = iter(state.batches)

            def read():
                return slide.read_regions(next(batches), size, 0, **kwargs)

            def check(pixels):
                if device is None:
                    state.patch_reference = np.asarray(pixels)
                    row.check, row.check_status = "the reference", "ok"
                else:
                    check_batch(row, state, s, pixels)
            runs, cpus, warm = time_in_process(read, s.repeats, check)
    finally:
        slide.close()
    row.warmup = warm
    row.finish(runs, cpus, batch_bytes, s.batch_size)


def time_loader(ts, slide, state: SlideState, s: Settings, device, row: Row, decode: str | None = None):
    """PatchLoader's steady rate: after the warm-up batch (checked) and one group of batches that drains
    what it read ahead meanwhile, each timed run is a group of max(4, 2 x prefetch) batches, its seconds
    divided by the group's batches (the loader reads ahead, so single batches would time only the hand-over);
    the GPU synchronised. The timed batches repeat the list's locations (no cache on either side)."""
    group = max(4, 2 * s.prefetch)
    timed = np.concatenate(state.batches[1:] or state.batches)
    wanted = (s.repeats + 1) * group * s.batch_size
    timed = np.concatenate([timed] * -(-wanted // len(timed)))[:wanted]
    locations = np.concatenate([state.batches[0], timed])
    extra = {"decode": decode} if decode else {}
    loader = ts.PatchLoader(slide, s.patch, 0, locations=locations, batch_size=s.batch_size, device=device,
                            prefetch=s.prefetch, threads=s.threads, **extra)
    try:
        it = iter(loader)
        start = time.perf_counter()
        first = next(it)
        cuda_sync()
        warm = time.perf_counter() - start
        check_batch(row, state, s, first.images)
        del first
        for _ in range(group):  # what was read ahead during the check
            next(it)
        runs, cpus = [], []
        for _ in range(s.repeats):
            c0, t0 = cpu_now(), time.perf_counter()
            for _ in range(group):
                batch = next(it)
                del batch
            cuda_sync()
            runs.append((time.perf_counter() - t0) / group)
            cpus.append((cpu_now() - c0) / group)
    finally:
        loader.close()
    row.detail = dict(row.detail or {}, loader_batches_per_run=group)
    return runs, cpus, warm


def patches_cucim(row: Row, state: SlideState, s: Settings, device: str):
    CuImage = cucim_image()
    row.version = CucimLoaded.version
    if state.batches is None:
        raise Missing(state.batches_why)
    if device == "cuda":
        import_or_missing("cupy", "cupy (cuCIM's device arrays)")
    image = CuImage(state.info.path)
    kwargs = {"num_workers": s.threads, "batch_size": s.batch_size}
    if device == "cuda":
        kwargs["device"] = "cuda"
    row.call = f"read_region(locations[{s.batch_size}], ({s.patch}, {s.patch}), 0, " + \
        ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    row.decoder = cucim_decoder(device)
    batches = iter(state.batches)

    def read():
        listed = [(int(x), int(y)) for x, y in next(batches)]
        out = []
        for batch in image.read_region(listed, (s.patch, s.patch), 0, **kwargs):
            if device == "cuda":
                import cupy
                out.append(cupy.asarray(batch))
            else:
                out.append(np.asarray(batch))
        return out[0] if len(out) == 1 else (cupy_concat(out) if device == "cuda" else np.concatenate(out))

    runs, cpus, warm = time_in_process(read, s.repeats, lambda p: check_batch(row, state, s, p))
    row.warmup = warm
    row.finish(runs, cpus, s.batch_size * s.patch * s.patch * 3, s.batch_size)


def cupy_concat(arrays):
    import cupy
    return cupy.concatenate(arrays)


# --- round trip: slide -> sobel -> Zarr (zstd) ---

SOBEL_STATEMENT = (
    "tilestream's sobel (include/tilestream/ops/op.hpp): skimage.filters.sobel per channel on img_as_float "
    "(float64, mode reflect), the edge magnitude rounded to float32, the same channels (3), stored float32; "
    "the cuCIM side computes cucim.skimage.filters.sobel per channel on the uint8 level (float64, the same "
    "definition) and casts to float32. Where they differ: each side decodes the JPEG itself (tilestream with "
    "nvJPEG or libjpeg-turbo, cuCIM with its own), so the inputs differ within the decode tolerance, and the GPU "
    "kernels may differ from the CPU's float64 sums by float rounding")


def zarr_chunks_and_level(store: Path, default_chunks) -> tuple[tuple, int | None]:
    """Chunk shape and zstd level of the array at a store's root (tilestream's process output)."""
    try:
        meta = json.loads((store / "zarr.json").read_text())
        chunks = tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
        level = next((c["configuration"].get("level") for c in meta.get("codecs", []) if c.get("name") == "zstd"),
                     None)
        return chunks, level
    except (OSError, KeyError, ValueError, StopIteration):
        return tuple(default_chunks), None


def pipeline_cli(row: Row, state: SlideState, s: Settings, command: list[str], out: Path) -> dict:
    if not s.bin or not os.path.exists(s.bin):
        raise Missing(f"no tilestream CLI (--bin {s.bin or 'not given'})")
    shown = ["tilestream"] + [("SLIDE" if a == state.info.path else "OUT.zarr" if a == str(out) else a)
                              for a in command[1:]]
    row.call = " ".join(shown)
    runs, cpus, walls, report = [], [], [], {}
    for _ in range(s.pipeline_repeats):
        shutil.rmtree(out, ignore_errors=True)
        result, wall, cpu = run_child(command, child_timeout(s))
        if result.returncode != 0:
            shutil.rmtree(out, ignore_errors=True)
            raise RuntimeError(child_failure(command, result))
        report = last_json(result.stdout)
        runs.append(float(report["total_seconds"]))
        cpus.append(cpu)
        walls.append(wall)
    row.decoder = decode_text(report.get("decode"))
    row.detail = {"command_wall_seconds": [round(w, 3) for w in walls], "bytes_written": report.get("bytes_written"),
                  "io_detail": report.get("io_detail"), "peak_device_mb": report.get("peak_device_mb")}
    row.finish(runs, cpus, state.info.level0_bytes)
    return report


def roundtrip_tilestream(row: Row, state: SlideState, s: Settings, device: str):
    out = s.work / f"{state.info.name}-sobel-{device}.zarr"
    command = [s.bin, "process", state.info.path, str(out), "--op", "sobel", "--codec", "zstd", "--zarr-version", "3",
               "--device", device, "--threads", str(s.threads), "--overwrite", "--json"]
    pipeline_cli(row, state, s, command, out)
    row.check = "the round trip's reference" if device == "cuda" else "not compared (context)"
    if device == "cuda":
        state.sobel_stores[device] = out
    else:
        shutil.rmtree(out, ignore_errors=True)


def roundtrip_cucim(row: Row, state: SlideState, s: Settings):
    CuImage = cucim_image()
    cupy = import_or_missing("cupy", "cupy")
    filters = import_or_missing("cucim.skimage", "cucim.skimage").filters
    zarr = import_or_missing("zarr", "zarr-python")
    import_or_missing("numcodecs", "numcodecs (zarr-python's zstd)")
    from zarr.codecs import ZstdCodec
    row.version = f"cucim {CucimLoaded.version}, cupy {cupy.__version__}, zarr {zarr.__version__}"
    reference = state.sobel_stores.get("cuda")
    chunks, level = zarr_chunks_and_level(reference, (512, 512, 3)) if reference else ((512, 512, 3), None)
    level = 3 if level is None else level
    info = state.info
    out = s.work / f"{info.name}-sobel-cucim.zarr"
    row.call = (f"CuImage.read_region(level=0, device='cuda') -> cucim.skimage.filters.sobel per channel (float64) "
                f"-> float32 -> cupy.asnumpy -> zarr.create_array(chunks={chunks}, dtype=float32, "
                f"compressors=ZstdCodec(level={level}), zarr_format=3)[:] = ...")
    row.decoder = "cuCIM (cuslide: nvJPEG)"
    row.detail = {"sobel": SOBEL_STATEMENT, "chunks": list(chunks), "zstd_level": level}
    runs, cpus = [], []
    for _ in range(s.pipeline_repeats):
        shutil.rmtree(out, ignore_errors=True)
        c0, t0 = cpu_now(), time.perf_counter()
        image = CuImage(info.path)
        level0 = cupy.asarray(image.read_region((0, 0), (info.width, info.height), 0, device="cuda"))
        result = cupy.empty(level0.shape[:2] + (3,), dtype=cupy.float32)
        for c in range(3):
            result[..., c] = filters.sobel(level0[..., c]).astype(cupy.float32)
        del level0
        host = cupy.asnumpy(result)
        del result
        array = zarr.create_array(store=str(out), shape=host.shape, chunks=chunks, dtype="float32",
                                  compressors=ZstdCodec(level=level), fill_value=0.0, zarr_format=3)
        array[...] = host
        del host
        runs.append(time.perf_counter() - t0)
        cpus.append(cpu_now() - c0)
    row.finish(runs, cpus, info.level0_bytes)
    if reference and reference.exists():
        row.check_status, row.check, row.max_diff, row.mean_diff = compare_windows(reference, out)
        row.check = row.check.replace("MISMATCH: ", "differs: ")  # floats of two decoders: stated, not judged
        row.check_status = "ok" if row.check_status == "ok" else "differs"
    else:
        row.check = "not compared: tilestream's --device cuda store is missing"
    shutil.rmtree(out, ignore_errors=True)
    state.remove_stores()


def compare_windows(a_store: Path, b_store: Path, side: int = 512):
    """Three windows (top left, centre, bottom right) of two arrays at stores' roots, every channel."""
    import zarr
    a = zarr.open_array(str(a_store), mode="r")
    b = zarr.open_array(str(b_store), mode="r")
    if a.shape != b.shape:
        return "mismatch", f"MISMATCH: shape {b.shape} vs {a.shape}", None, None
    h, w = a.shape[0], a.shape[1]
    wins = [(0, 0), (max(0, h // 2 - side // 2), max(0, w // 2 - side // 2)), (max(0, h - side), max(0, w - side))]
    got = np.concatenate([np.asarray(b[y:y + side, x:x + side]).ravel() for y, x in wins])
    ref = np.concatenate([np.asarray(a[y:y + side, x:x + side]).ravel() for y, x in wins])
    status, text, worst, mean = compare_pixels(ref, got, math.inf, math.inf, "tilestream's")
    return status, f"3 windows of {side}x{side} vs tilestream --device cuda: {text}", worst, mean


# --- convert to OME-Zarr v3 ---

def convert_case(row: Row, state: SlideState, s: Settings, device: str):
    """One conversion; the CUDA store is compared with the CPU path's when that one is written (the
    CUDA row's check is filled in then and written again: the later line wins)."""
    out = s.work / f"{state.info.name}-ome-{device}.zarr"
    command = [s.bin, "convert", state.info.path, str(out), "--ome", "--codec", "zstd", "--zarr-version", "3",
               "--device", device, "--threads", str(s.threads), "--overwrite", "--json"]
    report = pipeline_cli(row, state, s, command, out)
    row.detail["arrays"] = report.get("arrays")
    state.ome_stores[device] = out
    if device == "cuda":
        row.check = "not compared: the CPU path's conversion did not run"
        state.convert_cuda_row = row
        return
    row.check = "the reference (CPU path)"
    cuda_row = state.convert_cuda_row
    if cuda_row is not None and "cuda" in state.ome_stores:
        cuda_row.check_status, cuda_row.check, cuda_row.max_diff, cuda_row.mean_diff, levels = compare_stores(
            state.ome_stores["cpu"], state.ome_stores["cuda"], s)
        cuda_row.detail["levels"] = levels


def compare_stores(reference: Path, got: Path, s: Settings):
    """Every array of two OME-Zarr groups, read whole with zarr-python: (status, text, max, mean, per level)."""
    import zarr
    a = zarr.open_group(str(reference), mode="r")
    b = zarr.open_group(str(got), mode="r")
    names = sorted((k for k, _ in a.arrays()), key=lambda k: (len(k), k))
    levels, worst, total, count, status = [], 0.0, 0.0, 0, "ok"
    for name in names:
        try:
            theirs = np.asarray(b[name][...])
        except KeyError:
            return "mismatch", f"MISMATCH: array {name} missing from the cuda store", None, None, levels
        st, text, mx, mean = compare_pixels(np.asarray(a[name][...]), theirs, s.tolerance, s.mean_tolerance,
                                            "the CPU path")
        levels.append({"array": name, "shape": list(theirs.shape), "check": text, "max": mx, "mean": mean})
        if mx is None:
            return "mismatch", f"array {name}: {text}", None, None, levels
        worst = max(worst, mx)
        total += mean * theirs.size
        count += theirs.size
        status = "mismatch" if st == "mismatch" else status
    mean = total / count if count else 0.0
    text = f"{len(names)} levels read with zarr-python vs the CPU path: max |diff| {worst:g}, mean {mean:.4f}"
    return status, ("MISMATCH: " + text if status == "mismatch" else text), worst, mean, levels


# --- the plan ---

def child_timeout(s: Settings) -> float | None:
    return max(5.0, s.deadline - time.time()) if math.isfinite(s.deadline) else None


def estimate_seconds(case: str, info: SlideInfo, s: Settings) -> float:
    section, _, device, _ = CASES[case]
    per = info.level0_bytes / RATE_GUESS[device]
    if section == "patches":
        return 2.0 + (s.repeats + 1) * 0.5
    if section == "level":
        return 2.0 + (s.repeats + 2) * per
    if section == "convert":
        return 3.0 + s.pipeline_repeats * 2 * per
    # float32 output: 4x the bytes through zstd, zarr-python's side on the host at about 0.3 GB/s
    return 3.0 + s.pipeline_repeats * info.level0_bytes * 4 / 0.3e9


def plan(slides: list[str], headline: str, sections: list[str], readers: list[str], pipeline_slides: list[str]):
    """(slide, case) in order of priority: the headline slide first (its level cases, then its
    conversion, patches and round trip), then the other slides in the order given."""
    order = [headline] + [s for s in slides if s != headline]
    out = []
    for slide in order:
        for case, (section, reader, _, _) in CASES.items():
            if section not in sections or reader not in readers:
                continue
            if section in ("roundtrip", "convert") and slide not in pipeline_slides:
                continue
            out.append((slide, case))
    return out


RUNNERS = {
    "tilestream-host": lambda r, st, s: level_tilestream(r, st, s, None, None),
    "tilestream-gpu": lambda r, st, s: level_tilestream(r, st, s, "cuda", "gpu"),
    "tilestream-cpu": lambda r, st, s: level_tilestream(r, st, s, "cuda", "cpu"),
    "tilestream-cli-gpu": level_cli,
    "cucim-cuda": lambda r, st, s: level_cucim(r, st, s, "cuda"),
    "cucim-cpu": lambda r, st, s: level_cucim(r, st, s, "cpu"),
    "tifffile-cpu": lambda r, st, s: level_tifffile(r, st, s, "cpu"),
    "tifffile-cuda": lambda r, st, s: level_tifffile(r, st, s, "cuda"),
    "openslide-cpu": level_openslide,
    "ceiling": level_ceiling,
    "convert-cuda": lambda r, st, s: convert_case(r, st, s, "cuda"),
    "convert-cpu": lambda r, st, s: convert_case(r, st, s, "cpu"),
    "patches-tilestream-cpu": lambda r, st, s: patches_tilestream(r, st, s, None),
    "patches-tilestream-cuda": lambda r, st, s: patches_tilestream(r, st, s, "cuda", decode="gpu"),
    "patches-loader-cuda": lambda r, st, s: patches_tilestream(r, st, s, "cuda", loader=True, decode="gpu"),
    "patches-tilestream-cuda-auto": lambda r, st, s: patches_tilestream(r, st, s, "cuda", decode="auto"),
    "patches-loader-cuda-auto": lambda r, st, s: patches_tilestream(r, st, s, "cuda", loader=True, decode="auto"),
    "patches-tilestream-cuda-cpu": lambda r, st, s: patches_tilestream(r, st, s, "cuda", decode="cpu"),
    "patches-loader-cuda-cpu": lambda r, st, s: patches_tilestream(r, st, s, "cuda", loader=True, decode="cpu"),
    "patches-cucim-cuda": lambda r, st, s: patches_cucim(r, st, s, "cuda"),
    "patches-cucim-cpu": lambda r, st, s: patches_cucim(r, st, s, "cpu"),
    "process-cuda": lambda r, st, s: roundtrip_tilestream(r, st, s, "cuda"),
    "cucim-sobel-zarr": roundtrip_cucim,
    "process-cpu": lambda r, st, s: roundtrip_tilestream(r, st, s, "cpu"),
}
# The references run first within their section (the plan's order puts them first where it matters).
REFERENCE_FIRST = {"level": "tilestream-host", "patches": "patches-tilestream-cpu"}


def ordered_cases(cases: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Within each slide, a section's reference case before its other cases."""
    out = []
    for slide, case in cases:
        section = CASES[case][0]
        ref = REFERENCE_FIRST.get(section)
        if ref and case != ref and (slide, ref) in cases and (slide, ref) not in out:
            out.append((slide, ref))
        if (slide, case) not in out:
            out.append((slide, case))
    return out


def run_cases(cases, slides: dict[str, SlideInfo], s: Settings, emit) -> None:
    states: dict[str, SlideState] = {}
    last_use = {slide: i for i, (slide, _) in enumerate(cases)}
    for i, (slide, case) in enumerate(cases):
        section, reader, device, label = CASES[case]
        info = slides[slide]
        state = states.get(slide) or states.setdefault(slide, SlideState(info, s))
        row = Row(slide, section, case, reader, device, label, threads=s.threads)
        if time.time() + estimate_seconds(case, info, s) > s.deadline:
            row.status, row.reason = "skipped", "deadline: no time left in this command"
            if case == REFERENCE_FIRST.get(section):
                setattr(state, "level_reference_why" if section == "level" else "patch_reference_why",
                        "skipped: deadline")
            emit(row)
            settle(state, case, last_use[slide] == i, emit)
            if last_use[slide] == i:
                states.pop(slide, None)
            continue
        what = f"{slide} {case}"
        try:
            RUNNERS[case](row, state, s)
            figure = f"{row.seconds:.4f} s" if row.seconds is not None else "?"
            log(f"decode.py: {what}: {figure} ({row.gb_per_s or 0:.2f} GB/s), {row.check}")
        except Missing as e:
            row.status, row.reason = "skipped", str(e)
            log(f"decode.py: {what}: skipped: {e}")
        except Exception as e:  # noqa: BLE001  (one failing case never stops the others)
            row.status, row.reason = "error", one_line(e)
            log(f"decode.py: {what}: ERROR {one_line(e)}")
        if row.status != "ok" and case == REFERENCE_FIRST.get(section):
            why = f"{row.status}: {row.reason}"
            if section == "level":
                state.level_reference_why = why
            else:
                state.patch_reference_why = why
        emit(row)
        settle(state, case, last_use[slide] == i, emit)
        if last_use[slide] == i:
            states.pop(slide, None)  # the level's reference pixels go with the slide's last case


def settle(state: SlideState, case: str, last: bool, emit):
    """After the CPU conversion (whatever became of it) the CUDA conversion's row once more, with its
    check; the slide's stores removed when they are no longer needed."""
    if case == "convert-cpu" or (last and state.convert_cuda_row is not None):
        if state.convert_cuda_row is not None:
            emit(state.convert_cuda_row)
            state.convert_cuda_row = None
        for path in state.ome_stores.values():
            shutil.rmtree(path, ignore_errors=True)
        state.ome_stores.clear()
    if last:
        state.remove_stores()


# --- the report ---

def read_jsonl(paths) -> list[dict]:
    records = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise SystemExit(f"decode.py: {path}:{number}: not JSON ({e})") from None
    return records


def latest_rows(records: list[dict]) -> list[dict]:
    """Case rows, a later line for the same (slide, case) replacing an earlier one in its place."""
    rows: dict[tuple, dict] = {}
    for r in records:
        if r.get("kind", "case") == "case":
            rows[(r.get("slide"), r.get("case"))] = r
    return list(rows.values())


def fmt(value, spec=".4f", none="—") -> str:
    return none if value is None else format(value, spec)


def ok_row(rows: list[dict], slide: str, case: str) -> dict | None:
    for r in rows:
        if r.get("slide") == slide and r.get("case") == case and r.get("status") == "ok" and r.get("seconds"):
            return r
    return None


def level_ratios(rows: list[dict], slide: str) -> dict:
    """The issue's ratios on one slide: tilestream decode=gpu against cuCIM cuda, tilestream's CPU
    path, nvJPEG's ceiling, and host CPU seconds against the CPU path's."""
    gpu, cpu = ok_row(rows, slide, "tilestream-gpu"), ok_row(rows, slide, "tilestream-cpu")
    cucim, ceiling = ok_row(rows, slide, "cucim-cuda"), ok_row(rows, slide, "ceiling")
    out = {"gpu": gpu, "cpu": cpu, "cucim": cucim, "ceiling": ceiling}
    out["vs_cucim"] = cucim["seconds"] / gpu["seconds"] if gpu and cucim else None
    out["vs_cpu"] = cpu["seconds"] / gpu["seconds"] if gpu and cpu else None
    out["of_ceiling"] = ceiling["seconds"] / gpu["seconds"] if gpu and ceiling else None
    out["cpu_share"] = (gpu["cpu_seconds"] / cpu["cpu_seconds"]
                        if gpu and cpu and gpu.get("cpu_seconds") is not None and cpu.get("cpu_seconds") else None)
    return out


def verdict(ok: bool | None, text: str) -> str:
    return f"{'not measured' if ok is None else 'PASS' if ok else 'FAIL'}: {text}"


def acceptance(rows: list[dict], headline: str, threads: int) -> list[str]:
    r = level_ratios(rows, headline)
    lines = []
    g, c = r["gpu"], r["cpu"]
    lines.append("- " + verdict(None if r["vs_cucim"] is None else r["vs_cucim"] >= 4,
                                f'tilestream decode="gpu" {fmt(g and g["seconds"])} s vs cuCIM device="cuda" '
                                f'{fmt(r["cucim"] and r["cucim"]["seconds"])} s: {fmt(r["vs_cucim"], ".2f")}x (target ≥ 4x)'))
    lines.append("- " + verdict(None if r["of_ceiling"] is None else r["of_ceiling"] >= 0.8,
                                f"nvJPEG ceiling {fmt(r['ceiling'] and r['ceiling']['seconds'])} s: tilestream at "
                                f"{fmt(r['of_ceiling'] and 100 * r['of_ceiling'], '.0f')}% of it (target ≥ 80%)"))
    lines.append("- " + verdict(None if r["cpu_share"] is None else r["cpu_share"] <= 0.25,
                                f"host CPU seconds per read {fmt(g and g.get('cpu_seconds'), '.2f')} vs the CPU path's "
                                f"{fmt(c and c.get('cpu_seconds'), '.2f')}: {fmt(r['cpu_share'], '.2f')} (target ≤ 0.25)"))
    lines.append(f"- ratio to tilestream's CPU-decode path ({threads} threads, {fmt(c and c['seconds'])} s): "
                 f"{fmt(r['vs_cpu'], '.2f')}x")
    ours = [r for r in (ok_row(rows, headline, c) for c in ("patches-tilestream-cuda", "patches-loader-cuda",
                                                             "patches-tilestream-cuda-auto", "patches-loader-cuda-auto"))
            if r]
    theirs = [r for r in (ok_row(rows, headline, c) for c in ("patches-cucim-cuda", "patches-cucim-cpu")) if r]
    best = max(ours, key=lambda r: r.get("patches_per_s") or 0, default=None)
    peer = max(theirs, key=lambda r: r.get("patches_per_s") or 0, default=None)
    share = (best["patches_per_s"] / peer["patches_per_s"]
             if best and peer and best.get("patches_per_s") and peer.get("patches_per_s") else None)
    lines.append("- " + verdict(None if share is None else share >= 3,
                                f"random patch batches: tilestream on the GPU "
                                f"{fmt(best and best.get('patches_per_s'), ',.0f')}/s ({best['case'] if best else '—'}) "
                                f"vs cuCIM's best {fmt(peer and peer.get('patches_per_s'), ',.0f')}/s "
                                f"({peer['case'] if peer else '—'}): {fmt(share, '.2f')}x (target ≥ 3x)"))
    cuda, cpu = ok_row(rows, headline, "convert-cuda"), ok_row(rows, headline, "convert-cpu")
    speed = cpu["seconds"] / cuda["seconds"] if cuda and cpu else None
    lines.append("- " + verdict(None if speed is None else speed >= 2,
                                f"convert --ome --codec zstd --zarr-version 3 --device cuda {fmt(cuda and cuda['seconds'])} s "
                                f"vs --device cpu --threads {threads} {fmt(cpu and cpu['seconds'])} s: "
                                f"{fmt(speed, '.2f')}x (target ≥ 2x)"))
    compared = cuda if cuda and cuda.get("max_diff") is not None else None
    fits = None if compared is None else compared.get("check_status") == "ok"
    lines.append("- " + verdict(fits, "the stores read back by zarr-python within the decode tolerance of the CPU "
                                f"path's pixels: {compared['check'] if compared else 'not compared'}"))
    return lines


def render_markdown(run: dict, rows: list[dict]) -> str:
    threads = run.get("threads", "?")
    headline = run.get("headline") or (rows[0]["slide"] if rows else "?")
    machine = run.get("machine", {})
    out = [f"# Decode to device: tilestream (nvJPEG, CPU), cuCIM, tifffile + imagecodecs ({run.get('date', '?')})", ""]
    out.append(f"- device: {machine.get('gpu') or 'no GPU'}; CPU {machine.get('cpu', '?')}, {machine.get('cores', '?')} "
               f"cores; host {machine.get('host', '?')}; Python {machine.get('python', '?')}")
    out.append(f"- tree: {run.get('commit', '?')}; command: `{run.get('command', '?')}`")
    out.append(f"- environment: {run.get('environment') or 'no TILESTREAM_* settings'}")
    for s in run.get("slides", []):
        tiles = f" ({s['tiles']:,} at level 0)" if s.get("tiles") else ""
        out.append(f"- slide `{s['name']}`: {Path(s['path']).name}, {s['width']} x {s['height']} (level 0, "
                   f"{s['width'] * s['height'] * 3 / 1e9:.2f} GB decoded), {s['levels']} levels, tiles {s['tile']}{tiles}, "
                   f"{s['compression']}, {s['file_bytes'] / 2**20:,.1f} MiB")
    out.append(f"- timing: {run.get('timing_statement', '?')}")
    out.append(f"- checks: {run.get('check_statement', '?')}")
    out.append(f"- versions: " + "; ".join(f"{k} {v}" for k, v in run.get("versions", {}).items()))
    out.append("")
    out.append(f"## Acceptance ({headline}, level 0, same machine, same run)")
    out.append("")
    out.extend(acceptance(rows, headline, threads))
    out.append("")
    slides = list(dict.fromkeys(r["slide"] for r in rows))
    out.append("## Ratios per slide (level 0 to device)")
    out.append("")
    out.append('| slide | tilestream gpu s | cuCIM cuda s | gpu vs cuCIM | tilestream cpu s | gpu vs cpu | ceiling s | '
               '% of ceiling | CPU s gpu / cpu |')
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for slide in slides:
        r = level_ratios(rows, slide)
        sec = lambda k: fmt(r[k] and r[k]["seconds"], ".4f")  # noqa: E731
        out.append(f"| {slide} | {sec('gpu')} | {sec('cucim')} | {fmt(r['vs_cucim'], '.2f')}x | {sec('cpu')} | "
                   f"{fmt(r['vs_cpu'], '.2f')}x | {sec('ceiling')} | {fmt(r['of_ceiling'] and 100 * r['of_ceiling'], '.0f')}% | "
                   f"{fmt(r['cpu_share'], '.2f')} |")
    out.append("")
    titles = {"level": "Level 0 to device", "patches": "Random patch batches",
              "roundtrip": "Round trip: slide -> sobel -> Zarr v3 (zstd)",
              "convert": "Convert to OME-Zarr v3 (zstd), every level"}
    for section in SECTIONS:
        part = [r for r in rows if r.get("section") == section]
        if not part:
            continue
        out.append(f"## {titles[section]}")
        out.append("")
        if section == "patches":
            out.append(f"Batches of {run.get('batch_size', '?')} random {run.get('patch', '?')}x{run.get('patch', '?')} "
                       f"patches of level 0 (seed {run.get('seed', '?')}), the same locations for every reader; "
                       "seconds per batch.")
            out.append("")
        if section == "roundtrip":
            out.append(SOBEL_STATEMENT + ".")
            out.append("")
        head = "| slide | case | device | decoder | seconds | GB/s | "
        head += "patches/s | " if section == "patches" else ""
        head += "CPU s | vs cuCIM cuda | vs tilestream cpu | check |"
        out.append(head)
        out.append("|" + "---|" * 3 + "---|" + "---:|" * (head.count("|") - 6) + "---|")
        for slide in slides:
            ref_cucim = ok_row(rows, slide, {"level": "cucim-cuda", "patches": "patches-cucim-cuda",
                                             "roundtrip": "cucim-sobel-zarr", "convert": ""}[section])
            ref_cpu = ok_row(rows, slide, {"level": "tilestream-cpu", "patches": "patches-tilestream-cpu",
                                           "roundtrip": "process-cpu", "convert": "convert-cpu"}[section])
            order = list(CASES)
            for r in sorted((r for r in part if r["slide"] == slide), key=lambda r: order.index(r["case"])
                            if r["case"] in order else len(order)):
                if r.get("status") == "ok":
                    vs_cucim = ref_cucim["seconds"] / r["seconds"] if ref_cucim and r.get("seconds") else None
                    vs_cpu = ref_cpu["seconds"] / r["seconds"] if ref_cpu and r.get("seconds") else None
                    cells = [fmt(r.get("seconds"), ".4f"), fmt(r.get("gb_per_s"), ".2f")]
                    if section == "patches":
                        cells.append(fmt(r.get("patches_per_s"), ",.0f"))
                    cells += [fmt(r.get("cpu_seconds"), ".2f"), fmt(vs_cucim, ".2f") + ("x" if vs_cucim else ""),
                              fmt(vs_cpu, ".2f") + ("x" if vs_cpu else ""), r.get("check", "")]
                else:
                    blanks = 6 if section == "patches" else 5
                    cells = [r.get("status", "?")] + ["—"] * (blanks - 1) + [r.get("reason", "")]
                out.append(f"| {slide} | {r['label']} | {r['device']} | {r.get('decoder', '') or '—'} | "
                           + " | ".join(cells) + " |")
        out.append("")
    mismatches = [r for r in rows if r.get("check_status") == "mismatch"]
    if mismatches:
        out.append("Pixels beyond the tolerance: " + "; ".join(f"{r['slide']} {r['label']}: {r['check']}"
                                                              for r in mismatches))
        out.append("")
    out.append("Ratios are speed-ups (the other's seconds / this row's); GB/s = decoded pixels (h x w x 3 bytes) per "
               "second (for the round trip and the conversion: level 0's pixels per second); CPU s = host CPU seconds "
               "(user + system) per run (per batch for patches).")
    out.append("")
    return "\n".join(out)


def write_report(records: list[dict], out_dir: Path) -> Path:
    runs = [r for r in records if r.get("kind") == "run"]
    path = out_dir / "decode.md"
    path.write_text(render_markdown(runs[0] if runs else {}, latest_rows(records)))
    return path


# --- main ---

def parse_names(text: str, allowed, name: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise SystemExit(f"decode.py: {name} takes {', '.join(allowed)}; not {', '.join(unknown) or 'nothing'}")
    return names


def parse_slide(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise SystemExit(f"decode.py: --slide takes NAME=PATH, not {text!r}")
    return name, path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--slide", action="append", default=[], metavar="NAME=PATH", help="a slide (repeatable)")
    p.add_argument("--headline", help="the slide of the acceptance lines (default: the first --slide)")
    p.add_argument("--pipeline-slides", help="slides of the round trip and conversion (default: the headline and svs)")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"subset of {','.join(SECTIONS)}")
    p.add_argument("--readers", default=",".join(READERS), help=f"subset of {','.join(READERS)}")
    p.add_argument("--bin", default="", help="the tilestream CLI (read, convert, process)")
    p.add_argument("--ceiling", default="", help="the tilestream_nvjpeg_ceiling binary")
    p.add_argument("--threads", type=int, default=16, help="CPU decode threads / workers everywhere (default 16)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per in-process case (default 3)")
    p.add_argument("--pipeline-repeats", type=int, default=1, help="runs of each round trip and conversion (default 1)")
    p.add_argument("--patch", type=int, default=256, help="patch side (default 256)")
    p.add_argument("--batch-size", type=int, default=256, help="patches per batch (default 256)")
    p.add_argument("--prefetch", type=int, default=2, help="PatchLoader's prefetch (default 2)")
    p.add_argument("--seed", type=int, default=14, help="seed of the patch locations (default 14)")
    p.add_argument("--tolerance", type=float, default=4, help="largest |diff| still within tolerance (default 4)")
    p.add_argument("--mean-tolerance", type=float, default=0.5, help="largest mean |diff| (default 0.5)")
    p.add_argument("--work", type=Path, help="scratch folder for the Zarr stores (default a temporary folder)")
    p.add_argument("--deadline", type=float, default=math.inf, help="epoch seconds; later cases become skipped rows")
    p.add_argument("--out-dir", type=Path, help="where decode.jsonl and decode.md go")
    p.add_argument("--report", nargs="+", type=Path, metavar="JSONL", help="only write decode.md from these files")
    return p


def tree_commit() -> str:
    if os.environ.get("TILESTREAM_COMMIT"):
        return os.environ["TILESTREAM_COMMIT"]
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, cwd=here)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10, cwd=here)
        if out.returncode == 0:
            return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def versions(readers: list[str]) -> dict:
    out = {}
    for name, module in (("tilestream", "tilestream"), ("cucim", "cucim"), ("cupy", "cupy"), ("torch", "torch"),
                         ("tifffile", "tifffile"), ("imagecodecs", "imagecodecs"), ("openslide", "openslide"),
                         ("zarr", "zarr"), ("numpy", "numpy")):
        try:
            out[name] = getattr(importlib.import_module(module), "__version__", "?")
        except Exception as e:  # noqa: BLE001
            out[name] = f"absent ({one_line(e)[:120]})"
    return out


def recorded_command(argv: list[str], slides: dict[str, SlideInfo]) -> str:
    """The command line as recorded: file names only, no folders of the machine it ran on."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--out-dir", "--deadline", "--work"):
            skip = True
            continue
        if arg.split("=", 1)[0] in ("--out-dir", "--deadline", "--work"):
            continue
        for s in slides.values():
            arg = arg.replace(f"{s.name}={s.path}", f"{s.name}={Path(s.path).name}")
        if arg.startswith("/") or os.sep in arg and os.path.exists(arg):
            arg = Path(arg).name
        out.append(arg)
    return "python3 bench/decode.py " + " ".join(out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.report:
        if not args.out_dir:
            raise SystemExit("decode.py: --report needs --out-dir")
        args.out_dir.mkdir(parents=True, exist_ok=True)
        path = write_report(read_jsonl(args.report), args.out_dir)
        print(path.read_text())
        return 0
    if not args.slide or not args.out_dir:
        raise SystemExit("decode.py: give at least one --slide NAME=PATH and --out-dir")
    sections = parse_names(args.sections, SECTIONS, "--sections")
    readers = parse_names(args.readers, READERS, "--readers")
    given = [parse_slide(s) for s in args.slide]
    names = [n for n, _ in given]
    if len(set(names)) != len(names):
        raise SystemExit("decode.py: two --slide with one name")
    headline = args.headline or names[0]
    if headline not in names:
        raise SystemExit(f"decode.py: --headline {headline} is not a --slide")
    pipeline = args.pipeline_slides.split(",") if args.pipeline_slides else [headline] + (["svs"] if "svs" in names else [])
    if args.repeats < 1 or args.threads < 1 or args.pipeline_repeats < 1:
        raise SystemExit("decode.py: --repeats, --pipeline-repeats and --threads are at least 1")
    try:
        import tilestream  # noqa: F401  (the reference every case is checked against)
    except ImportError as e:
        raise SystemExit(f"decode.py: tilestream is not importable ({e}); put the built package on PYTHONPATH")
    slides, warmed = {}, []
    for name, path in given:
        if not os.path.isfile(path):
            raise SystemExit(f"decode.py: --slide {name}: no such file {path}")
        slides[name] = describe_slide(name, path)
        warmed.append(f"{name} {warm_page_cache(path) / 2**20:,.1f} MiB")
    work = args.work or Path(tempfile.mkdtemp(prefix="tilestream-decode-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings(threads=args.threads, repeats=args.repeats, pipeline_repeats=args.pipeline_repeats,
                        tolerance=args.tolerance, mean_tolerance=args.mean_tolerance, patch=args.patch,
                        batch_size=args.batch_size, seed=args.seed, bin=args.bin, ceiling=args.ceiling, work=work,
                        deadline=args.deadline, prefetch=args.prefetch)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    rows_path = args.out_dir / "decode.jsonl"
    env = {k: v for k, v in os.environ.items() if k.startswith("TILESTREAM_") and k not in ("TILESTREAM_COMMIT",
                                                                                          "TILESTREAM_TESTDATA")}
    run = {
        "kind": "run", "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(), "commit": tree_commit(), "command": recorded_command(argv, slides),
        "slides": [dict(asdict(s), path=Path(s.path).name) for s in slides.values()], "headline": headline,
        "pipeline_slides": pipeline, "threads": args.threads, "repeats": args.repeats, "patch": args.patch,
        "batch_size": args.batch_size, "seed": args.seed,
        "environment": ", ".join(f"{k}={v}" for k, v in sorted(env.items())),
        "timing_statement": (f"page cache warm ({', '.join(warmed)}); each in-process case: a warm-up run (its "
                             f"pixels checked), then {args.repeats} timed runs, the median; the GPU synchronised "
                             f"before the clock stops; host CPU seconds from getrusage (RUSAGE_SELF per run; "
                             f"RUSAGE_CHILDREN for the CLI and the ceiling); convert and process: the CLI's "
                             f"total_seconds, {args.pipeline_repeats} run(s) each, no warm-up run; "
                             f"{args.threads} threads for every CPU decode"),
        "check_statement": (f"every case's pixels against tilestream's CPU decode (libjpeg-turbo): equal, within "
                            f"tolerance (max |diff| <= {args.tolerance:g}, mean <= {args.mean_tolerance:g}) or "
                            f"MISMATCH; the round trip's floats stated in three 512x512 windows against tilestream "
                            f"--device cuda's, not judged"),
        "versions": versions(readers),
    }
    sink = open(rows_path, "w")
    sink.write(json.dumps(run) + "\n")
    sink.flush()

    def emit(row: Row):
        sink.write(json.dumps(asdict(row)) + "\n")
        sink.flush()

    try:
        run_cases(ordered_cases(plan(names, headline, sections, readers, pipeline)), slides, settings, emit)
    finally:
        sink.close()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    path = write_report(read_jsonl([rows_path]), args.out_dir)
    log(f"decode.py: {rows_path} and {path}")
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
