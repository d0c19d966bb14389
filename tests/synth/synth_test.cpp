// Synthetic slides: determinism, tile independence, H&E-like content, agreement between pyramid
// levels, sample / dtype variants, the pyramid file written by write_synthetic_slide, and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_path.hpp"
#include "tiff/writer_test_reader.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::synth {
namespace {

using ::tilestream::testing::temp_path;

using testing::MiniTiff;
namespace fs = std::filesystem;

std::vector<std::uint8_t> render_rgb(const SlidePattern& pattern, unsigned level, std::uint64_t x0,
                                     std::uint64_t y0, std::uint32_t width, std::uint32_t rows) {
  std::vector<std::uint8_t> pixels(std::size_t{width} * rows * 3);
  pattern.render(level, x0, y0, width, rows, 3, DType::uint8,
                 std::as_writable_bytes(std::span(pixels)));
  return pixels;
}

TEST(SlidePattern, SameSeedSameBytesOtherSeedOtherBytes) {
  const SlidePattern a(7), b(7), c(8);
  EXPECT_EQ(render_rgb(a, 0, 5000, 7000, 200, 100), render_rgb(b, 0, 5000, 7000, 200, 100));
  EXPECT_EQ(render_rgb(a, 2, 100, 300, 64, 64), render_rgb(b, 2, 100, 300, 64, 64));
  EXPECT_NE(render_rgb(a, 0, 5000, 7000, 200, 100), render_rgb(c, 0, 5000, 7000, 200, 100));
}

TEST(SlidePattern, RectanglesAreIndependent) {
  const SlidePattern pattern(3);
  for (const unsigned level : {0u, 1u, 2u, 3u, 6u}) {
    SCOPED_TRACE(level);
    const auto whole = render_rgb(pattern, level, 1000, 2000, 128, 96);
    const auto part = render_rgb(pattern, level, 1000 + 40, 2000 + 30, 50, 20);
    for (std::uint32_t y = 0; y < 20; ++y)
      ASSERT_EQ(0, std::memcmp(&part[y * 50 * 3], &whole[((30 + y) * 128 + 40) * 3], 50 * 3)) << "row " << y;
  }
}

struct Stats {
  double background = 0, pink = 0, nuclei = 0;
  double background_mean = 0;
};

// Classifies pixels: near-white background, pink (eosin: red high, green low), dark purple
// (hematoxylin: all channels low, blue above green).
Stats classify(const std::vector<std::uint8_t>& rgb) {
  Stats s;
  double bg_sum = 0;
  const std::size_t n = rgb.size() / 3;
  for (std::size_t i = 0; i < n; ++i) {
    const int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    if (r >= 228 && g >= 228 && b >= 228) {
      s.background += 1;
      bg_sum += (r + g + b) / 3.0;
    } else if (r > 170 && g < r - 40 && b > g) {
      s.pink += 1;
    } else if (r < 150 && g < 120 && b > g) {
      s.nuclei += 1;
    }
  }
  s.background_mean = s.background > 0 ? bg_sum / s.background : 0;
  s.background /= double(n);
  s.pink /= double(n);
  s.nuclei /= double(n);
  return s;
}

TEST(SlidePattern, LooksLikeAnHAndESlide) {
  // The whole seed-shaped slide at level 5 (623 x 826): a mix of background and tissue.
  const SlidePattern pattern(1);
  const auto overview = render_rgb(pattern, 5, 0, 0, 623, 826);
  const Stats coarse = classify(overview);
  EXPECT_GT(coarse.background, 0.25);
  EXPECT_LT(coarse.background, 0.85);
  EXPECT_GT(coarse.pink, 0.05);
  EXPECT_GT(coarse.background_mean, 235.0);
  EXPECT_LT(coarse.background_mean, 246.0);

  // At full resolution, tissue areas have nuclei: find a tissue-rich 1024^2 area through level 5.
  std::uint64_t best_x = 0, best_y = 0;
  double best = -1;
  for (std::uint64_t ty = 0; ty + 32 <= 826; ty += 32)
    for (std::uint64_t tx = 0; tx + 32 <= 623; tx += 32) {
      int tissue = 0;
      for (std::uint64_t y = ty; y < ty + 32; ++y)
        for (std::uint64_t x = tx; x < tx + 32; ++x) tissue += overview[(y * 623 + x) * 3 + 1] < 215;
      if (tissue > best) best = tissue, best_x = tx * 32, best_y = ty * 32;
    }
  const Stats fine = classify(render_rgb(pattern, 0, best_x, best_y, 1024, 1024));
  EXPECT_GT(fine.pink, 0.3);
  EXPECT_GT(fine.nuclei, 0.01);
  EXPECT_LT(fine.nuclei, 0.4);
}

TEST(SlidePattern, LevelOneMatchesTwoByTwoMeansOfLevelZero) {
  const SlidePattern pattern(11);
  for (const unsigned level : {1u, 2u, 3u}) {
    SCOPED_TRACE(level);
    const std::uint32_t f = 1u << level;         // level-0 pixels per level pixel
    const std::uint32_t n = 256, block = 16;     // level pixels compared, block side in level pixels
    const std::uint64_t x0 = 4096 / f, y0 = 6144 / f;
    const auto coarse = render_rgb(pattern, level, x0, y0, n, n);
    const auto fine = render_rgb(pattern, 0, x0 * f, y0 * f, n * f, n * f);
    double worst = 0, total = 0;
    int blocks = 0;
    for (std::uint32_t by = 0; by < n; by += block)
      for (std::uint32_t bx = 0; bx < n; bx += block)
        for (int c = 0; c < 3; ++c) {
          double sc = 0, sf = 0;
          for (std::uint32_t y = by; y < by + block; ++y)
            for (std::uint32_t x = bx; x < bx + block; ++x) sc += coarse[(y * n + x) * 3 + c];
          for (std::uint32_t y = by * f; y < (by + block) * f; ++y)
            for (std::uint32_t x = bx * f; x < (bx + block) * f; ++x) sf += fine[(y * n * f + x) * 3 + c];
          const double diff = std::abs(sc / (block * block) - sf / (block * block * f * f));
          worst = std::max(worst, diff);
          total += diff;
          ++blocks;
        }
    // Loose: the ragged tissue edge and fibres fade to their mean at coarse levels, which moves
    // edges by a few pixels; blocks straddling an edge differ most.
    EXPECT_LT(total / blocks, 4.0);
    EXPECT_LT(worst, 40.0);
    std::printf("level %u: mean block difference %.2f, worst %.2f\n", level, total / blocks, worst);
  }
}

TEST(SlidePattern, SamplesAndDtypesDeriveFromRgb) {
  const SlidePattern pattern(5);
  const std::uint32_t w = 40, h = 30;
  const auto rgb = render_rgb(pattern, 0, 9000, 9000, w, h);
  std::vector<std::uint8_t> gray(w * h), rgba(w * h * 4);
  std::vector<std::uint16_t> rgb16(w * h * 3);
  pattern.render(0, 9000, 9000, w, h, 1, DType::uint8, std::as_writable_bytes(std::span(gray)));
  pattern.render(0, 9000, 9000, w, h, 4, DType::uint8, std::as_writable_bytes(std::span(rgba)));
  pattern.render(0, 9000, 9000, w, h, 3, DType::uint16, std::as_writable_bytes(std::span(rgb16)));
  for (std::size_t i = 0; i < std::size_t{w} * h; ++i) {
    const int expect_gray = (77 * rgb[3 * i] + 150 * rgb[3 * i + 1] + 29 * rgb[3 * i + 2] + 128) >> 8;
    ASSERT_EQ(gray[i], expect_gray);
    for (int c = 0; c < 3; ++c) {
      ASSERT_EQ(rgba[4 * i + c], rgb[3 * i + c]);
      ASSERT_EQ(rgb16[3 * i + c], rgb[3 * i + c] * 257);
    }
    ASSERT_EQ(rgba[4 * i + 3], 255);
  }
  std::vector<std::uint8_t> small(10);
  EXPECT_THROW(pattern.render(0, 0, 0, 4, 1, 3, DType::uint8, std::as_writable_bytes(std::span(small))),
               UsageError);
  EXPECT_THROW(pattern.render(0, 0, 0, 5, 1, 2, DType::uint8, std::as_writable_bytes(std::span(small))),
               UsageError);
}

TEST(SynthOptions, SeedShapeLevels) {
  const SynthOptions o = seed_shape_options();
  EXPECT_EQ(o.width, 19920u);
  EXPECT_EQ(o.height, 26420u);
  EXPECT_EQ(o.tile, 512u);
  EXPECT_EQ(o.compression, codec::compression::none);
  const auto levels = synthetic_level_sizes(o);
  ASSERT_EQ(levels.size(), 7u);
  EXPECT_EQ((levels[0].width + 511) / 512 * ((levels[0].height + 511) / 512), 2028u);
  EXPECT_EQ(levels[1].width, 9960u);
  EXPECT_EQ(levels[1].height, 13210u);
  EXPECT_EQ(levels[6].width, 312u);
  EXPECT_EQ(levels[6].height, 413u);
  EXPECT_FALSE(synthetic_needs_big_tiff(o));

  SynthOptions huge = o;
  huge.width = huge.height = 40000;
  EXPECT_TRUE(synthetic_needs_big_tiff(huge));
  huge.big_tiff = false;
  EXPECT_FALSE(synthetic_needs_big_tiff(huge));
  SynthOptions forced = o;
  forced.big_tiff = true;
  EXPECT_TRUE(synthetic_needs_big_tiff(forced));
  SynthOptions three = o;
  three.levels = 3;
  EXPECT_EQ(synthetic_level_sizes(three).size(), 3u);
}

struct Bad {
  const char* what;
  void (*mutate)(SynthOptions&);
};

TEST(SynthOptions, RejectsBadOptions) {
  const Bad cases[] = {
      {"tile 100", [](SynthOptions& o) { o.tile = 100; }},
      {"empty", [](SynthOptions& o) { o.width = 0; }},
      {"2 samples", [](SynthOptions& o) { o.samples = 2; }},
      {"jpeg uint16", [](SynthOptions& o) { o.dtype = DType::uint16; }},
      {"jpeg quality 0", [](SynthOptions& o) { o.jpeg_quality = 0; }},
      {"jpeg predictor", [](SynthOptions& o) { o.predictor = true; }},
      {"LERC", [](SynthOptions& o) { o.compression = codec::compression::lerc; }},
      {"jpeg strips of 8", [](SynthOptions& o) { o.tiled = false; o.rows_per_strip = 8; }},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.what);
    SynthOptions o;
    bad.mutate(o);
    EXPECT_THROW(synthetic_level_sizes(o), UsageError);
  }
}

