// `tilestream convert IN OUT.zarr [...]`: maps flags onto convert::ConvertOptions, shows a progress
// bar on a terminal (a summary otherwise) and always ends with one line of totals on stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "cli/device_flag.hpp"
#include "cli/io_flag.hpp"
#include "cli/report.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"
#if TILESTREAM_WITH_CUDA
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/device_convert.hpp"
#endif

namespace tilestream::cli {
namespace {

struct ConvertFlags {
  std::string input;
  std::string output;
  int zarr_version = 3;
  std::uint64_t chunk = 512;
  std::uint64_t shard = 0;
  std::string codec = "zstd";
  std::optional<std::string> layout;
  bool ome = false;
  std::string levels = "all";
  unsigned threads = 0;
  bool overwrite = false;
  bool resume = false;
  bool fsync = false;
  std::string separator = "/";
  std::string dtype;
  std::string device = "cpu";
  std::string io;
  bool stored_samples = false;
  bool json = false;
};

// "uint8", "uint16", "int8", "int16", "float32".
DType parse_dtype(const std::string& text) {
  for (const DType t : {DType::uint8, DType::uint16, DType::int8, DType::int16, DType::float32}) {
    if (text == to_string(t)) return t;
  }
  throw UsageError("--dtype must be uint8, uint16, int8, int16 or float32, not '" + text + "'");
}

// "all" or a comma-separated list of level numbers ("0,2").
std::vector<std::size_t> parse_levels(const std::string& text) {
  if (text == "all") return {};
  std::vector<std::size_t> levels;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    check<UsageError>(
        !item.empty() && item.size() <= 6 && item.find_first_not_of("0123456789") == std::string::npos,
        "--levels must be 'all' or level numbers separated by commas like 0,1,3, not '", text, "'");
    levels.push_back(std::stoul(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return levels;
}

convert::ConvertOptions to_options(const ConvertFlags& f) {
  convert::ConvertOptions o;
  o.zarr_version = f.zarr_version;
  o.chunk = f.chunk;
  o.shard = f.shard;
  o.compressors = zarr::parse_codec_option(f.codec);
  check<UsageError>(!f.layout || *f.layout == "yxc" || *f.layout == "cyx",
                    "--layout must be yxc or cyx, not '", f.layout.value_or(""), "'");
  check<UsageError>(!(f.ome && f.layout == "yxc"),
                    "--ome stores (c, y, x) as OME-NGFF orders axes: drop --layout yxc");
  o.layout = f.layout == "cyx" ? convert::Layout::cyx : convert::Layout::yxc;
  o.ome = f.ome;
  o.levels = parse_levels(f.levels);
  o.threads = f.threads;
  o.overwrite = f.overwrite;
  o.resume = f.resume;
  o.fsync = f.fsync;
  check<UsageError>(f.separator == "/" || f.separator == ".", "--separator must be . or /, not '",
                    f.separator, "'");
  o.separator = f.separator[0];
  if (!f.dtype.empty()) o.dtype = parse_dtype(f.dtype);
  convert::validate_options(o);
  return o;
}


// "\r[#####.....] 45% 1234/2743 blocks 1.2 GB/s", redrawn at most every 200 ms.
void draw_bar(const convert::Progress& p, double seconds) {
  cli::draw_bar(p.blocks_done, p.blocks_total, "blocks",
                seconds > 0 ? static_cast<double>(p.bytes_written) / seconds : 0);
}

#if TILESTREAM_WITH_CUDA
void run_on_device(const ConvertFlags& flags, const convert::ConvertOptions& options, int device) {
  const slide::Slide slide = slide::Slide::open(flags.input, {.stored_samples = flags.stored_samples});
  (void)cuda::describe_device(device);  // the CUDA context: a one-off start-up outside every figure
  cuda::DeviceConvertOptions device_options;
  device_options.device = device;
  device_options.io = parse_io_flag(flags.io, device);
  const auto on_dataset = [](const cuda::DatasetTiming& t) {
    const double gb = static_cast<double>(t.array_bytes) / 1e9;
    std::fprintf(stderr,
                 "array %s: %.2f GB, read %.3f s, cast %.3f s, write %.3f s (%.2f GB/s), fsync %.3f s\n",
                 t.path.c_str(), gb, t.read_seconds, t.cast_seconds, t.write_seconds,
                 t.write_seconds > 0 ? gb / t.write_seconds : 0.0, t.fsync_seconds);
  };
  const cuda::DeviceConvertResult r =
      cuda::convert_slide_on_device(slide, flags.output, options, device_options, on_dataset);
  const convert::Progress& p = r.result.progress;
  const double mb = static_cast<double>(p.bytes_written) / 1e6;
  std::fprintf(stderr, "io: read %s (%s); write %s (%s)\n", r.read_io.c_str(), r.read_io_detail.c_str(),
               r.write_io.c_str(), r.write_io_detail.c_str());
  std::fprintf(stderr,
               "converted %zu arrays on cuda:%d, %llu blocks (%llu skipped), %.1f MB in %.2f s, setup %.3f s, "
               "peak RSS %.0f MB\n",
               r.result.array_paths.size(), device, static_cast<unsigned long long>(p.blocks_done),
               static_cast<unsigned long long>(p.blocks_skipped), mb, r.result.seconds, r.setup_seconds,
               peak_rss_mb());
  if (!flags.json) return;
  nlohmann::json j;
  j["command"] = "convert";
  j["input"] = flags.input;
  j["output"] = flags.output;
  j["device"] = concat("cuda:", device);
  j["io"] = r.write_io;
  j["io_detail"] = r.write_io_detail;
  j["read_io"] = r.read_io;
  j["read_io_detail"] = r.read_io_detail;
  j["dtype"] = to_string(options.dtype.value_or(slide.level(0).image.dtype));
  j["chunk"] = options.chunk;
  j["threads"] = resolve_threads(options.threads);
  j["fsync"] = options.fsync;
  double read = 0, write = 0, fsync = 0, cast = 0;
  std::uint64_t array_bytes = 0;
  nlohmann::json arrays = nlohmann::json::array();
  for (const cuda::DatasetTiming& t : r.datasets) {
    read += t.read_seconds;
    cast += t.cast_seconds;
    write += t.write_seconds;
    fsync += t.fsync_seconds;
    array_bytes += t.array_bytes;
    arrays.push_back({{"path", t.path}, {"array_bytes", t.array_bytes}, {"read_seconds", t.read_seconds},
                      {"cast_seconds", t.cast_seconds}, {"write_seconds", t.write_seconds},
                      {"fsync_seconds", t.fsync_seconds}});
  }
  j["read_seconds"] = read;
  j["cast_seconds"] = cast;
  j["write_seconds"] = write;
  j["fsync_seconds"] = fsync;
  j["setup_seconds"] = r.setup_seconds;
  j["total_seconds"] = r.result.seconds;
  j["bytes_written"] = p.bytes_written;
  j["array_bytes"] = array_bytes;
  j["blocks"] = p.blocks_done;
  j["blocks_skipped"] = p.blocks_skipped;
  j["arrays"] = arrays;
  std::printf("%s\n", j.dump().c_str());
}
#endif


void run(const ConvertFlags& flags) {
  const convert::ConvertOptions options = to_options(flags);
  const int device = parse_device_flag(flags.device);
  (void)parse_io_flag(flags.io, device);  // checked on every path
  if (device >= 0) {
#if TILESTREAM_WITH_CUDA
    run_on_device(flags, options, device);
    return;
#else
    throw UsageError("--device " + flags.device + ": this tilestream was built without CUDA");
#endif
  }
  const slide::Slide slide = slide::Slide::open(flags.input, {.stored_samples = flags.stored_samples});
  const bool tty = isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  std::function<void(const convert::Progress&)> progress;
  if (tty) progress = [start](const convert::Progress& p) { draw_bar(p, seconds_since(start)); };
  const convert::ConvertResult result = convert::convert_slide(slide, flags.output, options, progress);
  const double seconds = result.seconds;
  const convert::Progress& p = result.progress;
  const double mb = static_cast<double>(p.bytes_written) / 1e6;
  if (tty) std::fputc('\n', stderr);
  std::string arrays;
  for (const std::string& path : result.array_paths) arrays += (arrays.empty() ? "" : ", ") + path;
  if (!tty)
    std::fprintf(stderr, "%s -> %s: Zarr v%d, arrays %s\n", flags.input.c_str(), flags.output.c_str(),
                 options.zarr_version, arrays.c_str());
  std::fprintf(
      stderr,
      "converted %zu arrays, %llu blocks (%llu skipped), %.1f MB in %.2f s (%.1f MB/s), peak RSS %.0f MB\n",
      result.array_paths.size(), static_cast<unsigned long long>(p.blocks_done),
      static_cast<unsigned long long>(p.blocks_skipped), mb, seconds, seconds > 0 ? mb / seconds : 0.0,
      peak_rss_mb());
  if (flags.json) {
    nlohmann::json j;
    j["command"] = "convert";
    j["input"] = flags.input;
    j["output"] = flags.output;
    j["device"] = "cpu";
    j["io"] = "posix";
    j["dtype"] = to_string(options.dtype.value_or(slide.level(0).image.dtype));
    j["chunk"] = options.chunk;
    j["threads"] = resolve_threads(options.threads);
    j["fsync"] = options.fsync;
    j["total_seconds"] = seconds;
    j["bytes_written"] = p.bytes_written;
    j["blocks"] = p.blocks_done;
    j["blocks_skipped"] = p.blocks_skipped;
    std::printf("%s\n", j.dump().c_str());
  }
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* cmd =
      app.add_subcommand("convert", "Convert a slide to Zarr v2/v3 (optionally sharded) or OME-Zarr");
  cmd->add_option("input", flags->input, "Input slide (TIFF, SVS, ...)")->required();
  cmd->add_option("output", flags->output, "Output Zarr directory")->required();
  cmd->add_option("--zarr-version", flags->zarr_version, "2 or 3 (default 3)");
  cmd->add_option("--chunk", flags->chunk, "Chunk side in pixels (default 512)");
  cmd->add_option("--shard", flags->shard,
                  "Shard side in pixels, a multiple of --chunk (v3 only; default none)");
  cmd->add_option("--codec", flags->codec,
                  zarr::codec_option_syntax() + " (default zstd)");
  cmd->add_option("--layout", flags->layout, "yxc or cyx (default yxc; --ome implies cyx)");
  cmd->add_flag("--ome", flags->ome, "OME-Zarr (NGFF 0.4 on v2, 0.5 on v3) with a full 2x pyramid");
  cmd->add_option("--levels", flags->levels, "all or level numbers like 0,2 (default all)");
  cmd->add_option("--threads", flags->threads, "Worker threads (default: TILESTREAM_THREADS or all cores)");
  cmd->add_flag("--overwrite", flags->overwrite,
                "Replace a non-empty output that is a Zarr store written by tilestream (a directory holding "
                "anything else is refused, nothing removed)");
  cmd->add_flag("--resume", flags->resume, "Finish an interrupted conversion: keep blocks already written");
  cmd->add_flag("--fsync", flags->fsync, "Durable output: fsync every file before its rename and its folder after it (--device cuda: the wait for the last commits is timed apart)");
  cmd->add_option("--separator", flags->separator, "Chunk key separator, . or / (default /)");
  cmd->add_option("--dtype", flags->dtype,
                  "Stored sample type: the slide's (default) or float32 (values kept, no scaling)");
  cmd->add_option("--device", flags->device,
                  "cpu (default) or cuda[:N]: read each level into GPU memory and write the Zarr blocks from there");
  add_io_option(*cmd, flags->io, "how tiles are read and blocks written");
  cmd->add_flag("--stored-samples", flags->stored_samples,
                "Read the samples as stored (palette indices, MinIsWhite grey, CMYK) instead of converting them to pixels");
  cmd->add_flag("--json", flags->json, "Also print the figures as one JSON object on stdout");
  cmd->callback([flags] { run(*flags); });
}

}  // namespace tilestream::cli
