// MemoryStore: keys and values in a vector under a mutex (tests, small arrays).
#include <algorithm>

#include "tilestream/zarr/store.hpp"

namespace tilestream::zarr {

void MemoryStore::put(const std::string& key, std::span<const std::byte> bytes) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(values_.begin(), values_.end(), [&](const auto& kv) { return kv.first == key; });
  if (it != values_.end()) {
    it->second.assign(bytes.begin(), bytes.end());
  } else {
    values_.emplace_back(key, std::vector<std::byte>(bytes.begin(), bytes.end()));
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
