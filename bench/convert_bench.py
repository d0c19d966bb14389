#!/usr/bin/env python3
"""Convert benchmark: a JPEG slide to OME-Zarr v3 with zstd, by `tilestream convert` and by
tifffile + zarr-python doing the same job, same file, same number of threads, same run. Writes a
markdown table and CSV into bench/results/.

Usage (from the repo root, after scripts/build.sh release):
    .venv/bin/python bench/convert_bench.py [--threads 2] [--runs 3] [--bin build/release/tilestream]

Every run is a fresh process under /usr/bin/time: wall time is the whole process (start, imports,
reading, encoding, writing, exit) and peak RSS its maximum resident set. The baseline writes the
datasets tilestream wrote (same shapes, chunks, zstd level, group attributes, read from tilestream's
output): slide levels through tifffile (`asarray(maxworkers=N)`), missing levels by a numpy 2x2
mean, arrays through zarr-python with its concurrency limited to N. Outputs are removed between
runs (untimed); one untimed warm-up run of each side fills the page cache.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
STATS = re.compile(r"converted (\d+) arrays(?: on [^,]+)?, (\d+) blocks \((\d+) skipped\), ([0-9.]+) MB in ([0-9.]+) s "
                   r"\(([0-9.]+) MB/s\), (?:peak device memory [0-9.]+ MB, )?peak RSS ([0-9.]+) MB")


# --- the baseline job, run as `convert_bench.py --baseline ...` in its own process ---

def downsample_2x(cyx):
    """Mean of each 2x2 block, rounded half up; at odd edges the partial block's mean (replicating
    the last row / column gives exactly that)."""
    c, h, w = cyx.shape
    padded = np.pad(cyx, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge").astype(np.uint16)
    sums = padded[:, 0::2, 0::2] + padded[:, 1::2, 0::2] + padded[:, 0::2, 1::2] + padded[:, 1::2, 1::2]
    return ((sums + 2) // 4).astype(cyx.dtype)


def baseline_job(slide, out, plan_path, threads):
    started = time.perf_counter()
    import tifffile
    import zarr
    from zarr.codecs import ZstdCodec

    zarr.config.set({"async.concurrency": threads, "threading.max_workers": threads})
    plan = json.loads(Path(plan_path).read_text())
    job_started = time.perf_counter()
    root = zarr.create_group(out, zarr_format=3, attributes=plan["attributes"], overwrite=True)
    with tifffile.TiffFile(slide) as tif:
        levels = tif.series[0].levels
        previous = None
        for dataset in plan["datasets"]:
            c, h, w = dataset["shape"]
            level = next((lv for lv in levels if lv.shape[:2] == (h, w)), None)
            if level is not None:
                cyx = np.moveaxis(level.asarray(maxworkers=threads), -1, 0)
            else:
                cyx = downsample_2x(previous)
            array = root.create_array(dataset["path"], shape=(c, h, w), chunks=dataset["chunks"], dtype=cyx.dtype,
                                      compressors=ZstdCodec(level=plan["zstd_level"]), fill_value=0,
                                      dimension_names=("c", "y", "x"))
            array[...] = cyx
            previous = cyx
    done = time.perf_counter()
    print(json.dumps({"job_s": done - job_started, "startup_s": job_started - started}))


# --- measurement ---

def measured(command):
    """(wall seconds, CPU seconds (user + system), peak RSS MB, stdout, stderr) of one fresh process
    under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", report.name, *map(str, command)],
                                capture_output=True, text=True)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stderr}")
        peak_kb, user, system = report.read().strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(peak_kb) / 1024, result.stdout, result.stderr


def tilestream_command(binary, slide, out, threads, chunk):
    return [binary, "convert", slide, out, "--ome", "--zarr-version", 3, "--codec", "zstd", "--threads", threads,
            "--chunk", chunk]


def read_plan(out):
    """What tilestream wrote, for the baseline to write the same: group attributes, each dataset's
    shape and chunks, the zstd level."""
    group = json.loads((out / "zarr.json").read_text())
    datasets, level = [], None
    for entry in group["attributes"]["ome"]["multiscales"][0]["datasets"]:
        meta = json.loads((out / entry["path"] / "zarr.json").read_text())
        chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
        codecs = meta["codecs"]
        if codecs[0]["name"] == "sharding_indexed":
            sys.exit("tilestream wrote shards; the baseline only writes plain chunks")
        zstd = [c for c in codecs if c["name"] == "zstd"]
        if len(zstd) != 1:
            sys.exit(f"expected one zstd codec in {entry['path']}/zarr.json, found {codecs}")
        level = zstd[0]["configuration"]["level"]
        datasets.append({"path": entry["path"], "shape": meta["shape"], "chunks": chunks})
    return {"attributes": group["attributes"], "datasets": datasets, "zstd_level": level}


