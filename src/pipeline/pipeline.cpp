// process_slide(): the user's chain on one slide level as a plan of the one engine (executor.hpp):
// the result, and with `ome` its 2x pyramid built by downsample2x.
#include "tilestream/pipeline/pipeline.hpp"

#include <algorithm>
#include <filesystem>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/ome.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::pipeline {
namespace {

ArrayOptions array_options(const ProcessOptions& options) {
  return {.zarr_version = options.zarr_version,
          .chunk = options.chunk,
          .shard = options.shard,
          .compressors = options.compressors,
          .layout = options.ome ? Layout::cyx : options.layout};
}

}  // namespace

zarr::ArraySpec output_array_spec(const ChunkPlan& plan, const ops::Chain& chain, const ProcessOptions& options,
                                  const std::string& source_name) {
  ArrayOptions array = array_options(options);
  array.chunk = std::max(plan.chunk_height, plan.chunk_width);  // the plan's chunk, clipped alike
  zarr::ArraySpec spec =
      image_array_spec(plan.output.height, plan.output.width, plan.output.samples, plan.output.dtype, array);
  nlohmann::json ops = nlohmann::json::array();
  for (std::size_t i = 0; i < chain.size(); ++i) ops.push_back(chain.op(i).spec());
  spec.attributes = {{"tilestream", {{"ops", ops}, {"source", source_name}, {"level", options.level}}}};
  spec.validate();
  return spec;
}

ProcessResult process_slide(const slide::Slide& slide, const std::string& output, const ops::Chain& chain,
                            const ProcessOptions& options, const Backend& backend,
                            const std::function<void(const ProcessProgress&)>& on_progress) {
  validate(array_options(options));
  check<UsageError>(!(options.overwrite && options.resume), option("overwrite"), " and ", option("resume"),
                    " contradict each other: pick one");
  check<UsageError>(chain.size() > 0, "no op given; ops:\n", ops::describe_ops());
  check<UsageError>(options.level < slide.level_count(), slide.path(), ": no level ", options.level,
                    " (the slide has ", slide.level_count(), ")");
  const tiff::ImageInfo& image = slide.level(options.level).image;
  check<UsageError>(image.unsupported_reason.empty(), image.unsupported_reason);
  const ops::ImageShape input{image.height, image.width, image.samples, image.dtype};
  ChunkPlan result_plan;
  try {
    result_plan = plan_chunks(chain, input, options.chunk);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(slide.path(), " level ", options.level));
  }
  const std::string name = std::filesystem::path(slide.path()).filename().string();

  Plan plan;
  plan.zarr_version = options.zarr_version;
  Dataset result;
  result.path = options.ome ? "0" : "";
  result.slide_level = options.level;
  std::vector<std::string> specs;  // the plan owns its chains: the caller's, parsed again from its specs
  for (std::size_t i = 0; i < chain.size(); ++i) specs.push_back(chain.op(i).spec());
  result.chain = ops::Chain::parse(specs);
  result.layout = options.ome ? Layout::cyx : options.layout;
  result.spec = output_array_spec(result_plan, chain, options, name);
  plan.datasets.push_back(std::move(result));
  if (options.ome) {
    // The pyramid: each level the 2x mean of the one before, down to the first that fits in one chunk.
    zarr::OmeImage ome;
    ome.name = name;
    // The result's pixel: level 0's scaled by how many level 0 pixels one result pixel spans.
    if (const std::optional<double> mpp = slide.microns_per_pixel())
      ome.pixel_size_um = *mpp * static_cast<double>(slide.level(0).image.width) /
                          static_cast<double>(result_plan.output.width);
    ome.datasets.push_back({"0", 1.0});
    ome.channels = result_plan.output.samples;
    ome.rgb = result_plan.output.dtype == DType::uint8 && (ome.channels == 3 || ome.channels == 4);
    ome.max_value = result_plan.output.dtype == DType::uint16 ? 65535 : result_plan.output.dtype == DType::uint8 ? 255 : 1;
    std::uint64_t height = result_plan.output.height, width = result_plan.output.width;
    for (unsigned k = 1; (height > options.chunk || width > options.chunk) && k < 63; ++k) {
      height = (height + 1) / 2;
      width = (width + 1) / 2;
      Dataset level;
      level.path = std::to_string(k);
      level.earlier = k - 1;
      level.chain = ops::Chain::parse(std::vector<std::string>{"downsample2x"});
      level.layout = Layout::cyx;
      level.spec = image_array_spec(height, width, result_plan.output.samples, result_plan.output.dtype,
                                    array_options(options));
      plan.datasets.push_back(std::move(level));
      ome.datasets.push_back({std::to_string(k), static_cast<double>(std::uint64_t{1} << k)});
    }
    plan.root_group = zarr::ome_group_attributes(ome, options.zarr_version);
  }

  zarr::FileStore store(output, zarr::FileStore::Options{.fsync = options.fsync});
  std::function<void(const RunProgress&)> progress;
  if (on_progress)
    progress = [&](const RunProgress& p) {
      on_progress({p.blocks_done - p.blocks_skipped, p.blocks_total - p.blocks_skipped, p.bytes_written});
    };
  ProcessResult r;
  r.report = run_plan(slide, plan, store, backend,
                      {.mode = options.mode,
                       .memory = options.memory,
                       .threads = options.threads,
                       .overwrite = options.overwrite,
                       .resume = options.resume,
                       .stop = options.stop},
                      progress);
  const DatasetReport& first = r.report.datasets.front();
  r.input = first.input;
  r.output = first.output;
  r.backend = r.report.backend;
  r.run = first.run;
  r.workers = first.workers;
  r.task_bytes = first.task_bytes;
  r.bytes_in_flight = first.bytes_in_flight;
  r.chunks_skipped = r.report.progress.blocks_skipped;
  r.progress = {r.report.progress.blocks_done - r.report.progress.blocks_skipped,
                r.report.progress.blocks_total - r.report.progress.blocks_skipped, r.report.progress.bytes_written};
  r.seconds = r.report.seconds;
  return r;
}

}  // namespace tilestream::pipeline
