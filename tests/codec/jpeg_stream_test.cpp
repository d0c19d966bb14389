// JPEG marker reading, the GPU decoder's eligibility rules, stream joining and the scan check, on
// streams libjpeg writes (every sampling tilestream writes, progressive), and on damaged ones.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/codec/jpeg_stream.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

struct Encoded {
  std::vector<std::byte> tables;
  std::vector<std::byte> tile;
  TileLayout layout;
};

// A 64 x 48 tile of a smooth pattern with colour edges, encoded as synth writes it.
Encoded encode(std::uint32_t samples, bool ycbcr, std::array<std::uint8_t, 2> sampling, bool progressive = false) {
  Encoded e;
  e.layout.width = 64;
  e.layout.rows = 48;
  e.layout.samples = samples;
  e.layout.photometric = samples == 1 ? photometric::min_is_black : ycbcr ? photometric::ycbcr : photometric::rgb;
  std::vector<std::byte> pixels(e.layout.decoded_bytes());
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::byte>((i * 7 + i / 97 * 31) & 0xFF);
  EncodeOptions o;
  o.jpeg_ycbcr = ycbcr;
  o.jpeg_ycbcr_sampling = sampling;
  o.jpeg_progressive = progressive;
  e.tables = make_jpeg_tables(samples, o);
  e.tile = encode_tile(compression::jpeg, pixels, e.layout, o);
  e.layout.jpeg_tables = e.tables;
  return e;
}

struct SamplingCase {
  std::uint32_t samples;
  bool ycbcr;
  std::array<std::uint8_t, 2> sampling;
  const char* name;
};

TEST(JpegStream, FramesOfEverySampling) {
  for (const SamplingCase& c : {SamplingCase{3, true, {2, 2}, "4:2:0"}, SamplingCase{3, true, {2, 1}, "4:2:2"},
                                SamplingCase{3, true, {1, 1}, "4:4:4"}, SamplingCase{3, false, {1, 1}, "4:4:4"},
                                SamplingCase{1, true, {1, 1}, "gray"}}) {
    const Encoded e = encode(c.samples, c.ycbcr, c.sampling);
    const JpegFrame frame = read_jpeg_frame(e.tables, e.tile);
    EXPECT_EQ(frame.sof, 0xC0);
    EXPECT_EQ(frame.precision, 8);
    EXPECT_EQ(frame.width, 64);
    EXPECT_EQ(frame.height, 48);
    EXPECT_EQ(frame.components, c.samples);
    EXPECT_EQ(frame.subsampling(), c.name);
    EXPECT_EQ(frame.adobe_transform, -1);
    EXPECT_EQ(gpu_jpeg_unsupported_reason(frame, e.layout.photometric, c.samples, 64, 48), "") << c.name;
    EXPECT_EQ(jpeg_scan_problem(e.tile), "") << c.name;
  }
}

TEST(JpegStream, ReasonsToStayOnTheCpu) {
  const Encoded progressive = encode(3, true, {2, 2}, true);
  const JpegFrame p = read_jpeg_frame(progressive.tables, progressive.tile);
  EXPECT_EQ(p.sof, 0xC2);
  EXPECT_EQ(gpu_jpeg_unsupported_reason(p, photometric::ycbcr, 3, 64, 48), "progressive JPEG");

  const Encoded e = encode(3, true, {2, 2});
  const JpegFrame f = read_jpeg_frame(e.tables, e.tile);
  EXPECT_EQ(gpu_jpeg_unsupported_reason(f, photometric::ycbcr, 3, 64, 64), "a JPEG frame of 64 x 48 in a 64 x 64 tile");
  EXPECT_EQ(gpu_jpeg_unsupported_reason(f, photometric::ycbcr, 1, 64, 48), "3 components for 1 samples");
  EXPECT_EQ(gpu_jpeg_unsupported_reason(f, photometric::rgb, 3, 64, 48), "subsampled RGB JPEG");
  JpegFrame twelve = f;
  twelve.precision = 12;
  EXPECT_EQ(gpu_jpeg_unsupported_reason(twelve, photometric::ycbcr, 3, 64, 48), "12-bit samples");
  JpegFrame arithmetic = f;
  arithmetic.sof = 0xC9;
  EXPECT_EQ(gpu_jpeg_unsupported_reason(arithmetic, photometric::ycbcr, 3, 64, 48), "arithmetic-coded JPEG");
  JpegFrame odd = f;
  odd.h = {4, 1, 1, 0};
  odd.v = {1, 1, 1, 0};
  EXPECT_EQ(odd.subsampling(), "4:1:1");
  EXPECT_EQ(gpu_jpeg_unsupported_reason(odd, photometric::ycbcr, 3, 64, 48), "YCbCr sampled 4:1:1");
}

TEST(JpegStream, JoinedStreamDecodesAlone) {
  const Encoded e = encode(3, true, {2, 2});
  std::vector<std::byte> joined(joined_jpeg_size(e.tables, e.tile));
  EXPECT_EQ(joined.size(), e.tables.size() + e.tile.size() - 4);
  join_jpeg_stream(e.tables, e.tile, joined);
  std::vector<std::byte> with_tables(e.layout.decoded_bytes()), alone(e.layout.decoded_bytes());
  decode_tile(compression::jpeg, e.tile, e.layout, with_tables);
  TileLayout no_tables = e.layout;
  no_tables.jpeg_tables = {};
  decode_tile(compression::jpeg, joined, no_tables, alone);
  EXPECT_EQ(with_tables, alone);
  const JpegFrame frame = read_jpeg_frame({}, joined);
  EXPECT_EQ(frame.subsampling(), "4:2:0");
  // Without tables the tile is its own stream.
  std::vector<std::byte> same(joined_jpeg_size({}, e.tile));
  join_jpeg_stream({}, e.tile, same);
  EXPECT_EQ(same, e.tile);
}

