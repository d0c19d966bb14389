// The chunk pipeline: transpose -> bytes (little endian) -> compressors, and v3 sharding_indexed
// (a shard's inner chunks encoded one by one, followed or preceded by their offset/size index).
#include <bit>
#include <cstring>
#include <limits>

#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/box_copy.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr {

struct BlockEncoder::Pipeline {
  std::size_t elsize = 1;
  std::vector<std::uint64_t> chunk_shape;  // what one codec chain encodes (the inner chunk when sharded)
  std::uint64_t chunk_bytes = 0;
  std::vector<int> transpose;  // empty: none
  std::vector<std::uint64_t> transposed_shape;
  std::vector<int> untranspose;
  std::vector<const CompressorCodec*> codecs;  // parallel to spec.compressors
  // Sharding.
  bool sharded = false;
  std::vector<std::uint64_t> inner_grid;  // shard_shape / chunk_shape
  std::uint64_t inner_count = 0;
  std::size_t index_bytes = 0;

  // Works on the caller's bytes until a step must produce new ones (no copy of an untransposed
  // chunk before compressing it on little-endian hosts).
  std::vector<std::byte> encode_chunk(const ArraySpec& spec, std::span<const std::byte> chunk) const {
    std::vector<std::byte> holder;
    std::span<const std::byte> current = chunk;
    if (!transpose.empty()) {
      holder = permute_axes(chunk, chunk_shape, transpose, elsize);
      current = holder;
    }
    if constexpr (std::endian::native == std::endian::big) {
      if (holder.empty()) holder.assign(chunk.begin(), chunk.end());
      swap_bytes(holder, elsize);
      current = holder;
    }
    for (std::size_t i = 0; i < codecs.size(); ++i) {
      holder = codecs[i]->encode(spec.compressors[i], elsize, current);
      current = holder;
    }
    if (current.data() != holder.data()) holder.assign(current.begin(), current.end());
    return holder;
  }

  std::vector<std::byte> decode_chunk(const ArraySpec& spec, std::span<const std::byte> stored) const {
    std::vector<std::byte> bytes;
    std::span<const std::byte> current = stored;
    for (std::size_t i = codecs.size(); i-- > 0;) {
      // The last step gives the chunk itself; the ones before give what a codec made of it, which
      // no writer makes much larger than the chunk (compressors add a few bytes to data they
      // cannot compress; crc32c adds 4).
      const std::size_t limit = i == 0 ? chunk_bytes : chunk_bytes + chunk_bytes / 4 + 4096;
      bytes = codecs[i]->decode(spec.compressors[i], current, limit);
      current = bytes;
    }
    check<CodecError>(current.size() == chunk_bytes, "decoded chunk has ", current.size(),
                      " bytes, expected ", chunk_bytes);
    if (current.data() != bytes.data()) bytes.assign(current.begin(), current.end());
    if constexpr (std::endian::native == std::endian::big) swap_bytes(bytes, elsize);
    if (!transpose.empty()) bytes = permute_axes(bytes, transposed_shape, untranspose, elsize);
    return bytes;
  }
};

