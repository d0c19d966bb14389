// Zarr compressors: CLI option parsing, v2/v3 JSON round trips, CRC-32C vectors, each codec's
// round trip and its errors on corrupt input.
#include "zarr/compressor.hpp"

#include <gtest/gtest.h>

#include "zarr/crc32c.hpp"
#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(as_bytes("")), 0u);
  EXPECT_EQ(crc32c(as_bytes("a")), 0xC1D04330u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(as_bytes(zeros)), 0x8A9136AAu);  // RFC 3720 B.4
  const std::string ones(32, '\xff');
  EXPECT_EQ(crc32c(as_bytes(ones)), 0x62A8AB43u);
}

TEST(Crc32c, AcceleratedMatchesTableOnEveryLengthAndAlignment) {
  const std::vector<std::byte> data = test_array(DType::uint8, 300);
  for (std::size_t start = 0; start < 9; ++start)
    for (std::size_t length = 0; start + length <= data.size(); length += 7) {
      const std::span<const std::byte> part(data.data() + start, length);
      ASSERT_EQ(crc32c(part), crc32c_portable(part)) << start << "+" << length;
    }
}

TEST(ParseCodecOption, AcceptsTheDocumentedForms) {
  EXPECT_TRUE(parse_codec_option("none").empty());
  auto c = parse_codec_option("zstd");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].name, "zstd");
  EXPECT_EQ(c[0].level, -1);
  EXPECT_EQ(parse_codec_option("zstd:19")[0].level, 19);
  EXPECT_EQ(parse_codec_option("gzip:9")[0].name, "gzip");
  EXPECT_EQ(parse_codec_option("gzip")[0].level, -1);
  EXPECT_EQ(parse_codec_option("zlib:1")[0].name, "zlib");
#if TILESTREAM_WITH_BLOSC
  c = parse_codec_option("blosc");
  EXPECT_EQ(c[0].settings, nlohmann::json::parse(R"({"cname":"lz4","shuffle":1})"));
  c = parse_codec_option("blosc:zstd:7");
  EXPECT_EQ(c[0].settings["cname"], "zstd");
  EXPECT_EQ(c[0].level, 7);
  EXPECT_EQ(parse_codec_option("blosc:lz4hc")[0].settings["cname"], "lz4hc");
#else
  expect_error<UsageError>([] { parse_codec_option("blosc"); }, {"blosc support was not built"});
#endif
}

TEST(ParseCodecOption, RejectsEverythingElse) {
  for (const char* bad :
       {"", "lzma", "zstd:", "zstd:x", "zstd:23", "gzip:10", "gzip:-1", "zstd:3:4", "ZSTD", "none:1", "crc32c",
        "zlib:1:2", "blosc:lz4:5:1"})
    expect_error<UsageError>([&] { parse_codec_option(bad); }, {"valid forms"});
#if TILESTREAM_WITH_BLOSC
  expect_error<UsageError>([] { parse_codec_option("blosc:snappy"); }, {"unknown blosc compressor 'snappy'"});
#endif
}

TEST(CompressorJson, V2AndV3RoundTrip) {
  std::vector<std::string> options = {"zstd:7", "gzip:2"};
#if TILESTREAM_WITH_BLOSC
  options.push_back("blosc:zstd:4");
#endif
  for (const std::string& option : options) {
    const CompressorSpec spec = parse_codec_option(option)[0];
    const CompressorSpec v2 = compressor_from_v2_json(compressor_to_v2_json(spec));
    const CompressorSpec v3 = compressor_from_v3_json(compressor_to_v3_json(spec, 2));
    for (const CompressorSpec& back : {v2, v3}) {
      EXPECT_EQ(back.name, spec.name) << option;
      EXPECT_EQ(back.level, spec.level) << option;
      EXPECT_EQ(back.settings, spec.settings) << option;
    }
  }
  EXPECT_EQ(compressor_to_v2_json(parse_codec_option("zlib:4")[0]),
            nlohmann::json::parse(R"({"id":"zlib","level":4})"));
  EXPECT_EQ(compressor_to_v3_json(crc32c_spec(), 1), nlohmann::json::parse(R"({"name":"crc32c"})"));
  EXPECT_EQ(compressor_to_v3_json(parse_codec_option("zstd")[0], 1),
            nlohmann::json::parse(R"({"name":"zstd","configuration":{"level":3,"checksum":false}})"));
  expect_error<UnsupportedError>([] { compressor_from_v2_json({{"id", "lz4"}}); }, {"\"lz4\""});
  expect_error<FormatError>([] { compressor_from_v2_json({{"level", 1}}); }, {"\"id\""});
}

class CodecRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(CodecRoundTrip, RestoresTheBytesAndRejectsCorruption) {
  const CompressorCodec* codec = find_compressor(GetParam());
  ASSERT_NE(codec, nullptr);
  const CompressorSpec spec = named_compressor(GetParam());
  for (std::uint64_t size : {0, 1, 1000, 100000}) {
    const std::vector<std::byte> data = test_array(DType::uint16, size);
    const std::size_t bytes = data.size();
    EXPECT_EQ(codec->decode(spec, codec->encode(spec, 2, data), bytes), data) << size;
    // One byte less than the stream holds: refused, whether the header says so or the output runs over.
    if (bytes > 0) {
      expect_error<CodecError>([&] { codec->decode(spec, codec->encode(spec, 2, data), bytes - 1); },
                               {"expected"});
    }
  }
  // Flip bytes in the middle of a stream: the codec must throw CodecError, not return garbage silently.
  std::vector<std::byte> encoded = codec->encode(spec, 2, test_array(DType::uint16, 5000));
  for (std::size_t i = encoded.size() / 3; i < encoded.size() / 3 + 8; ++i) encoded[i] ^= std::byte{0x5A};
  const std::string name = GetParam();
  // zstd (written without its checksum, as zarr does) and blosc have no checksum over the payload:
  // corrupting it may decode to wrong bytes, but a corrupt header must fail.
  if (name == "zstd") encoded[0] ^= std::byte{0xFF};  // frame magic
  if (name == "blosc") {
    encoded[12] = std::byte{0xFF};  // compressed size field: larger than the buffer
    encoded[13] = std::byte{0xFF};
    encoded[14] = std::byte{0xFF};
    encoded[15] = std::byte{0x7F};
  }
  EXPECT_THROW(codec->decode(spec, encoded, 100000), CodecError);
  EXPECT_THROW(codec->decode(spec, std::span(encoded).first(3), 100000), CodecError);
}

#if TILESTREAM_WITH_BLOSC
INSTANTIATE_TEST_SUITE_P(Zarr, CodecRoundTrip, ::testing::Values("zstd", "gzip", "zlib", "crc32c", "blosc"));
#else
INSTANTIATE_TEST_SUITE_P(Zarr, CodecRoundTrip, ::testing::Values("zstd", "gzip", "zlib", "crc32c"));
#endif

// Every entry of the codec table is whole: its CLI form parses (bare and with a level where it has
// one) to a spec of that codec, its help text is in --codec's syntax and the valid forms, the spec
// encodes and decodes bytes, and it reads back from the metadata of every Zarr version it is offered in.
TEST(CodecTable, EveryEntryHasItsParserHelpAndJson) {
  const std::string syntax = codec_option_syntax();
  std::size_t offered = 0;
  for (const CompressorCodec* codec : compressor_codecs()) {
    const std::string name(codec->name);
    SCOPED_TRACE(name);
    ASSERT_TRUE(codec->encode && codec->decode);
    ASSERT_TRUE(codec->in_v2 || codec->in_v3);
    EXPECT_EQ(codec->in_v2, codec->to_v2 != nullptr && codec->from_v2 != nullptr);
    EXPECT_EQ(codec->in_v3, codec->to_v3 != nullptr && codec->from_v3 != nullptr);
    EXPECT_EQ(find_compressor(name), codec);
    if (codec->parse_option == nullptr) {
      EXPECT_TRUE(codec->option_syntax.empty() && codec->option_forms.empty());
      expect_error<UsageError>([&] { parse_codec_option(name); }, {"valid forms"});
      continue;
    }
    ++offered;
    EXPECT_NE(syntax.find(std::string(codec->option_syntax)), std::string::npos) << syntax;
    EXPECT_EQ(std::string(codec->option_syntax).rfind(name, 0), 0u) << codec->option_syntax;
    EXPECT_EQ(std::string(codec->option_forms).rfind(name, 0), 0u) << codec->option_forms;
    std::vector<std::string> forms = {name};
    if (codec->has_level && name != "blosc") forms.push_back(concat(name, ":", codec->max_level));
    if (name == "blosc") forms.push_back(concat(name, ":zstd:", codec->max_level));
    for (const std::string& form : forms) {
      SCOPED_TRACE(form);
      const std::vector<CompressorSpec> specs = parse_codec_option(form);
      ASSERT_EQ(specs.size(), 1u);
      EXPECT_EQ(specs[0].name, name);
      if (form != name) EXPECT_EQ(effective_level(*codec, specs[0]), codec->max_level);
      const std::vector<std::byte> data = test_array(DType::uint16, 3000);
      EXPECT_EQ(codec->decode(specs[0], codec->encode(specs[0], 2, data), data.size()), data);
      std::vector<CompressorSpec> back;
      if (codec->in_v2) back.push_back(compressor_from_v2_json(compressor_to_v2_json(specs[0])));
      if (codec->in_v3) back.push_back(compressor_from_v3_json(compressor_to_v3_json(specs[0], 2)));
      for (const CompressorSpec& b : back) {
        EXPECT_EQ(b.name, name);
        EXPECT_EQ(effective_level(*codec, b), effective_level(*codec, specs[0]));
        EXPECT_EQ(b.settings, specs[0].settings);
      }
    }
    // Too many parameters: refused, the valid forms listing this codec's.
    expect_error<UsageError>([&] { parse_codec_option(name + ":1:1:1"); },
                             {"valid forms", std::string(codec->option_forms)});
  }
  EXPECT_GE(offered, 3u);  // zstd, gzip, zlib (+ blosc where built)
}

TEST(Crc32cCodec, AppendsLittleEndianChecksum) {
  const std::vector<std::byte> out = crc32c_codec().encode(crc32c_spec(), 1, as_bytes("123456789"));
  ASSERT_EQ(out.size(), 13u);
  EXPECT_EQ(as_string(std::span(out).last(4)), std::string("\x83\x92\x06\xE3", 4));
  expect_error<CodecError>([] { crc32c_codec().decode(crc32c_spec(), as_bytes("123456789xxxx"), 9); },
                           {"crc32c checksum mismatch", "computed 0xe3069283"});
}

}  // namespace
}  // namespace tilestream::zarr::test
