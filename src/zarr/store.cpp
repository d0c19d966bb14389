// What every store shares: put() as the streaming write of one piece, and the value writers' checks.
#include "tilestream/zarr/store.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {

void ValueWriter::check_within(std::uint64_t offset, std::size_t bytes) const {
  check<UsageError>(offset <= size_ && bytes <= size_ - offset, "value ", key_, ": ", bytes,
                    " bytes at offset ", offset, " go past its ", size_, " bytes");
}

void ValueWriter::check_complete(std::uint64_t written) const {
  check<UsageError>(written == size_, "value ", key_, ": committed with ", written, " of its ", size_,
                    " bytes written");
}

void Store::put(const std::string& key, std::span<const std::byte> bytes) {
  const std::unique_ptr<ValueWriter> value = begin(key, bytes.size());
  value->write(0, bytes);
  value->commit();
}

}  // namespace tilestream::zarr
