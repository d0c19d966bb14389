// Corrupt stored blocks, as data: an array, a mutation of one stored value, the expected error
// type and the words its message must contain (always the store key).
#include <gtest/gtest.h>

#include <functional>

#include "tilestream/zarr/array.hpp"
#include "zarr/compressor.hpp"
#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

struct Corruption {
  const char* label;
  bool sharded;
  bool index_at_end;
  const char* codec;
  std::function<void(std::vector<std::byte>&)> mutate;
  ErrorKind kind;
  std::vector<std::string> message;
};

// A stream of `codec` that decodes to 1 MiB of zeros, where the chunk holds 128 bytes.
std::vector<std::byte> bomb(const char* codec) {
  const std::vector<std::byte> zeros(std::size_t{1} << 20);
  return find_compressor(codec)->encode(named_compressor(codec), 2, zeros);
}

ArraySpec spec_for(const Corruption& c) {
  ArraySpec s;
  s.shape = {40, 40};
  s.chunk_shape = {8, 8};
  if (c.sharded) s.shard_shape = {16, 16};
  s.shard_index_at_end = c.index_at_end;
  s.dtype = DType::uint16;
  s.compressors = parse_codec_option(c.codec);
  return s;
}

const std::vector<Corruption>& corruptions() {
  static const std::vector<Corruption> cases = {
      {"zstd_magic",
       false,
       true,
       "zstd",
       [](auto& b) { b[0] ^= std::byte{0xFF}; },
       ErrorKind::codec,
       {"arr/c/1/0", "zstd"}},
      {"zstd_truncated",
       false,
       true,
       "zstd",
       [](auto& b) { b.resize(b.size() / 2); },
       ErrorKind::codec,
       {"arr/c/1/0", "zstd"}},
      {"gzip_flipped",
       false,
       true,
       "gzip",
       [](auto& b) { b[b.size() / 2] ^= std::byte{0x55}; },
       ErrorKind::codec,
       {"arr/c/1/0", "gzip"}},
      {"raw_short",
       false,
       true,
       "none",
       [](auto& b) { b.pop_back(); },
       ErrorKind::codec,
       {"arr/c/1/0", "decoded chunk has 127 bytes, expected 128"}},
      {"shard_index_crc_end",
       true,
       true,
       "zstd",
       [](auto& b) { b[b.size() - 10] ^= std::byte{1}; },
       ErrorKind::codec,
       {"arr/c/1/0", "shard index", "crc32c checksum mismatch"}},
      {"shard_index_crc_start",
       true,
       false,
       "zstd",
       [](auto& b) { b[3] ^= std::byte{1}; },
       ErrorKind::codec,
       {"arr/c/1/0", "shard index", "crc32c checksum mismatch"}},
      {"shard_shorter_than_index",
       true,
       true,
       "zstd",
       [](auto& b) { b.resize(20); },
       ErrorKind::format,
       {"arr/c/1/0", "shorter than its index (68 bytes)"}},
      {"shard_inner_chunk_corrupt",
       true,
       false,
       "zstd",
       [](auto& b) { b[68] ^= std::byte{0xFF}; },
       ErrorKind::codec,
       {"arr/c/1/0", "inner chunk 0 of the shard", "zstd"}},
      // A few bytes must not make a reader allocate what the stream claims or inflates to.
      {"zstd_claims_more",
       false,
       true,
       "zstd",
       [](auto& b) { b = bomb("zstd"); },
       ErrorKind::codec,
       {"arr/c/1/0", "the frame claims 1048576 decoded bytes, more than the 128 expected"}},
      {"gzip_inflates_to_more",
       false,
       true,
       "gzip",
       [](auto& b) { b = bomb("gzip"); },
       ErrorKind::codec,
       {"arr/c/1/0", "gzip", "decodes to more than the 128 bytes expected"}},
      {"shard_inner_gzip_inflates_to_more",
       true,
       true,
       "gzip",
       [](auto& b) {
         // Inner chunk 0 replaced by the bomb: the index (at the end) points at the new bytes.
         const std::size_t index_bytes = 68;
         const std::vector<std::byte> index(b.end() - index_bytes, b.end());
         const std::vector<std::byte> stream = bomb("gzip");
         b = stream;
         b.insert(b.end(), index.begin(), index.end());
         std::vector<std::byte> entries(index.begin(), index.end() - 4);
         for (int i = 0; i < 8; ++i) {
           entries[i] = std::byte{0};
           entries[8 + i] = static_cast<std::byte>((stream.size() >> (8 * i)) & 0xFF);
         }
         const std::vector<std::byte> sealed = crc32c_codec().encode(crc32c_spec(), 1, entries);
         std::copy(sealed.begin(), sealed.end(), b.end() - index_bytes);
       },
       ErrorKind::codec,
       {"arr/c/1/0", "inner chunk 0 of the shard", "decodes to more than the 128 bytes expected"}},
  };
  return cases;
}

