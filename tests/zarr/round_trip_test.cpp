// Zarr arrays written and read back through MemoryStore and FileStore: every compressor, dtype,
// separator, format, key encoding, transpose and shard layout, on shapes that do not divide.
#include <gtest/gtest.h>

#include "tilestream/zarr/array.hpp"
#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

struct FormatCase {
  const char* label;
  int zarr_format;
  ChunkKeyEncoding keys;
  std::vector<CompressorSpec> compressors;
};

CompressorSpec codec(const char* name, int level = -1, const char* cname = "", int shuffle = 1) {
  CompressorSpec c;
  c.name = name;
  c.level = level;
  if (c.name == "blosc") c.settings = {{"cname", *cname ? cname : "lz4"}, {"shuffle", shuffle}};
  return c;
}

std::vector<FormatCase> format_cases() {
  std::vector<std::pair<const char*, std::vector<CompressorSpec>>> v2 = {
      {"none", {}}, {"zstd", {codec("zstd", 5)}}, {"gzip", {codec("gzip")}}, {"zlib", {codec("zlib", 1)}}};
  std::vector<std::pair<const char*, std::vector<CompressorSpec>>> v3 = {
      {"none", {}},
      {"zstd", {codec("zstd")}},
      {"gzip", {codec("gzip", 9)}},
      {"crc32c", {codec("crc32c")}},
      {"zstd_crc32c", {codec("zstd", 1), codec("crc32c")}}};
#if TILESTREAM_WITH_BLOSC
  v2.push_back({"blosc_lz4", {codec("blosc", 5, "lz4", 1)}});
  v2.push_back({"blosc_zstd_bitshuffle", {codec("blosc", 3, "zstd", 2)}});
  v3.push_back({"blosc_lz4", {codec("blosc", 5, "lz4", 1)}});
  v3.push_back({"blosc_zstd_noshuffle", {codec("blosc", 3, "zstd", 0)}});
#endif
  std::vector<FormatCase> cases;
  for (auto& [label, c] : v2) cases.push_back({label, 2, ChunkKeyEncoding::v2_encoding, c});
  for (auto& [label, c] : v3) cases.push_back({label, 3, ChunkKeyEncoding::default_encoding, c});
  for (auto& [label, c] : v3) cases.push_back({label, 3, ChunkKeyEncoding::v2_encoding, c});
  return cases;
}

struct ShapeCase {
  std::vector<std::uint64_t> shape, chunk, shard;
};

class RoundTrip : public ::testing::TestWithParam<FormatCase> {};

void check_round_trip(Store& store, const ArraySpec& spec) {
  const std::uint64_t count = element_count(spec.shape);
  const std::vector<std::byte> array = test_array(spec.dtype, count);
  write_array(store, "arr", spec, array);

  const ArrayReader reader(store, "arr");
  EXPECT_EQ(array_metadata(reader.spec()), array_metadata(spec));
  const std::vector<std::uint64_t> zero(spec.shape.size(), 0);
  EXPECT_EQ(reader.read_region(zero, spec.shape), array);

  // A region that straddles block borders, compared with the same box cut from the array.
  std::vector<std::uint64_t> origin(spec.shape.size()), extent(spec.shape.size());
  for (std::size_t d = 0; d < spec.shape.size(); ++d) {
    origin[d] = spec.shape[d] / 3;
    extent[d] = std::max<std::uint64_t>(1, spec.shape[d] - origin[d] - spec.shape[d] / 5);
  }
  std::vector<std::byte> expected(element_count(extent) * bytes_per_sample(spec.dtype));
  copy_box(array.data(), spec.shape, origin, expected.data(), extent, zero, extent,
           bytes_per_sample(spec.dtype));
  EXPECT_EQ(reader.read_region(origin, extent), expected);

  // The last block's padding reads as fill_value.
  std::vector<std::uint64_t> last = spec.grid_shape();
  for (auto& g : last) --g;
  const BlockEncoder encoder(spec);
  EXPECT_EQ(reader.read_block(last), cut_block(encoder, array, last));
}

