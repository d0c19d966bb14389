// What every conversion does before its first block, on the CPU or the GPU: plan the datasets and
// their Zarr array specs, and prepare the output store (refuse, clear or resume).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "tilestream/convert/convert.hpp"
#include "tilestream/convert/plan.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/pipeline/executor.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::convert {

struct PreparedConversion {
  std::vector<DatasetPlan> plan;
  std::vector<zarr::ArraySpec> specs;   // one per dataset, validated
  nlohmann::json group_attributes;      // the root group's (OME multiscales with `ome`)
  Layout layout = Layout::yxc;          // effective_layout(options)
  std::uint32_t samples = 0;
  DType source_dtype = DType::uint8;    // the slide's
  DType dtype = DType::uint8;           // what is stored: options.dtype, else the slide's
};

// Validates the options, plans the datasets and builds their specs. Throws UsageError for levels
// whose samples or dtype differ from level 0's, unsupported levels and dtype conversions.
PreparedConversion prepare_conversion(const slide::Slide& slide, const ConvertOptions& options);

// The conversion as a plan of the one engine: a stored level's dataset reads it (through a cast op
// where the stored dtype differs), a built one runs downsample2x on the dataset before it; the root
// group (OME multiscales with `ome`) is written last.
pipeline::Plan conversion_plan(const PreparedConversion& prepared);

// The metadata check of --resume (what pipeline::prepare_output runs on a non-empty store after removing
// partial files): throws UsageError when `store` holds the other Zarr version, array metadata that differs
// from `prepared.specs`, invalid JSON, or other group attributes; FormatError for a group document
// that is not an object. Any store, so that tests and the fuzz target can feed it bytes from memory.
void check_resume_metadata(const zarr::Store& store, const PreparedConversion& prepared, int zarr_format);

}  // namespace tilestream::convert
