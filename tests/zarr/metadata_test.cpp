// Zarr metadata: exact documents for known specs (v2, v3, sharded), parsing back, and the
// validation and parse errors, as tables.
#include <gtest/gtest.h>

#include <cmath>

#include "tilestream/zarr/array.hpp"
#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

using json = nlohmann::json;

CompressorSpec named(const char* name) {
  CompressorSpec c;
  c.name = name;
  return c;
}

ArraySpec v2_spec() {
  ArraySpec s;
  s.zarr_format = 2;
  s.shape = {100, 200, 3};
  s.chunk_shape = {64, 64, 3};
  s.dtype = DType::uint16;
  s.separator = '/';
  s.compressors = parse_codec_option("zstd:5");
  return s;
}

ArraySpec v3_spec() {
  ArraySpec s;
  s.shape = {3, 1000, 2000};
  s.chunk_shape = {3, 256, 256};
  s.compressors = parse_codec_option("gzip:6");
  s.dimension_names = {"c", "y", "x"};
  s.attributes = {{"k", 1}};
  return s;
}

TEST(ZarrMetadata, V2Golden) {
  EXPECT_EQ(array_metadata(v2_spec()),
            json::parse(R"({"chunks":[64,64,3],"compressor":{"id":"zstd","level":5},
    "dimension_separator":"/","dtype":"<u2","fill_value":0,"filters":null,"order":"C","shape":[100,200,3],
    "zarr_format":2})"));
}

// The 32-bit integer and float16 names of both versions, written and read back; a v3 float16 fill
// value given as its bit pattern.
TEST(ZarrMetadata, WideAndHalfDtypeNames) {
  struct Names {
    DType dtype;
    const char* v2;
    const char* v3;
  };
  for (const Names& n : {Names{DType::uint32, "<u4", "uint32"}, Names{DType::int32, "<i4", "int32"},
                         Names{DType::float16, "<f2", "float16"}}) {
    ArraySpec s2 = v2_spec();
    s2.dtype = n.dtype;
    const json m2 = array_metadata(s2);
    EXPECT_EQ(m2["dtype"], n.v2);
    EXPECT_EQ(parse_array_metadata(2, m2).dtype, n.dtype);
    ArraySpec s3 = v3_spec();
    s3.dtype = n.dtype;
    const json m3 = array_metadata(s3);
    EXPECT_EQ(m3["data_type"], n.v3);
    EXPECT_EQ(parse_array_metadata(3, m3).dtype, n.dtype);
  }
  json half = array_metadata([] {
    ArraySpec s = v3_spec();
    s.dtype = DType::float16;
    return s;
  }());
  half["fill_value"] = "0x3c00";
  EXPECT_EQ(parse_array_metadata(3, half).fill_value, 1.0);
}

TEST(ZarrMetadata, V2FloatNaNFillAndNoCompressor) {
  ArraySpec s = v2_spec();
  s.dtype = DType::float32;
  s.fill_value = std::nan("");
  s.separator = '.';
  s.compressors = {};
  const json m = array_metadata(s);
  EXPECT_EQ(m["dtype"], "<f4");
  EXPECT_EQ(m["fill_value"], "NaN");
  EXPECT_TRUE(m["compressor"].is_null());
  EXPECT_EQ(m["dimension_separator"], ".");
  EXPECT_TRUE(std::isnan(parse_array_metadata(2, m).fill_value));
}

#if TILESTREAM_WITH_BLOSC
TEST(ZarrMetadata, V2BloscGolden) {
  ArraySpec s = v2_spec();
  s.compressors = parse_codec_option("blosc:zstd:3");
  EXPECT_EQ(array_metadata(s)["compressor"],
            json::parse(R"({"blocksize":0,"clevel":3,"cname":"zstd","id":"blosc","shuffle":1})"));
}
#endif

TEST(ZarrMetadata, V3Golden) {
  EXPECT_EQ(array_metadata(v3_spec()), json::parse(R"({"attributes":{"k":1},
    "chunk_grid":{"configuration":{"chunk_shape":[3,256,256]},"name":"regular"},
    "chunk_key_encoding":{"configuration":{"separator":"/"},"name":"default"},
    "codecs":[{"configuration":{"endian":"little"},"name":"bytes"},{"configuration":{"level":6},"name":"gzip"}],
    "data_type":"uint8","dimension_names":["c","y","x"],"fill_value":0,"node_type":"array",
    "shape":[3,1000,2000],"zarr_format":3})"));
}