// WebP takes 3 or 4 uint8 samples and no predictor; a build without libwebp refuses WebP by name.
TEST(SynthOptions, WebPNeedsRgbOrRgbaBytesAndItsLibrary) {
  const Bad cases[] = {
      {"webp gray", [](SynthOptions& o) { o.samples = 1; }},
      {"webp uint16", [](SynthOptions& o) { o.dtype = DType::uint16; }},
      {"webp predictor", [](SynthOptions& o) { o.predictor = true; }},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.what);
    SynthOptions o;
    o.compression = codec::compression::webp;
    bad.mutate(o);
    if (codec::is_supported(codec::compression::webp)) EXPECT_THROW(synthetic_level_sizes(o), UsageError);
    else EXPECT_THROW(synthetic_level_sizes(o), UnsupportedError);
  }
  SynthOptions rgba;
  rgba.compression = codec::compression::webp;
  rgba.samples = 4;
  if (codec::is_supported(codec::compression::webp)) EXPECT_NO_THROW(synthetic_level_sizes(rgba));
  else EXPECT_THROW(synthetic_level_sizes(rgba), UnsupportedError);
}

// JPEG 2000: a quality of 1 to 100 or none (lossless); Aperio's ids need tiles of RGB bytes.
TEST(SynthOptions, Jpeg2000QualityAndAperioLayouts) {
  const Bad cases[] = {
      {"j2k quality 0", [](SynthOptions& o) { o.jpeg2000_quality = 0; }},
      {"j2k quality 101", [](SynthOptions& o) { o.jpeg2000_quality = 101; }},
      {"aperio j2k gray",
       [](SynthOptions& o) { o.compression = codec::compression::jpeg2000_ycbcr, o.samples = 1; }},
      {"aperio j2k uint16",
       [](SynthOptions& o) { o.compression = codec::compression::jpeg2000_rgb, o.dtype = DType::uint16; }},
      {"aperio j2k strips",
       [](SynthOptions& o) { o.compression = codec::compression::jpeg2000_ycbcr, o.tiled = false; }},
      {"j2k predictor", [](SynthOptions& o) { o.predictor = true; }},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.what);
    SynthOptions o;
    o.compression = codec::compression::jpeg2000;
    bad.mutate(o);
    if (codec::is_supported(codec::compression::jpeg2000))
      EXPECT_THROW(synthetic_level_sizes(o), UsageError);
    else
      EXPECT_THROW(synthetic_level_sizes(o), UnsupportedError);
  }
}