// An NDPI restart interval's tile: a stream's header (its frame size set to the tile's) decoded before
// the entropy-coded bytes, which end with a marker. Here the "interval" is a whole 64 x 48 stream.
TEST(JpegStream, HeaderBeforeTheTilesBytes) {
  const Encoded e = encode(3, true, {2, 2});
  std::vector<std::byte> joined(joined_jpeg_size(e.tables, e.tile));
  join_jpeg_stream(e.tables, e.tile, joined);
  const JpegHeader header = read_jpeg_header(joined);
  EXPECT_EQ(header.frame.width, 64);
  EXPECT_EQ(header.frame.height, 48);
  EXPECT_EQ(header.restart_interval, 0);
  EXPECT_EQ(header.scan_components, 3);
  EXPECT_EQ(joined[header.frame_at], std::byte{0xFF});
  EXPECT_EQ(joined[header.frame_at + 1], std::byte{0xC0});
  ASSERT_LT(header.length, joined.size());
  EXPECT_EQ(joined[header.length - 2 - 12],
            std::byte{0xFF});  // SOS with 3 components: 12 bytes after its marker
  EXPECT_EQ(joined[header.length - 1 - 12], std::byte{0xDA});

  std::vector<std::byte> head(joined.begin(), joined.begin() + static_cast<std::ptrdiff_t>(header.length));
  const std::vector<std::byte> data(joined.begin() + static_cast<std::ptrdiff_t>(header.length),
                                    joined.end());
  TileLayout layout = e.layout;
  layout.jpeg_tables = {};
  layout.jpeg_header = head;
  std::vector<std::byte> whole(layout.decoded_bytes()), by_header(layout.decoded_bytes());
  decode_tile(compression::jpeg, e.tile, e.layout, whole);
  decode_tile(compression::jpeg, data, layout, by_header);
  EXPECT_EQ(whole, by_header);
  // The restart marker that ends an interval is made EOI.
  std::vector<std::byte> restart = data;
  restart.back() = std::byte{0xD3};
  decode_tile(compression::jpeg, restart, layout, by_header);
  EXPECT_EQ(whole, by_header);
  // Bytes that do not end with a marker are not an interval.
  const std::vector<std::byte> cut(data.begin(), data.end() - 1);
  try {
    decode_tile(compression::jpeg, cut, layout, by_header);
    ADD_FAILURE() << "no error";
  } catch (const CodecError& error) {
    EXPECT_NE(std::string(error.what()).find("do not end with a restart marker or EOI"), std::string::npos)
        << error.what();
  }
  // The frame's size, set in a copy of the header.
  set_jpeg_frame_size(head, header, 1000, 16);
  const JpegHeader resized = read_jpeg_header(head);
  EXPECT_EQ(resized.frame.width, 1000);
  EXPECT_EQ(resized.frame.height, 16);
  EXPECT_EQ(resized.length, header.length);
  EXPECT_THROW(read_jpeg_header(std::span(joined).first(header.length - 4)), CodecError);
}

TEST(JpegStream, DamagedStreams) {
  const Encoded e = encode(3, true, {2, 2});
  // Cut short: no EOI.
  const std::vector<std::byte> cut(e.tile.begin(), e.tile.begin() + static_cast<std::ptrdiff_t>(e.tile.size() - 40));
  EXPECT_NE(jpeg_scan_problem(cut).find("no EOI"), std::string::npos) << jpeg_scan_problem(cut);
  // An EOI in the middle of the scan.
  std::vector<std::byte> early = e.tile;
  const std::size_t middle = early.size() / 2;
  early[middle] = std::byte{0xFF};
  early[middle + 1] = std::byte{0xD9};
  EXPECT_NE(jpeg_scan_problem(early).find("cut short"), std::string::npos) << jpeg_scan_problem(early);
  // Progressive: several scans.
  const Encoded progressive = encode(3, true, {2, 2}, true);
  EXPECT_NE(jpeg_scan_problem(progressive.tile).find("several scans"), std::string::npos);
  // Not JPEG, a segment past the end, tables that are not tables-only, a tile without a frame.
  const std::vector<std::byte> junk(16, std::byte{0x42});
  EXPECT_THROW(read_jpeg_frame({}, junk), CodecError);
  const std::vector<std::byte> head(e.tile.begin(), e.tile.begin() + 8);
  EXPECT_THROW(read_jpeg_frame(e.tables, head), CodecError);
  EXPECT_THROW(read_jpeg_frame(e.tile, e.tile), CodecError);
  EXPECT_THROW(read_jpeg_frame({}, e.tables), CodecError);
  std::vector<std::byte> out(joined_jpeg_size(junk, e.tile));
  EXPECT_THROW(join_jpeg_stream(junk, e.tile, out), CodecError);
}

TEST(DecodeModes, TableNamesAndErrors) {
  EXPECT_EQ(parse_decode_mode("auto"), DecodeMode::automatic);
  EXPECT_EQ(parse_decode_mode("cpu"), DecodeMode::cpu);
  EXPECT_EQ(parse_decode_mode("gpu"), DecodeMode::gpu);
  for (const DecodeModeInfo& entry : decode_modes()) {
    EXPECT_EQ(parse_decode_mode(entry.name), entry.mode);
    EXPECT_STREQ(to_string(entry.mode), std::string(entry.name).c_str());
    EXPECT_NE(describe_decode_modes().find(std::string(entry.summary)), std::string::npos);
  }
  try {
    parse_decode_mode("nvjpeg");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "decode mode must be auto, cpu or gpu, not 'nvjpeg'");
  }
}

}  // namespace
}  // namespace tilestream::codec
