// `tilestream read FILE [--level L | --associated NAME] [--region x,y,w,h] [--threads N]
//  [--device cpu|cuda[:N]] [--io auto|posix|direct|gds] [--repeat R] [--json] [-o OUT]` reads pixels
// into a host image (cpu) or a device image (cuda), reports each run's time, the path and io mode that
// ran and a checksum of the pixels on stderr (and as one JSON object on stdout with --json), and saves
// them as .npy or .png when -o is given.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/bilevel_flag.hpp"
#include "cli/commands.hpp"
#include "cli/device_flag.hpp"
#include "tilestream/core/device_name.hpp"
#include "cli/decode_flag.hpp"
#include "cli/io_flag.hpp"
#include "cli/report.hpp"
#include "tilestream/core/checksum.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/image_io/image_file.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/slide.hpp"
#if TILESTREAM_WITH_CUDA
#include "tilestream/cuda/device.hpp"
#include "tilestream/slide/device_reader.hpp"
#endif

namespace tilestream::cli {
namespace {

struct ReadArgs {
  std::string path;
  int level = 0;
  std::string associated;
  std::string region;
  unsigned threads = 0;
  std::string device = "cpu";
  std::string io;
  std::string decode;
  unsigned repeat = 1;
  bool json = false;
  bool stored_samples = false;
  unsigned bilevel_max = 1;
  std::string output;
};

std::array<std::uint64_t, 4> parse_region(const std::string& text);



std::string checksum_text(const HostImage& image) {
  char text[32];
  std::snprintf(text, sizeof text, "%016" PRIx64, fnv1a64(image.bytes()));
  return text;
}

// What every read reports, whatever the path.
struct ReadResult {
  std::string what;       // "level 0", "level 0 region ...", "associated image 'label'"
  std::string device = "cpu";
  std::string io = "posix";
  std::string io_detail;
  std::string path;
  codec::DecodeReport decode{"CPU", {}, 0, 0, {}};  // who decoded the tiles, and why
  unsigned threads = 1;
  std::uint64_t file_bytes_read = 0;
  double setup_seconds = 0;
  std::vector<double> runs_seconds;
  std::vector<double> runs_allocate_seconds;  // of each run: the output image and the reader's buffers
};

void report(const ReadArgs& args, const ReadResult& r, const HostImage& image) {
  const std::string checksum = checksum_text(image);
  const double megabytes = static_cast<double>(image.size_bytes()) / 1e6;
  for (std::size_t i = 0; i < r.runs_seconds.size(); ++i) {
    const double s = r.runs_seconds[i];
    std::fprintf(stderr, "read %s%s%s: %llu x %llu x %u %s, %.1f MB in %.3f s (%.2f GB/s, %u threads)%s\n",
                 r.what.c_str(), r.device == "cpu" ? "" : " to ", r.device == "cpu" ? "" : r.device.c_str(),
                 static_cast<unsigned long long>(image.height()), static_cast<unsigned long long>(image.width()),
                 image.samples(), to_string(image.dtype()), megabytes, s, megabytes / 1e3 / s, r.threads,
                 r.runs_seconds.size() > 1 ? concat(" [run ", i + 1, "/", r.runs_seconds.size(), "]").c_str() : "");
  }
  std::fprintf(stderr, "path: %s\nio: %s (%s)\n", r.path.c_str(), r.io.c_str(), r.io_detail.c_str());
  print_decode(decode_json(r.decode));
  if (r.setup_seconds > 0) std::fprintf(stderr, "setup: %.3f s (reader made once, not in the times above)\n", r.setup_seconds);
  std::fprintf(stderr, "checksum: fnv1a64 %s\n", checksum.c_str());
  if (!args.json) return;
  nlohmann::json j;
  j["command"] = "read";
  j["file"] = args.path;
  if (args.associated.empty()) {
    j["level"] = args.level;
  } else {
    j["associated"] = args.associated;
  }
  if (!args.region.empty()) j["region"] = args.region;
  j["device"] = r.device;
  j["io"] = r.io;
  j["io_detail"] = r.io_detail;
  j["path"] = r.path;
  j["decode"] = decode_json(r.decode);
  j["threads"] = r.threads;
  j["shape"] = {image.height(), image.width(), image.samples()};
  j["dtype"] = to_string(image.dtype());
  j["bytes"] = image.size_bytes();
  j["file_bytes_read"] = r.file_bytes_read;
  j["setup_seconds"] = r.setup_seconds;
  j["runs_seconds"] = r.runs_seconds;
  if (!r.runs_allocate_seconds.empty()) j["runs_allocate_seconds"] = r.runs_allocate_seconds;
  j["checksum"] = "fnv1a64:" + checksum;
  std::printf("%s\n", j.dump().c_str());
}

#if TILESTREAM_WITH_CUDA
void run_read_device(const ReadArgs& args, int device, unsigned threads) {
  check<UsageError>(args.associated.empty(), "--device cuda reads levels and regions, not associated images");
  const slide::Slide slide = slide::Slide::open(args.path, {.stored_samples = args.stored_samples, .bilevel_max = args.bilevel_max});
  const std::size_t level = static_cast<std::size_t>(args.level);
  const tiff::Level& lv = slide.level(level);
  std::array<std::uint64_t, 4> r{0, 0, lv.image.width, lv.image.height};
  ReadResult result;
  result.what = concat("level ", args.level);
  if (!args.region.empty()) {
    r = parse_region(args.region);
    result.what = concat("level ", args.level, " region ", r[0], ",", r[1], " ", r[2], "x", r[3]);
  }
  // The pixels come back to the host for the checksum and -o: refused before the device read when the
  // host cannot hold them.
  check_host_memory({.file = slide.path(),
                     .place = args.region.empty() ? concat("level ", args.level) : result.what,
                     .what = concat("copying ", r[3], " x ", r[2], " x ", lv.image.samples, " ",
                                    to_string(lv.image.dtype), " back from the device"),
                     .bytes = image_bytes(r[3], r[2], lv.image.samples, lv.image.dtype),
                     .ways_out = {WayOut::region}});
  // The CUDA context is made before the reader: a one-off start-up that belongs to neither figure.
  (void)cuda::describe_device(device);
  slide::DeviceReaderOptions options;
  options.threads = threads;
  options.device = device;
  options.io = parse_io_flag(args.io, device);
  options.decode = parse_decode_flag(args.decode, device);
  slide::DeviceReader reader(options);
  result.device = concat("cuda:", device);
  result.threads = reader.threads();
  result.setup_seconds = reader.setup_seconds();
  cuda::DeviceImage image;
  slide::DeviceReadReport run;
  for (unsigned i = 0; i < args.repeat; ++i) {
    image = cuda::DeviceImage();  // the last run's memory goes back to the pool before the next run
    image = reader.read_region(slide, level, r[0], r[1], r[2], r[3], &run);
    result.runs_seconds.push_back(run.seconds);
    result.runs_allocate_seconds.push_back(run.allocate_seconds);
  }
  result.io = io::to_string(run.io);
  result.io_detail = run.io_detail;
  result.path = run.path;
  result.decode = run.decode;
  result.file_bytes_read = run.bytes_read;
  const cuda::Stream stream;
  const HostImage host = image.to_host(stream);  // after the timing: for the checksum and -o
  report(args, result, host);
  if (!args.output.empty()) image_io::save_image(host, args.output);
}
#endif

std::array<std::uint64_t, 4> parse_region(const std::string& text) {
  std::array<std::uint64_t, 4> v{};
  std::istringstream in(text);
  char comma = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i > 0 && !(in >> comma && comma == ',')) throw UsageError("--region wants x,y,width,height, got '" + text + "'");
    long long n = -1;
    if (!(in >> n) || n < 0) throw UsageError("--region wants four non-negative integers, got '" + text + "'");
    v[i] = static_cast<std::uint64_t>(n);
  }
  check<UsageError>(in.peek() == EOF, "--region has trailing text: '", text, "'");
  return v;
}

