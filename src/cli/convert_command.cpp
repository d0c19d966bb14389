// `tilestream convert IN OUT.zarr [...]`: maps flags onto convert::ConvertOptions, shows a progress
// bar on a terminal (a summary otherwise) and always ends with one line of totals on stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/bilevel_flag.hpp"
#include "cli/commands.hpp"
#include "cli/device_flag.hpp"
#include "tilestream/core/device_name.hpp"
#include "cli/decode_flag.hpp"
#include "cli/encode_flag.hpp"
#include "cli/io_flag.hpp"
#include "cli/report.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/pipeline/executor.hpp"
#include "tilestream/zarr/array.hpp"

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
  std::string decode;
  std::string encode;
  std::string mode = "tiled";
  std::string memory;
  bool stored_samples = false;
  unsigned bilevel_max = 1;
  bool json = false;
};

// A dtype's name: "uint8", "int32", "float16"...
DType parse_dtype(const std::string& text) {
  std::string names;
  for (const DType t : all_dtypes) {
    if (text == to_string(t)) return t;
    names += concat(names.empty() ? "" : ", ", to_string(t));
  }
  throw UsageError(concat("--dtype must be one of ", names, ", not '", text, "'"));
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

void run(const ConvertFlags& flags, const RunHooks& hooks) {
  convert::ConvertOptions options = to_options(flags);
  options.mode = pipeline::parse_mode(flags.mode);
  if (!flags.memory.empty()) options.memory = parse_byte_size(flags.memory, "--memory");
  options.stop = hooks.stop;
  const int device = parse_device_name(flags.device);
  const std::unique_ptr<pipeline::Backend> backend = make_backend(device, parse_io_flag(flags.io, device),
                                                                  parse_decode_flag(flags.decode, device),
                                                                  parse_encode_flag(flags.encode, device));
  const slide::Slide slide = slide::Slide::open(flags.input, {.stored_samples = flags.stored_samples, .bilevel_max = flags.bilevel_max});
  const bool tty = !hooks.report && isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  std::function<void(const convert::Progress&)> progress;
  if (hooks.progress)
    progress = [&hooks](const convert::Progress& p) {
      hooks.progress(p.blocks_done, p.blocks_total, p.blocks_skipped, p.bytes_written);
    };
  else if (tty)
    progress = [start](const convert::Progress& p) { draw_bar(p, seconds_since(start)); };
  const convert::ConvertResult result = convert::convert_slide(slide, flags.output, options, *backend, progress);
  const double seconds = result.seconds;
  const convert::Progress& p = result.progress;
  const double mb = static_cast<double>(p.bytes_written) / 1e6;
  const nlohmann::json report = run_report_json(result.run);
  nlohmann::json j = report;
  j["command"] = "convert";
  j["input"] = flags.input;
  j["output"] = flags.output;
  j["mode"] = pipeline::to_string(options.mode);
  j["memory_budget"] = options.mode == pipeline::Mode::tiled ? resolve_memory_bytes(options.memory) : 0;
  j["dtype"] = to_string(options.dtype.value_or(slide.level(0).image.dtype));
  j["chunk"] = options.chunk;
  j["threads"] = resolve_threads(options.threads);
  j["fsync"] = options.fsync;
  std::uint64_t array_bytes = 0;
  for (const pipeline::DatasetReport& d : result.run.datasets) array_bytes += d.output.size_bytes();
  j["array_bytes"] = array_bytes;
  j["read_seconds"] = report["busy_seconds"]["read"];
  j["arrays"] = result.array_paths;
  if (hooks.report) {
    hooks.report(std::move(j));
    return;
  }
  if (tty) std::fputc('\n', stderr);
  std::string arrays;
  for (const std::string& path : result.array_paths) arrays += (arrays.empty() ? "" : ", ") + path;
  if (!tty)
    std::fprintf(stderr, "%s -> %s: Zarr v%d, arrays %s\n", flags.input.c_str(), flags.output.c_str(),
                 options.zarr_version, arrays.c_str());
  std::fprintf(stderr, "io: %s\n", report["io_detail"].get<std::string>().c_str());
  print_decode(report["decode"]);
  print_encode(report["encode"]);
  std::fprintf(stderr,
               "converted %zu arrays on %s (%s), %llu blocks (%llu skipped), %.1f MB in %.2f s (%.1f MB/s), "
               "peak device memory %.0f MB, peak RSS %.0f MB\n",
               result.array_paths.size(), result.run.backend.c_str(), pipeline::to_string(options.mode),
               static_cast<unsigned long long>(p.blocks_done), static_cast<unsigned long long>(p.blocks_skipped), mb,
               seconds, seconds > 0 ? mb / seconds : 0.0, report["peak_device_mb"].get<double>(), peak_rss_mb());
  if (flags.json) std::printf("%s\n", j.dump().c_str());
}

}  // namespace

void add_convert_command(CLI::App& app, const RunHooks& hooks) {
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
  cmd->add_flag("--fsync", flags->fsync, "Durable output: fsync every file before its rename and its folder after it");
  cmd->add_option("--separator", flags->separator, "Chunk key separator, . or / (default /)");
  cmd->add_option("--dtype", flags->dtype,
                  "Stored sample type: the slide's (default) or float32 (values kept, no scaling)");
  cmd->add_option("--device", flags->device,
                  "cpu (default) or cuda[:N]: read, cast and build the levels on the GPU, blocks copied out to be written");
  cmd->add_option("--mode", flags->mode,
                  "tiled (default: blocks streamed, memory bounded by --memory) or global (each level whole in memory)");
  cmd->add_option("--memory", flags->memory,
                  "Tiled mode: bytes of blocks in flight at most, like 512M, 2G or 1048576 "
                  "(default TILESTREAM_MEMORY, else 1G)");
  add_io_option(*cmd, flags->io, "how tiles are read and blocks written");
  add_decode_option(*cmd, flags->decode);
  add_encode_option(*cmd, flags->encode);
  add_bilevel_option(*cmd, flags->bilevel_max);
  cmd->add_flag("--stored-samples", flags->stored_samples,
                "Read the samples as stored (palette indices, MinIsWhite grey, CMYK) instead of converting them to pixels");
  cmd->add_flag("--json", flags->json, "Also print the figures as one JSON object on stdout");
  cmd->callback([flags, hooks] { run(*flags, hooks); });
}

}  // namespace tilestream::cli
