// `tilestream process IN OUT.zarr --op ... [--op ...]`: maps flags onto pipeline::ProcessOptions and
// an op chain, shows a progress bar on a terminal and ends with one line of totals on stderr (and,
// with --json, one JSON object on stdout).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bilevel_flag.hpp"
#include "cli/commands.hpp"
#include "cli/device_flag.hpp"
#include "tilestream/core/device_name.hpp"
#include "cli/decode_flag.hpp"
#include "cli/encode_flag.hpp"
#include "cli/io_flag.hpp"
#include "cli/report.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::cli {
namespace {

struct ProcessFlags {
  std::string input;
  std::string output;
  std::vector<std::string> ops;
  std::string mode = "tiled";
  std::uint64_t chunk = 512;
  std::uint64_t shard = 0;
  std::string layout = "yxc";
  bool ome = false;
  std::string memory;
  std::string device = "cpu";
  std::size_t level = 0;
  unsigned threads = 0;
  int zarr_version = 3;
  std::string codec = "zstd";
  std::string io;
  std::string decode;
  std::string encode;
  bool overwrite = false;
  bool resume = false;
  bool fsync = false;
  bool stored_samples = false;
  unsigned bilevel_max = 1;
  bool json = false;
};


nlohmann::json shape_json(const ops::ImageShape& s) {
  return {{"shape", {s.height, s.width, s.samples}}, {"dtype", to_string(s.dtype)}};
}

void run(const ProcessFlags& flags, const RunHooks& hooks) {
  const ops::Chain chain = ops::Chain::parse(flags.ops);
  pipeline::ProcessOptions options;
  options.mode = pipeline::parse_mode(flags.mode);
  options.level = flags.level;
  options.chunk = flags.chunk;
  if (!flags.memory.empty()) options.memory = parse_byte_size(flags.memory, "--memory");
  options.threads = flags.threads;
  options.zarr_version = flags.zarr_version;
  options.compressors = zarr::parse_codec_option(flags.codec);
  options.overwrite = flags.overwrite;
  options.resume = flags.resume;
  options.fsync = flags.fsync;
  check<UsageError>(flags.layout == "yxc" || flags.layout == "cyx", "--layout must be yxc or cyx, not '",
                    flags.layout, "'");
  options.layout = flags.layout == "cyx" ? pipeline::Layout::cyx : pipeline::Layout::yxc;
  options.shard = flags.shard;
  options.ome = flags.ome;
  options.stop = hooks.stop;
  const int device = parse_device_name(flags.device);
  const std::unique_ptr<pipeline::Backend> backend = make_backend(device, parse_io_flag(flags.io, device),
                                                                  parse_decode_flag(flags.decode, device),
                                                                  parse_encode_flag(flags.encode, device));

  const slide::Slide slide = slide::Slide::open(flags.input, {.stored_samples = flags.stored_samples, .bilevel_max = flags.bilevel_max});
  const bool tty = !hooks.report && isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  std::function<void(const pipeline::ProcessProgress&)> progress;
  if (hooks.progress) {
    // ProcessProgress counts only the chunks this run computes: resumed chunks are in neither figure.
    progress = [&hooks](const pipeline::ProcessProgress& p) {
      hooks.progress(p.chunks_done, p.chunks_total, 0, p.bytes_written);
    };
  } else if (tty) {
    progress = [start](const pipeline::ProcessProgress& p) {
      const double seconds = seconds_since(start);
      draw_bar(p.chunks_done, p.chunks_total, "chunks",
               seconds > 0 ? static_cast<double>(p.bytes_written) / seconds : 0);
    };
  }
  const pipeline::ProcessResult r =
      pipeline::process_slide(slide, flags.output, chain, options, *backend, progress);
  const double in_mb = static_cast<double>(r.input.size_bytes()) / 1e6;
  const double out_mb = static_cast<double>(r.output.size_bytes()) / 1e6;
  const double rss = peak_rss_mb();
  const double device_mb = static_cast<double>(r.run.peak_device_bytes) / 1e6;
  nlohmann::json j = run_report_json(r.report);
  j["command"] = "process";
  j["input"] = flags.input;
  j["output"] = flags.output;
  nlohmann::json ops = nlohmann::json::array();
  for (std::size_t i = 0; i < chain.size(); ++i) ops.push_back(chain.op(i).spec());
  j["ops"] = ops;
  j["mode"] = pipeline::to_string(options.mode);
  j["device"] = r.backend;
  j["level"] = options.level;
  j["chunk"] = options.chunk;
  j["threads"] = resolve_threads(options.threads);
  j["workers"] = r.workers;
  j["memory_budget"] = options.mode == pipeline::Mode::tiled ? resolve_memory_bytes(options.memory) : 0;
  j["task_bytes"] = r.task_bytes;
  j["bytes_in_flight"] = r.bytes_in_flight;
  j["zarr_version"] = options.zarr_version;
  j["codec"] = flags.codec;
  j["fsync"] = options.fsync;
  j["source"] = shape_json(r.input);
  j["result"] = shape_json(r.output);
  j["chunks"] = r.progress.chunks_done;
  j["chunks_skipped"] = r.chunks_skipped;
  j["resume"] = options.resume;
  j["bytes_written"] = r.progress.bytes_written;
  j["input_mb"] = in_mb;
  j["output_mb"] = out_mb;
  j["total_seconds"] = r.seconds;
  j["input_mb_per_s"] = r.seconds > 0 ? in_mb / r.seconds : 0.0;
  j["peak_rss_mb"] = rss;
  j["peak_device_mb"] = device_mb;
  j["ome"] = options.ome;
  if (hooks.report) {
    hooks.report(std::move(j));
    return;
  }
  if (tty) std::fputc('\n', stderr);
  std::fprintf(
      stderr,
      "processed %s on %s (%s, %u %s): %llux%llu -> %llux%llux%u %s, %llu chunks (%llu skipped), %.1f MB in "
      "%.2f s "
      "(%.1f MB/s), peak device memory %.0f MB, peak RSS %.0f MB\n",
      chain.spec().c_str(), r.backend.c_str(), pipeline::to_string(options.mode), r.workers,
      options.mode == pipeline::Mode::tiled ? "workers" : "threads",
      static_cast<unsigned long long>(r.input.width), static_cast<unsigned long long>(r.input.height),
      static_cast<unsigned long long>(r.output.width), static_cast<unsigned long long>(r.output.height),
      r.output.samples, to_string(r.output.dtype), static_cast<unsigned long long>(r.progress.chunks_done),
      static_cast<unsigned long long>(r.chunks_skipped), in_mb, r.seconds, r.seconds > 0 ? in_mb / r.seconds : 0.0, device_mb, rss);
  std::fprintf(stderr, "io: %s\nbusy seconds over all threads: read %.2f, compute %.2f, write %.2f\n",
               r.run.io_detail.c_str(), r.run.read_seconds, r.run.compute_seconds, r.run.write_seconds);
  print_decode(j["decode"]);
  print_encode(j["encode"]);
  if (flags.json) std::printf("%s\n", j.dump().c_str());
}

}  // namespace

