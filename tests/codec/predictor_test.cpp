// Predictors 2 and 3 and byte order on hand-computed values, including wraparound.
#include "codec/predictor.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include "codec/byte_order.hpp"
#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

// Predictor 3 against imagecodecs.floatpred_encode (libtiff's layout): byte planes, most significant
// first, then differenced across the row with a stride of the samples per pixel.
TEST(Predictor, FloatingPointPredictorMatchesLibtiffsLayout) {
  const auto floats = [](std::initializer_list<float> values) {
    std::vector<std::byte> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.begin(), bytes.size());
    return bytes;
  };
  TileLayout gray = make_layout(2, 1, 1, DType::float32, 3);
  std::vector<std::byte> data = floats({1.0f, 2.0f});
  apply_predictor(gray, data);
  EXPECT_EQ(data, from_hex("3f01408000000000"));  // floatpred_encode([[1.0, 2.0]], axis=-1)
  undo_predictor(gray, data);
  EXPECT_EQ(data, floats({1.0f, 2.0f}));
  // One row of two RGB pixels: floatpred_encode(rgb, axis=-2).
  TileLayout rgb = make_layout(2, 1, 3, DType::float32, 3);
  std::vector<std::byte> stored = from_hex("3fc03e0180fc40204680800300207d0000120000ee00006f");
  undo_predictor(rgb, stored);
  EXPECT_EQ(stored, floats({1.0f, -3.5f, 0.25f, 2.0f, 7.0f, 1e-3f}));
}

// float16: two byte planes (imagecodecs.floatpred_encode on float16 arrays).
TEST(Predictor, FloatingPointPredictorOnFloat16) {
  const auto halves = [](std::initializer_list<std::uint16_t> bits) {
    std::vector<std::byte> bytes(bits.size() * 2);
    std::memcpy(bytes.data(), bits.begin(), bytes.size());
    return bytes;
  };
  TileLayout gray = make_layout(3, 1, 1, DType::float16, 3);
  std::vector<std::byte> data = halves({0x3c00, 0xc100, 0x7bff});  // 1.0, -2.5, 65504
  apply_predictor(gray, data);
  EXPECT_EQ(data, from_hex("3c85ba8500ff"));
  undo_predictor(gray, data);
  EXPECT_EQ(data, halves({0x3c00, 0xc100, 0x7bff}));
  // [[[1, 2, 3], [0.5, -1, 1024]]]: floatpred_encode(rgb, axis=-2)
  TileLayout rgb = make_layout(2, 1, 3, DType::float16, 3);
  std::vector<std::byte> stored = from_hex("3c4042fc7c22c8449c000000");
  undo_predictor(rgb, stored);
  EXPECT_EQ(stored, halves({0x3c00, 0x4000, 0x4200, 0x3800, 0xbc00, 0x6400}));
}

// 32-bit integers: imagecodecs.delta_encode([[1, 4000000000, 7, 4294967295]], axis=-1) on uint32.
TEST(Predictor, ThirtyTwoBitSamplesWrapModulo2To32) {
  for (const DType dtype : {DType::uint32, DType::int32}) {
    const TileLayout layout = make_layout(4, 1, 1, storage_type(dtype), 2);
    std::vector<std::byte> data = from_hex("01000000" "ff276bee" "07d89411" "f8ffffff");
    undo_predictor(layout, data);
    EXPECT_EQ(data, from_hex("01000000" "00286bee" "07000000" "ffffffff"));
    apply_predictor(layout, data);
    EXPECT_EQ(data, from_hex("01000000" "ff276bee" "07d89411" "f8ffffff"));
  }
}

TEST(Predictor, OneBitSamplesTakeNoPredictor) {
  TileLayout layout = make_layout(16, 1, 1, DType::uint8, 2);
  layout.bilevel = true;
  std::vector<std::byte> data(16);
  expect_error<UnsupportedError>([&] { undo_predictor(layout, data); },
                                 "predictor 2 is not supported for 1-bit samples");
}

