// convert_slide(): the conversion planned (prepare.hpp) and run by the one engine on a backend.
#include "tilestream/convert/convert.hpp"
#include "tilestream/convert/prepare.hpp"
#include "tilestream/pipeline/executor.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::convert {

ConvertResult convert_slide(const slide::Slide& slide, const std::string& output, const ConvertOptions& options,
                            const pipeline::Backend& backend,
                            const std::function<void(const Progress&)>& on_progress) {
  const PreparedConversion prepared = prepare_conversion(slide, options);
  const pipeline::Plan plan = conversion_plan(prepared);
  zarr::FileStore store(output, zarr::FileStore::Options{.fsync = options.fsync});
  ConvertResult result;
  result.run = pipeline::run_plan(slide, plan, store, backend,
                                  {.mode = options.mode,
                                   .memory = options.memory,
                                   .threads = options.threads,
                                   .overwrite = options.overwrite,
                                   .resume = options.resume,
                                   .stop = options.stop},
                                  on_progress);
  result.progress = result.run.progress;
  result.seconds = result.run.seconds;
  for (const pipeline::DatasetReport& d : result.run.datasets) result.array_paths.push_back(d.path);
  return result;
}

ConvertResult convert_slide(const slide::Slide& slide, const std::string& output, const ConvertOptions& options,
                            const std::function<void(const Progress&)>& on_progress) {
  return convert_slide(slide, output, options, *pipeline::make_cpu_backend(), on_progress);
}

}  // namespace tilestream::convert
