// The table of ops (src/ops/op_table.hpp), entry by entry: each op builds from its bare name (its
// defaults), its canonical spec reads back through make_op, its help line is in describe_ops, its CPU
// run computes every output sample of a small image and tiled runs equal the whole-image run, and
// where tilestream is built with CUDA it has a device launcher (tests/cuda/ops_test.cpp runs them).
#include "ops/op_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"
#include "tilestream/core/host_image.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::ops {
namespace {

// The first of a few small inputs with odd sizes that `op` takes (RGB first: every op takes some
// RGB input, grayscale no other), or nothing.
std::optional<ImageShape> accepted_input(const Op& op) {
  for (const DType dtype : {DType::uint8, DType::uint16, DType::float32, DType::int8, DType::int16}) {
    for (const std::uint32_t samples : {3u, 1u}) {
      const ImageShape shape{11, 13, samples, dtype};
      try {
        op.output_shape(shape);
        return shape;
      } catch (const UsageError&) {
      }
    }
  }
  return std::nullopt;
}

// Distinct samples of every sample type (integers wrap, float32 from the same integers scaled).
HostImage make_input(const ImageShape& shape) {
  HostImage image(shape.height, shape.width, shape.samples, shape.dtype);
  const std::size_t sample = bytes_per_sample(shape.dtype);
  for (std::uint64_t y = 0; y < shape.height; ++y) {
    for (std::uint64_t i = 0; i < shape.width * shape.samples; ++i) {
      const std::uint64_t level = (y * 37 + i * 11 + (y * i) % 7) % 256;
      std::byte* at = image.row(y) + i * sample;
      const auto put = [at](auto value) { std::memcpy(at, &value, sizeof value); };
      switch (shape.dtype) {
        case DType::uint8: put(static_cast<std::uint8_t>(level)); break;
        case DType::uint16: put(static_cast<std::uint16_t>(level * 257)); break;
        case DType::int8: put(static_cast<std::int8_t>(static_cast<int>(level) - 128)); break;
        case DType::int16: put(static_cast<std::int16_t>((static_cast<int>(level) - 128) * 200)); break;
        case DType::float32: put(static_cast<float>(level) / 255.0f); break;
        case DType::uint32: put(static_cast<std::uint32_t>(level * 16843009)); break;
        case DType::int32: put(static_cast<std::int32_t>((static_cast<int>(level) - 128) * 16777216)); break;
        case DType::float16: put(float16_from_double(static_cast<double>(level) / 8.0 - 16.0)); break;
      }
    }
  }
  return image;
}

// op's output for the boxes of a `tile` x `tile` grid over the output, each box computed from its
// own input box alone, into an output first filled with `fill` bytes.
HostImage run_cpu_tiled(const Op& op, const HostImage& in, const ImageShape& shape, std::uint64_t tile,
                        std::uint8_t fill) {
  const ImageShape out_shape = op.output_shape(shape);
  HostImage out(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype);
  std::memset(out.data(), fill, out.size_bytes());
  for (std::uint64_t y = 0; y < out_shape.height; y += tile) {
    for (std::uint64_t x = 0; x < out_shape.width; x += tile) {
      const Box box{y, x, std::min(tile, out_shape.height - y), std::min(tile, out_shape.width - x)};
      const Box in_box = op.input_box(box, shape);
      const std::byte* in_data = in.data() + in_box.y * in.row_bytes() + in_box.x * shape.pixel_bytes();
      std::byte* out_data = out.data() + box.y * out.row_bytes() + box.x * out_shape.pixel_bytes();
      op.run_cpu(ConstTileView{in_data, in.row_bytes(), in_box}, shape, TileView{out_data, out.row_bytes(), box});
    }
  }
  return out;
}

bool same_bytes(const HostImage& a, const HostImage& b) {
  return a.size_bytes() == b.size_bytes() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

TEST(OpTable, EveryEntryHasAFactoryHelpAndAParserRoundTrip) {
  const std::span<const detail::OpEntry> table = detail::op_table();
  ASSERT_FALSE(table.empty());
  const std::string help = describe_ops();
  for (const detail::OpEntry& entry : table) {
    SCOPED_TRACE(entry.name);
    ASSERT_NE(entry.make, nullptr);
    EXPECT_EQ(std::string(entry.syntax).rfind(entry.name, 0), 0u) << "the syntax starts with the name";
    EXPECT_GT(std::strlen(entry.summary), 10u);
    EXPECT_NE(help.find(concat("  ", entry.syntax, ": ", entry.summary, "\n")), std::string::npos) << help;
    EXPECT_EQ(detail::find_op(entry.name), &entry);

    const std::unique_ptr<Op> op = make_op(entry.name);  // every op has defaults
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->name(), entry.name);
    EXPECT_EQ(op->spec().rfind(entry.name, 0), 0u) << op->spec();
    const std::unique_ptr<Op> again = make_op(op->spec());
    EXPECT_EQ(again->spec(), op->spec()) << "the canonical spec reads back";
    EXPECT_EQ(again->halo(), op->halo());
    // The name alone also goes through the entry's own factory.
    EXPECT_EQ(entry.make(detail::OpParams(entry.name, {}))->spec(), op->spec());
    // An unknown parameter is refused with the op's usage.
    try {
      make_op(concat(entry.name, ":no_such_parameter=1"));
      ADD_FAILURE() << "no error for an unknown parameter";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(entry.syntax), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(detail::find_op("no_such_op"), nullptr);
}

TEST(OpTable, EveryEntryRunsOnTheCpuTiledAsWhole) {
  for (const detail::OpEntry& entry : detail::op_table()) {
    SCOPED_TRACE(entry.name);
    const std::unique_ptr<Op> op = make_op(entry.name);
    const std::optional<ImageShape> shape = accepted_input(*op);
    ASSERT_TRUE(shape.has_value()) << "no small input that the op takes";
    const HostImage in = make_input(*shape);
    const ImageShape out_shape = op->output_shape(*shape);
    ASSERT_GT(out_shape.size_bytes(), 0u);
    // The whole image in one box, over two different fills: every output byte is written.
    const std::uint64_t whole = std::max(out_shape.height, out_shape.width);
    const HostImage zeros = run_cpu_tiled(*op, in, *shape, whole, 0x00);
    const HostImage ones = run_cpu_tiled(*op, in, *shape, whole, 0xff);
    EXPECT_TRUE(same_bytes(zeros, ones)) << "an output byte is left unwritten";
    // Tiled runs equal the whole-image run bit for bit (the halo contract).
    for (const std::uint64_t tile : {1u, 4u, 5u}) {
      EXPECT_TRUE(same_bytes(run_cpu_tiled(*op, in, *shape, tile, 0x5a), zeros)) << "tiles of " << tile;
    }
  }
}

TEST(OpTable, EveryEntryHasADeviceLauncherWhereCudaIsBuilt) {
  for (const detail::OpEntry& entry : detail::op_table()) {
    EXPECT_EQ(entry.launch != nullptr, TILESTREAM_WITH_CUDA != 0) << entry.name;
  }
}

}  // namespace
}  // namespace tilestream::ops