void run_read(const ReadArgs& args) {
  const int device = parse_device_name(args.device);
  // The CPU path exists to produce a file or a figure; a device read may just be timed and checksummed.
  check<UsageError>(device >= 0 || !args.output.empty() || args.json,
                    "--output is required (unless --device cuda or --json)");
  (void)parse_io_flag(args.io, device);  // checked on every path
  (void)parse_decode_flag(args.decode, device);
  if (device >= 0) {
#if TILESTREAM_WITH_CUDA
    run_read_device(args, device, resolve_threads(args.threads));
    return;
#else
    throw UsageError("--device " + args.device + ": this tilestream was built without CUDA");
#endif
  }
  const slide::Slide slide = slide::Slide::open(args.path, {.stored_samples = args.stored_samples, .bilevel_max = args.bilevel_max});
  const slide::ReadOptions options{resolve_threads(args.threads)};
  ReadResult result;
  result.threads = options.threads;
  result.path = concat("CPU decode (", options.threads, " threads)");
  result.io_detail = "posix: pread and decode on CPU threads";
  result.decode.detail = "a CPU read decodes its tiles on the CPU";
  HostImage image;
  for (unsigned i = 0; i < args.repeat; ++i) {
    image = HostImage();
    const auto start = std::chrono::steady_clock::now();
    if (!args.associated.empty()) {
      image = slide.read_associated(args.associated, options);
      result.what = "associated image '" + args.associated + "'";
    } else if (!args.region.empty()) {
      const auto r = parse_region(args.region);
      image = slide.read_region(static_cast<std::size_t>(args.level), r[0], r[1], r[2], r[3], options);
      result.what = concat("level ", args.level, " region ", r[0], ",", r[1], " ", r[2], "x", r[3]);
    } else {
      image = slide.read_level(static_cast<std::size_t>(args.level), options);
      result.what = concat("level ", args.level);
    }
    result.runs_seconds.push_back(seconds_since(start));
  }
  result.file_bytes_read = image.size_bytes();
  if (!args.output.empty()) image_io::save_image(image, args.output);
  report(args, result, image);
}

}  // namespace

