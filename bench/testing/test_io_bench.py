# Tests of the issue 4 benchmark harness that need no GPU: the pure helpers of bench/gpu_io_bench.py
# (dd parsing, arguments, chunk comparison, path scrubbing), the driver end to end against CPU
# stand-ins of tilestream, cupy and kvikio (bench/testing/fake_*), bench/io_report.py on fabricated
# and on driver-made CSV files, and bench/device/io_bench.sh in its dry-run mode.
#   .venv/bin/python -m pytest -q bench/testing
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import gpu_io_bench as bench  # noqa: E402
import io_report  # noqa: E402

zarr = pytest.importorskip("zarr")
CAN_DROP_CACHES = os.access("/proc/sys/vm/drop_caches", os.W_OK)


# --- helpers ---

@pytest.mark.parametrize("stderr, expected", [
    ("377+0 records in\n377+0 records out\n6325010432 bytes (6.3 GB, 5.9 GiB) copied, 3.12345 s, 2.0 GB/s\n",
     (6325010432, 3.12345)),
    ("10+1 records in\n10+1 records out\n2123456789 bytes (2.1 GB) copied, 1.5 s, 1.4 GB/s\n", (2123456789, 1.5)),
    ("0+0 records in\n0+0 records out\n0 bytes copied, 4.2e-05 s, 0.0 kB/s\n", (0, 4.2e-05)),
    ("1 byte copied, 0.000123 s, 8.1 kB/s\n", (1, 0.000123)),
])
def test_parse_dd(stderr, expected):
    assert bench.parse_dd(stderr) == expected


def test_parse_dd_without_summary_raises():
    with pytest.raises(ValueError, match="copied"):
        bench.parse_dd("dd: failed to open 'x': Invalid argument\n")


def test_dd_write_count_covers_the_float32_level():
    level = 26420 * 19920 * 3 * 4
    assert bench.dd_write_count(level) == 377
    assert bench.dd_write_count(level) * bench.DD_BLOCK >= level
    assert bench.dd_write_count(1) == 1


def test_arguments():
    args = bench.parse_args(["--work", "/w"])
    assert (args.phase, args.runs, args.chunks, args.dtypes) == ("all", 3, [256, 512, 1024, 2048], ["float32", "uint8"])
    assert args.slide == "/w/seed.tif"
    quick = bench.parse_args(["--quick", "--runs", "5"])
    assert (quick.runs, quick.chunks) == (1, [512, 2048])
    assert bench.parse_args(["--quick", "--chunks", "1024"]).chunks == [1024]
    assert bench.parse_args(["--dtypes", "uint8"]).dtypes == ["uint8"]
    for bad in (["--runs", "0"], ["--dtypes", "int16"], ["--phase", "both"], ["--chunks", "0"], ["--chunks", ","]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_scrub_replaces_folders_not_prefixes(tmp_path):
    args = bench.parse_args(["--work", str(tmp_path / "w"), "--out-dir", str(tmp_path / "o")])
    ctx = bench.Context(args)
    text = f"{tmp_path}/w/seed.tif {tmp_path}/w-2/x {tmp_path}/o/io.csv {ROOT}/build/gpu/tilestream {ROOT}"
    assert bench.scrub(text, ctx) == f"$WORK/seed.tif {tmp_path}/w-2/x $OUT/io.csv build/gpu/tilestream ."


def write_store(path, data, chunk, group):
    """A Zarr v3 array as tilestream writes it (group/0) or as zarr-python alone (the root)."""
    kwargs = dict(shape=data.shape, chunks=(chunk, chunk, 3), dtype=data.dtype, compressors=None, filters=None,
                  fill_value=0, config={"write_empty_chunks": True})
    if group:
        array = zarr.open_group(str(path), mode="w", zarr_format=3).create_array("0", **kwargs)
    else:
        array = zarr.create_array(store=str(path), zarr_format=3, overwrite=True, **kwargs)
    array[...] = data
    return path


def test_compare_chunk_stores(tmp_path):
    data = np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8).astype(np.float32)
    ours = write_store(tmp_path / "ours.zarr", data, 128, group=True)
    theirs = write_store(tmp_path / "theirs.zarr", data, 128, group=False)
    assert bench.find_array_folder(ours) == ours / "0"
    assert bench.compare_chunk_stores(ours, theirs) == "chunks identical (6 files)"

    chunk = ours / "0" / "c" / "1" / "0" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[1000] ^= 1
    chunk.write_bytes(bytes(raw))
    assert bench.compare_chunk_stores(ours, theirs).startswith("DIFFERENT bytes in c/1/0/0 at byte 1000")
    chunk.write_bytes(bytes(raw[:-4]))
    assert bench.compare_chunk_stores(ours, theirs).startswith("DIFFERENT size of c/1/0/0")
    chunk.unlink()
    assert "DIFFERENT key sets: 5 vs 6 files" in bench.compare_chunk_stores(ours, theirs)
    with pytest.raises(ValueError, match="expected one Zarr v3 array"):
        bench.find_array_folder(tmp_path)


