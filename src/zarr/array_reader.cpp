// ArrayReader: finds and parses an array's metadata, decodes blocks, assembles regions.
#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/box_copy.hpp"
#include "zarr/node_keys.hpp"

namespace tilestream::zarr {
namespace {

nlohmann::json parse_document(const Store& store, const std::string& key,
                              const std::vector<std::byte>& bytes) {
  try {
    return nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                 reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(concat(store.name(), "/", key, ": invalid JSON: ", e.what()));
  }
}

ArraySpec open_spec(const Store& store, const std::string& path) {
  const std::string v3_key = node_key(path, "zarr.json");
  const std::string v2_key = node_key(path, ".zarray");
  try {
    if (const auto v3 = store.get(v3_key)) return parse_array_metadata(3, parse_document(store, v3_key, *v3));
  } catch (const Error& e) {
    rethrow_with_context(e, concat(store.name(), "/", v3_key));
  }
  const auto v2 = store.get(v2_key);
  check<FormatError>(v2.has_value(), "no Zarr array at ", store.name(), path.empty() ? "" : "/", path,
                     " (neither zarr.json nor .zarray found)");
  const std::string attrs_key = node_key(path, ".zattrs");
  const auto attrs = store.get(attrs_key);
  try {
    return parse_array_metadata(2, parse_document(store, v2_key, *v2),
                                attrs ? parse_document(store, attrs_key, *attrs) : nlohmann::json::object());
  } catch (const Error& e) {
    rethrow_with_context(e, concat(store.name(), "/", v2_key));
  }
}

}  // namespace

ArrayReader::ArrayReader(const Store& store, std::string array_path)
    : store_(store), path_(std::move(array_path)), encoder_(open_spec(store_, path_)) {}

std::vector<std::byte> ArrayReader::read_block(std::span<const std::uint64_t> coords) const {
  const std::string key = block_key(spec(), path_, coords);
  const std::optional<std::vector<std::byte>> stored = store_.get(key);
  if (!stored) return encoder_.fill_block();
  try {
    return encoder_.decode_block(*stored);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(store_.name(), "/", key));
  }
}

std::vector<std::byte> ArrayReader::read_region(std::span<const std::uint64_t> origin,
                                                std::span<const std::uint64_t> extent) const {
  const ArraySpec& s = spec();
  const std::size_t rank = s.shape.size();
  check<UsageError>(origin.size() == rank && extent.size() == rank,
                    "read_region: origin and extent need rank ", rank);
  for (std::size_t d = 0; d < rank; ++d)
    check<UsageError>(origin[d] <= s.shape[d] && extent[d] <= s.shape[d] - origin[d],
                      "read_region: dimension ", d, " range [", origin[d], ", ", origin[d] + extent[d],
                      ") exceeds the array's ", s.shape[d]);
  const std::size_t elsize = bytes_per_sample(s.dtype);
  std::vector<std::byte> out(static_cast<std::size_t>(element_count(extent)) * elsize);
  if (out.empty()) return out;
  const std::vector<std::uint64_t>& block = s.block_shape();
  std::vector<std::uint64_t> first(rank), last(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    first[d] = origin[d] / block[d];
    last[d] = (origin[d] + extent[d] - 1) / block[d];
  }
  std::vector<std::uint64_t> coords = first;
  std::vector<std::uint64_t> src_origin(rank), dst_origin(rank), box(rank);
  for (;;) {
    const std::vector<std::byte> data = read_block(coords);
    for (std::size_t d = 0; d < rank; ++d) {
      const std::uint64_t lo = std::max(origin[d], coords[d] * block[d]);
      const std::uint64_t hi = std::min(origin[d] + extent[d], (coords[d] + 1) * block[d]);
      src_origin[d] = lo - coords[d] * block[d];
      dst_origin[d] = lo - origin[d];
      box[d] = hi - lo;
    }
    copy_box(data.data(), block, src_origin, out.data(), extent, dst_origin, box, elsize);
    std::size_t d = rank;
    for (;;) {
      if (d == 0) return out;
      --d;
      if (++coords[d] <= last[d]) break;
      coords[d] = first[d];
    }
  }
}

}  // namespace tilestream::zarr
