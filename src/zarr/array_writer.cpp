// Block keys and ArrayWriter: metadata first, then encoded blocks put into the store.
#include <bit>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/node_keys.hpp"

namespace tilestream::zarr {

std::string block_key(const ArraySpec& spec, const std::string& array_path,
                      std::span<const std::uint64_t> coords) {
  const std::vector<std::uint64_t> grid = spec.grid_shape();
  check<UsageError>(coords.size() == grid.size(), "block coordinates have rank ", coords.size(),
                    ", the array ", grid.size());
  std::string key = array_path.empty() ? std::string() : array_path + "/";
  if (spec.zarr_format == 3 && spec.key_encoding == ChunkKeyEncoding::default_encoding) {
    key += 'c';
    key += spec.separator;
  }
  for (std::size_t d = 0; d < coords.size(); ++d) {
    check<UsageError>(coords[d] < grid[d], "block coordinate ", coords[d], " of dimension ", d,
                      " is outside the grid of ", grid[d], " blocks");
    if (d > 0) key += spec.separator;
    key += std::to_string(coords[d]);
  }
  return key;
}

bool stores_raw_blocks(const ArraySpec& spec) {
  return spec.compressors.empty() && spec.shard_shape.empty() && spec.transpose_order.empty() &&
         (bytes_per_sample(spec.dtype) == 1 || std::endian::native == std::endian::little);
}

ArrayWriter::ArrayWriter(Store& store, std::string array_path, ArraySpec spec)
    : store_(store), path_(std::move(array_path)), encoder_(std::move(spec)) {
  const ArraySpec& s = encoder_.spec();
  const auto put_json = [&](const char* name, const nlohmann::json& document) {
    const std::string text = document.dump(2) + "\n";
    store_.put(node_key(path_, name), std::as_bytes(std::span(text.data(), text.size())));
  };
  if (s.zarr_format == 2) {
    put_json(".zarray", array_metadata(s));
    put_json(".zattrs", s.attributes);
  } else {
    put_json("zarr.json", array_metadata(s));
  }
}

std::string ArrayWriter::key(std::span<const std::uint64_t> coords) const {
  return block_key(encoder_.spec(), path_, coords);
}

void ArrayWriter::write_block(std::span<const std::uint64_t> coords, std::span<const std::byte> block) const {
  const std::string k = key(coords);
  std::vector<std::byte> encoded;
  try {
    encoded = encoder_.encode_block(block);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(store_.name(), "/", k));
  }
  store_.put(k, encoded);
}

void ArrayWriter::store_block(std::span<const std::uint64_t> coords,
                              std::span<const std::byte> encoded) const {
  store_.put(key(coords), encoded);
}

}  // namespace tilestream::zarr
