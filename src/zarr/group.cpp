// Zarr groups: .zgroup + .zattrs (v2) or zarr.json with node_type "group" (v3).
#include "tilestream/core/error.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/node_keys.hpp"

namespace tilestream::zarr {
namespace {

void put_json(Store& store, const std::string& key, const nlohmann::json& document) {
  const std::string text = document.dump(2) + "\n";
  store.put(key, std::as_bytes(std::span(text.data(), text.size())));
}

nlohmann::json get_json(const Store& store, const std::string& key, const std::vector<std::byte>& bytes) {
  try {
    return nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                 reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(concat(store.name(), "/", key, ": invalid JSON: ", e.what()));
  }
}

}  // namespace

void write_group(Store& store, const std::string& group_path, int zarr_format,
                 const nlohmann::json& attributes) {
  check<UsageError>(zarr_format == 2 || zarr_format == 3, "zarr_format must be 2 or 3, not ", zarr_format);
  check<UsageError>(attributes.is_object(), "group attributes must be a JSON object");
  if (zarr_format == 2) {
    put_json(store, node_key(group_path, ".zgroup"), {{"zarr_format", 2}});
    put_json(store, node_key(group_path, ".zattrs"), attributes);
  } else {
    put_json(store, node_key(group_path, "zarr.json"),
             {{"zarr_format", 3}, {"node_type", "group"}, {"attributes", attributes}});
  }
}

nlohmann::json read_group_attributes(const Store& store, const std::string& group_path) {
  const std::string v3_key = node_key(group_path, "zarr.json");
  if (const auto v3 = store.get(v3_key)) {
    const nlohmann::json document = get_json(store, v3_key, *v3);
    check<FormatError>(document.is_object(), store.name(), "/", v3_key, ": not a JSON object");
    const nlohmann::json attributes = document.value("attributes", nlohmann::json::object());
    check<FormatError>(attributes.is_object(), store.name(), "/", v3_key,
                       ": \"attributes\" is not an object");
    return attributes;
  }
  const std::string attrs_key = node_key(group_path, ".zattrs");
  if (const auto v2 = store.get(attrs_key)) return get_json(store, attrs_key, *v2);
  check<FormatError>(
      store.exists(node_key(group_path, ".zgroup")) || store.exists(node_key(group_path, ".zarray")),
      "no Zarr group at ", store.name(), group_path.empty() ? "" : "/", group_path,
      " (neither zarr.json nor .zgroup found)");
  return nlohmann::json::object();
}

}  // namespace tilestream::zarr