def compare_outputs(ours, theirs):
    """Equal dataset shapes, and the largest pixel difference per dataset."""
    import zarr
    a, b = zarr.open_group(ours, mode="r"), zarr.open_group(theirs, mode="r")
    assert sorted(a.array_keys()) == sorted(b.array_keys()), (list(a.array_keys()), list(b.array_keys()))
    diffs = {}
    for key in sorted(a.array_keys(), key=int):
        assert a[key].shape == b[key].shape, f"dataset {key}: {a[key].shape} vs {b[key].shape}"
        x, y = a[key][...], b[key][...]
        diffs[key] = int(np.abs(x.astype(np.int16) - y.astype(np.int16)).max())
    return diffs


def directory_megabytes(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6




def versions():
    import imagecodecs
    import numcodecs
    import tifffile
    import zarr
    try:
        zstd = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libzstd1"], capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        zstd = "unknown"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return (f"tilestream {commit} (Debian libzstd1 {zstd}); zarr {zarr.__version__}, numcodecs {numcodecs.__version__}, "
            f"tifffile {tifffile.__version__}, imagecodecs {imagecodecs.__version__}, numpy {np.__version__}, "
            f"Python {platform.python_version()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="16384x12288", help="synthetic slide size WIDTHxHEIGHT")
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--bin", default=str(ROOT / "build" / "release" / "tilestream"))
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--work", help="scratch folder (default: a new temporary folder, removed at the end)")
    parser.add_argument("--baseline", nargs=3, metavar=("SLIDE", "OUT", "PLAN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        return baseline_job(*args.baseline, args.threads)

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tilestream-convert-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    slide = work / f"synthetic-jpeg-{args.size}.tif"
    if not slide.exists():
        subprocess.run([args.bin, "synth", str(slide), "--size", args.size, "--tile", "256", "--compression", "jpeg",
                        "--quality", "90", "--aperio"], check=True, capture_output=True)
    ours_out, theirs_out, plan_path = work / "tilestream.zarr", work / "baseline.zarr", work / "plan.json"

    def run_ours():
        shutil.rmtree(ours_out, ignore_errors=True)
        wall, cpu, rss, _, stderr = measured(tilestream_command(args.bin, slide, ours_out, args.threads, args.chunk))
        match = STATS.search(stderr)
        if not match:
            sys.exit(f"cannot parse tilestream's final line: {stderr!r}")
        return {"wall": wall, "cpu": cpu, "rss": rss, "job": float(match.group(5)), "own_rss": float(match.group(7)),
                "mb": float(match.group(4))}

    def run_theirs():
        shutil.rmtree(theirs_out, ignore_errors=True)
        wall, cpu, rss, stdout, _ = measured([sys.executable, __file__, "--threads", args.threads,
                                         "--baseline", slide, theirs_out, plan_path])
        return {"wall": wall, "cpu": cpu, "rss": rss, "job": json.loads(stdout.strip().splitlines()[-1])["job_s"]}

    run_ours()  # warm-up (page cache), and the output whose layout the baseline copies
    plan = read_plan(ours_out)
    plan_path.write_text(json.dumps(plan))
    run_theirs()
    ours, theirs = [], []
    for _ in range(args.runs):  # interleaved, so that drift hits both sides alike
        ours.append(run_ours())
        theirs.append(run_theirs())
        print(f"tilestream {ours[-1]['wall']:.2f} s (CPU {ours[-1]['cpu']:.2f} s) {ours[-1]['rss']:.0f} MB | "
              f"tifffile+zarr {theirs[-1]['wall']:.2f} s (CPU {theirs[-1]['cpu']:.2f} s) {theirs[-1]['rss']:.0f} MB",
              flush=True)

    diffs = compare_outputs(ours_out, theirs_out)
    if diffs["0"] > 2:
        sys.exit(f"dataset 0 differs by {diffs['0']} (> 2) between the two outputs")

    def median(rows, key):
        return statistics.median(r[key] for r in rows)

    c, h, w = plan["datasets"][0]["shape"]
    row = {
        "slide": f"synthetic {w}x{h}, 256 tiles, JPEG q90 (YCbCr 4:2:0)",
        "decoded_mb": round(c * h * w / 1e6, 1),
        "datasets": len(plan["datasets"]),
        "chunk": args.chunk,
        "zstd_level": plan["zstd_level"],
        "threads": args.threads,
        "tilestream_s": round(median(ours, "wall"), 3),
        "baseline_s": round(median(theirs, "wall"), 3),
        "ratio": round(median(theirs, "wall") / median(ours, "wall"), 2),
        "tilestream_job_s": round(median(ours, "job"), 3),
        "baseline_job_s": round(median(theirs, "job"), 3),
        "tilestream_cpu_s": round(median(ours, "cpu"), 2),
        "baseline_cpu_s": round(median(theirs, "cpu"), 2),
        "tilestream_peak_rss_mb": round(median(ours, "rss")),
        "tilestream_reported_peak_rss_mb": round(median(ours, "own_rss")),
        "baseline_peak_rss_mb": round(median(theirs, "rss")),
        "tilestream_output_mb": round(directory_megabytes(ours_out), 1),
        "baseline_output_mb": round(directory_megabytes(theirs_out), 1),
        "max_abs_diff_dataset0": diffs["0"],
        "max_abs_diff_all": max(diffs.values()),
    }
    print(row, flush=True)

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    today = datetime.date.today().isoformat()
    stem = results / f"convert_{today}"
    with open(stem.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    command = " ".join(map(str, tilestream_command("tilestream", "SLIDE", "out.zarr", args.threads, args.chunk)))
    with open(stem.with_suffix(".md"), "w") as f:
        f.write(f"# Slide to OME-Zarr v3 (zstd): tilestream convert vs tifffile + zarr-python ({today})\n\n")
        f.write(f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n")
        f.write(f"- versions: {versions()}\n")
        f.write(f"- tilestream: `{command}`\n")
        f.write(f"- baseline: tifffile `asarray(maxworkers={args.threads})` per stored level, numpy 2x2 mean for levels "
                f"the slide lacks, zarr-python `create_group` / `create_array` with `ZstdCodec(level={plan['zstd_level']})`, "
                f"the same chunks and OME 0.5 attributes, `zarr.config` async.concurrency = threading.max_workers = "
                f"{args.threads}\n")
        f.write(f"- each run a fresh process under /usr/bin/time: wall = whole process, peak RSS = its max resident "
                f"set; job = tilestream's own timing / the baseline's time after imports; CPU = user + system; median of {args.runs} "
                f"interleaved runs, after one untimed warm-up each; page cache warm\n")
        f.write(f"- tilestream's own peak RSS line (VmHWM): {row['tilestream_reported_peak_rss_mb']} MB; output sizes "
                f"on disk: tilestream {row['tilestream_output_mb']} MB, baseline {row['baseline_output_mb']} MB\n")
        f.write(f"- outputs checked: equal dataset shapes; max |diff| dataset 0 = {row['max_abs_diff_dataset0']}, "
                f"all datasets = {row['max_abs_diff_all']}\n")
        f.write(f"- command: `.venv/bin/python bench/convert_bench.py --threads {args.threads} --runs {args.runs} "
                f"--size {args.size} --chunk {args.chunk}`\n\n")
        f.write("| slide | MB decoded | datasets | threads | tilestream s | baseline s | baseline / tilestream | "
                "tilestream job s | baseline job s | tilestream CPU s | baseline CPU s | tilestream peak RSS MB | baseline peak RSS MB | output MB (ts / baseline) |\n")
        f.write("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
        r = row
        f.write(f"| {r['slide']} | {r['decoded_mb']} | {r['datasets']} | {r['threads']} | {r['tilestream_s']} | "
                f"{r['baseline_s']} | {r['ratio']}x | {r['tilestream_job_s']} | {r['baseline_job_s']} | "
                f"{r['tilestream_cpu_s']} | {r['baseline_cpu_s']} | {r['tilestream_peak_rss_mb']} | {r['baseline_peak_rss_mb']} | "
                f"{r['tilestream_output_mb']} / {r['baseline_output_mb']} |\n")
    print(f"wrote {stem}.md and .csv")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
