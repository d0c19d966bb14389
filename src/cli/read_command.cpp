// `tilestream read FILE [--level L | --associated NAME] [--region x,y,w,h] [--threads N] -o OUT`
// decodes pixels into a host image, saves it as .npy or .png, and reports the timing on stderr.
#include <chrono>
#include <cstdio>
#include <sstream>

#include "cli/commands.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/image_io/image_file.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::cli {
namespace {

struct ReadArgs {
  std::string path;
  int level = 0;
  std::string associated;
  std::string region;
  unsigned threads = 0;
  std::string output;
};

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
  image_io::save_image(image, args.output);
  const double megabytes = static_cast<double>(image.size_bytes()) / 1e6;
  std::fprintf(stderr, "read %s: %llu x %llu x %u %s, %.1f MB in %.3f s (%.1f MB/s, %u threads)\n",
               what.c_str(), static_cast<unsigned long long>(image.height()),
               static_cast<unsigned long long>(image.width()), image.samples(), to_string(image.dtype()),
               megabytes, seconds, megabytes / seconds, options.threads);
}

}  // namespace

void add_read_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("read", "Decode a level, region or associated image to .npy or .png");
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
  cmd->add_option("-o,--output", args->output, "Output file, .npy or .png")->required();
  cmd->callback([args] { run_read(*args); });
}

}  // namespace tilestream::cli
