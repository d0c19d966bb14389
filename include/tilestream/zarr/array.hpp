// Zarr v2 and v3 arrays: the spec of an array, writing its metadata and its chunks (or shards),
// and reading them back. Encoding a block is a pure function of its bytes (encode_block);
// storing the result is the Store's job, so blocks may come from host or device memory alike.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilestream/core/dtype.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::zarr {

// One compression (or checksum) step. v2 stores at most one of these as "compressor"; v3 stores
// them as bytes-to-bytes codecs after "bytes" (and, when sharded, inside the sharding codec).
struct CompressorSpec {
  std::string name;  // the codec's: "zstd", "gzip", "zlib" (v2 only), "blosc", "crc32c" (v3 only)
  int level = -1;    // codec default when < 0 (codecs without levels ignore it)
  // Settings of this codec alone, under its own keys (blosc: "cname" and "shuffle"); the codec reads
  // and writes them, nothing else does.
  nlohmann::json settings = nlohmann::json::object();
};

// Parses the CLI form "NAME[:PARAMETER...]" ("none", "zstd", "zstd:5", "gzip:6", "blosc:zstd:5"): the
// codec named parses its own parameters. Returns an empty vector for "none". Throws UsageError listing
// the valid forms on anything else.
std::vector<CompressorSpec> parse_codec_option(const std::string& text);
// The CLI forms of --codec, from the codec table: "none|zstd[:LEVEL]|gzip[:LEVEL]|...".
std::string codec_option_syntax();

enum class ChunkKeyEncoding { default_encoding, v2_encoding };

struct ArraySpec {
  int zarr_format = 3;                     // 2 or 3
  std::vector<std::uint64_t> shape;        // e.g. {height, width, samples} or {samples, height, width}
  std::vector<std::uint64_t> chunk_shape;  // chunks (the inner chunks when sharded)
  std::vector<std::uint64_t> shard_shape;  // v3 only; empty: not sharded. Multiple of chunk_shape.
  bool shard_index_at_end = true;          // sharding_indexed index_location "end" / "start"
  bool shard_index_crc32c = true;          // index_codecs end with "crc32c" (we always write it)
  DType dtype = DType::uint8;
  double fill_value = 0;
  char separator = '/';                    // v2 dimension_separator; v3 chunk key separator
  ChunkKeyEncoding key_encoding = ChunkKeyEncoding::default_encoding;  // v3 only
  std::vector<int> transpose_order;        // v3 "transpose" codec; empty: none
  std::vector<CompressorSpec> compressors; // v2: at most one; v3: bytes-to-bytes chain
  std::vector<std::string> dimension_names;  // v3 only; may be empty
  nlohmann::json attributes = nlohmann::json::object();  // .zattrs (v2) or "attributes" (v3)

  // The unit a writer stores under one key: the shard when sharded, else the chunk.
  const std::vector<std::uint64_t>& block_shape() const { return shard_shape.empty() ? chunk_shape : shard_shape; }
  // Number of blocks along each dimension.
  std::vector<std::uint64_t> grid_shape() const;
  // Throws UsageError naming the problem (ranks differ, zero sizes, shard not a multiple...).
  void validate() const;
};

// The metadata document(s) of an array.
nlohmann::json array_metadata(const ArraySpec& spec);  // .zarray (v2) or zarr.json (v3)
// Inverse: parses .zarray (+ .zattrs) or zarr.json. Throws FormatError / UnsupportedError.
ArraySpec parse_array_metadata(int zarr_format, const nlohmann::json& metadata,
                               const nlohmann::json& attributes = nlohmann::json::object());

// Stateless encoder of blocks for one array spec (thread-safe).
class BlockEncoder {
 public:
  explicit BlockEncoder(ArraySpec spec);
  const ArraySpec& spec() const { return spec_; }
  // `block` holds one full block (block_shape, C order, native byte order; edge blocks padded
  // with fill_value by the caller). Returns the bytes to store under block_key(coords); for a
  // sharded array, the whole shard file with its index. Every chunk is encoded, fill-only ones
  // too, so that a block's presence in the store always means "written" (resume relies on it).
  std::vector<std::byte> encode_block(std::span<const std::byte> block) const;
  // Decodes what encode_block produced (or any valid Zarr writer's chunk / shard) into a full block.
  std::vector<std::byte> decode_block(std::span<const std::byte> stored) const;
  // One full block of fill_value (what a missing key reads as; also handy to pad edge blocks).
  std::vector<std::byte> fill_block() const;
  // Bytes of one full block: product(block_shape) * bytes_per_sample(dtype).
  std::size_t block_bytes() const;

 private:
  ArraySpec spec_;
  struct Pipeline;
  std::shared_ptr<const Pipeline> pipeline_;
};

// Whether `spec`'s stored blocks are the raw block bytes, so that a writer may put a block's samples
// in its file as they are: no compressor, sharding or transpose, and samples whose stored byte order
// (little-endian) is the machine's.
bool stores_raw_blocks(const ArraySpec& spec);

// The store key of block `coords` of the array at `array_path` ("" for the root).
std::string block_key(const ArraySpec& spec, const std::string& array_path, std::span<const std::uint64_t> coords);

// Writes metadata and blocks of one array into a store.
class ArrayWriter {
 public:
  // Writes the metadata (and, for v2, .zattrs) right away.
  ArrayWriter(Store& store, std::string array_path, ArraySpec spec);
  const ArraySpec& spec() const { return encoder_.spec(); }
  const BlockEncoder& encoder() const { return encoder_; }
  std::string key(std::span<const std::uint64_t> coords) const;
  // encode_block + put.
  void write_block(std::span<const std::uint64_t> coords, std::span<const std::byte> block) const;
  // Stores already encoded bytes (from encoder().encode_block on another thread).
  void store_block(std::span<const std::uint64_t> coords, std::span<const std::byte> encoded) const;

 private:
  Store& store_;
  std::string path_;
  BlockEncoder encoder_;
};

// Reads arrays written by us or by any Zarr v2/v3 writer using the features above.
class ArrayReader {
 public:
  // Detects the format: zarr.json (v3) or .zarray (v2) under array_path.
  ArrayReader(const Store& store, std::string array_path);
  const ArraySpec& spec() const { return encoder_.spec(); }
  // One decoded block; a missing key reads as fill_value.
  std::vector<std::byte> read_block(std::span<const std::uint64_t> coords) const;
  // A hyper-rectangle [origin, origin + extent) in C order.
  std::vector<std::byte> read_region(std::span<const std::uint64_t> origin,
                                     std::span<const std::uint64_t> extent) const;

 private:
  const Store& store_;
  std::string path_;
  BlockEncoder encoder_;
};

// Writes a group's metadata: .zgroup + .zattrs (v2) or zarr.json with node_type "group" (v3).
void write_group(Store& store, const std::string& group_path, int zarr_format,
                 const nlohmann::json& attributes = nlohmann::json::object());
// Reads a group's attributes (v2 .zattrs or v3 zarr.json "attributes").
nlohmann::json read_group_attributes(const Store& store, const std::string& group_path);

}  // namespace tilestream::zarr