void add_process_command(CLI::App& app, const RunHooks& hooks) {
  auto flags = std::make_shared<ProcessFlags>();
  CLI::App* cmd = app.add_subcommand(
      "process", "Run image operations on a slide level and write the result as a Zarr array");
  cmd->footer("Ops (in the order given, each on the previous one's output):\n" + ops::describe_ops());
  cmd->add_option("input", flags->input, "Input slide (TIFF, SVS, ...)")->required();
  cmd->add_option("output", flags->output,
                  "Output Zarr directory (one array at its root; with --ome an OME-Zarr group)")->required();
  cmd->add_option("--op", flags->ops, "An op, repeatable: sobel, gaussian:sigma=2.5, median:size=5, ...")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--mode", flags->mode,
                  "tiled (default: chunks streamed with their halos) or global (the whole level in memory)");
  cmd->add_option("--chunk", flags->chunk, "Output chunk side in pixels (default 512)");
  cmd->add_option("--shard", flags->shard, "Shard side in pixels, a multiple of --chunk (v3 only; default none)");
  cmd->add_option("--layout", flags->layout, "yxc (default) or cyx; --ome stores cyx");
  cmd->add_flag("--ome", flags->ome,
                "OME-Zarr (NGFF 0.4 on v2, 0.5 on v3): the result as level 0 plus its 2x pyramid (downsample2x)");
  cmd->add_option("--memory", flags->memory,
                  "Tiled mode: bytes of tiles in flight at most, like 512M, 2G or 1048576 "
                  "(default TILESTREAM_MEMORY, else 1G)");
  cmd->add_option("--device", flags->device, "cpu (default) or cuda[:N]: read, process and copy out on the GPU");
  add_io_option(*cmd, flags->io, "how raw tiles are read");
  add_decode_option(*cmd, flags->decode);
  add_encode_option(*cmd, flags->encode);
  cmd->add_option("--level", flags->level, "Slide level to process (default 0)");
  cmd->add_option("--threads", flags->threads, "Worker threads (default: TILESTREAM_THREADS or all cores)");
  cmd->add_option("--zarr-version", flags->zarr_version, "2 or 3 (default 3)");
  cmd->add_option("--codec", flags->codec,
                  zarr::codec_option_syntax() + " (default zstd)");
  cmd->add_flag("--overwrite", flags->overwrite,
                "Replace a non-empty output that is a Zarr store written by tilestream (a directory holding "
                "anything else is refused, nothing removed)");
  cmd->add_flag("--resume", flags->resume,
                "Finish an interrupted run with the same options: keep the chunks already written");
  cmd->add_flag("--fsync", flags->fsync, "Durable output: fsync every file before its rename and its folder after it");
  add_bilevel_option(*cmd, flags->bilevel_max);
  cmd->add_flag("--stored-samples", flags->stored_samples,
                "Read the samples as stored (palette indices, MinIsWhite grey, CMYK) instead of converting them to pixels");
  cmd->add_flag("--json", flags->json, "Also print the figures as one JSON object on stdout");
  cmd->callback([flags, hooks] { run(*flags, hooks); });
}

}  // namespace tilestream::cli