namespace {

constexpr std::uint64_t empty_entry = std::numeric_limits<std::uint64_t>::max();

void put_u64_le(std::byte* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
}
std::uint64_t get_u64_le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

void fill_with(std::span<std::byte> out, DType dtype, double value) {
  std::byte element[4] = {};
  switch (dtype) {
    case DType::uint8:
      element[0] = static_cast<std::byte>(static_cast<std::uint8_t>(value));
      break;
    case DType::int8:
      element[0] = static_cast<std::byte>(static_cast<std::int8_t>(value));
      break;
    case DType::uint16: {
      const auto v = static_cast<std::uint16_t>(value);
      std::memcpy(element, &v, 2);
      break;
    }
    case DType::int16: {
      const auto v = static_cast<std::int16_t>(value);
      std::memcpy(element, &v, 2);
      break;
    }
    case DType::float32: {
      const auto v = static_cast<float>(value);
      std::memcpy(element, &v, 4);
      break;
    }
    case DType::uint32: {
      const auto v = static_cast<std::uint32_t>(value);
      std::memcpy(element, &v, 4);
      break;
    }
    case DType::int32: {
      const auto v = static_cast<std::int32_t>(value);
      std::memcpy(element, &v, 4);
      break;
    }
    case DType::float16: {
      const std::uint16_t v = float16_from_double(value);
      std::memcpy(element, &v, 2);
      break;
    }
  }
  const std::size_t n = bytes_per_sample(dtype);
  bool zero = true;
  for (std::size_t i = 0; i < n; ++i) zero = zero && element[i] == std::byte{0};
  if (zero) {
    std::memset(out.data(), 0, out.size());
    return;
  }
  for (std::size_t i = 0; i + n <= out.size(); i += n) std::memcpy(out.data() + i, element, n);
}

// Position of inner chunk `linear` (C order over the inner grid) inside the shard, in elements.
std::vector<std::uint64_t> inner_origin(std::uint64_t linear, const std::vector<std::uint64_t>& grid,
                                        const std::vector<std::uint64_t>& chunk) {
  std::vector<std::uint64_t> origin(grid.size());
  for (std::size_t d = grid.size(); d-- > 0;) {
    origin[d] = (linear % grid[d]) * chunk[d];
    linear /= grid[d];
  }
  return origin;
}

}  // namespace

BlockEncoder::BlockEncoder(ArraySpec spec) : spec_(std::move(spec)) {
  spec_.validate();
  auto p = std::make_shared<Pipeline>();
  p->elsize = bytes_per_sample(spec_.dtype);
  p->chunk_shape = spec_.chunk_shape;
  p->chunk_bytes = element_count(p->chunk_shape) * p->elsize;
  p->transpose = spec_.transpose_order;
  if (!p->transpose.empty()) {
    for (int axis : p->transpose) p->transposed_shape.push_back(p->chunk_shape[axis]);
    p->untranspose = inverse_order(p->transpose);
  }
  for (const CompressorSpec& c : spec_.compressors) p->codecs.push_back(find_compressor(c.name));
  if (!spec_.shard_shape.empty()) {
    p->sharded = true;
    for (std::size_t d = 0; d < spec_.shape.size(); ++d)
      p->inner_grid.push_back(spec_.shard_shape[d] / spec_.chunk_shape[d]);
    p->inner_count = element_count(p->inner_grid);
    p->index_bytes = static_cast<std::size_t>(16 * p->inner_count) + (spec_.shard_index_crc32c ? 4 : 0);
  }
  pipeline_ = std::move(p);
}

std::size_t BlockEncoder::block_bytes() const {
  return static_cast<std::size_t>(element_count(spec_.block_shape())) * bytes_per_sample(spec_.dtype);
}

std::vector<std::byte> BlockEncoder::fill_block() const {
  std::vector<std::byte> block(block_bytes());
  fill_with(block, spec_.dtype, spec_.fill_value);
  return block;
}

