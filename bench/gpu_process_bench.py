#!/usr/bin/env python3
"""Issue 5 benchmark, use case 3: "the round trip of the benchmark we reproduce". Level 0 of the
seed-shaped slide is read, run through one op (sobel, median 5x5, gaussian sigma 2.5, absorbance,
grayscale, downsample2x) and written as uncompressed Zarr v3, by `tilestream process --device cuda`
in global and tiled mode with posix and gds reads, for chunk shapes 512 to 4096, beside the same
pipeline in Python (tifffile + cupy + cucim.skimage + zarr-python, global, as users write it) and
beside tilestream's read-only and write-only times of the same command (its I/O bound). One CSV,
a row per measured configuration (every run's seconds, their median, peak device memory and RSS),
into --out-dir and, dated, into bench/results/; bench/process_report.py turns it into tables, the
acceptance checks and a chart.

Run it through the entry script on the GPU machine, which builds, writes the slide and then calls
this file, one device command of at most 10 minutes each (see its header for the two commands):
    bench/device/process_bench.sh --phase all
    bench/device/process_bench.sh --phase all --resume-from bench/results/process_<first command>.csv
Directly (python3, no venv; the slide is `tilestream synth WORK/seed.tif --seed-shape`):
    python3 -u bench/gpu_process_bench.py --bin build/gpu/tilestream --work WORK --out-dir OUT
        [--phase acceptance|ops|all] [--runs 3] [--quick] [--ops sobel,median] [--chunks 512,2048]
        [--io posix,gds] [--resume EARLIER.csv] [--deadline EPOCH_S]
    python3 bench/gpu_process_bench.py --dry-run --out-dir /tmp/x   (no GPU: the plan and its time estimate)

What is measured, in the order of the issue's priorities (what no longer fits --deadline becomes
rows saying "skipped: time budget", so a command never runs into the device's limit):
  1. acceptance (--phase acceptance or all): sobel, chunk 2048, posix, global and tiled, with the
     read-only and write-only times measured just before in the same command; then the same with
     durable output (`--fsync`: every chunk file fsynced before its rename, and the write-only bound
     `convert --fsync`, its write and fsync seconds);
  2. median and gaussian at every chunk shape, posix, global and tiled, then their baselines;
  3. gds reads: every op and chunk shape, global and tiled (the acceptance configuration first);
  4. the rest: sobel (other chunks), absorbance, grayscale and downsample2x with posix reads, then
     their baselines.
--phase ops runs 2 to 4; --ops, --chunks and --io narrow them (the acceptance rows stay as they are).
--resume skips configurations that an earlier command's CSV holds without error, so a second
command goes on where the first one's budget ended.

Figures: tilestream's `total_seconds` (slide opened to every chunk stored; process start and CUDA
context outside it), one process per run, the two modes of a configuration alternating run by run.
No fsync but in the durable acceptance rows: outputs end in the page cache; after each run the output
is removed and `sync` run (untimed), so its dirty pages are dropped rather than written and every run
starts with a clean page cache apart from the slide, which stays cached (warm; read once at the start).
In the page cache, reading and writing are both memory copies on the same 16 cores, so a run that
reads and writes costs about their sum; with --fsync the writes wait for the disk, which is the
I/O bound the acceptance line is about.
`process --io` picks how tiles are read; chunks are stored by the pipeline's Zarr sink (pwrite from
pinned host memory) in every io mode, so each row's write-only bound is `convert --io posix`.
"""
import argparse
import datetime
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gpu_io_bench import (ROOT, SEED_SHAPE, Context, Sink, dry_row, emit, error_text, fmt, level_zero, log, median,
                          normalize_command, one_line, package_version, parse_list, remove_store, repeat, run_json,
                          run_metadata, skipped)

COLUMNS = ["use_case", "tool", "variant", "op", "mode", "level", "dtype", "chunk", "threads", "io", "cache", "fsync",
           "bytes", "runs_seconds", "median_seconds", "gb_per_s", "peak_device_mb", "peak_rss_mb", "bound_rows",
           "checksum_or_check", "error", "detail", "command"]
CHUNKS = (512, 1024, 2048, 4096)
QUICK_CHUNKS = (512, 2048)
IOS = ("posix", "gds")
MODES = ("global", "tiled")
THREADS = 16
ACCEPTANCE = ("sobel", 2048, "posix")
PRIORITY_OPS = ("median", "gaussian")  # priority 2 of the issue
# Baselines of priority 4: the acceptance op's first, then the cheapest (the float32 writes of
# zarr-python dominate), so a budget that ends early leaves the most rows.
REST_BASELINE_ORDER = ("sobel", "downsample2x", "grayscale", "absorbance")
WINDOW = 512  # side of the sample windows compared between outputs
STARTED = time.time()


