// `tilestream synth`: writes a synthetic, tissue-like pyramidal TIFF sample slide.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::cli {
namespace {

struct SynthFlags {
  std::string output;
  std::string size;
  std::optional<std::uint32_t> tile;
  std::string compression;
  std::optional<int> quality;
  unsigned levels = 0;
  std::uint32_t samples = 3;
  std::string dtype = "uint8";
  bool predictor = false;
  bool big_tiff = false;
  bool big_endian = false;
  std::optional<std::uint32_t> strips;
  unsigned threads = 0;
  std::uint64_t seed = 1;
  bool aperio = false;
  bool seed_shape = false;
  std::string jpeg_color = "420";
  bool progressive = false;
};

std::uint16_t parse_compression(const std::string& name) {
  if (name == "none" || name == "raw") return codec::compression::none;
  if (name == "deflate" || name == "zlib") return codec::compression::deflate;
  if (name == "jpeg") return codec::compression::jpeg;
  if (name == "lzw") return codec::compression::lzw;
  if (name == "packbits") return codec::compression::packbits;
  if (name == "zstd") return codec::compression::zstd;
  if (name == "lzma") return codec::compression::lzma;
  if (name == "webp") return codec::compression::webp;
  if (name == "jpeg2000") return codec::compression::jpeg2000;
  if (name == "aperio-j2k") return codec::compression::jpeg2000_ycbcr;
  if (name == "aperio-j2k-rgb") return codec::compression::jpeg2000_rgb;
  throw UsageError(concat("--compression must be none, deflate, jpeg, lzw, packbits, zstd, lzma, webp, jpeg2000, "
                          "aperio-j2k or aperio-j2k-rgb, not '",
                          name, "'"));
}

void parse_size(const std::string& text, synth::SynthOptions& o) {
  const auto x = text.find_first_of("xX");
  std::uint64_t w = 0, h = 0;
  bool ok = x != std::string::npos && x > 0 && x + 1 < text.size() &&
            text.find_first_not_of("0123456789", 0) == x &&
            text.find_first_not_of("0123456789", x + 1) == std::string::npos && x <= 10 &&
            text.size() - x - 1 <= 10;
  if (ok) {
    w = std::stoull(text.substr(0, x));
    h = std::stoull(text.substr(x + 1));
    ok = w > 0 && h > 0;
  }
  check<UsageError>(ok, "--size must be WIDTHxHEIGHT with positive integers, like 8192x6144, not '",
                    text, "'");
  o.width = w;
  o.height = h;
}

synth::SynthOptions to_options(const SynthFlags& f) {
  synth::SynthOptions o;
  o.tile = 256;
  if (f.seed_shape) {
    check<UsageError>(f.size.empty() && !f.tile,
                      "--seed-shape sets the size (19920x26420) and tile (512): drop --size / --tile");
    o = synth::seed_shape_options();
  }
  if (!f.size.empty()) parse_size(f.size, o);
  if (f.tile) o.tile = *f.tile;
  if (!f.compression.empty()) o.compression = parse_compression(f.compression);
  o.jpeg_quality = f.quality.value_or(90);
  o.jpeg2000_quality = f.quality.value_or(-1);  // JPEG 2000 is lossless unless a quality is asked for
  o.levels = f.levels;
  o.samples = f.samples;
  check<UsageError>(f.dtype == "uint8" || f.dtype == "uint16", "--dtype must be uint8 or uint16, not '",
                    f.dtype, "'");
  o.dtype = f.dtype == "uint8" ? DType::uint8 : DType::uint16;
  o.predictor = f.predictor;
  if (f.big_tiff) o.big_tiff = true;
  o.big_endian = f.big_endian;
  if (f.strips) {
    check<UsageError>(*f.strips > 0, "--strips needs a positive number of rows per strip, not 0");
    o.tiled = false;
    o.rows_per_strip = *f.strips;
  }
  o.threads = f.threads;
  o.seed = f.seed;
  // Aperio's JPEG 2000 compressions come in Aperio's layout, which is what OpenSlide reads them in.
  o.aperio_description = f.aperio || o.compression == codec::compression::jpeg2000_ycbcr ||
                         o.compression == codec::compression::jpeg2000_rgb;
  if (f.jpeg_color == "rgb") {
    o.jpeg_ycbcr = false;
  } else {
    check<UsageError>(f.jpeg_color == "444" || f.jpeg_color == "422" || f.jpeg_color == "420",
                      "--jpeg-color must be 420, 422, 444 or rgb, not '", f.jpeg_color, "'");
    o.jpeg_ycbcr_sampling = {static_cast<std::uint8_t>(f.jpeg_color == "444" ? 1 : 2),
                             static_cast<std::uint8_t>(f.jpeg_color == "420" ? 2 : 1)};
  }
  o.jpeg_progressive = f.progressive;
  return o;
}

void run(const SynthFlags& flags) {
  const synth::SynthOptions options = to_options(flags);
  const auto start = std::chrono::steady_clock::now();
  const synth::SynthResult result = synth::write_synthetic_slide(flags.output, options);
  const double seconds = seconds_since(start);
  std::string levels;
  for (const synth::LevelSize& level : result.levels)
    levels += concat(levels.empty() ? "" : ", ", level.width, "x", level.height);
  std::printf("%s: %zu levels (%s), %s, %s, %llu bytes, %.2f s\n", flags.output.c_str(),
              result.levels.size(), levels.c_str(), codec::compression_name(options.compression),
              result.big_tiff ? "BigTIFF" : "TIFF", static_cast<unsigned long long>(result.file_bytes),
              seconds);
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto flags = std::make_shared<SynthFlags>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a synthetic tissue-like pyramidal TIFF slide");
  cmd->add_option("output", flags->output, "Output TIFF path")->required();
  cmd->add_option("--size", flags->size, "Level-0 size WIDTHxHEIGHT (default 8192x6144)");
  cmd->add_option("--tile", flags->tile, "Tile side, a multiple of 16 (default 256)");
  cmd->add_option("--compression", flags->compression,
                  "none|deflate|jpeg|lzw|packbits|zstd|lzma|webp|jpeg2000|aperio-j2k|aperio-j2k-rgb (default jpeg; "
                  "none with --seed-shape; webp is lossless; aperio-j2k is Aperio's YCbCr JPEG 2000 (33003), "
                  "aperio-j2k-rgb its RGB one (33005), both in the Aperio layout)");
  cmd->add_option("--quality", flags->quality,
                  "JPEG quality 1-100 (default 90); JPEG 2000: lossy at this quality (default lossless)");
  cmd->add_option("--levels", flags->levels, "Number of pyramid levels (default: down to one tile)");
  cmd->add_option("--samples", flags->samples, "Samples per pixel: 1, 3 or 4 (default 3)");
  cmd->add_option("--dtype", flags->dtype, "uint8 or uint16 (default uint8)");
  cmd->add_flag("--predictor", flags->predictor, "Horizontal predictor (lzw, deflate, zstd, lzma)");
  cmd->add_flag("--bigtiff", flags->big_tiff, "Force BigTIFF (default: only when over 3.9 GiB)");
  cmd->add_flag("--big-endian", flags->big_endian, "Big-endian (MM) byte order");
  cmd->add_option("--strips", flags->strips, "Write strips of this many rows instead of tiles");
  cmd->add_option("--threads", flags->threads, "Encoding threads (default: TILESTREAM_THREADS or all cores)");
  cmd->add_option("--seed", flags->seed, "Pattern seed (default 1)");
  cmd->add_option("--jpeg-color", flags->jpeg_color,
                  "JPEG colour: YCbCr sampled 420, 422 or 444, or rgb (RGB, not subsampled; default 420)");
  cmd->add_flag("--progressive", flags->progressive, "Progressive JPEG (decoders' fallback tests)");
  cmd->add_flag("--aperio", flags->aperio, "Write an Aperio-style ImageDescription on level 0");
  cmd->add_flag("--seed-shape", flags->seed_shape,
                "19920x26420 RGB, 512x512 uncompressed tiles, all levels: the seed slide's shape");
  cmd->callback([flags] { run(*flags); });
}

}  // namespace tilestream::cli