void add_read_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("read", "Read a level, region or associated image (to host or device memory, optionally to .npy or .png)");
  auto args = std::make_shared<ReadArgs>();
  cmd->add_option("FILE", args->path, "Slide file, or a DICOM whole slide image's folder or one of its files")->required();
  auto* level = cmd->add_option("--level", args->level, "Pyramid level (0 is full resolution)")
                    ->check(CLI::Range(0, 1000));
  auto* region = cmd->add_option("--region", args->region, "x,y,width,height in the level's pixels");
  cmd->add_option("--associated", args->associated, "Read an associated image (label, macro, thumbnail)")
      ->excludes(level)
      ->excludes(region);
  cmd->add_option("--threads", args->threads, "Reading and decoding threads (default: TILESTREAM_THREADS or all cores)")
      ->check(CLI::Range(1u, 4096u));
  cmd->add_option("--device", args->device, "Where the pixels land: cpu (default), cuda or cuda:N");
  add_io_option(*cmd, args->io, "how raw tiles reach the GPU");
  add_decode_option(*cmd, args->decode);
  cmd->add_option("--repeat", args->repeat, "Read this many times with one reader and report each run")
      ->check(CLI::Range(1u, 1000u));
  add_bilevel_option(*cmd, args->bilevel_max);
  cmd->add_flag("--stored-samples", args->stored_samples,
                "Read the samples as stored (palette indices, MinIsWhite grey, CMYK) instead of converting them to pixels");
  cmd->add_flag("--json", args->json, "Also print the figures as one JSON object on stdout");
  cmd->add_option("-o,--output", args->output, "Output file, .npy or .png (required with --device cpu unless --json; "
                  "with cuda, the pixels are copied back and saved)");
  cmd->callback([args] { run_read(*args); });
}

}  // namespace tilestream::cli
