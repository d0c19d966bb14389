#!/usr/bin/env python3
"""Issue 4 benchmark, "storage to GPU and back": reads level 0 of the seed-shaped slide into GPU
memory (use case 1) and writes it from GPU memory to uncompressed Zarr v3 (use case 2), by
`tilestream` and by the Python tools a user would reach for (tifffile + cupy, kvikio, zarr-python),
beside the machine's physical limits (dd O_DIRECT read and write, a threaded page-cache read, pinned
host<->device copies), all in the same run. Writes CSV files (one row per measured configuration,
every run's seconds and their median) into --out-dir and, dated, into bench/results/.

Run it through the entry script on the GPU machine, which builds, writes the slide and then calls
this file, one device command of at most 10 minutes each (see its header for the split of the write
phase: uint8, then float32 in two halves of the chunk shapes):
    bench/device/io_bench.sh --phase read
    bench/device/io_bench.sh --phase write --dtypes uint8
Directly (python3, no venv; the slide is `tilestream synth WORK/seed.tif --seed-shape`):
    python3 -u bench/gpu_io_bench.py --phase read --bin build/gpu/tilestream --slide WORK/seed.tif \
        --work WORK --out-dir OUT [--runs 3] [--quick] [--dtypes float32,uint8] [--chunks 256,512]
    python3 bench/gpu_io_bench.py --phase all --dry-run --out-dir /tmp/x   (no GPU: prints the plan)

Every failing variant becomes a row with its error and the run goes on; with --deadline (epoch
seconds) variants that no longer fit are recorded as skipped, so a command limit never loses the
rows already measured (each row is flushed to the CSV files as soon as it is measured).
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["use_case", "tool", "variant", "dtype", "chunk", "threads", "io", "cache", "fsync", "bytes",
           "runs_seconds", "median_seconds", "gb_per_s", "checksum_or_check", "error", "detail", "command"]
CHUNKS = (256, 512, 1024, 2048)
QUICK_CHUNKS = (512, 2048)
DTYPES = ("float32", "uint8")
SEED_SHAPE = (26420, 19920, 3)  # level 0 of `synth --seed-shape`, used only when the slide is missing (dry run)
READ_IOS = ("posix", "direct", "gds")
READ_THREADS = (1, 16)
WRITE_IOS = ("posix", "gds")
WRITE_THREADS = 16
DD_BLOCK = 16 << 20
PINNED_BYTES = 1 << 30
PAGE_CACHE_THREADS = 16
DD_LINE = re.compile(r"^(\d+) bytes?\b.*?copied, ([0-9.]+(?:[eE][-+]?\d+)?) s\b", re.MULTILINE)
STARTED = time.time()


def log(message):
    print(f"[{time.time() - STARTED:7.1f} s] {message}", flush=True)


def one_line(text, limit=400):
    """An error message fit for one CSV cell: one line, at most `limit` characters (the end kept,
    where the cause usually is)."""
    text = " | ".join(line.strip() for line in str(text).strip().splitlines() if line.strip())
    return text if len(text) <= limit else "..." + text[-limit:]


def error_text(exc):
    return one_line(f"{type(exc).__name__}: {exc}")


# --- pure helpers (tested on the CPU by bench/testing/test_io_bench.py) ---

def parse_dd(stderr):
    """(bytes, seconds) from GNU dd's summary line
    '6291456000 bytes (6.3 GB, 5.9 GiB) copied, 3.12 s, 2.0 GB/s' (run it with LC_ALL=C)."""
    matches = DD_LINE.findall(stderr)
    if not matches:
        raise ValueError(f"no 'bytes ... copied, X s' line in dd's output: {one_line(stderr, 200)!r}")
    count, seconds = matches[-1]
    return int(count), float(seconds)


def median(values):
    return statistics.median(values) if values else None


def gb_per_s(nbytes, seconds):
    return nbytes / 1e9 / seconds if nbytes and seconds else None


def fmt(value):
    """A CSV cell: '' for None, 6 significant digits for floats."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def dd_write_count(nbytes, block=DD_BLOCK):
    """Blocks of `block` bytes that cover `nbytes` (dd's count=)."""
    return max(1, math.ceil(nbytes / block))


def find_array_folder(store):
    """The folder of the (single) Zarr v3 array under `store`: the one whose zarr.json says
    node_type array. Raises when there is none or more than one."""
    found = []
    for folder, _, files in os.walk(store):
        if "zarr.json" in files:
            with open(os.path.join(folder, "zarr.json")) as f:
                if json.load(f).get("node_type") == "array":
                    found.append(Path(folder))
    if len(found) != 1:
        raise ValueError(f"expected one Zarr v3 array under {store}, found {len(found)}")
    return found[0]


def chunk_files(array_folder):
    """Relative paths ('c/0/0/0') of every file under the array folder except its metadata."""
    keys = []
    for folder, _, files in os.walk(array_folder):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), array_folder).replace(os.sep, "/")
            if relative != "zarr.json":
                keys.append(relative)
    return sorted(keys)


