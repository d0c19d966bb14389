// process_slide(): plans the chunks, checks the memory budget, prepares the output store and the Zarr
// array, and lets the backend produce the chunks, which the sink (zarr_chunk_sink.hpp) stores.
#include "tilestream/pipeline/pipeline.hpp"

#include <array>
#include <chrono>
#include <filesystem>
#include <optional>

#include "pipeline/zarr_chunk_sink.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/zarr/store.hpp"
#include "tilestream/zarr/store_ownership.hpp"

namespace tilestream::pipeline {

using Clock = std::chrono::steady_clock;

const char* to_string(Mode mode) { return mode == Mode::global ? "global" : "tiled"; }

Mode parse_mode(const std::string& text) {
  if (text == "global") return Mode::global;
  if (text == "tiled") return Mode::tiled;
  throw UsageError("--mode must be global or tiled, not '" + text + "'");
}

zarr::ArraySpec output_array_spec(const ChunkPlan& plan, const ops::Chain& chain,
                                  const ProcessOptions& options, const std::string& source_name) {
  zarr::ArraySpec spec;
  spec.zarr_format = options.zarr_version;
  spec.shape = {plan.output.height, plan.output.width, plan.output.samples};
  spec.chunk_shape = {plan.chunk_height, plan.chunk_width, plan.output.samples};
  spec.dtype = plan.output.dtype;
  spec.fill_value = 0;
  spec.compressors = options.compressors;
  if (options.zarr_version == 3) spec.dimension_names = {"y", "x", "c"};
  nlohmann::json ops = nlohmann::json::array();
  for (std::size_t i = 0; i < chain.size(); ++i) ops.push_back(chain.op(i).spec());
  spec.attributes = {{"tilestream", {{"ops", ops}, {"source", source_name}, {"level", options.level}}}};
  spec.validate();
  return spec;
}

namespace {

// Makes `store` ready for `spec`: an empty store is used as is; a non-empty one is cleared (overwrite),
// or (resume) rid of partial files and checked to hold the array this run writes, or refused.
void prepare_output(zarr::FileStore& store, const zarr::StoreArray& array, const ProcessOptions& options) {
  check<UsageError>(!(options.overwrite && options.resume),
                    "--overwrite and --resume contradict each other: pick one");
  zarr::check_output_location(store.name());
  if (store.is_empty()) return;
  check<UsageError>(options.overwrite || options.resume, store.name(),
                    " is not empty: pass --overwrite to replace it or --resume to finish an interrupted run "
                    "with the same options");
  // Only a store of ours is replaced or resumed; the check comes before any change.
  const char* flag = options.overwrite ? "--overwrite" : "--resume";
  std::optional<zarr::StoreInventory> inventory;
  try {
    inventory = zarr::StoreInventory::of(store.name(), std::span(&array, 1));
    inventory->require_owned();
  } catch (const UsageError& e) {
    rethrow_with_context(e, flag);
  }
  if (options.overwrite) {
    inventory->remove_owned();
    return;
  }
  const zarr::ArraySpec& spec = array.spec;
  const auto stored_json = [&](const std::string& key) -> std::optional<nlohmann::json> {
    const auto bytes = store.get(key);
    if (!bytes) return std::nullopt;
    const auto* text = reinterpret_cast<const char*>(bytes->data());
    nlohmann::json doc = nlohmann::json::parse(text, text + bytes->size(), nullptr, false);
    check<UsageError>(!doc.is_discarded(), "--resume: ", store.name(), "/", key, " is not valid JSON");
    return doc;
  };
  const std::string key = spec.zarr_format == 2 ? ".zarray" : "zarr.json";
  const auto existing = stored_json(key);
  check<UsageError>(existing.has_value(), "--resume: ", store.name(), " has no ", key,
                    ": it is not an array written by process with --zarr-version ", spec.zarr_format,
                    "; use the original options or --overwrite");
  const nlohmann::json wanted = zarr::array_metadata(spec);
  check<UsageError>(*existing == wanted, "--resume: ", store.name(), "/", key,
                    " was written with other options or from another slide (stored: ", existing->dump(),
                    "; this run: ", wanted.dump(), "); rerun with the original options or --overwrite");
  if (spec.zarr_format == 2) {
    const auto attributes = stored_json(".zattrs");
    check<UsageError>(attributes == spec.attributes, "--resume: ", store.name(),
                      "/.zattrs differs from this run's (stored: ", attributes ? attributes->dump() : "none",
                      "; this run: ", spec.attributes.dump(), ")");
  }
  inventory->remove_partial_files();
}

}  // namespace

ProcessResult process_slide(const slide::Slide& slide, const std::string& output, const ops::Chain& chain,
                            const ProcessOptions& options, const Backend& backend,
                            const std::function<void(const ProcessProgress&)>& on_progress) {
  const auto start = Clock::now();
  check<UsageError>(options.zarr_version == 2 || options.zarr_version == 3,
                    "--zarr-version must be 2 or 3, not ", options.zarr_version);
  check<UsageError>(options.zarr_version == 3 || options.compressors.size() <= 1,
                    "Zarr v2 stores at most one compressor");
  check<UsageError>(options.chunk > 0, "--chunk must be at least 1");
  check<UsageError>(options.level < slide.level_count(), slide.path(), ": no level ", options.level,
                    " (the slide has ", slide.level_count(), ")");
  const tiff::ImageInfo& image = slide.level(options.level).image;
  check<UsageError>(image.unsupported_reason.empty(), image.unsupported_reason);
  const ops::ImageShape input{image.height, image.width, image.samples, image.dtype};
  ChunkPlan plan;
  try {
    plan = plan_chunks(chain, input, options.chunk);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(slide.path(), " level ", options.level));
  }