// Aperio YCbCr JPEG 2000 levels (J2K codestreams) with a JPEG thumbnail, as Aperio writes them.
TEST(WriteSyntheticSlide, AperioJpeg2000) {
  if (!codec::is_supported(codec::compression::jpeg2000_ycbcr)) GTEST_SKIP() << "this build has no OpenJPEG";
  SynthOptions o;
  o.width = 700;
  o.height = 500;
  o.tile = 128;
  o.compression = codec::compression::jpeg2000_ycbcr;
  o.jpeg2000_quality = 70;
  o.aperio_description = true;
  const std::string path = temp_path("j2k.svs");
  const SynthResult result = write_synthetic_slide(path, o);
  const MiniTiff tiff(path);
  ASSERT_EQ(tiff.pages.size(), result.levels.size() + 1);
  for (std::size_t p = 0; p < tiff.pages.size(); ++p) {
    SCOPED_TRACE(p);
    const MiniTiff::Page& page = tiff.pages[p];
    EXPECT_EQ(page.value(259), p == 1 ? 7u : 33003u);  // the thumbnail is JPEG
    EXPECT_EQ(page.value(262), p == 1 ? 6u : 2u);
    if (p == 1) continue;
    const std::uint64_t offset = page.values(324)[0];
    EXPECT_EQ(tiff.bytes[offset], 0xff);
    EXPECT_EQ(tiff.bytes[offset + 1], 0x4f);  // a J2K codestream
  }
  EXPECT_NE(tiff.pages[0].tag(270).text.find("(128x128) J2K/YUV16 Q=70|"), std::string::npos);
}

