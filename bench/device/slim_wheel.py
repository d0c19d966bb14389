"""Rewrites a wheel with only the members a benchmark uses, so that the wheels carried to the GPU
machine fit the device command's 64 MiB (bench/device/fetch-patch-wheels.sh).

    python3 bench/device/slim_wheel.py WHEEL 'imagecodecs/*.py' 'imagecodecs/_jpeg.*' ...

Members whose path matches one of the glob patterns (fnmatch, '*' crosses '/') are kept, and so is
every member of the .dist-info folder; the others are dropped and RECORD loses their lines, so pip
installs the slim wheel as it would the whole one. The wheel is replaced in place (written beside
it first, then renamed) and keeps its name: its METADATA is unchanged. Prints what it dropped.
"""
import argparse
import fnmatch
import os
import sys
import zipfile


def dist_info_dir(names):
    folders = {name.split("/", 1)[0] for name in names if name.split("/", 1)[0].endswith(".dist-info")}
    if len(folders) != 1:
        raise SystemExit(f"slim_wheel.py: expected one .dist-info folder, found {sorted(folders) or 'none'}")
    return folders.pop()


def kept(name, patterns, dist_info):
    return name.startswith(dist_info + "/") or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def slim_record(text, keep_names):
    """RECORD without the lines of dropped files (RECORD's own line, 'RECORD,,', stays)."""
    lines = []
    for line in text.splitlines():
        path = line.split(",", 1)[0]
        if path in keep_names:
            lines.append(line)
    return "\n".join(lines) + "\n"


def slim_wheel(path, patterns):
    """Returns (members kept, bytes of the dropped members uncompressed, names dropped)."""
    with zipfile.ZipFile(path) as source:
        infos = source.infolist()
        names = [info.filename for info in infos]
        dist_info = dist_info_dir(names)
        keep = [info for info in infos if kept(info.filename, patterns, dist_info)]
        if len(keep) == len(infos):
            return len(keep), 0, []
        keep_names = {info.filename for info in keep}
        dropped = [info for info in infos if info.filename not in keep_names]
        record = f"{dist_info}/RECORD"
        partial = path + ".partial"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
            for info in keep:
                data = source.read(info)
                if info.filename == record:
                    data = slim_record(data.decode(), keep_names).encode()
                target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(partial, path)
    return len(keep), sum(info.file_size for info in dropped), [info.filename for info in dropped]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel")
    parser.add_argument("patterns", nargs="+", help="glob patterns of the members to keep")
    args = parser.parse_args(argv)
    before = os.path.getsize(args.wheel)
    count, dropped_bytes, dropped = slim_wheel(args.wheel, args.patterns)
    print(f"{os.path.basename(args.wheel)}: kept {count} members, dropped {len(dropped)} "
          f"({dropped_bytes / 2**20:.1f} MiB uncompressed); {before / 2**20:.1f} -> "
          f"{os.path.getsize(args.wheel) / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