def compare_chunk_stores(ours, theirs, piece=64 << 20):
    """Compares the chunk files of two single-array Zarr v3 stores byte for byte (keys relative to
    each array folder). Returns 'chunks identical (N files)' or a description of the first
    difference."""
    a_root, b_root = find_array_folder(ours), find_array_folder(theirs)
    a_keys, b_keys = chunk_files(a_root), chunk_files(b_root)
    if a_keys != b_keys:
        only_a = sorted(set(a_keys) - set(b_keys))
        only_b = sorted(set(b_keys) - set(a_keys))
        return (f"DIFFERENT key sets: {len(a_keys)} vs {len(b_keys)} files; only in tilestream: "
                f"{only_a[:3]}{'...' if len(only_a) > 3 else ''}; only in zarr-python: "
                f"{only_b[:3]}{'...' if len(only_b) > 3 else ''}")
    for key in a_keys:
        a_path, b_path = a_root / key, b_root / key
        a_size, b_size = a_path.stat().st_size, b_path.stat().st_size
        if a_size != b_size:
            return f"DIFFERENT size of {key}: {a_size} vs {b_size} bytes (tilestream vs zarr-python)"
        with open(a_path, "rb") as fa, open(b_path, "rb") as fb:
            offset = 0
            while True:
                x, y = fa.read(piece), fb.read(piece)
                if not x and not y:
                    break
                if x != y:
                    xs, ys = np.frombuffer(x, np.uint8), np.frombuffer(y, np.uint8)
                    n = min(len(xs), len(ys))
                    first = int(np.flatnonzero(xs[:n] != ys[:n])[0]) if n and (xs[:n] != ys[:n]).any() else n
                    return (f"DIFFERENT bytes in {key} at byte {offset + first}: "
                            f"{xs[first] if first < len(xs) else 'EOF'} vs {ys[first] if first < len(ys) else 'EOF'}")
                offset += len(x)
    return f"chunks identical ({len(a_keys)} files)"


def fsync_tree(root):
    """fsync every file under `root`, then every folder (deepest first), so that the store's data
    and names are on disk. Returns the number of files."""
    files, folders = 0, []
    for folder, _, names in os.walk(root):
        folders.append(folder)
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            files += 1
    for folder in reversed(folders + [os.path.dirname(os.path.abspath(root))]):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return files


