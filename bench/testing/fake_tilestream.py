#!/usr/bin/env python3
"""CPU stand-in for the `tilestream` CLI as bench/gpu_io_bench.py and bench/gpu_process_bench.py
call it (the issue 4 contract: `synth --seed-shape`, `read ... --repeat R --json`, `convert ...
--dtype D --levels L --json`; issue 5: `process IN OUT --op OP --mode M --chunk C ... --json`), so
that the drivers can be tested end to end without a GPU (bench/testing/test_io_bench.py,
test_process_bench.py). Its flags are parsed strictly, so a test fails when a driver passes a flag
outside the contract. `process` computes its ops with scikit-image on the CPU (the semantics the real
ops follow, tests/python/test_ops_skimage.py) and reports a made-up peak device memory: the level and
its result in global mode, a twentieth of that in tiled mode.

Environment: FAKE_TILESTREAM_SHAPE=HxW (level 0, default 1000x1300), FAKE_TILESTREAM_FAIL_IO=gds
(that --io fails like a machine without cuFile), FAKE_TILESTREAM_CORRUPT=1 (convert flips one byte
of chunk c/0/0/0, to test the chunk comparison; process adds 1 to its first sample).
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import tifffile


def shape():
    h, w = (int(x) for x in os.environ.get("FAKE_TILESTREAM_SHAPE", "1000x1300").split("x"))
    return h, w, 3


def checksum(data):
    """Not FNV-1a (too slow in Python): a stand-in with the same meaning (equal bytes, equal sum)."""
    return "fnv1a64:" + hashlib.blake2b(np.ascontiguousarray(data).tobytes(), digest_size=8).hexdigest()


def fail_if_asked(io):
    if io == os.environ.get("FAKE_TILESTREAM_FAIL_IO"):
        sys.exit(f"error: io backend '{io}': cuFile driver not loaded (fake)")


def synth(args):
    rng = np.random.default_rng(1)
    h, w, c = shape()
    level0 = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
    with tifffile.TiffWriter(args.out) as tif:
        tif.write(level0, tile=(256, 256), photometric="rgb", compression=None)
        tif.write(level0[::2, ::2], tile=(256, 256), photometric="rgb", compression=None, subfiletype=1)


def read(args):
    if args.device == "cpu" and args.io != "posix":
        sys.exit("error: --device cpu reads with --io posix only")
    fail_if_asked(args.io)
    setup_start = time.perf_counter()
    tif = tifffile.TiffFile(args.file)
    page = tif.pages[args.level]
    setup = time.perf_counter() - setup_start
    runs, data = [], None
    for _ in range(args.repeat):
        start = time.perf_counter()
        data = page.asarray(maxworkers=args.threads)
        runs.append(time.perf_counter() - start)
    tif.close()
    if args.output:
        np.save(args.output, data)
    print(f"read level {args.level}: fake", file=sys.stderr)
    out = {"command": "read", "file": args.file, "level": args.level,
           "device": "cpu" if args.device == "cpu" else "cuda:0", "io": args.io, "io_detail": f"{args.io} (fake)",
           "path": "fake CPU stand-in", "threads": args.threads, "bytes": int(data.nbytes),
           "file_bytes_read": int(sum(page.databytecounts)), "setup_seconds": setup, "runs_seconds": runs,
           "checksum": checksum(data)}
    if args.json:
        print(json.dumps(out))


def fsync_tree(root):
    for folder, _, names in os.walk(root):
        for name in names + ["."]:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)


def convert(args):
    import zarr
    fail_if_asked(args.io)
    if (args.device, args.codec, args.zarr_version, args.layout) != ("cuda", "none", 3, "yxc") or \
            args.levels not in ("0", "1"):
        sys.exit("error: the fake converts only --device cuda --levels 0 or 1 --codec none --zarr-version 3 --layout yxc")
    if os.path.exists(args.output) and os.listdir(args.output) and not args.overwrite:
        sys.exit(f"error: {args.output} is not empty (use --overwrite)")
    start = time.perf_counter()
    with tifffile.TiffFile(args.input) as tif:
        data = tif.pages[int(args.levels)].asarray().astype(args.dtype)
    ready = time.perf_counter()
    group = zarr.open_group(args.output, mode="w", zarr_format=3)
    array = group.create_array(args.levels, shape=data.shape, chunks=(args.chunk, args.chunk, data.shape[2]), dtype=data.dtype,
                               compressors=None, filters=None, fill_value=0, config={"write_empty_chunks": True})
    array[...] = data
    written = time.perf_counter()
    if os.environ.get("FAKE_TILESTREAM_CORRUPT") == "1":
        with open(os.path.join(args.output, "0", "c", "0", "0", "0"), "r+b") as f:
            byte = f.read(1)
            f.seek(0)
            f.write(bytes([byte[0] ^ 0xFF]))
    if args.fsync:
        fsync_tree(args.output)
    synced = time.perf_counter()
    out = {"command": "convert", "device": "cuda:0", "io": args.io, "io_detail": f"{args.io} (fake)",
           "dtype": args.dtype, "chunk": args.chunk, "threads": args.threads, "read_seconds": ready - start,
           "write_seconds": written - ready, "fsync_seconds": synced - written if args.fsync else 0.0,
           "bytes_written": int(data.nbytes), "array_bytes": int(data.nbytes)}
    if args.json:
        print(json.dumps(out))


def per_channel(function, image):
    return np.stack([function(image[..., c]) for c in range(image.shape[-1])], axis=-1)


def downsample2x(image):
    """Mean of each 2x2 block, partial blocks at odd edges, rounded half up (ops/downsample2x)."""
    h, w, c = image.shape
    big_h, big_w = 2 * ((h + 1) // 2), 2 * ((w + 1) // 2)
    total = np.zeros((big_h, big_w, c), np.int64)
    count = np.zeros((big_h, big_w, 1), np.int64)
    total[:h, :w], count[:h, :w] = image, 1
    total = total.reshape(big_h // 2, 2, big_w // 2, 2, c).sum(axis=(1, 3))
    count = count.reshape(big_h // 2, 2, big_w // 2, 2, 1).sum(axis=(1, 3))
    return ((2 * total + count) // (2 * count)).astype(image.dtype)


def run_op(spec, image):
    from skimage import color, filters, util
    name, _, parameter = spec.partition(":")
    if name == "sobel":
        return per_channel(filters.sobel, image).astype(np.float32)
    if name == "gaussian" and parameter == "sigma=2.5":
        return util.img_as_ubyte(filters.gaussian(image, sigma=2.5, truncate=4.0, channel_axis=-1))
    if name == "median" and parameter == "size=5":
        return per_channel(lambda a: filters.median(a, footprint=np.ones((5, 5), bool)), image)
    if name == "absorbance":
        return -np.log(np.clip(image.astype(np.float32), 1, 255) / np.float32(255))
    if name == "grayscale":
        return color.rgb2gray(image).astype(np.float32)[..., np.newaxis]
    if name == "downsample2x":
        return downsample2x(image)
    sys.exit(f"error: the fake knows no op '{spec}'")


def process(args):
    import zarr
    fail_if_asked(args.io)
    if os.path.exists(args.output) and os.listdir(args.output) and not args.overwrite:
        sys.exit(f"error: {args.output} is not empty: pass --overwrite to replace it")
    start = time.perf_counter()
    with tifffile.TiffFile(args.input) as tif:
        data = tif.pages[0].asarray()
    source = data
    for spec in args.op:
        data = run_op(spec, data)
    if os.environ.get("FAKE_TILESTREAM_CORRUPT") == "1":
        data.flat[0] += 1
    array = zarr.create_array(store=args.output, shape=data.shape, chunks=(args.chunk, args.chunk, data.shape[2]),
                              dtype=data.dtype, compressors=None, filters=None, fill_value=0, zarr_format=3,
                              overwrite=True, dimension_names=("y", "x", "c"), config={"write_empty_chunks": True})
    array[...] = data
    if args.fsync:
        fsync_tree(args.output)
    seconds = time.perf_counter() - start
    chunk_bytes = args.chunk * args.chunk * data.shape[2] * data.dtype.itemsize
    chunks = -(-data.shape[0] // args.chunk) * -(-data.shape[1] // args.chunk)
    whole = (source.nbytes + data.nbytes) / 1e6
    out = {"command": "process", "input": args.input, "output": args.output, "ops": args.op, "mode": args.mode,
           "device": "cuda:0", "level": 0, "chunk": args.chunk, "threads": args.threads,
           "workers": 4 if args.mode == "tiled" else args.threads,
           "memory_budget": (1 << 30) if args.mode == "tiled" else 0, "task_bytes": 3 * chunk_bytes,
           "bytes_in_flight": 12 * chunk_bytes, "zarr_version": 3, "codec": "none", "fsync": args.fsync,
           "source": {"shape": list(source.shape), "dtype": str(source.dtype)},
           "result": {"shape": list(data.shape), "dtype": str(data.dtype)}, "chunks": chunks,
           "bytes_written": chunks * chunk_bytes, "input_mb": source.nbytes / 1e6, "output_mb": data.nbytes / 1e6,
           "total_seconds": seconds, "input_mb_per_s": source.nbytes / 1e6 / seconds, "peak_rss_mb": 100.0,
           "peak_device_mb": whole if args.mode == "global" else whole / 20, "io_detail": f"{args.io} (fake)"}
    if args.json:
        print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser(prog="tilestream (fake)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("synth")
    p.add_argument("out")
    p.add_argument("--seed-shape", action="store_true", required=True)
    p.set_defaults(run=synth)
    p = sub.add_parser("read")
    p.add_argument("file")
    p.add_argument("--level", type=int, required=True)
    p.add_argument("--device", choices=("cpu", "cuda"), required=True)
    p.add_argument("--io", choices=("posix", "direct", "gds", "auto"), required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("-o", "--output")
    p.add_argument("--json", action="store_true", required=True)
    p.set_defaults(run=read)
    p = sub.add_parser("convert")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--device", required=True)
    p.add_argument("--io", choices=("posix", "gds", "auto"), required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--levels", required=True)
    p.add_argument("--codec", required=True)
    p.add_argument("--chunk", type=int, required=True)
    p.add_argument("--zarr-version", type=int, required=True)
    p.add_argument("--layout", required=True)
    p.add_argument("--dtype", choices=("uint8", "float32"), required=True)
    p.add_argument("--mode", choices=("global", "tiled"), default="tiled")
    p.add_argument("--fsync", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--json", action="store_true", required=True)
    p.set_defaults(run=convert)
    p = sub.add_parser("process")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--op", action="append", required=True)
    p.add_argument("--mode", choices=("global", "tiled"), required=True)
    p.add_argument("--chunk", type=int, required=True)
    p.add_argument("--device", choices=("cuda",), required=True)
    p.add_argument("--io", choices=("posix", "direct", "gds", "auto"), required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--zarr-version", type=int, choices=(3,), required=True)
    p.add_argument("--codec", choices=("none",), required=True)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--fsync", action="store_true")
    p.add_argument("--json", action="store_true", required=True)
    p.set_defaults(run=process)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
