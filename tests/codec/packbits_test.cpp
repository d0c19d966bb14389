// PackBits against the example of the TIFF 6.0 specification, and its failure modes.
#include "codec/packbits.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

// TIFF 6.0, section 9: "FE AA 02 80 00 2A FD AA 03 80 00 2A 22 F7 AA" unpacks to the 24 bytes below.
constexpr std::string_view spec_packed = "feaa0280002afdaa0380002a22f7aa";
constexpr std::string_view spec_unpacked = "aaaaaa80002aaaaaaaaa80002a22aaaaaaaaaaaaaaaaaaaa";

TEST(PackBits, DecodesTheSpecificationExample) {
  EXPECT_EQ(decode(compression::packbits, from_hex(spec_packed), make_layout(24, 1, 1)), from_hex(spec_unpacked));
}

TEST(PackBits, NoOpHeaderIsSkipped) {
  // 0x80 (-128) is a no-op, then a literal of 2.
  EXPECT_EQ(decode(compression::packbits, from_hex("80010102"), make_layout(2, 1, 1)), from_hex("0102"));
}

TEST(PackBits, EncoderUsesRunsAndLiterals) {
  const TileLayout layout = make_layout(8, 1, 1);
  // Literal "01 02", then a run of six 07s.
  EXPECT_EQ(packbits_encode(from_hex("0102070707070707"), layout, EncodeOptions{}), from_hex("010102fb07"));
}

TEST(PackBits, EncoderStartsEachRowAfresh) {
  // Two rows of four 05s: two runs, not one run of eight.
  const TileLayout layout = make_layout(4, 2, 1);
  EXPECT_EQ(packbits_encode(from_hex("0505050505050505"), layout, EncodeOptions{}), from_hex("fd05fd05"));
}

TEST(PackBits, StreamEndingEarlyIsAnError) {
  expect_error<CodecError>([] { decode(compression::packbits, from_hex("feaa"), make_layout(4, 1, 1)); },
                           "PackBits stream ended after 3 of 4 bytes");
  expect_error<CodecError>([] { decode(compression::packbits, from_hex("05aabb"), make_layout(6, 1, 1)); },
                           "PackBits literal of 6 bytes at input byte 0 runs past the end");
  expect_error<CodecError>([] { decode(compression::packbits, {}, make_layout(1, 1, 1)); },
                           "PackBits stream ended after 0 of 1 bytes");
}

}  // namespace
}  // namespace tilestream::codec::test
