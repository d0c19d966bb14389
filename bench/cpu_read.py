#!/usr/bin/env python3
"""CPU benchmark: decode a full level of a JPEG slide with tilestream and with tifffile, same file,
same number of threads, same run. Writes a markdown table and CSV into bench/results/.

Usage (from the repo root, after scripts/build.sh release):
    .venv/bin/python bench/cpu_read.py [--threads 2] [--runs 5] [--bin build/release/tilestream]

Timings exclude process start and file open on both sides: tilestream's own timing line (decode
of the level into host memory) against tifffile's TiffPage.asarray(maxworkers=N).
"""
import argparse
import csv
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"


def tilestream_seconds(binary, path, threads, out):
    result = subprocess.run([binary, "read", str(path), "--level", "0", "--threads", str(threads), "-o", out],
                            capture_output=True, text=True, check=True)
    match = re.search(r" in ([0-9.]+) s ", result.stderr)
    if not match:
        sys.exit(f"cannot parse tilestream's timing line: {result.stderr!r}")
    return float(match.group(1))


def tifffile_seconds(path, threads):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        start = time.perf_counter()
        data = page.asarray(maxworkers=threads)
        return time.perf_counter() - start, data


def decoder_versions():
    """libjpeg-turbo on each side: Debian's for tilestream, the one bundled in imagecodecs' wheel."""
    try:
        ours = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libjpeg62-turbo"],
                              capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        ours = "unknown"
    import imagecodecs
    theirs = next((v.strip() for v in imagecodecs.version().split(",") if "jpeg_turbo" in v), "unknown")
    return f"tilestream: Debian libjpeg62-turbo {ours}; tifffile: imagecodecs {imagecodecs.__version__} with {theirs}"




def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bin", default=str(ROOT / "build" / "release" / "tilestream"))
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tilestream-bench-"))
    slides = []
    synthetic = work / "synthetic-jpeg-8192x6144.tif"
    subprocess.run([args.bin, "synth", str(synthetic), "--size", "8192x6144", "--tile", "256",
                    "--compression", "jpeg", "--quality", "90", "--aperio"], check=True, capture_output=True)
    slides.append(("synthetic 8192x6144, 256 tiles, JPEG q90 (YCbCr 4:2:0)", synthetic))
    svs = TESTDATA / "aperio" / "CMU-1-Small-Region.svs"
    if svs.exists():
        slides.append(("CMU-1-Small-Region.svs 2220x2967, 240 tiles, JPEG (RGB)", svs))

    rows = []
    out = str(work / "level0.npy")
    for label, path in slides:
        tilestream_seconds(args.bin, path, args.threads, out)  # warm the page cache on both sides
        tifffile_seconds(path, args.threads)
        ours = [tilestream_seconds(args.bin, path, args.threads, out) for _ in range(args.runs)]
        theirs = []
        for _ in range(args.runs):
            seconds, reference = tifffile_seconds(path, args.threads)
            theirs.append(seconds)
        decoded = np.load(out)
        max_diff = int(np.abs(decoded.astype(np.int16) - reference.astype(np.int16)).max())
        megabytes = decoded.nbytes / 1e6
        rows.append({
            "slide": label, "megabytes": round(megabytes, 1), "threads": args.threads,
            "tilestream_s": round(statistics.median(ours), 4),
            "tifffile_s": round(statistics.median(theirs), 4),
            "speedup": round(statistics.median(theirs) / statistics.median(ours), 2),
            "max_abs_diff": max_diff,
        })
        print(rows[-1], flush=True)

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    today = datetime.date.today().isoformat()
    stem = results / f"cpu_read_{today}"
    with open(stem.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(stem.with_suffix(".md"), "w") as f:
        f.write(f"# CPU full-level read: tilestream vs tifffile ({today})\n\n")
        f.write(f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n")
        f.write(f"- tilestream `read --level 0 --threads {args.threads}` (its own decode timing) vs "
                f"tifffile {tifffile.__version__} `TiffPage.asarray(maxworkers={args.threads})` "
                f"(imagecodecs, libjpeg-turbo); file open excluded on both sides; page cache warm\n")
        f.write(f"- JPEG decoders: {decoder_versions()}\n")
        f.write(f"- median of {args.runs} runs each, same files, same run; max_abs_diff compares the pixels\n")
        f.write(f"- command: `.venv/bin/python bench/cpu_read.py --threads {args.threads} --runs {args.runs}`\n\n")
        f.write("| slide | MB decoded | threads | tilestream s | tifffile s | tifffile / tilestream | max abs diff |\n")
        f.write("| --- | --- | --- | --- | --- | --- | --- |\n")
        for r in rows:
            f.write(f"| {r['slide']} | {r['megabytes']} | {r['threads']} | {r['tilestream_s']} | "
                    f"{r['tifffile_s']} | {r['speedup']}x | {r['max_abs_diff']} |\n")
    print(f"wrote {stem}.md and .csv")


if __name__ == "__main__":
    main()
