#!/usr/bin/env python3
"""Report of the issue 4 benchmark (bench/gpu_io_bench.py): reads its CSV files and writes
io_<date>.md (a table per use case with medians, GB/s, the ratio to the baseline and to the
physical limit, the device, date, commit and exact commands) and bar charts io_read.png (use case 1)
and io_write.png (use case 2) into --out-dir. Rows of several commands (say --phase read and
--phase write run separately) can be merged by passing all their CSV files.

    python3 bench/io_report.py OUT/io_read.csv OUT/io_write.csv OUT/io_limits.csv --out-dir OUT
    (bench/device/io_bench.sh runs it after the driver; --dated-charts names the charts
    io_read_<date>.png, io_write_<date>.png, as bench/results/ keeps them)
"""
import argparse
import csv
import datetime
import sys
from pathlib import Path

LIMIT_LABELS = {
    "dd_direct_read": "dd O_DIRECT read",
    "dd_direct_write": "dd O_DIRECT write + fsync",
    "page_cache_read_16t": "page-cache read, 16 threads",
    "cold_read_16t": "cold buffered read, 16 threads",
    "h2d_pinned": "pinned host to device",
    "d2h_pinned": "pinned device to host",
}
TOOL_ORDER = {"baseline": 0, "tilestream": 1, "kvikio": 2}
IO_ORDER = {"posix": 0, "direct": 1, "gds": 2, "kvikio": 3}
META_ORDER = ("date", "started_utc", "device", "driver", "commit", "host", "work_filesystem", "disk", "slide",
              "cufile", "versions", "runs", "phase", "driver_command", "dry_run")


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def load(paths):
    """(meta, rows): meta values of every file (distinct values joined), data rows with numbers
    parsed (median_seconds, gb_per_s, chunk, threads, fsync, bytes)."""
    meta, rows = {}, []
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["use_case"] == "meta":
                    values = meta.setdefault(row["tool"], [])
                    if row["variant"] not in values:
                        values.append(row["variant"])
                    continue
                for key in ("median_seconds", "gb_per_s", "bytes"):
                    row[key] = number(row.get(key))
                for key in ("chunk", "fsync"):
                    value = number(row.get(key))
                    row[key] = int(value) if value is not None else None
                row["source"] = str(path)
                rows.append(row)
    return {k: " / ".join(v) for k, v in meta.items()}, rows


def best_limits(rows):
    """Per limit key, the row with the highest GB/s (a limit is the best the machine showed)."""
    best = {}
    for row in rows:
        if row["use_case"] != "limits" or row["error"] or not row["gb_per_s"]:
            continue
        key = row["variant"]
        if key not in best or row["gb_per_s"] > best[key]["gb_per_s"]:
            best[key] = row
    return best


def read_limit_key(row):
    """Cold reads, and O_DIRECT reads (which skip the page cache whatever its state), against the
    disk; warm reads against the page cache."""
    return "dd_direct_read" if row["cache"] == "cold" or row["io"] == "direct" else "page_cache_read_16t"


def write_limit_key(row):
    """Durable writes (fsync) against the disk; writes that end in the page cache have no limit
    measured here."""
    return "dd_direct_write" if row["fsync"] == 1 else None


def baseline_for(row, rows):
    for other in rows:
        if other["tool"] != "baseline" or other["use_case"] != row["use_case"] or other["error"]:
            continue
        if row["use_case"] == "read" and other["cache"] == row["cache"]:
            return other
        if (row["use_case"] == "write" and other["dtype"] == row["dtype"] and other["chunk"] == row["chunk"]
                and other["fsync"] == row["fsync"]):
            return other
    return None


def ratio_to_baseline(row, rows):
    base = baseline_for(row, rows)
    if not base or not row["median_seconds"] or not base["median_seconds"]:
        return None
    return base["median_seconds"] / row["median_seconds"]


def ratio_to_limit(row, limits):
    key = read_limit_key(row) if row["use_case"] == "read" else write_limit_key(row)
    if key is None or key not in limits or not row["gb_per_s"]:
        return None, key
    return row["gb_per_s"] / limits[key]["gb_per_s"], key


def f2(value, suffix=""):
    return "" if value is None else f"{value:.2f}{suffix}"


def f3(value):
    return "" if value is None else f"{value:.3f}"


def runs_text(row):
    return ", ".join(f"{float(s):.3f}" for s in row["runs_seconds"].split(";") if s) if row["runs_seconds"] else ""


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def sort_key(row):
    return (row.get("dtype") != "float32", row.get("chunk") or 0, row["cache"] != "warm",
            TOOL_ORDER.get(row["tool"], 9), IO_ORDER.get(row["io"], 9), row.get("fsync") or 0,
            number(row.get("threads")) or 0)