@dataclass(frozen=True)
class OpCase:
    """One op of the benchmark: tilestream's --op, what it makes of uint8 RGB, and which convert
    stands for its write (--dtype, --levels: level 1 of the seed slide is exactly level 0 halved)."""
    name: str
    spec: str
    dtype: str
    channels: int
    shrink: int = 1

    @property
    def bound_level(self):
        return 1 if self.shrink == 2 else 0

    def output_shape(self, shape):
        h, w = shape[:2]
        return (-(-h // self.shrink), -(-w // self.shrink), self.channels)

    def output_bytes(self, shape):
        return int(np.prod(self.output_shape(shape))) * np.dtype(self.dtype).itemsize


OPS = {case.name: case for case in (
    OpCase("sobel", "sobel", "float32", 3),
    OpCase("median", "median:size=5", "uint8", 3),
    OpCase("gaussian", "gaussian:sigma=2.5", "uint8", 3),
    OpCase("absorbance", "absorbance", "float32", 3),
    OpCase("grayscale", "grayscale", "float32", 1),
    OpCase("downsample2x", "downsample2x", "uint8", 3, shrink=2),
)}

# What the Python baseline calls, per op (BASELINE_CALLS with cucim; FALLBACK_CALLS, cupyx.scipy.ndimage,
# where cucim cannot be imported). Both give tilestream's output dtype and shape.
BASELINE_CALLS = {
    "sobel": "cucim.skimage.filters.sobel per channel (float64), stored as float32",
    "median": "cucim.skimage.filters.median(x[..., c], footprint=ones((5, 5))) per channel",
    "gaussian": "cucim.skimage.util.img_as_ubyte(cucim.skimage.filters.gaussian(x, sigma=2.5, truncate=4.0, "
                "channel_axis=-1))",
    "absorbance": "cucim.core.operations.color.image_to_absorbance(x) (float32)",
    "grayscale": "cucim.skimage.color.rgb2gray(x) as float32, shape (h, w, 1)",
    "downsample2x": "cucim.skimage.transform.downscale_local_mean(x, (2, 2, 1)), rounded half up to uint8",
}
FALLBACK_CALLS = {
    "sobel": "x * (1/255) (float64), cupyx.scipy.ndimage.convolve with the 3x3 kernels [1, 0, -1] x [1, 2, 1]/4 "
             "per axis, mode reflect, sqrt(gx^2 + gy^2) / sqrt(2) (skimage's formula), per channel, stored as float32",
    "median": "cupyx.scipy.ndimage.median_filter(x, size=(5, 5, 1), mode='nearest')",
    "gaussian": "cupyx.scipy.ndimage.gaussian_filter(x * (1/255), sigma=(2.5, 2.5, 0), truncate=4.0, "
                "mode='nearest'), rint(255 g) as uint8",
    "absorbance": "-log(clip(x, 1, 255) / 255) in float32 (cupy)",
    "grayscale": "(x * (1/255)) @ [0.2125, 0.7154, 0.0721] as float32 (cupy), shape (h, w, 1)",
    "downsample2x": "2x2 means by reshape (cupy), rounded half up to uint8",
}

# Time estimates for the plan (dry run) and for the budget's "does the next step fit". From the
# figures of use cases 1 and 2 on the H100 (bench/results/io_2026-11-25.md); rough on purpose.
PROCESS_START_S = 1.0        # a tilestream process around its figure: start, CUDA context, pinned buffers, exit
CLEAN_S = 0.3                # rm -r of an output and sync (its dirty pages dropped, not written)
READ_S = 0.05                # level 0 into device memory, warm (use case 1: 0.041 s posix, 0.046 s gds)
PAGE_CACHE_WRITE_BPS = 6e9   # chunk files into the page cache (use case 2: 15-22 GB/s float32, 1.4-15 uint8)
BASELINE_READ_S = 2.5        # tifffile, warm (use case 1: 2.39 s)
PAGEABLE_BPS = 5e9           # cupy.asarray / cupy.asnumpy of pageable host memory
DEVICE_OP_S = 0.5            # a cucim op on level 0, both calls of the first run
BASELINE_WRITE_BPS = 1.1e9   # zarr-python, no fsync (use case 2: 0.9-1.3 GB/s float32, 0.3-1.2 uint8)
DISK_WRITE_BPS = 1.0e9       # chunk files fsynced (the device machine's disk: 1.1-1.5 GB/s)


# --- pure helpers (tested on the CPU by bench/testing/test_process_bench.py) ---

def sample_windows(shape, align, side=WINDOW):
    """Up to three (y0, y1, x0, x1) windows of an image of `shape`: its top-left corner, one centred
    on a corner of the chunk grid near the middle (`align`, the largest chunk side, is a multiple of
    every chunk side measured, so the window crosses chunk seams, where halos matter, at every chunk
    shape), and the bottom-right corner (partial edge chunks). Clipped to the image, duplicates
    dropped."""
    h, w = shape[:2]
    half = side // 2

    def centre(n):
        c = (n // 2) // align * align
        return c if c >= half else n // 2

    cy, cx = centre(h), centre(w)
    windows = []
    for y0, x0 in ((0, 0), (cy - half, cx - half), (h - side, w - side)):
        y0, x0 = max(0, y0), max(0, x0)
        window = (y0, min(h, y0 + side), x0, min(w, x0 + side))
        if window not in windows:
            windows.append(window)
    return windows


def compare_windows(reference, got, against):
    """'3 windows equal to X (N samples)' or the largest absolute difference and how many samples
    differ, or what does not match (count, shape, dtype)."""
    if len(reference) != len(got):
        return f"DIFFERENT: {len(got)} windows vs {len(reference)} of {against}"
    total, differ, worst = 0, 0, 0.0
    for a, b in zip(reference, got):
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"DIFFERENT: window {b.shape} {b.dtype} vs {a.shape} {a.dtype} of {against}"
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        total += diff.size
        differ += int(np.count_nonzero(diff))
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    if differ == 0:
        return f"{len(got)} windows equal to {against} ({total} samples)"
    return f"max |diff| {worst:.3g} in {differ} of {total} samples vs {against}"


def read_windows(store, windows):
    """The windows of the single Zarr array at the root of `store`, read with zarr-python."""
    import zarr
    array = zarr.open_array(str(store), mode="r")
    return [np.asarray(array[y0:y1, x0:x1]) for y0, y1, x0, x1 in windows]


@dataclass(frozen=True)
class Step:
    """One configuration of the plan: `tilestream` (one op, chunk and io; both modes) or
    `baseline` (one op at all chunk shapes of the step: the read and the op are shared)."""
    priority: int
    kind: str
    op: str
    chunks: tuple
    io: str
    fsync: bool = False  # tilestream: durable output (--fsync), its own write-only bound


def plan_steps(phase, ops, chunks, ios):
    """The steps of a phase in the order of the issue's priorities (see the module's doc), each
    configuration once."""
    chunks = tuple(chunks)
    steps = []
    if phase in ("acceptance", "all"):
        op, chunk, io = ACCEPTANCE
        steps.append(Step(1, "tilestream", op, (chunk,), io))
        steps.append(Step(1, "tilestream", op, (chunk,), io, fsync=True))
    if phase in ("ops", "all"):
        first = [op for op in PRIORITY_OPS if op in ops]
        rest = [op for op in OPS if op in ops and op not in PRIORITY_OPS]
        if "posix" in ios:
            steps += [Step(2, "tilestream", op, (c,), "posix") for op in first for c in chunks]
            steps += [Step(2, "baseline", op, chunks, "posix") for op in first]
        if "gds" in ios:
            gds = [(op, c) for op in first + rest for c in chunks]
            accepted = ACCEPTANCE[:2]
            if accepted in gds:
                gds.remove(accepted)
                gds.insert(0, accepted)
            steps += [Step(3, "tilestream", op, (c,), "gds") for op, c in gds]
        if "posix" in ios:
            steps += [Step(4, "tilestream", op, (c,), "posix") for op in rest for c in chunks]
            order = sorted(rest, key=lambda op: REST_BASELINE_ORDER.index(op) if op in REST_BASELINE_ORDER else 99)
            steps += [Step(4, "baseline", op, chunks, "posix") for op in order]
    unique, seen = [], set()
    for step in steps:
        key = (step.kind, step.op, step.chunks, step.io, step.fsync)
        if key not in seen:
            seen.add(key)
            unique.append(step)
    return unique


def measured_keys(paths):
    """Configurations that the CSV files of earlier commands hold without error:
    ('tilestream', op, mode, chunk, io, fsync) and ('baseline', op, chunk)."""
    import csv
    done = set()
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("use_case") != "process" or row.get("error") or not row.get("median_seconds"):
                    continue
                chunk = int(row["chunk"])
                if row["tool"] == "tilestream":
                    done.add(("tilestream", row["op"], row["mode"], chunk, row["io"], row.get("fsync") in ("1", "True")))
                elif row["tool"] == "baseline":
                    done.add(("baseline", row["op"], chunk))
    return done


def estimate_process_run(out_bytes, fsync=False):
    return PROCESS_START_S + READ_S + out_bytes / (DISK_WRITE_BPS if fsync else PAGE_CACHE_WRITE_BPS) + CLEAN_S


def estimate_baseline_run(in_bytes, out_bytes, chunks):
    return (BASELINE_READ_S + in_bytes / PAGEABLE_BPS + DEVICE_OP_S + out_bytes / PAGEABLE_BPS
            + len(chunks) * (out_bytes / BASELINE_WRITE_BPS + CLEAN_S))


# --- the run ---

class ProcessContext(Context):
    """The use case 2 context (binary, slide, budget, cupy) plus what use case 3 keeps between
    steps: the bound rows measured so far, the reference windows per op, the configurations an
    earlier command measured, and the plan's running estimate."""

    def __init__(self, args):
        super().__init__(args)
        self.bounds = {}       # ('read', io) or ('write', dtype, chunk, level) -> the row's variant
        self.broken_io = {}    # io -> the error of its read-only row: that io's process rows are not run
        self.references = {}   # op -> (label of the first output measured, its windows)
        self.done = set()      # see measured_keys
        self.align = max([*args.chunks, ACCEPTANCE[1]])
        self.planned = 0.0
        self.planned_by_priority = {}
        self.baseline = None   # (functions, implementation), made on first use

    def plan(self, seconds, priority, what):
        """Dry run: adds a step's estimate to the plan and says where it falls in the budget."""
        self.planned += seconds
        self.planned_by_priority[priority] = self.planned_by_priority.get(priority, 0.0) + seconds
        left = self.budget.left()
        past = "" if self.planned <= left else "  <- past the budget"
        log(f"   estimate {seconds:6.1f} s, cumulative {self.planned:6.1f} s ({what}){past}")

    def shape(self):
        return self.level["shape"]

    def windows(self, op):
        return sample_windows(OPS[op].output_shape(self.shape()), self.align)

    def window_check(self, op, store, label):
        """Reads the sample windows of the output at `store`; the first output of an op measured in
        this command is the reference of the others. Returns the check text."""
        try:
            got = read_windows(store, self.windows(op))
        except Exception as exc:
            return f"windows not read: {error_text(exc)}"
        if op not in self.references:
            self.references[op] = (label, got)
            return f"reference of the window checks ({len(got)} windows of up to {WINDOW}x{WINDOW})"
        reference_label, reference = self.references[op]
        return compare_windows(reference, got, reference_label)

    def baseline_ops(self):
        if self.baseline is None:
            self.baseline = baseline_ops(self.gpu())
        return self.baseline


def baseline_ops(cp):
    """(functions, implementation): op name -> f(device uint8 RGB) giving tilestream's output dtype
    and shape on the device. cucim where it imports; otherwise cupyx.scipy.ndimage equivalents of
    the same semantics, labelled as such (FALLBACK_CALLS)."""
    try:
        import cucim
        from cucim.core.operations.color import image_to_absorbance
        from cucim.skimage import color, filters, transform, util
        # cucim.skimage loads its submodules lazily: what fails to load fails here, not in a timed call
        (filters.sobel, filters.median, filters.gaussian, util.img_as_ubyte, color.rgb2gray,
         transform.downscale_local_mean)
    except Exception as exc:
        return fallback_ops(cp), one_line(f"cupyx.scipy.ndimage fallback (cucim not importable: {error_text(exc)})")

    def per_channel(function, x, dtype):
        out = cp.empty(x.shape, dtype)
        for c in range(x.shape[-1]):
            out[..., c] = function(x[..., c])
        return out

    footprint = cp.ones((5, 5), dtype=bool)
    functions = {
        "sobel": lambda x: per_channel(filters.sobel, x, cp.float32),
        "median": lambda x: per_channel(lambda a: filters.median(a, footprint=footprint), x, cp.uint8),
        "gaussian": lambda x: util.img_as_ubyte(filters.gaussian(x, sigma=2.5, truncate=4.0, channel_axis=-1)),
        "absorbance": lambda x: image_to_absorbance(x),
        "grayscale": lambda x: color.rgb2gray(x).astype(cp.float32)[..., None],
        "downsample2x": lambda x: cp.floor(transform.downscale_local_mean(x, (2, 2, 1)) + 0.5).astype(cp.uint8),
    }
    return functions, f"cucim {getattr(cucim, '__version__', '?')}"


def fallback_ops(cp):
    import cupyx.scipy.ndimage as ndi

    def as_float(x):  # skimage.util.img_as_float of uint8
        return cp.multiply(x, 1.0 / 255, dtype=cp.float64)

    # skimage.filters.sobel: a 3x3 kernel per axis (edge [1, 0, -1] times smooth [1, 2, 1] / 4),
    # squares summed, sqrt, divided by sqrt(2)
    edge = cp.asarray([1.0, 0.0, -1.0], dtype=cp.float64)
    smooth = cp.asarray([1.0, 2.0, 1.0], dtype=cp.float64) / 4
    kernels = (edge[:, None] * smooth[None, :], smooth[:, None] * edge[None, :])

    def sobel_channel(a):
        f = as_float(a)
        total = cp.zeros(f.shape, cp.float64)
        for kernel in kernels:
            g = ndi.convolve(f, kernel, mode="reflect")
            total += g * g
        return cp.sqrt(total) / math.sqrt(2)

    def sobel(x):
        out = cp.empty(x.shape, cp.float32)
        for c in range(x.shape[-1]):
            out[..., c] = sobel_channel(x[..., c])
        return out

    def gaussian(x):
        g = ndi.gaussian_filter(as_float(x), sigma=(2.5, 2.5, 0), truncate=4.0, mode="nearest")
        return cp.clip(cp.rint(g * 255), 0, 255).astype(cp.uint8)

    def downsample2x(x):
        h, w, c = x.shape
        big_h, big_w = h + h % 2, w + w % 2
        total = cp.zeros((big_h, big_w, c), cp.float64)
        count = cp.zeros((big_h, big_w, 1), cp.float64)
        total[:h, :w] = x
        count[:h, :w] = 1
        sums = total.reshape(big_h // 2, 2, big_w // 2, 2, c).sum(axis=(1, 3))
        counts = count.reshape(big_h // 2, 2, big_w // 2, 2, 1).sum(axis=(1, 3))
        return cp.floor(sums / counts + 0.5).astype(cp.uint8)

    coefficients = cp.asarray([0.2125, 0.7154, 0.0721], dtype=cp.float64)
    return {
        "sobel": sobel,
        "median": lambda x: ndi.median_filter(x, size=(5, 5, 1), mode="nearest"),
        "gaussian": gaussian,
        "absorbance": lambda x: -cp.log(cp.clip(x.astype(cp.float32), 1, 255) / cp.float32(255)),
        "grayscale": lambda x: (as_float(x) @ coefficients).astype(cp.float32)[..., None],
        "downsample2x": downsample2x,
    }


def repeat_modes(ctx, runs, jobs, label):
    """Runs the jobs ({key: one_run(i)}) round robin, run 1 of each, then run 2 of each, ..., so the
    two modes of a configuration meet the same state of the machine. A job stops at its first
    failure; a round starts only when it fits the budget (from the slowest run so far). Returns
    {key: (results, error)} like gpu_io_bench.repeat."""
    results = {key: [] for key in jobs}
    errors = {key: "" for key in jobs}
    walls = []
    for i in range(runs):
        live = [key for key in jobs if not errors[key]]
        if not live:
            break
        if walls and ctx.budget.left() < 1.5 * max(walls) * len(live) + 10:
            for key in live:
                errors[key] = f"stopped after {i} of {runs} runs: time budget ({ctx.budget.left():.0f} s left)"
            break
        for key in live:
            started = time.time()
            try:
                result = jobs[key](i)
            except Exception as exc:
                errors[key] = error_text(exc)
                log(f"  {label} {key} run {i + 1}: FAILED {errors[key]}")
                continue
            walls.append(time.time() - started)
            results[key].append(result)
            log(f"  {label} {key} run {i + 1}/{runs}: {result:.4f} s")
    return {key: (results[key], errors[key]) for key in jobs}


def bound_fields(variant, io, dtype, level, chunk="", fsync=False):
    return {"use_case": "bound", "tool": "tilestream", "variant": variant, "level": level, "dtype": dtype,
            "chunk": chunk, "threads": THREADS, "io": io, "cache": "warm", "fsync": int(fsync)}


def read_bound_name(io):
    return f"read-only {io}"


def write_bound_name(dtype, chunk, level, fsync=False):
    return f"write-only {dtype} c{chunk} level {level}" + (" fsync" if fsync else "")


def read_bound(ctx, sink, io, priority):
    """`tilestream read` of level 0 into device memory, one process, runs + 1 repeats (the first
    dropped); once per io and command. Returns the row's variant."""
    key = ("read", io)
    if key in ctx.bounds:
        return ctx.bounds[key]
    variant = ctx.bounds[key] = read_bound_name(io)
    command = [ctx.bin, "read", ctx.slide, "--level", 0, "--device", "cuda", "--io", io, "--threads", THREADS,
               "--json", "--repeat", ctx.runs + 1]
    fields = bound_fields(variant, io, "uint8", 0)
    if ctx.dry:
        dry_row(ctx, sink, fields, command)
        ctx.plan(PROCESS_START_S + (ctx.runs + 1) * READ_S, priority, variant)
        return variant
    if skipped(ctx, sink, fields, need=10):
        return variant
    seconds, error, detail, nbytes = [], "", "", ctx.level["bytes"]
    try:
        result = run_json(command, ctx.budget.timeout(ctx.timeout))
        seconds = [float(s) for s in result["runs_seconds"]][1:]
        nbytes = int(result.get("bytes") or nbytes)
        detail = (f"io_detail: {result.get('io_detail', '')}; first of {ctx.runs + 1} repeats dropped as warm-up; "
                  f"setup {fmt(result.get('setup_seconds'))} s (untimed)")
    except Exception as exc:
        error = error_text(exc)
        ctx.broken_io[io] = error
    emit(sink, fields, seconds, nbytes, error=error, detail=detail, command=command, ctx=ctx)
    return variant


def write_bound(ctx, sink, dtype, chunk, level, priority, fsync=False):
    """`tilestream convert --device cuda --io posix` of one level as `dtype`, `write_seconds` (device
    array to every chunk file, no fsync: global mode holds the level on the device first), or with
    `fsync` write_seconds + fsync_seconds of `convert --fsync` (the wait for the commits still syncing
    after the last block); once per dtype,
    chunk, level, fsync and command. Returns the row's variant."""
    key = ("write", dtype, chunk, level, fsync)
    if key in ctx.bounds:
        return ctx.bounds[key]
    variant = ctx.bounds[key] = write_bound_name(dtype, chunk, level, fsync)
    store = ctx.work / "bound.zarr"
    command = [ctx.bin, "convert", ctx.slide, store, "--device", "cuda", "--io", "posix", "--threads", THREADS,
               "--levels", level, "--codec", "none", "--dtype", dtype, "--chunk", chunk, "--zarr-version", 3,
               "--layout", "yxc", "--mode", "global", "--overwrite", "--json"] + (["--fsync"] if fsync else [])
    fields = bound_fields(variant, "posix", dtype, level, chunk, fsync)
    h, w, c = ctx.shape()
    nbytes = -(-h // 2 ** level) * -(-w // 2 ** level) * c * np.dtype(dtype).itemsize
    if ctx.dry:
        dry_row(ctx, sink, fields, command)
        ctx.plan(ctx.runs * estimate_process_run(nbytes, fsync), priority, variant)
        return variant
    if skipped(ctx, sink, fields, need=15 + (estimate_process_run(nbytes, True) if fsync else 0)):
        return variant
    outputs = []

    def once(_):
        try:
            result = run_json(command, ctx.budget.timeout(ctx.timeout))
        finally:
            remove_store(store)
        outputs.append(result)
        return float(result["write_seconds"]) + (float(result.get("fsync_seconds") or 0) if fsync else 0.0)

    remove_store(store)
    seconds, error = repeat(ctx, ctx.runs, once, variant)
    detail = ""
    if outputs:
        nbytes = int(outputs[-1].get("array_bytes") or nbytes)

        def part(name):
            return fmt(median([float(o.get(name) or 0) for o in outputs]))

        figure = ("write + fsync (the figure: write and fsync seconds summed per run), fsync "
                  f"{part('fsync_seconds')} s" if fsync else "(the figure)")
        detail = (f"io_detail: {outputs[-1].get('io_detail', '')}; medians: read {part('read_seconds')} s, cast "
                  f"{part('cast_seconds')} s, write {part('write_seconds')} s {figure}, total "
                  f"{part('total_seconds')} s; {'--fsync' if fsync else 'no --fsync'}, the store removed and sync run "
                  "after each run (untimed)")
    emit(sink, fields, seconds, nbytes, error=error, detail=detail, command=command, ctx=ctx)
    return variant


def process_detail(outputs, walls):
    """What the JSON of tilestream process says beyond the figure, for the detail column."""
    last = outputs[-1]

    def mb(value):
        return f"{float(value) / 1e6:.0f} MB" if value not in (None, "") else "?"

    peaks = ", ".join(f"{float(o.get('peak_device_mb') or 0):.0f}" for o in outputs)
    return (f"workers {last.get('workers')}, threads {last.get('threads')}, memory budget {mb(last.get('memory_budget'))}"
            f", task {mb(last.get('task_bytes'))}, in flight {mb(last.get('bytes_in_flight'))}, {last.get('chunks')} "
            f"chunks, bytes_written {last.get('bytes_written')}; io_detail: {last.get('io_detail', '')}; peak device "
            f"MB per run: {peaks}; wall per run incl. process start: median {fmt(median(walls))} s")


def tilestream_step(ctx, sink, step):
    """`tilestream process` of one op, chunk and io, global and tiled alternating, one process per
    run; the bounds of the same command measured first (once per command)."""
    op, chunk, io, fsync = step.op, step.chunks[0], step.io, step.fsync
    case = OPS[op]
    label = f"{op} c{chunk} {io}" + (" fsync" if fsync else "")
    modes = [m for m in MODES if ("tilestream", op, m, chunk, io, fsync) not in ctx.done]
    if not modes:
        log(f"-- {label}: both modes measured in the --resume CSV, not run again")
        return
    store = ctx.work / "process.zarr"
    out_bytes = case.output_bytes(ctx.shape())

    def command(mode):
        return [ctx.bin, "process", ctx.slide, store, "--op", case.spec, "--mode", mode, "--chunk", chunk,
                "--device", "cuda", "--io", io, "--threads", THREADS, "--zarr-version", 3, "--codec", "none",
                "--overwrite", "--json"] + (["--fsync"] if fsync else [])

    log(f"-- priority {step.priority}: {label}, {' and '.join(modes)}")
    bound_rows = f"{read_bound_name(io)}; {write_bound_name(case.dtype, chunk, case.bound_level, fsync)}"
    rows = {mode: {"use_case": "process", "tool": "tilestream",
                   "variant": f"{op} {mode} c{chunk} {io}" + (" fsync" if fsync else ""), "op": op,
                   "mode": mode, "level": 0, "dtype": case.dtype, "chunk": chunk, "threads": THREADS, "io": io,
                   "cache": "warm", "fsync": int(fsync), "bound_rows": bound_rows} for mode in modes}
    need = len(modes) * estimate_process_run(out_bytes, fsync) + 5  # one round of runs
    if not ctx.dry and skipped(ctx, sink, *rows.values(), need=need):
        return
    # The bounds of this command, measured just before the first row that needs them.
    read_bound(ctx, sink, io, step.priority)
    write_bound(ctx, sink, case.dtype, chunk, case.bound_level, step.priority, fsync)
    if not ctx.dry and skipped(ctx, sink, *rows.values(), need=need):  # what the bounds left
        return
    if ctx.dry:
        for mode in modes:
            dry_row(ctx, sink, rows[mode], command(mode))
        ctx.plan(len(modes) * ctx.runs * estimate_process_run(out_bytes, fsync), step.priority, label)
        return
    if io in ctx.broken_io:  # one failing process per mode and configuration would tell no more
        for fields in rows.values():
            sink.write({**fields, "error": f"not run: `tilestream read --io {io}` failed in this command "
                                          f"({ctx.broken_io[io]})"})
        log(f"= {label}: not run, read-only {io} failed")
        return
    outputs = {mode: [] for mode in modes}
    walls = {mode: [] for mode in modes}
    checks = {}

    def once(mode, i):
        started = time.perf_counter()
        try:
            result = run_json(command(mode), ctx.budget.timeout(ctx.timeout))
            walls[mode].append(time.perf_counter() - started)
            if i == 0:
                checks[mode] = ctx.window_check(op, store, f"tilestream {mode} {io} c{chunk}" + (" fsync" if fsync else ""))
        finally:
            remove_store(store)
        outputs[mode].append(result)
        return float(result["total_seconds"])

    remove_store(store)
    measured = repeat_modes(ctx, ctx.runs, {mode: (lambda i, m=mode: once(m, i)) for mode in modes},
                            label)
    for mode in modes:
        seconds, error = measured[mode]
        fields = dict(rows[mode])
        detail = ""
        if outputs[mode]:
            fields["peak_device_mb"] = max(float(o.get("peak_device_mb") or 0) for o in outputs[mode])
            fields["peak_rss_mb"] = max(float(o.get("peak_rss_mb") or 0) for o in outputs[mode])
            detail = process_detail(outputs[mode], walls[mode])
        emit(sink, fields, seconds, out_bytes, error=error, check=checks.get(mode, ""), detail=detail,
             command=command(mode), ctx=ctx)


def baseline_step(ctx, sink, step):
    """The Python pipeline, global, as users write it: tifffile reads level 0, cupy.asarray, the op
    (cucim), cupy.asnumpy, zarr-python writes it once per chunk shape. One run = one read and op and
    every chunk shape's write; a chunk row's run = read + upload + op + download + its write."""
    op, case = step.op, OPS[step.op]
    chunks = [c for c in step.chunks if ("baseline", op, c) not in ctx.done]
    if not chunks:
        log(f"-- baseline {op}: every chunk shape measured in the --resume CSV, not run again")
        return
    rows = {c: {"use_case": "process", "tool": "baseline", "variant": f"{op} global c{c} tifffile+cucim+zarr-python",
                "op": op, "mode": "global", "level": 0, "dtype": case.dtype, "chunk": c, "threads": "tifffile default",
                "io": "posix", "cache": "warm", "fsync": 0} for c in chunks}
    in_bytes, out_bytes = ctx.level["bytes"], case.output_bytes(ctx.shape())
    one_run = estimate_baseline_run(in_bytes, out_bytes, chunks)
    log(f"-- priority {step.priority}: baseline {op}, chunks {', '.join(map(str, chunks))}")
    if ctx.dry:
        for c in chunks:
            dry_row(ctx, sink, rows[c])
        ctx.plan(ctx.runs * one_run, step.priority, f"baseline {op}")
        return
    if skipped(ctx, sink, *rows.values(), need=one_run + 10):
        return
    store = ctx.work / "baseline.zarr"
    parts, writes, checks, implementation, error = [], {c: [] for c in chunks}, {}, "", ""
    try:
        import tifffile
        import zarr
        cp = ctx.gpu()
        functions, implementation = ctx.baseline_ops()
        function = functions[op]

        def once(i):
            with tifffile.TiffFile(ctx.slide) as tif:
                page = tif.pages[0]
                t0 = time.perf_counter()
                host = page.asarray()
                t1 = time.perf_counter()
            dev = cp.asarray(host)
            cp.cuda.runtime.deviceSynchronize()
            t2 = time.perf_counter()
            del host
            if i == 0:  # the kernels are compiled (NVRTC) on first use: once, untimed
                function(dev)
                cp.cuda.runtime.deviceSynchronize()
            t3 = time.perf_counter()
            out = function(dev)
            cp.cuda.runtime.deviceSynchronize()
            t4 = time.perf_counter()
            result = cp.asnumpy(out)
            t5 = time.perf_counter()
            del dev, out
            ctx.free_gpu()
            run_writes = {}
            for c in chunks:
                start = time.perf_counter()
                array = zarr.create_array(store=str(store), shape=result.shape, chunks=(c, c, result.shape[2]),
                                          dtype=result.dtype, compressors=None, filters=None, zarr_format=3,
                                          fill_value=0, overwrite=True, config={"write_empty_chunks": True})
                array[...] = result
                run_writes[c] = time.perf_counter() - start
                if i == 0:
                    checks[c] = ctx.window_check(op, store, f"baseline c{c}")
                remove_store(store)
            parts.append({"read": t1 - t0, "upload": t2 - t1, "op": t4 - t3, "download": t5 - t4})
            for c in chunks:
                writes[c].append(run_writes[c])
            return {"seconds": sum(parts[-1].values())}

        remove_store(store)
        _, error = repeat(ctx, ctx.runs, once, f"baseline {op} (read + op + download, then {len(chunks)} writes)")
    except Exception as exc:
        error = error or error_text(exc)
    finally:
        remove_store(store)
        ctx.free_gpu()
    calls = (BASELINE_CALLS if implementation.startswith("cucim") else FALLBACK_CALLS)[op]

    def part(name):
        return fmt(median([p[name] for p in parts]))

    for c in chunks:
        seconds = [sum(p.values()) + w for p, w in zip(parts, writes[c])]
        detail = (f"{implementation or 'baseline not started'}: {calls}; tifffile TiffPage.asarray + cupy.asarray + op "
                  f"+ cupy.asnumpy + zarr-python create_array(chunks=({c}, {c}, {case.channels}), compressors=None) "
                  f"and arr[...] = host; medians: read {part('read')} s, upload {part('upload')} s, op {part('op')} s, "
                  f"download {part('download')} s, write {fmt(median(writes[c]))} s; read, op and download shared by "
                  f"the chunk rows of a run; op kernels compiled in an untimed call of run 1") if parts else ""
        emit(sink, rows[c], seconds, out_bytes, error=error, check=checks.get(c, ""), detail=detail)


def warm_page_cache(slide, piece=64 << 20):
    """Reads the slide file once, so every figure starts with it in the page cache (warm)."""
    started = time.perf_counter()
    with open(slide, "rb", buffering=0) as f:
        buffer = bytearray(piece)
        while f.readinto(buffer):
            pass
    log(f"slide read once into the page cache in {time.perf_counter() - started:.1f} s")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=("acceptance", "ops", "all"), default="all")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration; figures are medians (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 run, chunks 512 and 2048")
    parser.add_argument("--ops", type=lambda t: parse_list(t, str, OPS), default=list(OPS),
                        help=f"ops of the ops phase, comma-separated (default {','.join(OPS)})")
    parser.add_argument("--chunks", type=lambda t: parse_list(t, int), default=None,
                        help="chunk sides of the ops phase, comma-separated (default 512,1024,2048,4096)")
    parser.add_argument("--io", type=lambda t: parse_list(t, str, IOS), default=list(IOS),
                        help="read modes of the ops phase, comma-separated (default posix,gds)")
    parser.add_argument("--bin", default=str(ROOT / "build" / "gpu" / "tilestream"))
    parser.add_argument("--slide", help="the seed-shaped slide (default WORK/seed.tif)")
    parser.add_argument("--work", default="/tmp/tilestream-bench", help="scratch folder on the local disk")
    parser.add_argument("--out-dir", help="also write process.csv here ($OUT)")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"),
                        help="the dated CSV goes here (not in a dry run)")
    parser.add_argument("--resume", action="append", default=[], metavar="CSV",
                        help="skip configurations this earlier CSV holds without error (repeatable)")
    parser.add_argument("--deadline", type=float, help="epoch seconds by which the command must be done")
    parser.add_argument("--timeout", type=float, default=300, help="limit for one subprocess in seconds")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, commands and estimates; measure nothing")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.quick:
        args.runs = 1
        args.chunks = args.chunks or list(QUICK_CHUNKS)
    args.chunks = args.chunks or list(CHUNKS)
    if any(c <= 0 for c in args.chunks):
        parser.error("--chunks must be positive")
    missing = [p for p in args.resume if not Path(p).is_file()]
    if missing:
        parser.error(f"--resume: no such CSV: {', '.join(missing)}")
    args.slide = args.slide or str(Path(args.work) / "seed.tif")
    return args


def main(argv=None):
    args = parse_args(argv)
    ctx = ProcessContext(args)
    now = datetime.datetime.now(datetime.timezone.utc)
    today = now.date().isoformat()
    ctx.work.mkdir(parents=True, exist_ok=True)
    if not ctx.dry and not ctx.slide.exists():
        sys.exit(f"no slide at {ctx.slide}: write it with `tilestream synth {ctx.slide} --seed-shape`")
    if ctx.slide.exists():
        ctx.level = level_zero(ctx.slide)
    else:  # dry run without the slide: the seed shape
        ctx.level = {"shape": SEED_SHAPE, "dtype": np.dtype(np.uint8), "bytes": int(np.prod(SEED_SHAPE)),
                     "tile_start": 0, "tile_end": int(np.prod(SEED_SHAPE)), "tiles": 0, "file_bytes": 0}
    ctx.done = measured_keys(args.resume)
    steps = plan_steps(args.phase, args.ops, args.chunks, args.io)
    log(f"phase {args.phase}, {args.runs} runs, {len(steps)} steps, slide {ctx.slide} "
        f"({ctx.level['bytes'] / 1e6:.1f} MB level 0), budget {ctx.budget.left():.0f} s"
        + (f"; {len(ctx.done)} configurations measured in {len(args.resume)} --resume CSV" if args.resume else ""))

    meta = run_metadata(ctx, args.phase, today)
    meta["versions"] = "; ".join(f"{name} {package_version(name)}" for name in
                                 ("numpy", "cupy", "cucim", "skimage", "scipy", "tifffile", "zarr", "numcodecs")) \
        + f"; Python {platform.python_version()}"
    meta["driver_command"] = "python3 " + normalize_command(
        [Path(__file__).resolve().relative_to(ROOT), *(sys.argv[1:] if argv is None else argv)], ctx)
    meta["page_cache"] = ("warm: the slide read once at the start; no fsync but in the rows marked fsync (durable "
                          "output); after each run the output removed and sync run (untimed)")
    meta["cufile"] = os.environ.get("IO_BENCH_CUFILE", "not recorded (run through bench/device/process_bench.sh)")
    meta["memory_setting"] = os.environ.get("TILESTREAM_MEMORY", "TILESTREAM_MEMORY unset (tiled default 1G)")
    meta["band_setting"] = os.environ.get("TILESTREAM_BAND_BYTES", "TILESTREAM_BAND_BYTES unset (default 1M)")
    if args.resume:
        meta["resumed_from"] = ", ".join(Path(p).name for p in args.resume)
    if not ctx.dry:
        try:
            meta["baseline_ops"] = ctx.baseline_ops()[1]
        except Exception as exc:
            meta["baseline_ops"] = f"not usable: {error_text(exc)}"
        warm_page_cache(ctx.slide)
    for key, value in meta.items():
        log(f"meta {key}: {value}")

    paths = [Path(args.out_dir) / "process.csv"] if args.out_dir else []
    if not ctx.dry:
        paths.append(Path(args.results) / f"process_{today}_{now.strftime('%H%M%S')}.csv")
    sink = Sink(paths, meta, ctx, COLUMNS)
    try:
        for step in steps:
            if step.kind == "tilestream":
                tilestream_step(ctx, sink, step)
            else:
                baseline_step(ctx, sink, step)
    finally:
        sink.close()
        if not ctx.dry:
            remove_store(ctx.work / "process.zarr")
    if ctx.dry:
        by_priority = ", ".join(f"priority {p}: {s:.0f} s" for p, s in sorted(ctx.planned_by_priority.items()))
        log(f"plan: {ctx.planned:.0f} s estimated for the driver ({by_priority}); budget left {ctx.budget.left():.0f} s; "
            f"a fresh machine spends about 150 s on the build and the slide before the driver starts")
    log(f"done in {time.time() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
