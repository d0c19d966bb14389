// Slide to Zarr through the GPU: each dataset's slide level is read into device memory
// (cuda/device_reader.hpp), converted to the stored dtype there, and written block by block from
// device memory (cuda/zarr_writer.hpp). Same plan, metadata and store handling as the CPU conversion
// (convert/prepare.hpp), so both write the same bytes. A dataset is resident on the GPU while it is
// written; pyramid levels that must be built by downsampling are refused (the CPU path builds them).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tilestream/convert/convert.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::cuda {

struct DeviceConvertOptions {
  int device = 0;
  std::optional<io::IoMode> io;  // reads and writes; `direct` reads with O_DIRECT and writes with posix
};

struct DatasetTiming {
  std::string path;
  std::uint64_t array_bytes = 0;
  double read_seconds = 0;   // slide level to device image
  double cast_seconds = 0;   // dtype conversion on the device (0 when none)
  double write_seconds = 0;  // device image to stored blocks, the wait for syncing commits excluded
  double fsync_seconds = 0;  // the wait for the commits still syncing after the last block (--fsync)
};

struct DeviceConvertResult {
  convert::ConvertResult result;
  std::vector<DatasetTiming> datasets;
  std::string read_io, read_io_detail;    // what the reader ran (for the last dataset)
  std::string write_io, write_io_detail;  // what the writer ran
  double setup_seconds = 0;               // the reader's streams and buffers
};

// UsageError for options the GPU path does not take (datasets built by downsampling) besides
// everything convert_slide refuses; ResourceError before the store is touched when a level (with its
// cast copy) exceeds the device memory available; CudaError when an allocation fails all the same.
DeviceConvertResult convert_slide_on_device(const slide::Slide& slide, const std::string& output,
                                            const convert::ConvertOptions& options,
                                            const DeviceConvertOptions& device_options,
                                            const std::function<void(const DatasetTiming&)>& on_dataset = {});

}  // namespace tilestream::cuda
