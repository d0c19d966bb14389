// Planning a conversion: its datasets, their arrays and the engine's plan of them; see the header.
#include "tilestream/convert/prepare.hpp"

#include <filesystem>
#include <optional>

#include "tilestream/core/cast.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/zarr/ome.hpp"

namespace tilestream::convert {
namespace {

nlohmann::json group_attributes(const slide::Slide& slide, const std::vector<DatasetPlan>& plan,
                                const ConvertOptions& options, std::uint32_t samples, DType dtype) {
  if (!options.ome) return nlohmann::json::object();
  zarr::OmeImage image;
  image.name = std::filesystem::path(slide.path()).filename().string();
  for (const DatasetPlan& d : plan) image.datasets.push_back({d.path, d.downsample});
  image.pixel_size_um = slide.microns_per_pixel();
  image.channels = samples;
  image.rgb = samples == 3 || samples == 4;
  image.max_value = dtype == DType::uint16 ? 65535 : 255;
  return zarr::ome_group_attributes(image, options.zarr_version);
}

}  // namespace

void check_resume_metadata(const zarr::Store& store, const PreparedConversion& prepared, int zarr_format) {
  pipeline::Plan plan = conversion_plan(prepared);
  plan.zarr_version = zarr_format;
  pipeline::check_resumable(store, plan);
}

pipeline::Plan conversion_plan(const PreparedConversion& prepared) {
  pipeline::Plan plan;
  plan.zarr_version = prepared.specs.empty() ? 3 : prepared.specs.front().zarr_format;
  plan.root_group = prepared.group_attributes;
  for (std::size_t i = 0; i < prepared.plan.size(); ++i) {
    const DatasetPlan& d = prepared.plan[i];
    pipeline::Dataset dataset;
    dataset.path = d.path;
    dataset.slide_level = d.slide_level;
    dataset.layout = prepared.layout;
    dataset.spec = prepared.specs[i];
    std::vector<std::unique_ptr<ops::Op>> ops;
    if (d.slide_level && prepared.dtype != prepared.source_dtype)
      ops.push_back(ops::make_op(concat("cast:dtype=", to_string(prepared.dtype))));
    if (!d.slide_level) {
      check<UsageError>(i > 0, "dataset ", d.path, ": a built level needs the level before it");
      dataset.earlier = i - 1;
      ops.push_back(ops::make_op("downsample2x"));
    }
    dataset.chain = ops::Chain(std::move(ops));
    plan.datasets.push_back(std::move(dataset));
  }
  return plan;
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
                        "; convert the levels separately (", option("levels"), ")");
    }
    p.specs.push_back(dataset_array_spec(d, p.samples, p.dtype, options));
    p.specs.back().validate();
  }
  p.group_attributes = group_attributes(slide, p.plan, options, p.samples, p.source_dtype);
  return p;
}

}  // namespace tilestream::convert