  ProcessResult result;
  result.input = plan.input;
  result.output = plan.output;
  result.backend = backend.name();
  const unsigned threads = resolve_threads(options.threads);
  unsigned workers = threads;
  // Checked against the memory available now, before the output is touched: the OOM killer ends a run
  // that outgrows it without a word.
  const MemoryAvailable available = backend.memory_available();
  const std::string place = concat("level ", options.level);
  if (options.mode == Mode::global) {
    check_memory({.file = slide.path(),
                  .place = place,
                  .what = concat("global mode on ", backend.name(), " (the whole level, and each op's whole input and output)"),
                  .bytes = backend.global_bytes(plan, chain),
                  .ways_out = {WayOut::tiled_mode, WayOut::memory_budget}},
                 available);
  }
  if (options.mode == Mode::tiled) {
    result.task_bytes = backend.tiled_task_bytes(
        plan, chain, static_cast<std::size_t>(image.tile_width) * image.tile_height * input.pixel_bytes());
    const std::size_t memory = resolve_memory_bytes(options.memory);
    check<UsageError>(memory >= result.task_bytes, "--memory ", memory, " bytes is less than one ",
                      plan.chunk_width, "x", plan.chunk_height, " chunk's tiles in flight (",
                      result.task_bytes, " bytes with its halo and intermediates on ", backend.name(),
                      "): raise --memory or lower --chunk");
    check_memory({.file = slide.path(),
                  .place = place,
                  .what = concat("tiled mode on ", backend.name(), ": one ", plan.chunk_width, "x", plan.chunk_height,
                                 " chunk in flight"),
                  .bytes = result.task_bytes,
                  .ways_out = {WayOut::smaller_chunk}},
                 available);
    // The budget, as far as the memory available now holds it.
    workers = static_cast<unsigned>(std::min<std::uint64_t>(
        {threads, memory / result.task_bytes, available.bytes / result.task_bytes,
         std::max<std::size_t>(1, plan.tasks.size())}));
    result.bytes_in_flight = workers * result.task_bytes;
  }
  result.workers = workers;

  const zarr::StoreArray array{
      "", output_array_spec(plan, chain, options, std::filesystem::path(slide.path()).filename().string())};
  zarr::FileStore store(output, zarr::FileStore::Options{.fsync = options.fsync});
  prepare_output(store, array, options);
  const zarr::ArrayWriter writer(store, "", array.spec);
  if (options.resume) {
    // Chunks in the store are whole (written under partial names and renamed): keep them.
    std::erase_if(plan.tasks, [&](const ChunkTask& task) {
      return store.exists(writer.key(std::array<std::uint64_t, 3>{task.row, task.col, 0}));
    });
    result.chunks_skipped = plan.grid_rows * plan.grid_cols - plan.tasks.size();
  }
  ZarrChunkSink sink(store, writer, plan, threads, 0, on_progress);
  const Job job{slide, options.level, chain, plan, threads, workers};
  if (plan.tasks.empty()) {
    result.bytes_in_flight = 0;
    result.run.io_detail = "nothing read: every chunk was already in the store";
  } else if (options.mode == Mode::global) {
    result.run = backend.run_global(job, sink);
    result.bytes_in_flight = result.run.bytes_held;
  } else {
    result.run = backend.run_tiled(job, sink);
  }
  sink.flush();
  sink.report(true);
  result.progress = sink.snapshot();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace tilestream::pipeline