def test_fsync_tree_counts_files(tmp_path):
    store = write_store(tmp_path / "s.zarr", np.zeros((64, 64, 3), np.uint8), 32, group=False)
    assert bench.fsync_tree(store) == 5  # 4 chunks and zarr.json


# --- the driver end to end on CPU stand-ins ---

@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A work folder with the fake seed slide and a `tilestream` wrapper running the fake."""
    global NO_KVIKIO
    base = tmp_path_factory.mktemp("io_bench")
    NO_KVIKIO = base / "no_kvikio"
    (NO_KVIKIO / "kvikio").mkdir(parents=True)
    (NO_KVIKIO / "kvikio" / "__init__.py").write_text("raise ImportError('No module named kvikio (test)')\n")
    wrapper = base / "tilestream"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_tilestream.py"}" "$@"\n')
    wrapper.chmod(0o755)
    work = base / "work"
    work.mkdir()
    subprocess.run([wrapper, "synth", work / "seed.tif", "--seed-shape"], check=True, env=fake_env())
    return {"bin": wrapper, "work": work, "base": base}


NO_KVIKIO = Path(__file__).resolve().parent  # replaced by the fixture's folder with a kvikio that fails to import


def fake_env(kvikio=True, **extra):
    """PYTHONPATH with the stand-ins first: the fake kvikio, or (kvikio=False) one whose import fails
    like a missing package, whatever kvikio the machine has."""
    paths = [str(HERE / "fake_gpu"), str(HERE / "fake_kvikio") if kvikio else str(NO_KVIKIO)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), FAKE_TILESTREAM_SHAPE="700x900")
    env.update(extra)
    return env


def run_driver(fake, out, *args, kvikio=True, **env):
    command = [sys.executable, "-u", str(BENCH / "gpu_io_bench.py"), "--bin", str(fake["bin"]), "--work",
               str(fake["work"]), "--out-dir", str(out), "--results", str(out / "results"), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=fake_env(kvikio, **env), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def rows_of(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == bench.COLUMNS
    return [r for r in rows if r["use_case"] != "meta"], {r["tool"]: r["variant"] for r in rows if r["use_case"] == "meta"}


@pytest.fixture(scope="module")
def full_run(fake):
    out = fake["base"] / "out"
    log = run_driver(fake, out, "--phase", "all", "--runs", "2", "--chunks", "256,512", FAKE_TILESTREAM_FAIL_IO="gds")
    return out, log


def test_driver_read_rows(full_run):
    out, log = full_run
    rows, meta = rows_of(out / "io_read.csv")
    assert meta["phase"] == "all" and meta["runs"] == "2" and "seed.tif" in meta["slide"]
    by = {(r["tool"], r["io"], r["threads"], r["cache"]): r for r in rows}
    assert len(rows) == 2 + 12 + 2  # baseline, tilestream 3 io x 2 threads, kvikio; warm and cold
    for cache in ("warm", "cold"):
        for io in ("posix", "direct"):
            for threads in ("1", "16"):
                row = by[("tilestream", io, threads, cache)]
                if cache == "cold" and not CAN_DROP_CACHES:
                    assert "drop_caches" in row["error"]
                    continue
                assert row["error"] == "", row
                assert row["checksum_or_check"].endswith("(= CPU read)")
                assert len(row["runs_seconds"].split(";")) == 2
                assert float(row["gb_per_s"]) == pytest.approx(700 * 900 * 3 / 1e9 / float(row["median_seconds"]),
                                                               rel=1e-3)
                assert "$WORK/seed.tif" in row["command"] and str(out) not in row["command"]
        for threads in ("1", "16"):
            assert "cuFile driver not loaded" in by[("tilestream", "gds", threads, cache)]["error"]
    warm = by[("baseline", "posix", "tifffile default", "warm")]
    assert warm["error"] == "" and warm["checksum_or_check"].startswith("pixels equal to tilestream's CPU read")
    kv = by[("kvikio", "kvikio", "16", "warm")]
    assert kv["error"] == "" and kv["checksum_or_check"] == "device bytes equal the file's"
    assert not (Path(out).parent / "work" / "level0.npy").exists()


def test_driver_write_rows(full_run):
    out, _ = full_run
    rows, _ = rows_of(out / "io_write.csv")
    assert len(rows) == 2 * 2 * (2 + 4)  # dtypes x chunks x (baseline 2 rows + tilestream 2 io x 2 fsync)
    for row in rows:
        if row["io"] == "gds":
            assert "cuFile driver not loaded" in row["error"]
            continue
        assert row["error"] == "", row
        size = 700 * 900 * 3 * (4 if row["dtype"] == "float32" else 1)
        assert int(row["bytes"]) == size
        if row["tool"] == "tilestream" and row["fsync"] == "0":
            assert row["checksum_or_check"].startswith("chunks identical"), row
    work = out.parent / "work"
    assert sorted(p.name for p in work.iterdir()) == ["seed.tif"]  # stores and dd.bin removed


def test_driver_limit_rows(full_run):
    out, _ = full_run
    rows, _ = rows_of(out / "io_limits.csv")
    assert sorted(r["variant"] for r in rows) == sorted(
        ["h2d_pinned", "d2h_pinned", "page_cache_read_16t", "cold_read_16t", "dd_direct_read", "dd_direct_write"])
    for row in rows:
        if row["variant"] in ("dd_direct_read", "cold_read_16t") and not CAN_DROP_CACHES:
            continue
        assert row["error"] == "" and float(row["gb_per_s"]) > 0, row
    dd_write = next(r for r in rows if r["variant"] == "dd_direct_write")
    assert f"count={bench.dd_write_count(700 * 900 * 3 * 4)}" in dd_write["command"]
    assert int(dd_write["bytes"]) == bench.dd_write_count(700 * 900 * 3 * 4) * bench.DD_BLOCK


def test_driver_dated_results(full_run):
    out, _ = full_run
    names = sorted(p.name for p in (out / "results").iterdir())
    assert [n.rsplit("_", 1)[0] for n in names] == ["io_limits", "io_read", "io_write"]


def test_driver_reports_a_chunk_difference_and_a_missing_kvikio(fake):
    out = fake["base"] / "corrupt"
    run_driver(fake, out, "--phase", "write", "--quick", "--dtypes", "uint8", FAKE_TILESTREAM_CORRUPT="1")
    rows, _ = rows_of(out / "io_write.csv")
    checks = [r["checksum_or_check"] for r in rows if r["tool"] == "tilestream" and r["io"] == "posix" and r["fsync"] == "0"]
    assert len(checks) == 2 and all(c.startswith("DIFFERENT bytes in c/0/0/0 at byte 0") for c in checks), checks

    out = fake["base"] / "nokvikio"
    run_driver(fake, out, "--phase", "read", "--quick", kvikio=False)
    rows, _ = rows_of(out / "io_read.csv")
    kv = [r for r in rows if r["tool"] == "kvikio"]
    assert len(kv) == 2 and all(r["error"].startswith("kvikio not available") for r in kv)


def test_driver_skips_what_the_budget_cannot_hold(fake):
    out = fake["base"] / "budget"
    log = run_driver(fake, out, "--phase", "write", "--quick", "--deadline", str(time.time() + 3))
    rows, _ = rows_of(out / "io_write.csv")
    assert rows and all(r["error"].startswith("skipped: time budget") for r in rows)
    assert "skipped: time budget" in log


def test_driver_dry_run_measures_nothing(tmp_path):
    result = subprocess.run([sys.executable, str(BENCH / "gpu_io_bench.py"), "--dry-run", "--work", str(tmp_path / "w"),
                             "--out-dir", str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "would run: build/gpu/tilestream convert $WORK/seed.tif" in result.stdout
    rows, meta = rows_of(tmp_path / "o" / "io_write.csv")
    assert meta["dry_run"].startswith("yes") and all(r["error"] == "dry run: not measured" for r in rows)
    assert len(rows) == 2 * 4 * 6


# --- the report ---

FABRICATED = [
    # use_case, tool, variant, dtype, chunk, threads, io, cache, fsync, bytes, median, error
    ("limits", "dd", "dd_direct_read", "", "", "", "direct", "cold", "", 2e9, 1.0, ""),
    ("limits", "python", "page_cache_read_16t", "", "", 16, "posix", "warm", "", 2e9, 0.1, ""),
    ("limits", "python", "page_cache_read_16t", "", "", 16, "posix", "warm", "", 2e9, 0.2, ""),  # a slower duplicate
    ("limits", "dd", "dd_direct_write", "", "", "", "direct", "", 1, 6e9, 3.0, ""),
    ("read", "baseline", "tifffile+cupy warm", "uint8", "", "tifffile default", "posix", "warm", "", 1.6e9, 0.8, ""),
    ("read", "tilestream", "posix 16t warm", "uint8", "", 16, "posix", "warm", "", 1.6e9, 0.2, ""),
    ("read", "baseline", "tifffile+cupy cold", "uint8", "", "tifffile default", "posix", "cold", "", 1.6e9, 2.0, ""),
    ("read", "tilestream", "posix 16t cold", "uint8", "", 16, "posix", "cold", "", 1.6e9, 1.0, ""),
    ("read", "tilestream", "gds 16t cold", "uint8", "", 16, "gds", "cold", "", "", None, "RuntimeError: exit 1: no cuFile"),
    ("write", "baseline", "c512", "float32", 512, "", "posix", "", 0, 6e9, 6.0, ""),
    ("write", "baseline", "c512 fsync", "float32", 512, "", "posix", "", 1, 6e9, 9.0, ""),
    ("write", "tilestream", "posix c512", "float32", 512, 16, "posix", "", 0, 6e9, 2.0, ""),
    ("write", "tilestream", "posix c512 fsync", "float32", 512, 16, "posix", "", 1, 6e9, 4.0, ""),
    ("write", "tilestream", "gds c512 fsync", "float32", 512, 16, "gds", "", 1, "", None, "skipped: time budget (3 s left)"),
]


def fabricate(tmp_path):
    path = tmp_path / "fabricated.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=bench.COLUMNS)
        writer.writeheader()
        for key, value in (("date", "2026-12-01"), ("device", "NVIDIA H100 80GB HBM3"), ("commit", "abc1234")):
            writer.writerow({"use_case": "meta", "tool": key, "variant": value})
        for (use_case, tool, variant, dtype, chunk, threads, io, cache, fsync, nbytes, mid, error) in FABRICATED:
            writer.writerow({"use_case": use_case, "tool": tool, "variant": variant, "dtype": dtype, "chunk": chunk,
                             "threads": threads, "io": io, "cache": cache, "fsync": fsync, "bytes": nbytes,
                             "runs_seconds": "" if mid is None else f"{mid};{mid * 1.1}",
                             "median_seconds": "" if mid is None else mid,
                             "gb_per_s": "" if mid is None else nbytes / 1e9 / mid, "error": error,
                             "command": f"build/gpu/tilestream {use_case} --io {io}" if tool == "tilestream" else ""})
    return path


def test_report_ratios_on_a_fabricated_csv(tmp_path):
    md_path = io_report.report([fabricate(tmp_path)], tmp_path / "out")
    assert md_path.name == "io_2026-12-01.md"
    md = md_path.read_text()
    assert "- device: NVIDIA H100 80GB HBM3" in md and "- commit: abc1234" in md
    # warm: baseline 0.8 s / 0.2 s = 4x; 8 GB/s of the best page-cache read's 20 GB/s = 0.40
    assert "| tilestream | posix | 16 | warm | 0.200 | 8.00 | 4.00x | 0.40 of page-cache read, 16 threads |" in md
    # cold: 2.0 / 1.0 = 2x; 1.6 GB/s of dd's 2 GB/s = 0.80
    assert "| tilestream | posix | 16 | cold | 1.000 | 1.60 | 2.00x | 0.80 of dd O_DIRECT read |" in md
    # writes: 6/2 = 3x without fsync (no limit); 9/4 = 2.25x with fsync, 1.5 GB/s of dd's 2 GB/s = 0.75
    assert "| float32 | 512 | tilestream | posix | 0 | 2.000 | 3.00 | 3.00x |  |" in md
    assert "| float32 | 512 | tilestream | posix | 1 | 4.000 | 1.50 | 2.25x | 0.75 of dd O_DIRECT write + fsync |" in md
    assert "| read | tilestream | gds 16t cold | RuntimeError: exit 1: no cuFile |" in md
    assert "skipped: time budget (3 s left)" in md
    assert "build/gpu/tilestream read --io {posix,gds}" in md
    assert (tmp_path / "out" / "io_read.png").stat().st_size > 10000
    assert (tmp_path / "out" / "io_write.png").stat().st_size > 10000


def test_report_dated_charts_and_driver_csvs(full_run, tmp_path):
    out, _ = full_run
    md_path = io_report.report(sorted(out.glob("io_*.csv")), tmp_path, dated_charts=True)
    md = md_path.read_text()
    date = md_path.stem.split("_")[1]
    assert (tmp_path / f"io_read_{date}.png").exists() and (tmp_path / f"io_write_{date}.png").exists()
    assert f"![use case 1](io_read_{date}.png)" in md
    assert "chunks identical" in md and "(= CPU read)" in md
    assert str(out) not in md


# --- the entry script ---

def test_entry_script_syntax_and_arguments(tmp_path):
    script = ROOT / "bench" / "device" / "io_bench.sh"
    subprocess.run(["bash", "-n", script], check=True)
    for bad, message in ((["--phase", "x"], "--phase must be"), (["--runs", "0"], "--runs must be"),
                         (["--runs"], "needs a value"), (["--frobnicate"], "unknown argument")):
        result = subprocess.run([script, *bad], capture_output=True, text=True, env=dict(os.environ, OUT=str(tmp_path)))
        assert result.returncode == 2 and message in result.stderr, (bad, result.stderr)


def test_entry_script_dry_run(tmp_path):
    script = ROOT / "bench" / "device" / "io_bench.sh"
    env = dict(os.environ, OUT=str(tmp_path / "out"), WORK=str(tmp_path / "work"), PYTHON=sys.executable)
    result = subprocess.run([script, "--dry-run", "--phase", "all", "--quick"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    dated = [n for n in names if n.startswith("io_2")]
    assert len(dated) == 1 and dated[0].endswith(".md")
    assert sorted(set(names) - set(dated)) == ["io_bench.log", "io_limits.csv", "io_read.csv", "io_read.png",
                                               "io_write.csv", "io_write.png"]
    assert all(n.replace(".", "").replace("_", "").replace("-", "").isalnum() for n in names)
    assert "DRY RUN" in (tmp_path / "out" / dated[0]).read_text()
    assert "would run:" in (tmp_path / "out" / "io_bench.log").read_text()


def test_entry_script_full_path_on_fakes(fake, tmp_path):
    """Everything but the build: the slide, the carried wheels (when .whl/ has some), the libcufile
    choice, the driver and both reports, with the fake tilestream and the CPU stand-in of cupy."""
    script = ROOT / "bench" / "device" / "io_bench.sh"
    env = dict(fake_env(kvikio=False), OUT=str(tmp_path / "out"), WORK=str(tmp_path / "work"), PYTHON=sys.executable,
               IO_BENCH_BIN=str(fake["bin"]), IO_BENCH_RESULTS=str(tmp_path / "results"),
               IO_BENCH_SITE=str(tmp_path / "site"))
    result = subprocess.run([script, "--phase", "all", "--quick", "--dtypes", "uint8"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 7 and "io_read.png" in names and "io_write.png" in names, names
    log = (tmp_path / "out" / "io_bench.log").read_text()
    assert "== slide written" in log and "== libcufile:" in log and "no build" in log
    rows, meta = rows_of(tmp_path / "out" / "io_write.csv")
    assert meta["cufile"] != "" and "--quick" in meta["driver_command"]
    assert any(r["checksum_or_check"].startswith("chunks identical") for r in rows)
    results = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len([n for n in results if n.endswith(".csv")]) == 3 and any(n.endswith(".md") for n in results)
    assert any(n.startswith("io_write_") and n.endswith(".png") for n in results)