def level_zero(slide):
    """Shape, dtype, pixel bytes of level 0 (the first IFD) and the byte range of its tiles,
    widened to 4096-byte boundaries within the file (what kvikio reads)."""
    import tifffile
    with tifffile.TiffFile(slide) as tif:
        page = tif.pages[0]
        offsets = [o for o, n in zip(page.dataoffsets, page.databytecounts) if n]
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts) if n]
        shape, dtype = tuple(page.shape), np.dtype(page.dtype)
    size = os.path.getsize(slide)
    start = min(offsets) // 4096 * 4096
    end = min(size, -(-max(ends) // 4096) * 4096)
    return {"shape": shape, "dtype": dtype, "bytes": int(np.prod(shape)) * dtype.itemsize,
            "tile_start": start, "tile_end": end, "tiles": len(offsets), "file_bytes": size}


def scrub(text, ctx):
    """Text for the results files without this machine's folders: the work folder shown as $WORK,
    the output folder as $OUT, the repository root dropped (paths become relative to it)."""
    pairs = [(str(ROOT) + "/", ""), (str(ROOT), "."), (str(ctx.work), "$WORK")]
    if ctx.out_dir:
        pairs.append((ctx.out_dir, "$OUT"))
    for path, name in sorted(pairs, key=lambda pair: -len(pair[0])):  # the longest (innermost) first
        end = "" if path.endswith("/") else r"(?![\w.-])"  # whole folder names only
        text = re.sub(re.escape(path) + end, lambda _: name, text)
    return text


def normalize_command(command, ctx):
    """A command line for the results files (see scrub)."""
    return scrub(" ".join(shlex.quote(str(part)) for part in command), ctx)


class Budget:
    """Wall-clock budget of the whole command (the device gives 10 minutes a command)."""

    def __init__(self, deadline):
        self.deadline = deadline

    def left(self):
        return math.inf if self.deadline is None else self.deadline - time.time()

    def timeout(self, wanted):
        """A subprocess timeout: `wanted`, or less when the budget ends sooner (never under 5 s)."""
        return max(5.0, min(wanted, self.left() - 5))


class Sink:
    """Rows of one CSV kind, flushed to every destination as they come, so that a killed command
    still leaves the rows measured so far. `columns`: the CSV's columns (COLUMNS here; use case 3
    adds its own)."""

    def __init__(self, paths, meta, ctx, columns=COLUMNS):
        self.ctx = ctx
        self.columns = list(columns)
        self.files = []
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(path, "w", newline="")
            writer = csv.DictWriter(f, fieldnames=self.columns)
            writer.writeheader()
            self.files.append((f, writer))
        for key, value in meta.items():
            self.write({"use_case": "meta", "tool": key, "variant": value})
        self.paths = paths

    def write(self, row):
        full = {column: scrub(fmt(row.get(column)), self.ctx) for column in self.columns}
        for f, writer in self.files:
            writer.writerow(full)
            f.flush()

    def close(self):
        for f, _ in self.files:
            f.close()


class Context:
    def __init__(self, args):
        self.args = args
        self.bin = Path(args.bin)
        self.slide = Path(args.slide).resolve()
        self.work = Path(args.work).resolve()
        self.out_dir = str(Path(args.out_dir).resolve()) if args.out_dir else None
        self.runs = args.runs
        self.budget = Budget(args.deadline)
        self.dry = args.dry_run
        self.timeout = args.timeout
        self.level = None
        self.reference = {}  # the CPU read's checksum and .npy, for the pixel checks
        self.cupy = None
        self.cupy_error = None
        self.pinned_done = False  # measured once per command (--phase all runs both phases)

    def gpu(self):
        """cupy, initialised (context created, a tiny allocation done), or raises with the import
        error."""
        if self.cupy is None and self.cupy_error is None:
            try:
                import cupy
                cupy.zeros(1, dtype=cupy.uint8)
                cupy.cuda.runtime.deviceSynchronize()
                self.cupy = cupy
            except Exception as exc:  # ImportError, CUDA errors: every GPU variant becomes an error row
                self.cupy_error = f"cupy not usable: {error_text(exc)}"
        if self.cupy is None:
            raise RuntimeError(self.cupy_error)
        return self.cupy

    def free_gpu(self):
        if self.cupy is not None:
            self.cupy.get_default_memory_pool().free_all_blocks()
            self.cupy.get_default_pinned_memory_pool().free_all_blocks()


def drop_caches():
    """sync, then drop the page cache, dentries and inodes (root only)."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def run_json(command, timeout):
    """Runs a tilestream command that prints one JSON object on stdout; returns that object."""
    try:
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timeout after {timeout:.0f} s") from None
    if result.returncode != 0:
        raise RuntimeError(f"exit {result.returncode}: {one_line(result.stderr or result.stdout, 300)}")
    for line in reversed(result.stdout.splitlines()):
        if line.strip().startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON object on stdout (stdout: {one_line(result.stdout, 150)!r}; "
                       f"stderr: {one_line(result.stderr, 150)!r})")


def repeat(ctx, runs, one_run, label):
    """Calls one_run(i) up to `runs` times; stops early, with a note, when the next run would not
    fit the budget (estimated from the slowest run so far). Returns (results, error): results of
    the runs that finished, error text of the failure or stop ('' when all ran)."""
    results, walls = [], []
    for i in range(runs):
        if walls and ctx.budget.left() < 1.5 * max(walls) + 10:
            return results, f"stopped after {i} of {runs} runs: time budget ({ctx.budget.left():.0f} s left)"
        started = time.time()
        try:
            result = one_run(i)
        except Exception as exc:
            log(f"  {label} run {i + 1}: FAILED {error_text(exc)}")
            return results, error_text(exc)
        walls.append(time.time() - started)
        results.append(result)
        shown = result["seconds"] if isinstance(result, dict) and "seconds" in result else result
        log(f"  {label} run {i + 1}/{runs}: {shown if not isinstance(shown, float) else f'{shown:.4f} s'}")
    return results, ""


def emit(sink, fields, seconds, nbytes, error="", check="", detail="", command=None, ctx=None):
    """One CSV row from a configuration's per-run seconds."""
    row = dict(fields)
    mid = median(seconds)
    row.update({"bytes": nbytes, "runs_seconds": ";".join(f"{s:.6f}" for s in seconds),
                "median_seconds": mid, "gb_per_s": gb_per_s(nbytes, mid), "error": error,
                "checksum_or_check": check, "detail": detail})
    if command is not None:
        row["command"] = normalize_command(command, ctx)
    sink.write(row)
    speed = f"{row['gb_per_s']:.2f} GB/s" if row["gb_per_s"] else "-"
    log(f"= {fields.get('tool')} {fields.get('variant')}: "
        f"{'median ' + fmt(mid) + ' s, ' + speed if seconds else 'no run finished'}"
        f"{'; ERROR ' + error if error else ''}{'; ' + check if check else ''}")
    return row


def skipped(ctx, sink, *rows, need=15):
    """Records the rows as skipped when fewer than `need` seconds are left; True when skipped."""
    left = ctx.budget.left()
    if left >= need:
        return False
    for fields in rows:
        row = dict(fields)
        row["error"] = f"skipped: time budget ({left:.0f} s left)"
        sink.write(row)
        log(f"= {fields.get('tool')} {fields.get('variant')}: {row['error']}")
    return True


def dry_row(ctx, sink, fields, command=None):
    row = dict(fields)
    row["error"] = "dry run: not measured"
    if command is not None:
        row["command"] = normalize_command(command, ctx)
        log(f"would run: {row['command']}")
    else:
        log(f"would measure: {fields.get('tool')} {fields.get('variant')}")
    sink.write(row)


# --- physical limits ---

def limit_pinned(ctx, sink):
    """Pinned host <-> device copies of 1 GiB with cupy (cudaMemcpyAsync, timed with CUDA events),
    one untimed copy each way first."""
    rows = {"h2d_pinned": "host to device, pinned 1 GiB", "d2h_pinned": "device to host, pinned 1 GiB"}
    base = {"use_case": "limits", "tool": "cupy", "bytes": PINNED_BYTES}
    if ctx.pinned_done:
        return
    ctx.pinned_done = True
    if ctx.dry:
        for key in rows:
            dry_row(ctx, sink, {**base, "variant": key, "detail": rows[key]})
        return
    for key, what in rows.items():
        if skipped(ctx, sink, {**base, "variant": key}):
            continue
        seconds, error = [], ""
        try:
            cp = ctx.gpu()
            import cupyx
            host = cupyx.empty_pinned((PINNED_BYTES,), dtype=np.uint8)
            host[:] = 1
            dev = cp.empty(PINNED_BYTES, dtype=cp.uint8)
            stream = cp.cuda.Stream(non_blocking=True)
            kind = 1 if key == "h2d_pinned" else 2  # cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost
            dst, src = (dev.data.ptr, host.ctypes.data) if kind == 1 else (host.ctypes.data, dev.data.ptr)

            def copy(_):
                start, end = cp.cuda.Event(), cp.cuda.Event()
                start.record(stream)
                cp.cuda.runtime.memcpyAsync(dst, src, PINNED_BYTES, kind, stream.ptr)
                end.record(stream)
                end.synchronize()
                return cp.cuda.get_elapsed_time(start, end) / 1e3

            copy(0)
            seconds, error = repeat(ctx, ctx.runs, copy, key)
            del host, dev
        except Exception as exc:
            error = error_text(exc)
        ctx.free_gpu()
        emit(sink, {**base, "variant": key}, seconds, PINNED_BYTES, error=error, detail=what + ", CUDA events")


def run_dd(command, timeout):
    env = dict(os.environ, LC_ALL="C")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timeout after {timeout:.0f} s") from None
    if result.returncode != 0:
        raise RuntimeError(f"dd exit {result.returncode}: {one_line(result.stderr, 300)}")
    return parse_dd(result.stderr)


def limit_dd_read(ctx, sink):
    command = ["dd", f"if={ctx.slide}", "of=/dev/null", "bs=16M", "iflag=direct"]
    fields = {"use_case": "limits", "tool": "dd", "variant": "dd_direct_read", "cache": "cold", "io": "direct"}
    if ctx.dry:
        return dry_row(ctx, sink, fields, command)
    if skipped(ctx, sink, fields):
        return
    sizes = []

    def once(_):
        drop_caches()
        nbytes, seconds = run_dd(command, ctx.budget.timeout(ctx.timeout))
        sizes.append(nbytes)
        return seconds

    seconds, error = repeat(ctx, ctx.runs, once, "dd read")
    emit(sink, fields, seconds, sizes[-1] if sizes else None, error=error,
         detail="O_DIRECT read of the whole slide file, page cache dropped before each run", command=command, ctx=ctx)


def limit_dd_write(ctx, sink):
    nbytes = ctx.level["bytes"] * 4  # the float32 array, the largest write
    target = ctx.work / "dd.bin"
    command = ["dd", "if=/dev/zero", f"of={target}", "bs=16M", f"count={dd_write_count(nbytes)}", "oflag=direct",
               "conv=fsync"]
    fields = {"use_case": "limits", "tool": "dd", "variant": "dd_direct_write", "io": "direct", "fsync": 1}
    if ctx.dry:
        return dry_row(ctx, sink, fields, command)
    if skipped(ctx, sink, fields, need=30):
        return
    sizes = []

    def once(_):
        os.sync()
        try:
            written, seconds = run_dd(command, ctx.budget.timeout(ctx.timeout))
        finally:
            target.unlink(missing_ok=True)
        sizes.append(written)
        return seconds

    seconds, error = repeat(ctx, ctx.runs, once, "dd write")
    emit(sink, fields, seconds, sizes[-1] if sizes else None, error=error,
         detail="O_DIRECT write from /dev/zero with a final fsync, file deleted after each run", command=command,
         ctx=ctx)


def limit_threaded_read(ctx, sink, cache):
    """The slide read by 16 Python threads, os.preadv into one preallocated buffer (the GIL is
    released during the system call); one untimed pass first touches the buffer (and, warm, fills
    the page cache). Warm: the page-cache limit. Cold (page cache dropped before each run): what
    parallel buffered reads get from the disk, which a single O_DIRECT dd stream may understate."""
    fields = {"use_case": "limits", "tool": "python", "cache": cache, "threads": PAGE_CACHE_THREADS, "io": "posix",
              "variant": "page_cache_read_16t" if cache == "warm" else "cold_read_16t"}
    if ctx.dry:
        return dry_row(ctx, sink, fields)
    if skipped(ctx, sink, fields):
        return
    size = os.path.getsize(ctx.slide)
    seconds, error = [], ""
    try:
        buffer = np.empty(size, dtype=np.uint8)
        view = memoryview(buffer)
        piece = 8 << 20
        share = -(-size // PAGE_CACHE_THREADS // piece) * piece  # whole pieces per thread
        fd = os.open(ctx.slide, os.O_RDONLY)

        def worker(begin, end, failures):
            try:
                offset = begin
                while offset < end:
                    n = os.preadv(fd, [view[offset:min(end, offset + piece)]], offset)
                    if n <= 0:
                        raise OSError(f"short read at {offset}")
                    offset += n
            except Exception as exc:
                failures.append(exc)

        def once(_):
            if cache == "cold":
                drop_caches()
            failures = []
            threads = [threading.Thread(target=worker, args=(b, min(size, b + share), failures))
                       for b in range(0, size, share)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
            if failures:
                raise failures[0]
            return elapsed

        try:
            once(0)
            seconds, error = repeat(ctx, ctx.runs, once, f"threaded read {cache}")
        finally:
            os.close(fd)
    except Exception as exc:
        error = error_text(exc)
    emit(sink, fields, seconds, size, error=error,
         detail=f"whole slide file, {PAGE_CACHE_THREADS} threads x os.preadv of 8 MiB pieces, after one untimed pass"
                + ("; page cache dropped before each run" if cache == "cold" else ""))


# --- use case 1: level 0 to the GPU ---

def reference_read(ctx):
    """The CPU path once: checksum and pixels (.npy) every GPU variant is compared with."""
    npy = ctx.work / "level0.npy"
    command = [ctx.bin, "read", ctx.slide, "--level", 0, "--device", "cpu", "--io", "posix", "--threads", 16,
               "-o", npy, "--json"]
    if ctx.dry:
        log(f"would run: {normalize_command(command, ctx)}")
        return
    try:
        result = run_json(command, ctx.budget.timeout(ctx.timeout))
        ctx.reference = {"checksum": result.get("checksum"), "npy": npy}
        log(f"reference CPU read: {result.get('checksum')}")
    except Exception as exc:
        ctx.reference = {"error": error_text(exc)}
        log(f"reference CPU read FAILED: {ctx.reference['error']}")


def checksum_check(ctx, checksums):
    """'fnv1a64:... (= CPU read)', or the mismatch."""
    distinct = sorted(set(c for c in checksums if c))
    if not distinct:
        return "no checksum in the JSON"
    if len(distinct) > 1:
        return f"MISMATCH between runs: {' '.join(distinct)}"
    ref = ctx.reference.get("checksum")
    if not ref:
        return f"{distinct[0]} (no CPU reference: {ctx.reference.get('error', 'not run')})"
    return f"{distinct[0]} (= CPU read)" if distinct[0] == ref else f"{distinct[0]} MISMATCH (CPU read {ref})"


def baseline_read(ctx, sink, cache):
    """tifffile (its own threads) to host, cupy.asarray to the device, synchronised; timed in this
    process after cupy is initialised, the file opened outside the timing."""
    fields = {"use_case": "read", "tool": "baseline", "variant": f"tifffile+cupy {cache}", "dtype": "uint8",
              "threads": "tifffile default", "io": "posix", "cache": cache}
    if ctx.dry:
        return dry_row(ctx, sink, fields)
    if skipped(ctx, sink, fields):
        return
    seconds, error, check = [], "", ""
    try:
        import tifffile
        cp = ctx.gpu()
        kept = {}

        def once(i):
            with tifffile.TiffFile(ctx.slide) as tif:
                page = tif.pages[0]
                if cache == "cold":
                    drop_caches()
                start = time.perf_counter()
                host = page.asarray()
                dev = cp.asarray(host)
                cp.cuda.runtime.deviceSynchronize()
                elapsed = time.perf_counter() - start
            if i == 0 and cache == "warm":
                kept["host"] = host
            del dev
            return elapsed

        if cache == "warm":
            once(1)  # untimed warm-up: the page cache holds the file
        seconds, error = repeat(ctx, ctx.runs, once, f"baseline read {cache}")
        if "host" in kept:
            check = pixel_check(ctx, kept.pop("host"))
        elif cache == "cold" and seconds:
            check = "same code as the warm row, whose pixels were compared"
    except Exception as exc:
        error = error or error_text(exc)
    ctx.free_gpu()
    emit(sink, fields, seconds, ctx.level["bytes"], error=error, check=check,
         detail="tifffile TiffPage.asarray() (default maxworkers) + cupy.asarray + deviceSynchronize")


def pixel_check(ctx, host):
    npy = ctx.reference.get("npy")
    if not npy or not Path(npy).exists():
        return f"not compared: no CPU reference ({ctx.reference.get('error', 'missing')})"
    ours = np.load(npy, mmap_mode="r")
    if ours.shape != host.shape:
        return f"MISMATCH: shape {host.shape} vs tilestream {ours.shape}"
    equal = bool(np.array_equal(ours, host))
    return (f"pixels equal to tilestream's CPU read ({ctx.reference.get('checksum')})" if equal
            else "MISMATCH: pixels differ from tilestream's CPU read")


def tilestream_read(ctx, sink, io, threads, cache):
    base = [ctx.bin, "read", ctx.slide, "--level", 0, "--device", "cuda", "--io", io, "--threads", threads, "--json"]
    fields = {"use_case": "read", "tool": "tilestream", "variant": f"{io} {threads}t {cache}", "dtype": "uint8",
              "threads": threads, "io": io, "cache": cache}
    repeats = ctx.runs + 1 if cache == "warm" else 1
    command = base + ["--repeat", repeats]
    if ctx.dry:
        return dry_row(ctx, sink, fields, command)
    if skipped(ctx, sink, fields):
        return
    seconds, error, outputs = [], "", []
    if cache == "warm":
        # One process: the first repeat is the warm-up (page cache, reader buffers), dropped.
        try:
            result = run_json(command, ctx.budget.timeout(ctx.timeout))
            outputs.append(result)
            seconds = [float(s) for s in result["runs_seconds"]][1:]
            if len(seconds) != ctx.runs:
                error = f"expected {repeats} runs_seconds, got {len(result['runs_seconds'])}"
            log(f"  tilestream {io} {threads}t warm: {' '.join(f'{s:.4f}' for s in seconds)} s")
        except Exception as exc:
            error = error_text(exc)
    else:
        def once(_):
            drop_caches()
            result = run_json(command, ctx.budget.timeout(ctx.timeout))
            outputs.append(result)
            return float(result["runs_seconds"][0])

        seconds, error = repeat(ctx, ctx.runs, once, f"tilestream {io} {threads}t cold")
    nbytes = outputs[-1].get("bytes") if outputs else ctx.level["bytes"]
    detail = ""
    if outputs:
        last = outputs[-1]
        setup = median([float(o.get("setup_seconds", 0)) for o in outputs])
        detail = (f"io_detail: {last.get('io_detail', '')}; path: {last.get('path', '')}; "
                  f"file_bytes_read {last.get('file_bytes_read', '')}; setup {fmt(setup)} s (untimed)"
                  + ("; first of the repeats dropped as warm-up" if cache == "warm" else
                     "; one process per run, page cache dropped before each"))
    check = checksum_check(ctx, [o.get("checksum") for o in outputs]) if outputs else ""
    emit(sink, fields, seconds, nbytes, error=error, check=check, detail=detail, command=command, ctx=ctx)


def kvikio_read(ctx, sink, cache):
    """kvikio CuFile.pread of level 0's tile byte range into one device buffer, 16 threads."""
    fields = {"use_case": "read", "tool": "kvikio", "variant": f"CuFile.pread 16t {cache}", "dtype": "uint8",
              "threads": 16, "io": "kvikio", "cache": cache}
    if ctx.dry:
        return dry_row(ctx, sink, fields)
    if skipped(ctx, sink, fields):
        return
    try:
        import kvikio
        import kvikio.defaults
    except Exception as exc:
        carried = list((ROOT / ".whl").glob("kvikio*.whl"))
        reason = "" if carried else "kvikio wheels not carried (no .whl/kvikio*.whl); "
        fields["error"] = one_line(f"kvikio not available: {reason}{type(exc).__name__}: {exc}")
        sink.write(fields)
        log(f"= kvikio {cache}: {fields['error']}")
        return
    lv = ctx.level
    start_byte, nbytes = lv["tile_start"], lv["tile_end"] - lv["tile_start"]
    seconds, error, check, detail = [], "", "", ""
    try:
        cp = ctx.gpu()
        try:
            kvikio.defaults.set({"num_threads": 16})
        except Exception:
            kvikio.defaults.num_threads_reset(16)  # older kvikio
        buffer = cp.empty(nbytes, dtype=cp.uint8)

        def once(_):
            with kvikio.CuFile(ctx.slide, "r") as f:
                if cache == "cold":
                    drop_caches()
                start = time.perf_counter()
                got = f.pread(buffer, nbytes, start_byte).get()
                cp.cuda.runtime.deviceSynchronize()
                elapsed = time.perf_counter() - start
            if got != nbytes:
                raise RuntimeError(f"pread returned {got} of {nbytes} bytes")
            return elapsed

        if cache == "warm":
            once(0)
        seconds, error = repeat(ctx, ctx.runs, once, f"kvikio {cache}")
        if not seconds:
            raise RuntimeError(error)
        with open(ctx.slide, "rb") as f:
            f.seek(start_byte)
            expected = np.frombuffer(f.read(nbytes), dtype=np.uint8)
        check = ("device bytes equal the file's" if bool(np.array_equal(cp.asnumpy(buffer), expected))
                 else "MISMATCH: device bytes differ from the file's")
        try:
            mode = kvikio.defaults.get("compat_mode")
            mode = getattr(mode, "name", mode)
            preferred = kvikio.defaults.is_compat_mode_preferred()
        except Exception as exc:
            mode, preferred = f"? ({type(exc).__name__})", "?"
        detail = (f"kvikio {getattr(kvikio, '__version__', '?')}, compat_mode {mode} (compat mode preferred: "
                  f"{preferred}; libcufile: {os.environ.get('IO_BENCH_CUFILE', 'not recorded')}); bytes {start_byte}.."
                  f"{start_byte + nbytes} of the file (level 0's {lv['tiles']} tiles incl. edge padding)")
    except Exception as exc:
        error = error or error_text(exc)
    ctx.free_gpu()
    emit(sink, fields, seconds, nbytes, error=error, check=check, detail=detail)


def read_phase(ctx, sink, limits):
    log("== use case 1: level 0 to the GPU")
    npy = ctx.work / "level0.npy"
    npy.unlink(missing_ok=True)
    limit_pinned(ctx, limits)
    limit_threaded_read(ctx, limits, "warm")
    reference_read(ctx)
    baseline_read(ctx, sink, "warm")
    for io in READ_IOS:
        for threads in READ_THREADS:
            tilestream_read(ctx, sink, io, threads, "warm")
    kvikio_read(ctx, sink, "warm")
    limit_dd_read(ctx, limits)
    limit_threaded_read(ctx, limits, "cold")
    baseline_read(ctx, sink, "cold")
    for io in READ_IOS:
        for threads in READ_THREADS:
            tilestream_read(ctx, sink, io, threads, "cold")
    kvikio_read(ctx, sink, "cold")
    npy.unlink(missing_ok=True)


# --- use case 2: level 0 from the GPU to uncompressed Zarr v3 ---

def remove_store(path):
    shutil.rmtree(path, ignore_errors=True)
    os.sync()  # the deleted store's dirty pages are dropped, the rest flushed: the next run starts clean


def device_level(ctx, dtype):
    """Level 0 on the device in `dtype`: read with tifffile, uploaded, cast on the GPU (untimed)."""
    import tifffile
    cp = ctx.gpu()
    with tifffile.TiffFile(ctx.slide) as tif:
        host = tif.pages[0].asarray()
    dev = cp.asarray(host)
    if dtype != "uint8":
        dev = dev.astype(getattr(cp, dtype))
    cp.cuda.runtime.deviceSynchronize()
    return dev


def baseline_write(ctx, sink, dev, dtype, chunk, store):
    """cupy.asnumpy + zarr-python create_array + arr[...] = host (timed), then fsync of every file
    and folder (timed separately). Each run gives both rows: fsync 0 (write) and 1 (write + fsync).
    The last run's store is kept for the chunk comparison."""
    fields = {"use_case": "write", "tool": "baseline", "dtype": dtype, "chunk": chunk, "io": "posix"}
    rows = [{**fields, "variant": f"cupy.asnumpy+zarr-python {dtype} c{chunk}", "fsync": 0},
            {**fields, "variant": f"cupy.asnumpy+zarr-python {dtype} c{chunk} fsync", "fsync": 1}]
    if ctx.dry:
        for row in rows:
            dry_row(ctx, sink, row)
        return False
    if skipped(ctx, sink, *rows, need=30):
        return False
    results, error, detail = [], "", ""
    try:
        import zarr
        cp = ctx.gpu()
        if dev is None:
            raise RuntimeError("level 0 not on the device (see the error of the first baseline row)")
        detail = (f"zarr {zarr.__version__}, compressors=None, filters=None, write_empty_chunks=True, "
                  f"async.concurrency={zarr.config.get('async.concurrency')}, "
                  f"threading.max_workers={zarr.config.get('threading.max_workers')}; fsync = every file and folder "
                  f"after the write")

        def once(i):
            remove_store(store)
            start = time.perf_counter()
            host = cp.asnumpy(dev)
            array = zarr.create_array(store=str(store), shape=host.shape, chunks=(chunk, chunk, host.shape[2]),
                                      dtype=host.dtype, compressors=None, filters=None, zarr_format=3,
                                      fill_value=0, overwrite=True, config={"write_empty_chunks": True})
            array[...] = host
            written = time.perf_counter()
            del host
            files = fsync_tree(store)
            synced = time.perf_counter()
            return {"seconds": written - start, "write": written - start, "fsync": synced - written, "files": files}

        results, error = repeat(ctx, ctx.runs, once, f"baseline {dtype} c{chunk}")
    except Exception as exc:
        error = error or error_text(exc)
    nbytes = int(np.prod(ctx.level["shape"])) * np.dtype(dtype).itemsize
    writes = [r["write"] for r in results]
    totals = [r["write"] + r["fsync"] for r in results]
    files = results[-1]["files"] if results else ""
    emit(sink, rows[0], writes, nbytes, error=error, check="reference for the chunk comparison" if results else "",
         detail=f"{detail}; {files} files")
    emit(sink, rows[1], totals, nbytes, error=error,
         detail=f"{detail}; fsync part median {fmt(median([r['fsync'] for r in results]))} s")
    return bool(results)


def tilestream_write(ctx, sink, dtype, chunk, io, store, reference=None):
    """`tilestream convert` to Zarr v3 from device memory, one process per run, output removed and
    synced between runs (untimed). Each repetition runs twice: without --fsync (the fsync 0 row: its
    write_seconds) and with it (the fsync 1 row: write_seconds plus fsync_seconds, the wait for the
    commits still syncing after the last block; --fsync syncs each file at its commit, the store's one
    durability policy, so a run with it has no separate pass to subtract). When `reference`
    (zarr-python's store) is given, the last run's output is compared with it chunk file by chunk
    file."""
    command = [ctx.bin, "convert", ctx.slide, store, "--device", "cuda", "--io", io, "--threads", WRITE_THREADS,
               "--levels", 0, "--codec", "none", "--dtype", dtype, "--chunk", chunk, "--zarr-version", 3,
               "--layout", "yxc", "--mode", "global", "--overwrite", "--json", "--fsync"]
    base = {"use_case": "write", "tool": "tilestream", "dtype": dtype, "chunk": chunk, "threads": WRITE_THREADS,
            "io": io}
    rows = [{**base, "variant": f"{io} {dtype} c{chunk}", "fsync": 0},
            {**base, "variant": f"{io} {dtype} c{chunk} fsync", "fsync": 1}]
    if ctx.dry:
        for fields in rows:
            dry_row(ctx, sink, fields, command)
        return
    if skipped(ctx, sink, *rows, need=30):
        return
    outputs = []

    def once(_):
        remove_store(store)
        plain = run_json(command[:-1], ctx.budget.timeout(ctx.timeout))
        remove_store(store)
        result = run_json(command, ctx.budget.timeout(ctx.timeout))
        outputs.append(result)
        durable = float(result["write_seconds"]) + float(result.get("fsync_seconds") or 0)
        return {"seconds": durable, "write": float(plain["write_seconds"]), "durable": durable}

    results, error = repeat(ctx, ctx.runs, once, f"tilestream {io} {dtype} c{chunk} (write, then fsync)")
    check = ""
    if reference is not None:
        try:
            if not outputs or error:
                check = "not compared: tilestream failed"
            elif not reference.exists():
                check = "not compared: no zarr-python store (the baseline failed)"
            else:
                check = compare_chunk_stores(store, reference)
        except Exception as exc:
            check = f"compare failed: {error_text(exc)}"
        log(f"  chunk comparison {dtype} c{chunk}: {check}")
    nbytes = int(np.prod(ctx.level["shape"])) * np.dtype(dtype).itemsize
    if outputs and outputs[-1].get("array_bytes"):
        nbytes = int(outputs[-1]["array_bytes"])
    detail = ""
    if outputs:
        def part(key):
            return fmt(median([float(o.get(key) or 0) for o in outputs]))
        last = outputs[-1]
        from_device = sum(int(d.get('blocks_from_device') or 0) for d in last.get('datasets', []))
        detail = (f"io_detail: {last.get('io_detail', '')}; blocks written from device memory: {from_device} "
                  f"of {last.get('blocks', '')}; "
                  f"read {part('read_seconds')} s, write {part('write_seconds')} s, "
                  f"fsync {part('fsync_seconds')} s (medians; read not in the figure); bytes_written "
                  f"{last.get('bytes_written', '')} (the --fsync runs'); fsync 0 rows from runs without --fsync")
    emit(sink, rows[0], [r["write"] for r in results], nbytes, error=error, check=check, detail=detail,
         command=command, ctx=ctx)
    emit(sink, rows[1], [r["durable"] for r in results], nbytes, error=error, check=check, detail=detail,
         command=command, ctx=ctx)
    remove_store(store)


def write_phase(ctx, sink, limits, dtypes, chunks):
    log("== use case 2: level 0 from the GPU to uncompressed Zarr v3")
    theirs, ours = ctx.work / "baseline.zarr", ctx.work / "tilestream.zarr"
    if not ctx.dry:  # what an interrupted command may have left on the disk
        for store in (theirs, ours):
            remove_store(store)
        (ctx.work / "dd.bin").unlink(missing_ok=True)
    limit_pinned(ctx, limits)
    limit_dd_write(ctx, limits)
    for dtype in dtypes:
        dev, dev_error = None, ""
        if not ctx.dry:
            try:
                dev = device_level(ctx, dtype)
            except Exception as exc:
                dev_error = error_text(exc)
                log(f"level 0 to the device as {dtype} FAILED: {dev_error}")
        for chunk in chunks:
            log(f"-- {dtype}, chunk {chunk}")
            if dev_error:
                for fsync in (0, 1):
                    sink.write({"use_case": "write", "tool": "baseline", "dtype": dtype, "chunk": chunk, "io": "posix",
                                "variant": f"cupy.asnumpy+zarr-python {dtype} c{chunk}{' fsync' if fsync else ''}",
                                "fsync": fsync, "error": f"level 0 not on the device: {dev_error}"})
                have_reference = False
            else:
                have_reference = baseline_write(ctx, sink, dev, dtype, chunk, theirs)
            for io in WRITE_IOS:
                compare = io == "posix"
                tilestream_write(ctx, sink, dtype, chunk, io, ours, reference=theirs if compare else None)
                if compare:
                    remove_store(theirs)
            if not have_reference:
                remove_store(theirs)
        del dev
        ctx.free_gpu()


# --- the run ---

def command_output(command):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        return result.stdout.strip() if result.returncode == 0 else f"({command[0]} failed: {one_line(result.stderr, 80)})"
    except Exception as exc:
        return f"({command[0]} failed: {error_text(exc)})"


def package_version(name):
    try:
        module = __import__(name)
        return getattr(module, "__version__", "?")
    except Exception as exc:
        return f"not available ({type(exc).__name__})"


def run_metadata(ctx, phase, today):
    # TILESTREAM_COMMIT first: the tree sent to the GPU machine may carry stale git metadata.
    commit = os.environ.get("TILESTREAM_COMMIT") or command_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if commit.startswith("(") or not commit:
        commit = "unknown"
    meta = {
        "date": today,
        "started_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": command_output(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]),
        "driver": command_output(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]),
        "commit": commit,
        "phase": phase,
        "runs": ctx.runs,
        "host": f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
                f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM",
        "work_filesystem": command_output(["findmnt", "-no", "SOURCE,FSTYPE", "-T", str(ctx.work)]),
        "disk": command_output(["lsblk", "-dno", "NAME,MODEL,SIZE,ROTA"]).replace("\n", "; "),
        "slide": f"{ctx.slide.name}: level 0 {'x'.join(map(str, ctx.level['shape']))} {ctx.level['dtype']}, "
                 f"{ctx.level['bytes']} bytes, {ctx.level['tiles']} tiles, file {ctx.level['file_bytes']} bytes",
        "cufile": os.environ.get("IO_BENCH_CUFILE", "not recorded (run through bench/device/io_bench.sh)"),
        "versions": "; ".join(f"{name} {package_version(name)}" for name in
                              ("numpy", "cupy", "tifffile", "zarr", "numcodecs", "kvikio"))
                    + f"; Python {platform.python_version()}",
        "driver_command": "python3 " + normalize_command([Path(__file__).resolve().relative_to(ROOT), *sys.argv[1:]],
                                                         ctx),
    }
    if ctx.dry:
        meta["dry_run"] = "yes: nothing measured"
    return meta


def parse_list(text, kind, allowed=None):
    items = [kind(x) for x in text.split(",") if x.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"empty list: {text!r}")
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"{bad} not in {list(allowed)}")
    return items


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=("read", "write", "all"), default="all")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration; figures are medians (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 run, chunks 512 and 2048")
    parser.add_argument("--dtypes", type=lambda t: parse_list(t, str, DTYPES), default=list(DTYPES),
                        help="write phase dtypes, comma-separated (default float32,uint8)")
    parser.add_argument("--chunks", type=lambda t: parse_list(t, int), default=None,
                        help="write phase chunk sides, comma-separated (default 256,512,1024,2048)")
    parser.add_argument("--bin", default=str(ROOT / "build" / "gpu" / "tilestream"))
    parser.add_argument("--slide", help="the seed-shaped slide (default WORK/seed.tif)")
    parser.add_argument("--work", default="/tmp/tilestream-bench", help="scratch folder on the local disk")
    parser.add_argument("--out-dir", help="also write io_read.csv, io_write.csv, io_limits.csv here ($OUT)")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"),
                        help="dated CSVs go here (not in a dry run)")
    parser.add_argument("--deadline", type=float, help="epoch seconds by which the command must be done")
    parser.add_argument("--timeout", type=float, default=300, help="limit for one subprocess in seconds")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and commands, measure nothing")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.quick:
        args.runs = 1
        args.chunks = args.chunks or list(QUICK_CHUNKS)
    args.chunks = args.chunks or list(CHUNKS)
    if any(c <= 0 for c in args.chunks):
        parser.error("--chunks must be positive")
    args.slide = args.slide or str(Path(args.work) / "seed.tif")
    return args


