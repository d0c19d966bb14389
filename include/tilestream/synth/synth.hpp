// Synthetic, tissue-like whole-slide images: a deterministic procedural H&E look (white background,
// pink stroma, purple nuclei) evaluable for any rectangle of any pyramid level, and a writer of
// pyramidal TIFF sample slides built on it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/dtype.hpp"

namespace tilestream::synth {

// The continuous pattern behind a synthetic slide. Level k samples it at 2^k level-0 pixels per
// pixel, so levels agree with each other (up to the fine noise), and any rectangle of any level can
// be rendered on its own. Immutable after construction: render() is safe from many threads.
class SlidePattern {
 public:
  explicit SlidePattern(std::uint64_t seed);

  // Renders `rows` x `width` pixels of `level` whose top-left pixel is (x0, y0) in that level's
  // coordinates, interleaved, native byte order, into `out` (exactly width*rows*samples*bytes).
  // samples: 1 (gray), 3 (RGB) or 4 (RGB + opaque alpha). uint16 samples are the uint8 value * 257.
  void render(unsigned level, std::uint64_t x0, std::uint64_t y0, std::uint32_t width,
              std::uint32_t rows, std::uint32_t samples, DType dtype, std::span<std::byte> out) const;

  // Side (in cells) of the periodic noise tables.
  static constexpr unsigned table_size = 256;

 private:
  struct NoiseTable {
    std::vector<float> values;  // table_size^2, smooth, in [0, 1], periodic
    float cell = 1;             // level-0 pixels per table cell
  };
  void render_rgb_row(unsigned level, std::uint64_t x0, std::uint64_t y, std::uint32_t width,
                      std::uint8_t* rgb) const;

  std::uint64_t seed_;
  // tissue shape (3 octaves), cellularity, stroma fibres
  std::array<NoiseTable, 5> tables_;
};

struct SynthOptions {
  std::uint64_t width = 8192;
  std::uint64_t height = 6144;
  std::uint32_t tile = 256;  // tile side (multiple of 16); for strips, only sets the level count
  std::uint16_t compression = codec::compression::jpeg;
  int jpeg_quality = 90;
  int jpeg2000_quality = -1;  // JPEG 2000 (34712, 33003, 33005): negative lossless, else lossy at 1 to 100
  bool jpeg_ycbcr = true;                                // 3-sample JPEG as YCbCr, else RGB (4:4:4)
  std::array<std::uint8_t, 2> jpeg_ycbcr_sampling{2, 2};  // luma factors: {2, 2} 4:2:0, {2, 1} 4:2:2, {1, 1} 4:4:4
  bool jpeg_progressive = false;
  unsigned levels = 0;  // 0: halve until the smallest level fits in one tile
  std::uint32_t samples = 3;
  DType dtype = DType::uint8;
  bool predictor = false;          // horizontal differencing (LZW, deflate, zstd, LZMA only)
  std::optional<bool> big_tiff;    // unset: BigTIFF when the uncompressed size exceeds 3.9 GiB
  bool big_endian = false;
  bool tiled = true;
  std::uint32_t rows_per_strip = 64;  // when !tiled
  unsigned threads = 0;               // 0: default_settings().threads
  std::uint64_t seed = 1;
  // Aperio SVS layout: an Aperio-style ImageDescription (AppMag 20, MPP 0.499) on level 0, a
  // stripped thumbnail as the second page and reduced levels with NewSubfileType 0, as scanners
  // write them. Otherwise the pages are the levels alone, reduced ones with NewSubfileType 1.
  bool aperio_description = false;
};

// The shape of the seed slide: 19920 x 26420 RGB uint8, 512 x 512 uncompressed tiles (39 x 52 =
// 2028 at level 0), all reduced levels.
SynthOptions seed_shape_options();

struct LevelSize {
  std::uint64_t width = 0;
  std::uint64_t height = 0;
};

// Level sizes for these options: level k is ceil(size / 2^k); stops after options.levels levels,
// or (levels == 0) at the first level whose sides both fit in one tile. Throws UsageError on bad
// options.
std::vector<LevelSize> synthetic_level_sizes(const SynthOptions& options);

// Whether these options give a BigTIFF (forced, or estimated uncompressed size > 3.9 GiB).
bool synthetic_needs_big_tiff(const SynthOptions& options);

// The Aperio-like ImageDescription written on level 0 when options.aperio_description.
std::string aperio_description(const SynthOptions& options);

struct SynthResult {
  std::vector<LevelSize> levels;
  std::optional<LevelSize> thumbnail;  // Aperio layout only: the second page
  std::uint64_t file_bytes = 0;
  bool big_tiff = false;
};

// Writes a pyramidal synthetic slide to `path` (via path.partial, renamed when complete).
// Throws UsageError on bad options, IoError / CodecError on failures.
SynthResult write_synthetic_slide(const std::string& path, const SynthOptions& options);

}  // namespace tilestream::synth
