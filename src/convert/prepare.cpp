// Planning and store preparation shared by the CPU and GPU conversions; see the header.
#include "tilestream/convert/prepare.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "tilestream/core/cast.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/zarr/ome.hpp"
#include "tilestream/zarr/store_ownership.hpp"

namespace tilestream::convert {
namespace {

// The array metadata key(s) of a dataset, for the resume check.
std::string metadata_key(int zarr_format, const std::string& path) {
  return path + (zarr_format == 2 ? "/.zarray" : "/zarr.json");
}

std::optional<nlohmann::json> stored_json(const zarr::Store& store, const std::string& key) {
  const auto bytes = store.get(key);
  if (!bytes) return std::nullopt;
  const auto* text = reinterpret_cast<const char*>(bytes->data());
  nlohmann::json doc = nlohmann::json::parse(text, text + bytes->size(), nullptr, false);
  if (doc.is_discarded())
    throw UsageError(concat("--resume: ", store.name(), "/", key, " is not valid JSON"));
  return doc;
}

// Refuses to resume into a store written with other options (or from another slide).
void check_resumable(const zarr::Store& store, const std::vector<DatasetPlan>& plan,
                     const std::vector<zarr::ArraySpec>& specs, int zarr_format,
                     const nlohmann::json& group_attributes) {
  const int other = zarr_format == 2 ? 3 : 2;
  if (store.exists(other == 2 ? ".zgroup" : "zarr.json") ||
      (!plan.empty() && store.exists(metadata_key(other, plan[0].path))))
    throw UsageError(concat("--resume: ", store.name(), " holds a Zarr v", other,
                            " store, this conversion writes v", zarr_format,
                            "; use the same --zarr-version or --overwrite"));
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::string key = metadata_key(zarr_format, plan[i].path);
    const auto existing = stored_json(store, key);
    if (!existing) continue;
    const nlohmann::json wanted = zarr::array_metadata(specs[i]);
    if (*existing != wanted)
      throw UsageError(
          concat("--resume: ", store.name(), "/", key,
                 " was written with other options or from another slide (stored: ", existing->dump(),
                 "; this conversion: ", wanted.dump(), "); rerun with the original options or --overwrite"));
  }
  if (store.exists(zarr_format == 2 ? ".zgroup" : "zarr.json")) {
    const nlohmann::json existing = zarr::read_group_attributes(store, "");
    if (existing != group_attributes)
      throw UsageError(concat("--resume: the group attributes of ", store.name(),
                              " differ from this conversion's (stored: ", existing.dump(),
                              "; this conversion: ", group_attributes.dump(), ")"));
  }
}

// The inventory of the store at `root`, refused (UsageError prefixed with `flag`) unless all of it is ours.
zarr::StoreInventory owned_store(const std::string& root, std::span<const zarr::StoreArray> arrays, const char* flag) {
  try {
    zarr::StoreInventory inventory = zarr::StoreInventory::of(root, arrays);
    inventory.require_owned();
    return inventory;
  } catch (const UsageError& e) {
    rethrow_with_context(e, flag);
  }
}

nlohmann::json group_attributes(const slide::Slide& slide, const std::vector<DatasetPlan>& plan,
                                const ConvertOptions& options, std::uint32_t samples, DType dtype) {
  if (!options.ome) return nlohmann::json::object();
  zarr::OmeImage image;
  image.name = std::filesystem::path(slide.path()).filename().string();
  for (const DatasetPlan& d : plan) image.datasets.push_back({d.path, d.downsample});
  const auto mpp = slide.properties().find("openslide.mpp-x");
  if (mpp != slide.properties().end()) {
    char* end = nullptr;
    const double value = std::strtod(mpp->second.c_str(), &end);
    if (end != mpp->second.c_str() && value > 0) image.pixel_size_um = value;
  }
  image.channels = samples;
  image.rgb = samples == 3 || samples == 4;
  image.max_value = dtype == DType::uint16 ? 65535 : 255;
  return zarr::ome_group_attributes(image, options.zarr_version);
}

}  // namespace

void check_resume_metadata(const zarr::Store& store, const PreparedConversion& prepared, int zarr_format) {
  check_resumable(store, prepared.plan, prepared.specs, zarr_format, prepared.group_attributes);
}

PreparedConversion prepare_conversion(const slide::Slide& slide, const ConvertOptions& options) {
  validate_options(options);
  check<UsageError>(slide.level_count() > 0, slide.path(), ": no pyramid levels to convert");
  PreparedConversion p;
  p.layout = effective_layout(options);
  std::vector<LevelShape> levels;
  for (std::size_t n = 0; n < slide.level_count(); ++n) {
    const tiff::Level& level = slide.level(n);
    check<UsageError>(level.image.unsupported_reason.empty(), level.image.unsupported_reason);
    levels.push_back({level.image.width, level.image.height, level.downsample});
  }
  p.samples = slide.level(0).image.samples;
  p.source_dtype = slide.level(0).image.dtype;
  p.dtype = options.dtype.value_or(p.source_dtype);
  check_cast(p.source_dtype, p.dtype);
  p.plan = plan_datasets(levels, options);
  for (const DatasetPlan& d : p.plan) {
    if (d.slide_level) {
      const tiff::ImageInfo& image = slide.level(*d.slide_level).image;
      check<UsageError>(image.samples == p.samples && image.dtype == p.source_dtype, slide.path(), ": level ",
                        *d.slide_level, " has ", image.samples, " ", to_string(image.dtype),
                        " samples, level 0 ", p.samples, " ", to_string(p.source_dtype),
                        "; convert the levels separately with --levels");
    }
    p.specs.push_back(dataset_array_spec(d, p.samples, p.dtype, options));
    p.specs.back().validate();
  }
  p.group_attributes = group_attributes(slide, p.plan, options, p.samples, p.source_dtype);
  return p;
}

void prepare_store(zarr::FileStore& store, const PreparedConversion& prepared, const ConvertOptions& options) {
  zarr::check_output_location(store.name());
  if (store.is_empty()) return;
  if (!options.overwrite && !options.resume)
    throw UsageError(concat(store.name(),
                            " is not empty: pass --overwrite to replace it or --resume to finish an "
                            "interrupted conversion with the same options"));
  // Only a store of ours is replaced or resumed; the check comes before any change.
  std::vector<zarr::StoreArray> arrays;
  for (std::size_t i = 0; i < prepared.plan.size(); ++i) arrays.push_back({prepared.plan[i].path, prepared.specs[i]});
  const zarr::StoreInventory inventory = owned_store(store.name(), arrays, options.overwrite ? "--overwrite" : "--resume");
  if (options.overwrite) {
    inventory.remove_owned();
  } else {
    check_resumable(store, prepared.plan, prepared.specs, options.zarr_version, prepared.group_attributes);
    inventory.remove_partial_files();
  }
}

}  // namespace tilestream::convert