def limit_text(row, limits):
    ratio, key = ratio_to_limit(row, limits)
    if ratio is None:
        return "" if key is None else f"({LIMIT_LABELS.get(key, key)} not measured)"
    return f"{ratio:.2f} of {LIMIT_LABELS[key]}"


def read_table(rows, limits):
    lines = ["| tool | io | threads | cache | median s | GB/s | x baseline | vs limit | runs s | check |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in sorted(rows, key=sort_key):
        if row["error"]:
            continue
        lines.append(f"| {row['tool']} | {row['io']} | {row['threads']} | {row['cache']} | {f3(row['median_seconds'])} | "
                     f"{f2(row['gb_per_s'])} | {f2(ratio_to_baseline(row, rows), 'x')} | {limit_text(row, limits)} | "
                     f"{runs_text(row)} | {cell(row['checksum_or_check'])} |")
    return lines


def write_table(rows, limits):
    lines = ["| dtype | chunk | tool | io | fsync | median s | GB/s | x baseline | vs limit | runs s | check |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in sorted(rows, key=sort_key):
        if row["error"]:
            continue
        lines.append(f"| {row['dtype']} | {row['chunk']} | {row['tool']} | {row['io']} | {row['fsync']} | "
                     f"{f3(row['median_seconds'])} | {f2(row['gb_per_s'])} | {f2(ratio_to_baseline(row, rows), 'x')} | "
                     f"{limit_text(row, limits)} | {runs_text(row)} | {cell(row['checksum_or_check'])} |")
    return lines


def bar_text(gb_per_s):
    return f"{gb_per_s:.2f}" if gb_per_s < 10 else f"{gb_per_s:.1f}"


def chart_label(row):
    if row["tool"] == "baseline":
        return "baseline\ntifffile+cupy"
    if row["tool"] == "kvikio":
        return "kvikio\n16t"
    return f"{row['tool']}\n{row['io']} {row['threads']}t"


def read_chart(rows, limits, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = []
    for row in sorted(rows, key=lambda r: (TOOL_ORDER.get(r["tool"], 9), IO_ORDER.get(r["io"], 9),
                                           number(r["threads"]) or 0)):
        label = chart_label(row)
        if label not in configs:
            configs.append(label)
    values = {(chart_label(r), r["cache"]): r for r in rows}
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(configs) + 3), 5.5))
    width = 0.38
    for offset, cache, color in ((-width / 2, "warm", "#4C72B0"), (width / 2, "cold", "#DD8452")):
        xs, ys = [], []
        for i, label in enumerate(configs):
            row = values.get((label, cache))
            if row is None:
                continue
            if row["error"] or not row["gb_per_s"]:
                ax.text(i + offset, 0, f"{cache}: " + ("error" if row["error"] and not row["error"].startswith("skipped")
                                                       else "n/a"),
                        rotation=90, ha="center", va="bottom", fontsize=7, color="red")
                continue
            xs.append(i + offset)
            ys.append(row["gb_per_s"])
        if xs:
            bars = ax.bar(xs, ys, width, label=f"page cache {cache}", color=color)
            ax.bar_label(bars, labels=[bar_text(y) for y in ys], fontsize=7)
    styles = {"page_cache_read_16t": ("#4C72B0", "--"), "dd_direct_read": ("#DD8452", "--"),
              "cold_read_16t": ("#DD8452", ":"), "h2d_pinned": ("#55A868", ":")}
    for key, (color, style) in styles.items():
        if key in limits:
            value = limits[key]["gb_per_s"]
            ax.axhline(value, color=color, linestyle=style, linewidth=1.2,
                       label=f"{LIMIT_LABELS[key]}: {value:.1f} GB/s")
    ax.set_xticks(range(len(configs)))
    ax.set_xlim(-0.6, len(configs) - 0.4)
    ax.set_xticklabels(configs, fontsize=8)
    ax.set_ylabel("GB/s (level 0 bytes / median s)")
    ax.set_title("Use case 1: level 0 of the seed slide into GPU memory")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_chart(rows, limits, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = [d for d in ("float32", "uint8") if any(r["dtype"] == d for r in rows)] or ["float32"]
    chunks = sorted({r["chunk"] for r in rows if r["chunk"]})
    series = []
    for row in sorted(rows, key=sort_key):
        name = "baseline (cupy + zarr-python)" if row["tool"] == "baseline" else f"{row['tool']} {row['io']}"
        if name not in series:
            series.append(name)
    colors = ["#8C8C8C", "#4C72B0", "#55A868", "#C44E52", "#8172B2"]
    fig, axes = plt.subplots(len(dtypes), 2, figsize=(13, 4.2 * len(dtypes)), squeeze=False)
    width = 0.8 / max(1, len(series))
    for r, dtype in enumerate(dtypes):
        for c, fsync in enumerate((0, 1)):
            ax = axes[r][c]
            for s, name in enumerate(series):
                xs, ys = [], []
                for i, chunk in enumerate(chunks):
                    match = [row for row in rows if row["dtype"] == dtype and row["chunk"] == chunk
                             and row["fsync"] == fsync and
                             ("baseline (cupy + zarr-python)" if row["tool"] == "baseline"
                              else f"{row['tool']} {row['io']}") == name]
                    if not match:
                        continue
                    x = i - 0.4 + width * (s + 0.5)
                    if match[0]["error"] or not match[0]["gb_per_s"]:
                        ax.text(x, 0, f"{name}: " + ("error" if not match[0]["error"].startswith("skipped") else "n/a"),
                                rotation=90, ha="center", va="bottom", fontsize=7, color="red")
                        continue
                    xs.append(x)
                    ys.append(match[0]["gb_per_s"])
                if xs:
                    bars = ax.bar(xs, ys, width, label=name, color=colors[s % len(colors)])
                    ax.bar_label(bars, labels=[bar_text(y) for y in ys], fontsize=7)
            if fsync and "dd_direct_write" in limits:
                value = limits["dd_direct_write"]["gb_per_s"]
                ax.axhline(value, color="#C44E52", linestyle="--", linewidth=1.2,
                           label=f"{LIMIT_LABELS['dd_direct_write']}: {value:.1f} GB/s")
            ax.set_xticks(range(len(chunks)))
            ax.set_xlim(-0.5, len(chunks) - 0.5)
            ax.set_xticklabels([f"{chunk}x{chunk}x3" for chunk in chunks], fontsize=8)
            ax.set_title(f"{dtype}, fsync {'on (durable)' if fsync else 'off (page cache)'}", fontsize=10)
            ax.set_ylabel("GB/s (array bytes / median s)")
            ax.grid(axis="y", alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Use case 2: level 0 from GPU memory to uncompressed Zarr v3, per chunk shape")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


VARYING_FLAGS = ("--io", "--threads", "--dtype", "--chunk", "--repeat")


def commands(rows, varying=VARYING_FLAGS):
    """The distinct command lines, those that differ only in the values of the `varying` flags
    merged into one line with the values as {a,b} (so 'convert ... --dtype {float32,uint8} --chunk
    {256,512}' stands for every combination that ran)."""
    templates = {}
    for row in sorted(rows, key=lambda r: (r["use_case"] != "limits", r["use_case"], TOOL_ORDER.get(r["tool"], 9))):
        if not row["command"]:
            continue
        words = row["command"].split(" ")
        values = {}
        for i, word in enumerate(words[:-1]):
            if word in varying:
                values.setdefault(word, []).append(words[i + 1])
                words[i + 1] = "{" + word + "}"
        template = " ".join(words)
        seen = templates.setdefault(template, {})
        for flag, found in values.items():
            for value in found:
                if value not in seen.setdefault(flag, []):
                    seen[flag].append(value)
    lines = []
    for template, values in templates.items():
        for flag, found in values.items():
            shown = found[0] if len(found) == 1 else "{" + ",".join(found) + "}"
            template = template.replace("{" + flag + "}", shown)
        lines.append(template)
    return lines


def report(paths, out_dir, dated_charts=False):
    meta, rows = load(paths)
    date = meta.get("date", "").split(" / ")[-1] or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    limits = best_limits(rows)
    reads = [r for r in rows if r["use_case"] == "read"]
    writes = [r for r in rows if r["use_case"] == "write"]
    suffix = f"_{date}" if dated_charts else ""
    charts = {}
    for name, subset, draw in (("read", reads, read_chart), ("write", writes, write_chart)):
        if not subset:
            continue
        chart = out_dir / f"io_{name}{suffix}.png"
        try:
            draw(subset, limits, chart)
            charts[name] = chart.name
        except Exception as exc:  # a missing matplotlib must not lose the tables
            charts[name] = f"not drawn: {type(exc).__name__}: {exc}"
            print(f"io_report: {name} chart not drawn: {exc}", file=sys.stderr)

    md = [f"# Storage to GPU and back (issue 4): tilestream vs Python baselines ({date})", ""]
    if meta.get("dry_run"):
        md += ["**DRY RUN: nothing was measured; these tables only show the plan.**", ""]
    for key in META_ORDER:
        if key in meta:
            md.append(f"- {key.replace('_', ' ')}: {cell(meta[key])}")
    md += ["- every figure is the median of the runs listed; GB/s = bytes / 1e9 / median s; x baseline = baseline "
           "median s / variant median s (same cache state, or same dtype, chunk and fsync); vs limit = variant GB/s / "
           "the best GB/s of the limit (cold reads and O_DIRECT reads: dd O_DIRECT read; warm reads: the 16-thread "
           "page-cache read; writes with fsync: dd O_DIRECT write; writes without fsync end in the page cache and "
           "have no limit here); the cold 16-thread buffered read is shown beside dd, as one dd stream may not "
           "reach what the disk gives to parallel reads",
           "- read bytes: level 0's pixels (1578.9 MB for the seed slide), except kvikio: the byte range of level 0's "
           "tiles (edge tiles are stored whole); write bytes: the array's (x4 for float32)",
           "- write figures of tilestream: its `write_seconds` (device array ready to every chunk stored; the read of "
           "the slide is not in it), plus `fsync_seconds` for fsync rows; of the baseline: `cupy.asnumpy` + "
           "zarr-python `create_array` + `arr[...] = host`, plus the fsync of every file and folder for fsync rows "
           "(both rows come from the same runs)", ""]

    md += ["## Physical limits", "",
           "| limit | tool | median s | GB/s | runs s | detail |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if row["use_case"] == "limits" and not row["error"]:
            md.append(f"| {LIMIT_LABELS.get(row['variant'], row['variant'])} | {row['tool']} | "
                      f"{f3(row['median_seconds'])} | {f2(row['gb_per_s'])} | {runs_text(row)} | {cell(row['detail'])} |")
    md.append("")
    if reads:
        md += ["## Use case 1: level 0 into GPU memory", "", *read_table(reads, limits), ""]
        md += [f"![use case 1]({charts['read']})" if charts.get("read", "").endswith(".png")
               else f"(chart {charts.get('read')})", ""]
    else:
        md += ["## Use case 1: level 0 into GPU memory", "", "Not run in these files.", ""]
    if writes:
        md += ["## Use case 2: level 0 from GPU memory to uncompressed Zarr v3", "", *write_table(writes, limits), ""]
        md += [f"![use case 2]({charts['write']})" if charts.get("write", "").endswith(".png")
               else f"(chart {charts.get('write')})", ""]
    else:
        md += ["## Use case 2: level 0 from GPU memory to uncompressed Zarr v3", "", "Not run in these files.", ""]

    failed = [r for r in rows if r["error"]]
    if failed:
        md += ["## Errors and skipped variants", "", "| use case | tool | variant | error |", "| --- | --- | --- | --- |"]
        md += [f"| {r['use_case']} | {r['tool']} | {cell(r['variant'])} | {cell(r['error'])} |" for r in failed]
        md.append("")
    details = [r for r in rows if r["detail"] and not r["error"] and r["use_case"] != "limits"]
    if details:
        md += ["## Details per variant", ""]
        md += [f"- {r['use_case']} {r['tool']} {cell(r['variant'])}: {cell(r['detail'])}"
               for r in sorted(details, key=lambda r: (r["use_case"], *sort_key(r)))]
        md.append("")
    md += ["## Commands", "", "Entry script on the GPU machine: `bench/device/io_bench.sh`, one command per phase or "
           "part of one (the driver commands it ran are listed above); baselines: "
           "`baseline_read`, `kvikio_read` and `baseline_write` in bench/gpu_io_bench.py. Warm reads are one process with "
           "`--repeat` runs + 1 (the first dropped as warm-up); cold reads one process per run with `--repeat 1`, after "
           "`sync; echo 3 > /proc/sys/vm/drop_caches`; between write runs the output is removed and `sync` run "
           "(untimed). $WORK is the scratch folder on the local disk.", "", "```"]
    md += commands(rows)
    md += ["```", ""]
    md_path = out_dir / f"io_{date}.md"
    md_path.write_text("\n".join(md))
    print(f"wrote {md_path}" + "".join(f", {out_dir / c}" for c in charts.values() if c.endswith(".png")))
    return md_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="+", help="CSV files written by bench/gpu_io_bench.py")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--dated-charts", action="store_true", help="name the charts io_read_<date>.png, ...")
    args = parser.parse_args(argv)
    missing = [p for p in args.csv if not Path(p).is_file()]
    if missing:
        parser.error(f"no such CSV: {', '.join(missing)}")
    report(args.csv, args.out_dir, args.dated_charts)


if __name__ == "__main__":
    main()
