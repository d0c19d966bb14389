// convert_slide_on_device: plan and store as the CPU conversion, then read, cast and write each
// dataset on the GPU; see the header.
#include "tilestream/cuda/device_convert.hpp"

#include <chrono>
#include <cstdint>

#include "tilestream/convert/prepare.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/cuda/image_kernels.hpp"
#include "tilestream/cuda/memory_budget.hpp"
#include "tilestream/cuda/zarr_writer.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::cuda {
namespace {

using Clock = std::chrono::steady_clock;


}  // namespace

DeviceConvertResult convert_slide_on_device(const slide::Slide& slide, const std::string& output,
                                            const convert::ConvertOptions& options,
                                            const DeviceConvertOptions& device_options,
                                            const std::function<void(const DatasetTiming&)>& on_dataset) {
  const auto start = Clock::now();
  const convert::PreparedConversion prepared = convert::prepare_conversion(slide, options);
  for (const convert::DatasetPlan& d : prepared.plan) {
    check<UsageError>(d.slide_level.has_value(), "--device cuda writes stored slide levels; dataset ", d.path, " (",
                      d.width, "x", d.height, ") would be built by downsampling, which the CPU path does: "
                      "use --device cpu, or --levels to pick stored levels");
  }
  const io::IoMode wanted = device_options.io.value_or(io::default_io_mode());
  DeviceConvertResult out;
  slide::DeviceReaderOptions reader_options;
  reader_options.threads = options.threads;
  reader_options.device = device_options.device;
  reader_options.io = wanted;
  slide::DeviceReader reader(reader_options);
  out.setup_seconds = reader.setup_seconds();

  // Each dataset's level is held whole on the device (with its cast copy, when the dtype changes):
  // checked before the store is touched.
  for (const convert::DatasetPlan& d : prepared.plan) {
    const tiff::ImageInfo& image = slide.level(*d.slide_level).image;
    const std::uint64_t level_bytes = image_bytes(image.height, image.width, image.samples, image.dtype);
    const std::uint64_t cast_bytes =
        image.dtype == prepared.dtype ? 0 : image_bytes(image.height, image.width, image.samples, prepared.dtype);
    check_device_memory({.file = slide.path(),
                         .place = concat("level ", *d.slide_level),
                         .what = concat("converting ", image.height, " x ", image.width, " x ", image.samples, " ",
                                        to_string(image.dtype), " on the device (the whole level",
                                        cast_bytes > 0 ? concat(" and its ", to_string(prepared.dtype), " copy") : "",
                                        ")"),
                         .bytes = level_bytes > UINT64_MAX - cast_bytes ? UINT64_MAX : level_bytes + cast_bytes,
                         .ways_out = {WayOut::cpu_device}},
                        reader.device());
  }

  zarr::FileStore store(output, zarr::FileStore::Options{.fsync = options.fsync});  // the one durability policy
  convert::prepare_store(store, prepared, options);
  ZarrWriteOptions write_options;
  write_options.threads = options.threads;
  write_options.io = wanted == io::IoMode::direct ? io::IoMode::posix : wanted;
  write_options.channels_first = prepared.layout == convert::Layout::cyx;
  write_options.skip_existing = options.resume;

  const Stream stream;
  for (std::size_t i = 0; i < prepared.plan.size(); ++i) {
    const convert::DatasetPlan& dataset = prepared.plan[i];
    DatasetTiming timing;
    timing.path = dataset.path;
    slide::DeviceReadReport read_report;
    DeviceImage image = reader.read_level(slide, *dataset.slide_level, &read_report);
    timing.read_seconds = read_report.seconds;
    out.read_io = io::to_string(read_report.io);  // what ran: decoded levels are read with posix
    out.read_io_detail = read_report.io_detail;
    if (image.dtype() != prepared.dtype) {
      const auto cast_start = Clock::now();
      DeviceImage converted = cast(image, prepared.dtype, stream);
      stream.synchronize();
      image = std::move(converted);
      timing.cast_seconds = seconds_since(cast_start);
    }
    timing.array_bytes = image.size_bytes();
    const zarr::ArrayWriter writer(store, dataset.path, prepared.specs[i]);
    const ZarrWriteReport report = write_zarr_blocks(image, store, writer, write_options);
    timing.write_seconds = report.write_seconds;
    timing.fsync_seconds = report.fsync_seconds;
    out.write_io = io::to_string(report.io);
    out.write_io_detail = report.io_detail;
    out.result.progress.blocks_total += report.blocks_written + report.blocks_skipped;
    out.result.progress.blocks_done += report.blocks_written + report.blocks_skipped;
    out.result.progress.blocks_skipped += report.blocks_skipped;
    out.result.progress.bytes_written += report.bytes_written;
    out.result.array_paths.push_back(dataset.path);
    out.datasets.push_back(timing);
    if (on_dataset) on_dataset(timing);
  }
  zarr::write_group(store, "", options.zarr_version, prepared.group_attributes);
  out.result.seconds = seconds_since(start);
  return out;
}

}  // namespace tilestream::cuda
