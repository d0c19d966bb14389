// prepare_output: the one check of a run's output before anything is written (convert and process
// alike): where it is, whether it is ours, and with resume whether it was written with this plan.
#include <optional>
#include <span>

#include "tilestream/core/error.hpp"
#include "tilestream/pipeline/executor.hpp"
#include "tilestream/zarr/store_ownership.hpp"

namespace tilestream::pipeline {
namespace {

std::string node_key(const std::string& path, const char* name) { return path.empty() ? name : path + "/" + name; }

std::optional<nlohmann::json> stored_json(const zarr::Store& store, const std::string& key) {
  const auto bytes = store.get(key);
  if (!bytes) return std::nullopt;
  const auto* text = reinterpret_cast<const char*>(bytes->data());
  nlohmann::json doc = nlohmann::json::parse(text, text + bytes->size(), nullptr, false);
  check<UsageError>(!doc.is_discarded(), option("resume"), ": ", store.name(), "/", key, " is not valid JSON");
  return doc;
}

}  // namespace

void check_resumable(const zarr::Store& store, const Plan& plan) {
  const int format = plan.zarr_version, other = format == 2 ? 3 : 2;
  const char* metadata = format == 2 ? ".zarray" : "zarr.json";
  const char* other_metadata = other == 2 ? ".zarray" : "zarr.json";
  const bool other_group = plan.root_group && store.exists(other == 2 ? ".zgroup" : "zarr.json");
  check<UsageError>(!other_group && !store.exists(node_key(plan.datasets.front().path, other_metadata)), option("resume"), ": ",
                    store.name(), " holds a Zarr v", other, " store, this run writes v", format,
                    "; use the same ", option("zarr_version"), " or ", option("overwrite"));
  for (const Dataset& d : plan.datasets) {
    const std::string key = node_key(d.path, metadata);
    const auto existing = stored_json(store, key);
    if (!existing) continue;
    const nlohmann::json wanted = zarr::array_metadata(d.spec);
    check<UsageError>(*existing == wanted, option("resume"), ": ", store.name(), "/", key,
                      " was written with other options or from another slide (stored: ", existing->dump(),
                      "; this run: ", wanted.dump(), "); rerun with the original options or ", option("overwrite"));
    if (format == 2 && !d.spec.attributes.empty()) {
      const auto attributes = stored_json(store, node_key(d.path, ".zattrs"));
      check<UsageError>(attributes == d.spec.attributes, option("resume"), ": ", store.name(), "/", node_key(d.path, ".zattrs"),
                        " was written with other options (stored: ", attributes ? attributes->dump() : "none",
                        "; this run: ", d.spec.attributes.dump(), ")");
    }
  }
  if (plan.root_group && store.exists(format == 2 ? ".zgroup" : "zarr.json")) {
    const nlohmann::json existing = zarr::read_group_attributes(store, "");
    check<UsageError>(existing == *plan.root_group, option("resume"), ": the group attributes of ", store.name(),
                      " were written with other options (stored: ", existing.dump(), "; this run: ",
                      plan.root_group->dump(), ")");
  }
}

void prepare_output(zarr::FileStore& store, const Plan& plan, bool overwrite, bool resume) {
  check<UsageError>(!(overwrite && resume), option("overwrite"), " and ", option("resume"),
                    " contradict each other: pick one");
  zarr::check_output_location(store.name());
  if (store.is_empty()) return;
  check<UsageError>(overwrite || resume, store.name(),
                    " is not empty: pass ", option("overwrite"), " to replace it or ", option("resume"),
                    " to finish an interrupted run with the same options");
  // Only a store of ours is replaced or resumed; the check comes before any change.
  std::vector<zarr::StoreArray> arrays;
  for (const Dataset& d : plan.datasets) arrays.push_back({d.path, d.spec});
  std::optional<zarr::StoreInventory> inventory;
  try {
    inventory = zarr::StoreInventory::of(store.name(), arrays);
    inventory->require_owned();
  } catch (const UsageError& e) {
    rethrow_with_context(e, option(overwrite ? "overwrite" : "resume"));
  }
  if (overwrite) {
    inventory->remove_owned();
    return;
  }
  check_resumable(store, plan);
  inventory->remove_partial_files();
}

}  // namespace tilestream::pipeline