TEST(ZarrMetadata, V3ShardedGolden) {
  ArraySpec s = v3_spec();
  s.shard_shape = {3, 1024, 1024};
  s.transpose_order = {1, 2, 0};
  s.shard_index_at_end = false;
  s.separator = '.';
  s.key_encoding = ChunkKeyEncoding::v2_encoding;
  s.compressors = {parse_codec_option("zstd:3")[0], named("crc32c")};
  s.dimension_names = {};
  s.attributes = json::object();
  s.dtype = DType::uint16;
  EXPECT_EQ(array_metadata(s), json::parse(R"({"attributes":{},
    "chunk_grid":{"configuration":{"chunk_shape":[3,1024,1024]},"name":"regular"},
    "chunk_key_encoding":{"configuration":{"separator":"."},"name":"v2"},
    "codecs":[{"configuration":{"chunk_shape":[3,256,256],
      "codecs":[{"configuration":{"order":[1,2,0]},"name":"transpose"},
                {"configuration":{"endian":"little"},"name":"bytes"},
                {"configuration":{"checksum":false,"level":3},"name":"zstd"},{"name":"crc32c"}],
      "index_codecs":[{"configuration":{"endian":"little"},"name":"bytes"},{"name":"crc32c"}],
      "index_location":"start"},"name":"sharding_indexed"}],
    "data_type":"uint16","fill_value":0,"node_type":"array","shape":[3,1000,2000],"zarr_format":3})"));
  const ArraySpec parsed = parse_array_metadata(3, array_metadata(s));
  EXPECT_EQ(parsed.shard_shape, s.shard_shape);
  EXPECT_EQ(parsed.chunk_shape, s.chunk_shape);
  EXPECT_EQ(parsed.transpose_order, s.transpose_order);
  EXPECT_FALSE(parsed.shard_index_at_end);
  EXPECT_EQ(array_metadata(parsed), array_metadata(s));
}

#if TILESTREAM_WITH_BLOSC
TEST(ZarrMetadata, V3BloscCarriesTypesizeAndShuffleName) {
  ArraySpec s = v3_spec();
  s.dtype = DType::float32;
  s.compressors = parse_codec_option("blosc:lz4:5");
  s.compressors[0].settings["shuffle"] = 2;
  EXPECT_EQ(array_metadata(s)["codecs"][1],
            json::parse(R"({"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"bitshuffle",
              "typesize":4,"blocksize":0}})"));
}
#endif

TEST(ZarrMetadata, ParsesWhatOthersWrite) {
  // zarr-python 3 writes bytes without configuration for 1-byte types, zstd level 0, null dimension names.
  const json m = json::parse(R"({"zarr_format":3,"node_type":"array","shape":[10,20],"data_type":"int16",
    "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5,5]}},
    "chunk_key_encoding":{"name":"default"},"fill_value":-7,
    "codecs":[{"name":"bytes"},{"name":"zstd","configuration":{"level":0,"checksum":true}}],
    "attributes":{"a":"b"},"dimension_names":[null,"x"],"storage_transformers":[]})");
  const ArraySpec s = parse_array_metadata(3, m);
  EXPECT_EQ(s.dtype, DType::int16);
  EXPECT_EQ(s.fill_value, -7);
  EXPECT_EQ(s.separator, '/');
  EXPECT_EQ(s.compressors.size(), 1u);
  EXPECT_EQ(s.compressors[0].level, 0);
  EXPECT_EQ(s.dimension_names, (std::vector<std::string>{"", "x"}));
  EXPECT_EQ(s.attributes, json({{"a", "b"}}));

  const json v2 = json::parse(R"({"zarr_format":2,"shape":[4],"chunks":[3],"dtype":"<u1","compressor":null,
    "fill_value":null,"order":"C","filters":null})");
  const ArraySpec s2 = parse_array_metadata(2, v2, {{"x", 1}});
  EXPECT_EQ(s2.separator, '.');
  EXPECT_EQ(s2.dtype, DType::uint8);
  EXPECT_EQ(s2.fill_value, 0);
  EXPECT_EQ(s2.attributes, json({{"x", 1}}));
}

struct BadMetadata {
  const char* label;
  int zarr_format;
  const char* document;
  ErrorKind kind;
  const char* message;
};

class ZarrMetadataErrors : public ::testing::TestWithParam<BadMetadata> {};

