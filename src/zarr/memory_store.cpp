// MemoryStore: keys and values in a vector under a mutex (tests, small arrays). A value in progress
// is its own buffer, moved in under the mutex at commit.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "tilestream/zarr/store.hpp"

namespace tilestream::zarr {

class MemoryStore::MemoryValue final : public ValueWriter {
 public:
  MemoryValue(MemoryStore& store, const std::string& key, std::uint64_t size)
      : ValueWriter(key, size), store_(store), bytes_(size) {}

  void write(std::uint64_t offset, std::span<const std::byte> bytes) override {
    check_within(offset, bytes.size());
    if (!bytes.empty()) std::memcpy(bytes_.data() + offset, bytes.data(), bytes.size());  // disjoint pieces
    const std::uint64_t end = offset + bytes.size();
    for (std::uint64_t seen = end_.load(); end > seen && !end_.compare_exchange_weak(seen, end);) {
    }
  }

  void commit() override {
    check_complete(end_.load());
    store_.set(key(), std::move(bytes_));
  }

 private:
  MemoryStore& store_;
  std::vector<std::byte> bytes_;
  std::atomic<std::uint64_t> end_{0};  // one past the last byte written
};

std::unique_ptr<ValueWriter> MemoryStore::begin(const std::string& key, std::uint64_t size) {
  return std::make_unique<MemoryValue>(*this, key, size);
}

void MemoryStore::set(const std::string& key, std::vector<std::byte> bytes) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(values_.begin(), values_.end(), [&](const auto& kv) { return kv.first == key; });
  if (it != values_.end()) {
    it->second = std::move(bytes);
  } else {
    values_.emplace_back(key, std::move(bytes));
  }
}

std::optional<std::vector<std::byte>> MemoryStore::get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  for (const auto& [k, v] : values_)
    if (k == key) return v;
  return std::nullopt;
}

bool MemoryStore::exists(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return std::any_of(values_.begin(), values_.end(), [&](const auto& kv) { return kv.first == key; });
}

void MemoryStore::erase(const std::string& key) {
  std::lock_guard lock(mutex_);
  std::erase_if(values_, [&](const auto& kv) { return kv.first == key; });
}

std::vector<std::string> MemoryStore::keys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> result;
  for (const auto& kv : values_) result.push_back(kv.first);
  std::sort(result.begin(), result.end());
  return result;
}

}  // namespace tilestream::zarr
