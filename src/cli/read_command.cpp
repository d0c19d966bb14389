// `tilestream read FILE [--level L | --associated NAME] [--region x,y,w,h] [--threads N]
//  [--device cpu|cuda[:N]] [-o OUT]` reads pixels into a host image (cpu) or a device image (cuda),
// reports the timing, the path that ran and a checksum of the pixels on stderr, and saves them as
// .npy or .png when -o is given.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "cli/commands.hpp"
#include "tilestream/core/checksum.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/image_io/image_file.hpp"
#include "tilestream/slide/slide.hpp"
#if TILESTREAM_WITH_CUDA
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/read_to_device.hpp"
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
  std::string output;
};

std::array<std::uint64_t, 4> parse_region(const std::string& text);

// "cpu" gives -1, "cuda" 0, "cuda:N" N.
int parse_device(const std::string& text) {
  if (text == "cpu") return -1;
  if (text == "cuda") return 0;
  if (text.starts_with("cuda:")) {
    const std::string number = text.substr(5);
    const bool digits = !number.empty() && number.size() <= 4 &&
                        number.find_first_not_of("0123456789") == std::string::npos;
    if (digits) return std::stoi(number);
  }
  throw UsageError("--device wants cpu, cuda or cuda:N, got '" + text + "'");
}

// The line every read ends with, so that runs on any path can be compared.
void print_summary(const std::string& what, const HostImage& image, double seconds, const std::string& path,
                   unsigned threads) {
  const double megabytes = static_cast<double>(image.size_bytes()) / 1e6;
  std::fprintf(stderr, "read %s: %llu x %llu x %u %s, %.1f MB in %.3f s (%.1f MB/s, %.2f GB/s, %u threads)\n",
               what.c_str(), static_cast<unsigned long long>(image.height()),
               static_cast<unsigned long long>(image.width()), image.samples(), to_string(image.dtype()),
               megabytes, seconds, megabytes / seconds, megabytes / 1e3 / seconds, threads);
  std::fprintf(stderr, "path: %s\nchecksum: fnv1a64 %016" PRIx64 "\n", path.c_str(), fnv1a64(image.bytes()));
}

#if TILESTREAM_WITH_CUDA
void run_read_device(const ReadArgs& args, int device, unsigned threads) {
  check<UsageError>(args.associated.empty(), "--device cuda reads levels and regions, not associated images");
  const slide::Slide slide = slide::Slide::open(args.path);
  const std::size_t level = static_cast<std::size_t>(args.level);
  const tiff::Level& lv = slide.level(level);
  std::array<std::uint64_t, 4> r{0, 0, lv.image.width, lv.image.height};
  std::string what = concat("level ", args.level);
  if (!args.region.empty()) {
    r = parse_region(args.region);
    what = concat("level ", args.level, " region ", r[0], ",", r[1], " ", r[2], "x", r[3]);
  }
  cuda::DeviceReadOptions options;
  options.threads = threads;
  options.device = device;
  // Create the CUDA context before the timed read: the read's figure should not carry the
  // one-off driver start-up (hundreds of milliseconds).
  (void)cuda::describe_device(device);
  cuda::DeviceReadReport report;
  const cuda::DeviceImage image = cuda::read_region_to_device(slide, level, r[0], r[1], r[2], r[3], options, &report);
  const cuda::Stream stream;
  const HostImage host = image.to_host(stream);  // after the timing: for the checksum and -o
  print_summary(concat(what, " to cuda:", device), host, report.seconds, report.path, threads);
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
  const int device = parse_device(args.device);
  // The CPU path exists to produce a file; a device read may just be timed and checksummed.
  check<UsageError>(device >= 0 || !args.output.empty(), "--output is required (unless --device cuda)");
  if (device >= 0) {
#if TILESTREAM_WITH_CUDA
    run_read_device(args, device, resolve_threads(args.threads));
    return;
#else
    throw UsageError("--device " + args.device + ": this tilestream was built without CUDA");
#endif
  }
  const slide::Slide slide = slide::Slide::open(args.path);
  const slide::ReadOptions options{resolve_threads(args.threads)};
  const auto start = std::chrono::steady_clock::now();
  HostImage image;
  std::string what;
  if (!args.associated.empty()) {
    image = slide.read_associated(args.associated, options);
    what = "associated image '" + args.associated + "'";
  } else if (!args.region.empty()) {
    const auto r = parse_region(args.region);
    image = slide.read_region(static_cast<std::size_t>(args.level), r[0], r[1], r[2], r[3], options);
    what = concat("level ", args.level, " region ", r[0], ",", r[1], " ", r[2], "x", r[3]);
  } else {
    image = slide.read_level(static_cast<std::size_t>(args.level), options);
    what = concat("level ", args.level);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.output.empty()) image_io::save_image(image, args.output);
  print_summary(what, image, seconds, concat("CPU decode (", options.threads, " threads)"), options.threads);
}

}  // namespace

void add_read_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("read", "Read a level, region or associated image (to host or device memory, optionally to .npy or .png)");
  auto args = std::make_shared<ReadArgs>();
  cmd->add_option("FILE", args->path, "Slide file")->required();
  auto* level = cmd->add_option("--level", args->level, "Pyramid level (0 is full resolution)")
                    ->check(CLI::Range(0, 1000));
  auto* region = cmd->add_option("--region", args->region, "x,y,width,height in the level's pixels");
  cmd->add_option("--associated", args->associated, "Read an associated image (label, macro, thumbnail)")
      ->excludes(level)
      ->excludes(region);
  cmd->add_option("--threads", args->threads, "Decoding threads (default: TILESTREAM_THREADS or all cores)")
      ->check(CLI::Range(1u, 4096u));
  cmd->add_option("--device", args->device, "Where the pixels land: cpu (default), cuda or cuda:N");
  cmd->add_option("-o,--output", args->output, "Output file, .npy or .png (required with --device cpu; with "
                  "cuda, the pixels are copied back and saved)");
  cmd->callback([args] { run_read(*args); });
}

}  // namespace tilestream::cli
