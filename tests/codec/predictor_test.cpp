// Predictor 2 and byte order on hand-computed values, including wraparound.
#include "codec/predictor.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/byte_order.hpp"
#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

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

}  // namespace
}  // namespace tilestream::codec::test