TEST(WriteSyntheticSlide, PyramidPagesMatchThePattern) {
  SynthOptions o;
  o.width = 1000;
  o.height = 700;
  o.tile = 128;
  o.compression = codec::compression::none;
  o.big_endian = true;
  o.threads = 3;
  o.seed = 42;
  const std::string path = temp_path("slide.tif");
  const SynthResult result = write_synthetic_slide(path, o);
  ASSERT_EQ(result.levels.size(), 4u);  // 1000x700, 500x350, 250x175, 125x88
  EXPECT_EQ(result.levels[3].width, 125u);
  EXPECT_EQ(result.levels[3].height, 88u);
  EXPECT_FALSE(result.big_tiff);
  EXPECT_FALSE(result.thumbnail.has_value());
  EXPECT_EQ(result.file_bytes, fs::file_size(path));

  const MiniTiff tiff(path);
  ASSERT_EQ(tiff.pages.size(), 4u);
  EXPECT_TRUE(tiff.big_endian);
  const SlidePattern pattern(42);
  for (std::size_t k = 0; k < 4; ++k) {
    SCOPED_TRACE(k);
    const MiniTiff::Page& page = tiff.pages[k];
    EXPECT_EQ(page.value(254), k == 0 ? 0u : 1u);
    EXPECT_EQ(page.value(256), result.levels[k].width);
    EXPECT_EQ(page.value(257), result.levels[k].height);
    EXPECT_FALSE(page.has(270));
    // The last tile of each level (an edge tile, but complete as stored) holds that level's pattern.
    const std::uint64_t across = (result.levels[k].width + 127) / 128;
    const std::uint64_t down = (result.levels[k].height + 127) / 128;
    const std::size_t index = across * down - 1;
    const auto& offsets = page.values(324);
    ASSERT_EQ(offsets.size(), across * down);
    const auto expected = render_rgb(pattern, static_cast<unsigned>(k), (across - 1) * 128,
                                     (down - 1) * 128, 128, 128);
    ASSERT_EQ(page.values(325)[index], expected.size());
    EXPECT_EQ(0, std::memcmp(&tiff.bytes[offsets[index]], expected.data(), expected.size()));
  }
}