std::vector<std::byte> BlockEncoder::encode_block(std::span<const std::byte> block) const {
  check<UsageError>(block.size() == block_bytes(), "encode_block: block has ", block.size(),
                    " bytes, expected ", block_bytes());
  const Pipeline& p = *pipeline_;
  if (!p.sharded) return p.encode_chunk(spec_, block);

  const std::vector<std::uint64_t> zero(spec_.shape.size(), 0);
  std::vector<std::vector<std::byte>> chunks(p.inner_count);
  std::vector<std::byte> chunk(p.chunk_bytes);
  for (std::uint64_t i = 0; i < p.inner_count; ++i) {
    const std::vector<std::uint64_t> origin = inner_origin(i, p.inner_grid, spec_.chunk_shape);
    copy_box(block.data(), spec_.shard_shape, origin, chunk.data(), spec_.chunk_shape, zero,
             spec_.chunk_shape, p.elsize);
    chunks[i] = p.encode_chunk(spec_, chunk);
  }
  std::vector<std::byte> index(16 * p.inner_count);
  std::uint64_t offset = spec_.shard_index_at_end ? 0 : p.index_bytes;
  std::size_t total = p.index_bytes;
  for (std::uint64_t i = 0; i < p.inner_count; ++i) {
    put_u64_le(index.data() + 16 * i, offset);
    put_u64_le(index.data() + 16 * i + 8, chunks[i].size());
    offset += chunks[i].size();
    total += chunks[i].size();
  }
  if (spec_.shard_index_crc32c) index = crc32c_codec().encode(crc32c_spec(), 1, index);

  std::vector<std::byte> shard;
  shard.reserve(total);
  if (!spec_.shard_index_at_end) shard.insert(shard.end(), index.begin(), index.end());
  for (const std::vector<std::byte>& c : chunks) shard.insert(shard.end(), c.begin(), c.end());
  if (spec_.shard_index_at_end) shard.insert(shard.end(), index.begin(), index.end());
  return shard;
}

std::vector<std::byte> BlockEncoder::decode_block(std::span<const std::byte> stored) const {
  const Pipeline& p = *pipeline_;
  if (!p.sharded) return p.decode_chunk(spec_, stored);

  check<FormatError>(stored.size() >= p.index_bytes, "shard of ", stored.size(),
                     " bytes is shorter than its index (", p.index_bytes, " bytes)");
  const std::span<const std::byte> index_stored =
      spec_.shard_index_at_end ? stored.last(p.index_bytes) : stored.first(p.index_bytes);
  std::vector<std::byte> index(index_stored.begin(), index_stored.end());
  if (spec_.shard_index_crc32c) {
    try {
      index = crc32c_codec().decode(crc32c_spec(), index, index.size());
    } catch (const Error& e) {
      rethrow_with_context(e, "shard index");
    }
  }
  std::vector<std::byte> shard(block_bytes());
  const std::vector<std::uint64_t> zero(spec_.shape.size(), 0);
  // One inner chunk of fill_value, made when the first empty entry needs it: metadata alone (an
  // encoder, a reader) never allocates a chunk.
  std::vector<std::byte> fill_chunk;
  for (std::uint64_t i = 0; i < p.inner_count; ++i) {
    const std::uint64_t offset = get_u64_le(index.data() + 16 * i);
    const std::uint64_t nbytes = get_u64_le(index.data() + 16 * i + 8);
    const std::vector<std::uint64_t> origin = inner_origin(i, p.inner_grid, spec_.chunk_shape);
    if (offset == empty_entry && nbytes == empty_entry) {
      if (fill_chunk.empty()) {
        fill_chunk.resize(p.chunk_bytes);
        fill_with(fill_chunk, spec_.dtype, spec_.fill_value);
      }
      copy_box(fill_chunk.data(), spec_.chunk_shape, zero, shard.data(), spec_.shard_shape, origin,
               spec_.chunk_shape, p.elsize);
      continue;
    }
    check<FormatError>(offset <= stored.size() && nbytes <= stored.size() - offset, "shard index entry ", i,
                       " (offset ", offset, ", ", nbytes, " bytes) lies outside the shard of ", stored.size(),
                       " bytes");
    std::vector<std::byte> chunk;
    try {
      chunk = p.decode_chunk(
          spec_, stored.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(nbytes)));
    } catch (const Error& e) {
      rethrow_with_context(e, concat("inner chunk ", i, " of the shard"));
    }
    copy_box(chunk.data(), spec_.chunk_shape, zero, shard.data(), spec_.shard_shape, origin,
             spec_.chunk_shape, p.elsize);
  }
  return shard;
}

}  // namespace tilestream::zarr