class CorruptBlock : public ::testing::TestWithParam<std::size_t> {};

TEST_P(CorruptBlock, ThrowsTypedErrorNamingTheKey) {
  const Corruption& c = corruptions()[GetParam()];
  MemoryStore store;
  const ArraySpec spec = spec_for(c);
  write_array(store, "arr", spec, test_array(spec.dtype, element_count(spec.shape)));
  const std::string key = "arr/c/1/0";
  std::vector<std::byte> stored = *store.get(key);
  c.mutate(stored);
  store.put(key, stored);
  const ArrayReader reader(store, "arr");
  const std::vector<std::uint64_t> coords = {1, 0};
  try {
    reader.read_block(coords);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), c.kind) << e.what();
    for (const std::string& part : c.message)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << " lacks " << part;
  }
  // Other blocks still read.
  const std::vector<std::uint64_t> other = {0, 0};
  EXPECT_NO_THROW(reader.read_block(other));
}

INSTANTIATE_TEST_SUITE_P(Zarr, CorruptBlock, ::testing::Range<std::size_t>(0, corruptions().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& p) {
                           return std::string(corruptions()[p.param].label);
                         });

TEST(ShardIndex, OutOfRangeEntryIsAFormatError) {
  // Index without crc32c, so a bad offset reaches the bounds check.
  ArraySpec spec;
  spec.shape = {16};
  spec.chunk_shape = {8};
  spec.shard_shape = {16};
  spec.shard_index_crc32c = false;
  const BlockEncoder encoder(spec);
  std::vector<std::byte> shard = encoder.encode_block(test_array(DType::uint8, 16));
  ASSERT_EQ(shard.size(), 16u + 32u);
  shard[16 + 16] = std::byte{0xF0};  // entry 1 offset
  expect_error<FormatError>([&] { encoder.decode_block(shard); },
                            {"shard index entry 1", "outside the shard"});
}

TEST(ShardIndex, EmptyEntriesReadAsFillAndLayoutIsAsSpecified) {
  ArraySpec spec;
  spec.shape = {4, 4};
  spec.chunk_shape = {2, 2};
  spec.shard_shape = {4, 4};
  spec.fill_value = 9;
  const BlockEncoder encoder(spec);
  const std::vector<std::byte> block = test_array(DType::uint8, 16);
  std::vector<std::byte> shard = encoder.encode_block(block);
  // Four raw 4-byte chunks, then 4 x (offset, nbytes) little endian and the crc32c.
  ASSERT_EQ(shard.size(), 16u + 64u + 4u);
  EXPECT_EQ(shard[16 + 16], std::byte{4});  // chunk 1 offset
  EXPECT_EQ(shard[16 + 24], std::byte{4});  // chunk 1 nbytes
  // Inner chunk 1 (rows 0-1, columns 2-3) holds elements 2, 3, 6, 7 of the block.
  EXPECT_EQ(shard[4], block[2]);
  EXPECT_EQ(shard[6], block[6]);
  EXPECT_EQ(encoder.decode_block(shard), block);

  // Mark chunk 2 empty (and fix the crc): it reads as fill.
  ArraySpec plain = spec;
  plain.shard_index_crc32c = false;
  const BlockEncoder plain_encoder(plain);
  std::vector<std::byte> unchecked = plain_encoder.encode_block(block);
  for (int i = 0; i < 16; ++i) unchecked[16 + 32 + i] = std::byte{0xFF};
  const std::vector<std::byte> decoded = plain_encoder.decode_block(unchecked);
  EXPECT_EQ(decoded[8], std::byte{9});
  EXPECT_EQ(decoded[13], std::byte{9});
  EXPECT_EQ(decoded[10], block[10]);
}

TEST(ArrayReader, MissingMetadataAndBadJsonNameTheStore) {
  MemoryStore store;
  expect_error<FormatError>([&] { ArrayReader(store, "x"); },
                            {"<memory>/x", "neither zarr.json nor .zarray"});
  store.put("y/zarr.json", as_bytes("{not json"));
  expect_error<FormatError>([&] { ArrayReader(store, "y"); }, {"<memory>/y/zarr.json", "invalid JSON"});
  store.put("z/.zarray", as_bytes(R"({"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<f8"})"));
  expect_error<UnsupportedError>([&] { ArrayReader(store, "z"); }, {"<memory>/z/.zarray", "'<f8'"});
}

TEST(ArrayWriter, WrongBlockSizeIsAUsageErrorNamingTheKey) {
  MemoryStore store;
  ArraySpec spec;
  spec.shape = {10};
  spec.chunk_shape = {4};
  const ArrayWriter writer(store, "a", spec);
  const std::vector<std::uint64_t> coords = {2};
  expect_error<UsageError>([&] { writer.write_block(coords, test_array(DType::uint8, 2)); },
                           {"<memory>/a/c/2", "block has 2 bytes, expected 4"});
}

}  // namespace
}  // namespace tilestream::zarr::test