// With the Aperio layout: level 0 with the description, a stripped thumbnail, then the reduced
// levels as plain (NewSubfileType 0) tiled pages, like a scanner's SVS.
TEST(WriteSyntheticSlide, AperioLayout) {
  SynthOptions o;
  o.width = 3000;
  o.height = 2100;
  o.tile = 256;
  o.compression = codec::compression::none;
  o.aperio_description = true;
  o.seed = 4;
  const std::string path = temp_path("svs.tif");
  const SynthResult result = write_synthetic_slide(path, o);
  ASSERT_EQ(result.levels.size(), 5u);
  ASSERT_TRUE(result.thumbnail.has_value());
  EXPECT_EQ(result.thumbnail->width, 750u);  // level 2: the first with both sides <= 1024
  EXPECT_EQ(result.thumbnail->height, 525u);

  const MiniTiff tiff(path);
  ASSERT_EQ(tiff.pages.size(), 6u);
  for (std::size_t p = 0; p < tiff.pages.size(); ++p) {
    SCOPED_TRACE(p);
    const MiniTiff::Page& page = tiff.pages[p];
    EXPECT_EQ(page.value(254), 0u);
    EXPECT_EQ(page.has(322), p != 1);  // only the thumbnail is stripped
    const LevelSize size = p == 1 ? *result.thumbnail : result.levels[p == 0 ? 0 : p - 1];
    EXPECT_EQ(page.value(256), size.width);
    EXPECT_EQ(page.value(257), size.height);
    EXPECT_EQ(page.tag(270).text.rfind("Aperio Image Library", 0), 0u);
  }
  // Thumbnail strip 0 is level 2 of the pattern.
  const MiniTiff::Page& thumb = tiff.pages[1];
  const auto expected = render_rgb(SlidePattern(4), 2, 0, 0, 750, 16);
  ASSERT_EQ(thumb.values(279)[0], expected.size());
  EXPECT_EQ(0, std::memcmp(&tiff.bytes[thumb.values(273)[0]], expected.data(), expected.size()));

  const std::string& description = tiff.pages[0].tag(270).text;
  EXPECT_NE(description.find("3000x2100 [0,0 3000x2100] (256x256) RAW|"), std::string::npos) << description;
  EXPECT_NE(description.find("|AppMag = 20|"), std::string::npos);
  EXPECT_NE(description.find("|MPP = 0.4990|"), std::string::npos);
  EXPECT_EQ(description, aperio_description(o));
  EXPECT_NE(tiff.pages[3].tag(270).text.find("-> 750x525"), std::string::npos);
}

TEST(WriteSyntheticSlide, SameSeedSameFile) {
  SynthOptions o;
  o.width = 700;
  o.height = 500;
  o.tile = 256;
  o.threads = 2;
  const std::string a = temp_path("a.tif"), b = temp_path("b.tif");
  write_synthetic_slide(a, o);
  o.threads = 5;
  write_synthetic_slide(b, o);
  EXPECT_EQ(MiniTiff(a).bytes, MiniTiff(b).bytes);
}

#ifdef TILESTREAM_CLI_PATH
int run_cli(const std::string& args) {
  const int status = std::system((std::string(TILESTREAM_CLI_PATH) + " " + args + " > /dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SynthCommand, WritesASlideAndRejectsBadFlags) {
  const std::string path = temp_path("cli.tif");
  ASSERT_EQ(run_cli("synth " + path + " --size 600x400 --tile 128 --compression deflate --predictor "
                    "--bigtiff --big-endian --levels 2 --seed 9"), 0);
  const MiniTiff tiff(path);
  EXPECT_TRUE(tiff.big_tiff);
  EXPECT_TRUE(tiff.big_endian);
  ASSERT_EQ(tiff.pages.size(), 2u);
  EXPECT_EQ(tiff.pages[0].value(256), 600u);
  EXPECT_EQ(tiff.pages[0].value(259), codec::compression::deflate);
  EXPECT_EQ(tiff.pages[0].value(317), 2u);
  EXPECT_EQ(run_cli("synth " + path + " --size 600by400"), 2);
  EXPECT_EQ(run_cli("synth " + path + " --compression zip"), 2);
  EXPECT_EQ(run_cli("synth " + path + " --tile 100"), 2);
  EXPECT_EQ(run_cli("synth " + path + " --seed-shape --tile 256"), 2);
  EXPECT_EQ(run_cli("synth " + path + " --dtype float32"), 2);
}
#endif

}  // namespace
}  // namespace tilestream::synth