TEST_P(ZarrMetadataErrors, AreTypedAndNamed) {
  const BadMetadata& c = GetParam();
  try {
    parse_array_metadata(c.zarr_format, json::parse(c.document));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), c.kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
  }
}

constexpr const char* v3_head =
    R"("zarr_format":3,"node_type":"array","shape":[10],"chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0)";

const BadMetadata bad_metadata[] = {
    {"v2_big_endian", 2,
     R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":">u2","compressor":null,"fill_value":0,"order":"C","filters":null})",
     ErrorKind::unsupported, "big-endian"},
    {"v2_fortran", 2,
     R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"|u1","compressor":null,"fill_value":0,"order":"F","filters":null})",
     ErrorKind::unsupported, "order 'F'"},
    {"v2_filters", 2,
     R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"|u1","compressor":null,"fill_value":0,"order":"C","filters":[{"id":"delta"}]})",
     ErrorKind::unsupported, "filters"},
    {"v2_unknown_codec", 2,
     R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"|u1","compressor":{"id":"lzma"},"fill_value":0,"order":"C","filters":null})",
     ErrorKind::unsupported, "\"lzma\""},
    {"v2_no_shape", 2, R"({"zarr_format":2,"chunks":[2],"dtype":"|u1"})", ErrorKind::format, "no \"shape\""},
    {"v2_shape_type", 2, R"({"zarr_format":2,"shape":"x","chunks":[2],"dtype":"|u1"})", ErrorKind::format,
     "shape"},
    {"v2_chunk_rank", 2,
     R"({"zarr_format":2,"shape":[4,4],"chunks":[2],"dtype":"|u1","compressor":null,"fill_value":0,"order":"C","filters":null})",
     ErrorKind::format, "rank"},
    {"v2_dtype", 2,
     R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<f8","compressor":null,"fill_value":0})",
     ErrorKind::unsupported, "'<f8'"},
    {"v3_group", 3, R"({"zarr_format":3,"node_type":"group"})", ErrorKind::format, "node_type"},
    {"v3_dtype", 3, R"({"zarr_format":3,"node_type":"array","shape":[1],"data_type":"float64"})",
     ErrorKind::unsupported, "'float64'"},
    {"v3_big_endian", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint16","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"bytes","configuration":{"endian":"big"}}]})",
     ErrorKind::unsupported, "big-endian"},
    {"v3_unknown_codec", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"bytes"},{"name":"lz4"}]})",
     ErrorKind::unsupported, "\"lz4\""},
    {"v3_zlib", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"bytes"},{"name":"zlib"}]})",
     ErrorKind::unsupported, "not available in Zarr v3"},
    {"v3_no_codecs", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[]})",
     ErrorKind::format, "codecs"},
    {"v3_shard_not_multiple", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[3],"codecs":[{"name":"bytes"}]}}]})",
     ErrorKind::format, "not a multiple"},
    {"v3_codec_after_shard", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[5],"codecs":[{"name":"bytes"}]}},{"name":"gzip"}]})",
     ErrorKind::unsupported, "around sharding_indexed"},
    {"v3_bad_transpose", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"transpose","configuration":{"order":[1]}},{"name":"bytes"}]})",
     ErrorKind::format, "permutation"},
    {"v3_fill_type", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default"},"fill_value":"zz","codecs":[{"name":"bytes"}]})",
     ErrorKind::format, "fill_value"},
    {"v3_wrong_json_type", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[5]}},"chunk_key_encoding":{"name":"default","configuration":{"separator":7}},"fill_value":0,"codecs":[{"name":"bytes"}]})",
     ErrorKind::format, "zarr.json"},
    // Found by fuzz_zarr_metadata: 2^32 x 2^32 elements overflowed the 64-bit chunk size to 0.
    {"v3_chunk_bytes_overflow", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10,10],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4294967296,4294967296]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"bytes"}]})",
     ErrorKind::format, "chunk shape [4294967296, 4294967296] of 1-byte samples is too large"},
    {"v2_chunk_bytes_overflow", 2,
     R"({"zarr_format":2,"shape":[4],"chunks":[9223372036854775807],"dtype":"<u2","compressor":null,"fill_value":0,"order":"C","filters":null})",
     ErrorKind::format, "too large (over 2^48 bytes)"},
    {"v3_shard_bytes_overflow", 3,
     R"({"zarr_format":3,"node_type":"array","shape":[10,10],"data_type":"uint16","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4294967296,4294967296]}},"chunk_key_encoding":{"name":"default"},"fill_value":0,"codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[1,1],"codecs":[{"name":"bytes"}]}}]})",
     ErrorKind::format, "shard shape [4294967296, 4294967296] of 2-byte samples is too large"},
};

