#include "tilestream/slide/device_level0_region.hpp"

#include <cuda_runtime.h>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::slide {

cuda::DeviceImage read_level_rect_to_device(DeviceReader& reader, const Slide& slide, std::size_t level,
                                            const LevelRect& rect) {
  const tiff::ImageInfo& image = slide.level(level).image;
  check<UsageError>(rect.width > 0 && rect.height > 0, slide.path(), " level ", level, ": an empty region (", rect.width,
                    " x ", rect.height, ") cannot be read to the device");
  const InsidePart in = inside_part(image, rect);
  if (in.whole)
    return reader.read_region(slide, level, static_cast<std::uint64_t>(rect.x), static_cast<std::uint64_t>(rect.y),
                              rect.width, rect.height);
  const cuda::DeviceGuard guard(reader.device());
  const cuda::Stream stream;
  cuda::DeviceImage out(rect.height, rect.width, image.samples, image.dtype, stream);
  out.buffer().fill(0, stream);
  cuda::DeviceImage part;  // the inside, read finished; copied into place on our stream
  if (!in.empty()) {
    part = reader.read_region(slide, level, in.left, in.top, in.right - in.left, in.bottom - in.top);
    std::byte* to = out.data() + (static_cast<std::int64_t>(in.top) - rect.y) * out.row_stride() +
                    (static_cast<std::int64_t>(in.left) - rect.x) * out.pixel_stride();
    cuda::check_cuda(cudaMemcpy2DAsync(to, out.row_stride(), part.data(), part.row_stride(), part.row_bytes(),
                                       part.height(), cudaMemcpyDeviceToDevice, stream.get()),
                     "cudaMemcpy2DAsync");
  }
  stream.synchronize();  // before `part` is freed, and so that the image is finished for any stream
  // Our stream ends here; the image outlives it.
  out.buffer().set_free_stream(cudaStreamLegacy);
  return out;
}

}  // namespace tilestream::slide
