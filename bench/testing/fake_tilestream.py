#!/usr/bin/env python3
"""CPU stand-in for the `tilestream` CLI as bench/gpu_io_bench.py calls it (the issue 4 contract:
`synth --seed-shape`, `read ... --repeat R --json`, `convert ... --dtype D --json`), so that the
driver can be tested end to end without a GPU (bench/testing/test_io_bench.py). Its flags are
parsed strictly, so a test fails when the driver passes a flag outside the contract.

Environment: FAKE_TILESTREAM_SHAPE=HxW (level 0, default 1000x1300), FAKE_TILESTREAM_FAIL_IO=gds
(that --io fails like a machine without cuFile), FAKE_TILESTREAM_CORRUPT=1 (convert flips one byte
of chunk c/0/0/0, to test the chunk comparison).
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
    if (args.device, args.levels, args.codec, args.zarr_version, args.layout) != ("cuda", "0", "none", 3, "yxc"):
        sys.exit("error: the fake converts only --device cuda --levels 0 --codec none --zarr-version 3 --layout yxc")
    if os.path.exists(args.output) and os.listdir(args.output) and not args.overwrite:
        sys.exit(f"error: {args.output} is not empty (use --overwrite)")
    start = time.perf_counter()
    with tifffile.TiffFile(args.input) as tif:
        data = tif.pages[0].asarray().astype(args.dtype)
    ready = time.perf_counter()
    group = zarr.open_group(args.output, mode="w", zarr_format=3)
    array = group.create_array("0", shape=data.shape, chunks=(args.chunk, args.chunk, data.shape[2]), dtype=data.dtype,
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
    p.add_argument("--fsync", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--json", action="store_true", required=True)
    p.set_defaults(run=convert)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
