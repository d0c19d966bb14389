// The halo rule: every op and chain computed tile by tile (each tile's input box copied out on its
// own, so that reading past it would show) equals the whole image computed at once, bit for bit, for
// tile sizes that do not divide the image, on 1 and 4 threads.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/host_image.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::ops {
namespace {

// 301 x 203 pixels of the synthetic tissue pattern (edges, noise, flat background).
HostImage pattern_image(std::uint32_t samples, DType dtype) {
  HostImage image(203, 301, samples, dtype);
  const synth::SlidePattern pattern(7);
  pattern.render(0, 1500, 900, 301, 203, samples, dtype, {image.data(), image.size_bytes()});
  return image;
}

HostImage run_global(const Chain& chain, const HostImage& in) {
  const ImageShape in_shape{in.height(), in.width(), in.samples(), in.dtype()};
  const ImageShape s = chain.output_shape(in_shape);
  HostImage out(s.height, s.width, s.samples, s.dtype);
  chain.run_cpu({in.data(), in.row_bytes(), {0, 0, in.height(), in.width()}}, in_shape,
                {out.data(), out.row_bytes(), {0, 0, s.height, s.width}});
  return out;
}

// Output tiles of `tile` x `tile`; each tile's input box copied into a buffer of its own, and the
// output written straight into its place in the whole output image (a strided view).
HostImage run_tiled(const Chain& chain, const HostImage& in, std::uint64_t tile, unsigned threads) {
  const ImageShape in_shape{in.height(), in.width(), in.samples(), in.dtype()};
  const ImageShape s = chain.output_shape(in_shape);
  HostImage out(s.height, s.width, s.samples, s.dtype);
  std::memset(out.data(), 0xA5, out.size_bytes());
  const std::uint64_t rows = (s.height + tile - 1) / tile, cols = (s.width + tile - 1) / tile;
  parallel_for(rows * cols, threads, [&](std::size_t i) {
    const std::uint64_t ty = i / cols, tx = i % cols;
    const Box box{ty * tile, tx * tile, std::min(tile, s.height - ty * tile),
                  std::min(tile, s.width - tx * tile)};
    const Box need = chain.input_box(box, in_shape);
    HostImage piece(need.height, need.width, in.samples(), in.dtype());
    for (std::uint64_t y = 0; y < need.height; ++y)
      std::memcpy(piece.row(y), in.row(need.y + y) + need.x * in.pixel_bytes(), piece.row_bytes());
    chain.run_cpu({piece.data(), piece.row_bytes(), need}, in_shape,
                  {out.row(box.y) + box.x * out.pixel_bytes(), out.row_bytes(), box});
  });
  return out;
}

struct Case {
  std::vector<std::string> ops;
  std::uint32_t samples = 3;
  DType dtype = DType::uint8;
};

std::string name_of(const Case& c) {
  std::string name;
  for (const std::string& op : c.ops) name += (name.empty() ? "" : "_then_") + op;
  name += concat("_", c.samples, "x", to_string(c.dtype));
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

// Names the case in test listings (ctest) instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << name_of(c); }

class TiledEqualsGlobal : public ::testing::TestWithParam<Case> {};

TEST_P(TiledEqualsGlobal, BitForBit) {
  const Case& c = GetParam();
  const Chain chain = Chain::parse(c.ops);
  const HostImage in = pattern_image(c.samples, c.dtype);
  const HostImage global = run_global(chain, in);
  // The result is not trivial (a broken op writing zeros everywhere would pass the comparison).
  bool varied = false;
  for (std::size_t i = global.pixel_bytes(); i < global.size_bytes() && !varied; ++i)
    varied = global.data()[i] != global.data()[i % global.pixel_bytes()];
  EXPECT_TRUE(varied) << chain.spec() << ": constant output";
  for (const std::uint64_t tile : {37u, 64u, 100u}) {
    for (const unsigned threads : {1u, 4u}) {
      const HostImage tiled = run_tiled(chain, in, tile, threads);
      ASSERT_EQ(tiled.size_bytes(), global.size_bytes());
      const auto* a = global.data();
      const auto* b = tiled.data();
      std::size_t first = global.size_bytes();
      for (std::size_t i = 0; i < global.size_bytes(); ++i)
        if (a[i] != b[i]) {
          first = i;
          break;
        }
      EXPECT_EQ(first, global.size_bytes())
          << chain.spec() << ", tiles " << tile << ", threads " << threads << ": first difference at pixel ("
          << first / global.row_bytes() << ", " << first % global.row_bytes() / global.pixel_bytes() << ")";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ops, TiledEqualsGlobal,
    ::testing::Values(Case{{"absorbance"}}, Case{{"sobel"}}, Case{{"sobel"}, 1, DType::uint16},
                      Case{{"gaussian:sigma=2.5"}}, Case{{"gaussian:sigma=0.7"}, 1, DType::uint16},
                      Case{{"gaussian:sigma=6"}}, Case{{"median:size=5"}},
                      Case{{"median:size=3"}, 1, DType::uint16}, Case{{"grayscale"}}, Case{{"hed"}},
                      Case{{"hed"}, 3, DType::uint16}, Case{{"downsample2x"}}, Case{{"cast", "downsample2x"}},
                      Case{{"absorbance", "gaussian:sigma=2.5"}}, Case{{"grayscale", "sobel"}},
                      Case{{"median:size=5", "downsample2x"}},
                      Case{{"downsample2x", "gaussian:sigma=1.5", "sobel"}},
                      Case{{"absorbance", "median:size=3", "downsample2x", "downsample2x"}}),
    [](const ::testing::TestParamInfo<Case>& info) { return name_of(info.param); });

}  // namespace
}  // namespace tilestream::ops