TEST_P(RoundTrip, EveryDtypeSeparatorTransposeShardAndShape) {
  const FormatCase& fc = GetParam();
  const std::vector<ShapeCase> shapes = {{{37, 53, 3}, {16, 16, 3}, {32, 32, 3}},
                                         {{17, 33, 1}, {16, 16, 1}, {16, 32, 1}}};
  for (DType dtype : {DType::uint8, DType::uint16, DType::float32, DType::int16}) {
    for (char separator : {'.', '/'}) {
      for (bool transpose : {false, true}) {
        for (int shard : {0, 1, 2}) {  // none, index at end, index at start
          if (fc.zarr_format == 2 && (transpose || shard != 0)) continue;
          for (const ShapeCase& sc : shapes) {
            for (bool on_disk : {false, true}) {
              ArraySpec spec;
              spec.zarr_format = fc.zarr_format;
              spec.key_encoding = fc.keys;
              spec.shape = sc.shape;
              spec.chunk_shape = sc.chunk;
              if (shard != 0) spec.shard_shape = sc.shard;
              spec.shard_index_at_end = shard == 1;
              spec.dtype = dtype;
              spec.fill_value = is_float(dtype) ? -1.5 : 3;
              spec.separator = separator;
              spec.compressors = fc.compressors;
              if (transpose) spec.transpose_order = {2, 0, 1};
              if (fc.zarr_format == 3) spec.dimension_names = {"y", "x", "c"};
              spec.attributes = {{"test", fc.label}};
              SCOPED_TRACE(testing::Message()
                           << to_string(dtype) << " sep " << separator << " transpose " << transpose
                           << " shard " << shard << " shape " << sc.shape[0] << "x" << sc.shape[1]
                           << (on_disk ? " FileStore" : " MemoryStore"));
              if (on_disk) {
                TempDir dir;
                FileStore store(dir.path());
                check_round_trip(store, spec);
              } else {
                MemoryStore store;
                check_round_trip(store, spec);
              }
              if (HasFailure()) return;
            }
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zarr, RoundTrip, ::testing::ValuesIn(format_cases()), [](const ::testing::TestParamInfo<FormatCase>& p) {
      return std::string("v") + std::to_string(p.param.zarr_format) +
             (p.param.zarr_format == 3 && p.param.keys == ChunkKeyEncoding::v2_encoding ? "_v2keys_" : "_") +
             p.param.label;
    });

TEST(BlockKey, FollowsFormatEncodingAndSeparator) {
  ArraySpec spec;
  spec.shape = {100, 100, 3};
  spec.chunk_shape = {10, 10, 3};
  const std::vector<std::uint64_t> coords = {4, 7, 0};
  spec.zarr_format = 3;
  spec.separator = '/';
  EXPECT_EQ(block_key(spec, "0", coords), "0/c/4/7/0");
  spec.separator = '.';
  EXPECT_EQ(block_key(spec, "0", coords), "0/c.4.7.0");
  EXPECT_EQ(block_key(spec, "", coords), "c.4.7.0");
  spec.key_encoding = ChunkKeyEncoding::v2_encoding;
  EXPECT_EQ(block_key(spec, "a/b", coords), "a/b/4.7.0");
  spec.separator = '/';
  EXPECT_EQ(block_key(spec, "a", coords), "a/4/7/0");
  spec.zarr_format = 2;
  spec.key_encoding = ChunkKeyEncoding::default_encoding;  // ignored by v2
  spec.separator = '.';
  EXPECT_EQ(block_key(spec, "level1", coords), "level1/4.7.0");
  spec.separator = '/';
  EXPECT_EQ(block_key(spec, "level1", coords), "level1/4/7/0");
  const std::vector<std::uint64_t> outside = {10, 0, 0};
  expect_error<UsageError>([&] { block_key(spec, "a", outside); }, {"outside the grid"});
}

TEST(ArrayReader, MissingBlocksReadAsFill) {
  MemoryStore store;
  ArraySpec spec;
  spec.shape = {5, 7};
  spec.chunk_shape = {2, 4};
  spec.dtype = DType::uint16;
  spec.fill_value = 513;
  const ArrayWriter writer(store, "", spec);
  const std::vector<std::uint64_t> coords = {1, 1};
  std::vector<std::byte> block(2 * 4 * 2, std::byte{1});
  writer.write_block(coords, block);
  const ArrayReader reader(store, "");
  const std::vector<std::uint64_t> origin = {0, 0}, extent = {5, 7};
  const std::vector<std::byte> all = reader.read_region(origin, extent);
  for (std::uint64_t y = 0; y < 5; ++y)
    for (std::uint64_t x = 0; x < 7; ++x) {
      const std::byte* p = all.data() + 2 * (y * 7 + x);
      const bool written = y >= 2 && y < 4 && x >= 4;
      EXPECT_EQ(static_cast<int>(p[0]), written ? 1 : 1) << y << "," << x;  // 513 = 0x0201 little endian
      EXPECT_EQ(static_cast<int>(p[1]), written ? 1 : 2) << y << "," << x;
    }
}

}  // namespace
}  // namespace tilestream::zarr::test