def main(argv=None):
    args = parse_args(argv)
    ctx = Context(args)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    ctx.work.mkdir(parents=True, exist_ok=True)
    if not ctx.dry and not ctx.slide.exists():
        sys.exit(f"no slide at {ctx.slide}: write it with `tilestream synth {ctx.slide} --seed-shape`")
    if ctx.slide.exists():
        ctx.level = level_zero(ctx.slide)
    else:  # dry run without the slide: the seed shape
        ctx.level = {"shape": SEED_SHAPE, "dtype": np.dtype(np.uint8), "bytes": int(np.prod(SEED_SHAPE)),
                     "tile_start": 0, "tile_end": int(np.prod(SEED_SHAPE)), "tiles": 0, "file_bytes": 0}
    log(f"phase {args.phase}, {args.runs} runs, slide {ctx.slide} ({ctx.level['bytes'] / 1e6:.1f} MB level 0), "
        f"budget {ctx.budget.left():.0f} s")
    meta = run_metadata(ctx, args.phase, today)
    for key, value in meta.items():
        log(f"meta {key}: {value}")

    def destinations(name):
        paths = [Path(args.out_dir) / f"io_{name}.csv"] if args.out_dir else []
        if not ctx.dry:
            paths.append(Path(args.results) / f"io_{name}_{today}.csv")
        return paths

    limits = Sink(destinations("limits"), meta, ctx)
    try:
        if args.phase in ("read", "all"):
            reads = Sink(destinations("read"), meta, ctx)
            try:
                read_phase(ctx, reads, limits)
            finally:
                reads.close()
        if args.phase in ("write", "all"):
            writes = Sink(destinations("write"), meta, ctx)
            try:
                write_phase(ctx, writes, limits, args.dtypes, args.chunks)
            finally:
                writes.close()
    finally:
        limits.close()
    log(f"done in {time.time() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