TEST(Predictor, FloatingPointPredictorNeedsFloatSamples) {
  const TileLayout layout = make_layout(2, 1, 1, DType::uint16, 3);
  std::vector<std::byte> data(4);
  expect_error<UnsupportedError>([&] { undo_predictor(layout, data); },
                                 "predictor 3 (floating point) is not supported for uint16 samples");
}

TEST(Predictor, UndoAddsLeftNeighbourPerSampleWithWraparound) {
  // One row of 3 RGB pixels, then a second row: each row starts fresh.
  TileLayout layout = make_layout(3, 2, 3, DType::uint8, 2);
  std::vector<std::byte> data = from_hex("0a141e" "010101" "ffffff" "050505" "010203" "020202");
  undo_predictor(layout, data);
  EXPECT_EQ(data, from_hex("0a141e" "0b151f" "0a141e" "050505" "060708" "08090a"));
  apply_predictor(layout, data);
  EXPECT_EQ(data, from_hex("0a141e" "010101" "ffffff" "050505" "010203" "020202"));
}

TEST(Predictor, SixteenBitSamplesWrapModulo65536) {
  TileLayout layout = make_layout(3, 1, 1, DType::uint16, 2);
  // Host order (little-endian): 0xfff0, +0x0020 -> 0x0010, +0x0001 -> 0x0011.
  std::vector<std::byte> data = from_hex("f0ff" "2000" "0100");
  undo_predictor(layout, data);
  EXPECT_EQ(data, from_hex("f0ff" "1000" "1100"));
}

TEST(Predictor, BigEndianSixteenBitThroughDecodeTile) {
  // Stored big-endian, differenced: 0x0102, +0x0001, +0xffff -> 0x0102, 0x0103, 0x0102.
  const TileLayout layout = make_layout(3, 1, 1, DType::uint16, 2, true);
  EXPECT_EQ(decode(compression::none, from_hex("0102" "0001" "ffff"), layout), from_hex("0201" "0301" "0201"));
}

TEST(ByteOrder, SwapsOnlySixteenBitBigEndian) {
  EXPECT_TRUE(needs_byte_swap(make_layout(1, 1, 1, DType::uint16, 1, true)));
  EXPECT_FALSE(needs_byte_swap(make_layout(1, 1, 1, DType::uint16, 1, false)));
  EXPECT_FALSE(needs_byte_swap(make_layout(1, 1, 1, DType::uint8, 1, true)));
  std::vector<std::byte> data = from_hex("010203040506");
  swap_bytes_16(data);
  EXPECT_EQ(data, from_hex("020104030605"));
}

// Big-endian 32-bit integers and float16 reach host order through decode_tile (the float
// predictor's bytes are in neither order and are not swapped).
TEST(ByteOrder, ThirtyTwoBitAndFloat16BigEndianThroughDecodeTile) {
  for (const DType dtype : {DType::uint32, DType::int32}) {
    const TileLayout layout = make_layout(2, 1, 1, storage_type(dtype), 1, true);
    EXPECT_TRUE(needs_byte_swap(layout));
    EXPECT_EQ(decode(compression::none, from_hex("01020304" "fffffffe"), layout), from_hex("04030201" "feffffff"));
  }
  const TileLayout half = make_layout(2, 1, 1, DType::float16, 1, true);
  EXPECT_EQ(decode(compression::none, from_hex("3c00" "c100"), half), from_hex("003c" "00c1"));
  const TileLayout half_pred3 = make_layout(3, 1, 1, DType::float16, 3, true);
  EXPECT_FALSE(needs_byte_swap(half_pred3));
  EXPECT_EQ(decode(compression::none, from_hex("3c85ba8500ff"), half_pred3), from_hex("003c" "00c1" "ff7b"));
}

}  // namespace
}  // namespace tilestream::codec::test