INSTANTIATE_TEST_SUITE_P(Zarr, ZarrMetadataErrors, ::testing::ValuesIn(bad_metadata),
                         [](const ::testing::TestParamInfo<BadMetadata>& p) { return p.param.label; });

struct BadSpec {
  const char* label;
  void (*mutate)(ArraySpec&);
  const char* message;
};

class ArraySpecValidate : public ::testing::TestWithParam<BadSpec> {};

TEST_P(ArraySpecValidate, RejectsWithUsageError) {
  ArraySpec s = v3_spec();
  GetParam().mutate(s);
  expect_error<UsageError>([&] { s.validate(); }, {GetParam().message});
}

const BadSpec bad_specs[] = {
    {"rank0",
     [](ArraySpec& s) {
       s.shape = {};
       s.chunk_shape = {};
       s.dimension_names = {};
     },
     "rank must be at least 1"},
    {"ranks_differ",
     [](ArraySpec& s) {
       s.chunk_shape = {256, 256};
     },
     "has not the rank"},
    {"zero_dim", [](ArraySpec& s) { s.shape[1] = 0; }, "zero dimension"},
    {"zero_chunk", [](ArraySpec& s) { s.chunk_shape[1] = 0; }, "zero dimension"},
    {"shard_not_multiple",
     [](ArraySpec& s) {
       s.shard_shape = {3, 300, 512};
     },
     "not a multiple"},
    {"v2_shard",
     [](ArraySpec& s) {
       s.zarr_format = 2;
       s.dimension_names = {};
       s.shard_shape = {3, 512, 512};
     },
     "sharding needs Zarr v3"},
    {"v2_two_compressors",
     [](ArraySpec& s) {
       s.zarr_format = 2;
       s.compressors.push_back(s.compressors[0]);
     },
     "at most one compressor"},
    {"v2_crc32c",
     [](ArraySpec& s) {
       s.zarr_format = 2;
       s.compressors = {named("crc32c")};
     },
     "'crc32c' is not available in Zarr v2"},
    {"v3_zlib", [](ArraySpec& s) { s.compressors = {named("zlib")}; }, "'zlib' is not available in Zarr v3"},
    {"unknown_codec", [](ArraySpec& s) { s.compressors = {named("lzma")}; },
     "unknown Zarr compressor 'lzma'"},
    {"bad_level", [](ArraySpec& s) { s.compressors[0].level = 12; }, "gzip level must be 0..9"},
    {"transpose_not_permutation",
     [](ArraySpec& s) {
       s.transpose_order = {0, 0, 1};
     },
     "permutation"},
    {"transpose_rank",
     [](ArraySpec& s) {
       s.transpose_order = {1, 0};
     },
     "permutation"},
    {"v2_transpose",
     [](ArraySpec& s) {
       s.zarr_format = 2;
       s.transpose_order = {1, 0, 2};
     },
     "transpose codec needs Zarr v3"},
    {"separator", [](ArraySpec& s) { s.separator = '_'; }, "separator must be '.' or '/'"},
    {"format", [](ArraySpec& s) { s.zarr_format = 4; }, "zarr_format must be 2 or 3"},
    {"dimension_names",
     [](ArraySpec& s) {
       s.dimension_names = {"y", "x"};
     },
     "dimension_names"},
    {"fill_range", [](ArraySpec& s) { s.fill_value = 300; }, "fill_value 300"},
};

INSTANTIATE_TEST_SUITE_P(Zarr, ArraySpecValidate, ::testing::ValuesIn(bad_specs),
                         [](const ::testing::TestParamInfo<BadSpec>& p) { return p.param.label; });

TEST(ArraySpec, GridShapeRoundsUp) {
  ArraySpec s = v3_spec();
  EXPECT_EQ(s.grid_shape(), (std::vector<std::uint64_t>{1, 4, 8}));
  s.shard_shape = {3, 512, 1024};
  EXPECT_EQ(s.grid_shape(), (std::vector<std::uint64_t>{1, 2, 2}));
}

}  // namespace
}  // namespace tilestream::zarr::test
