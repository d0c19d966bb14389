// run_op: the argument checks of the CPU ops plus those device memory needs, then the launcher of the
// op's kernels from its entry in the table of ops (src/ops/<op>.cu); run_chain: ops one after the
// other through stream-ordered intermediate tiles, as Chain::run_cpu does on the host.
#include "tilestream/ops/device.hpp"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "ops/device_tiles.hpp"
#include "ops/op_table.hpp"
#include "ops/pixels.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"

namespace tilestream::ops {
namespace {

// UsageError unless `data` is device (or managed) memory of `device` and `data` and `row_stride` are
// multiples of the sample size: kernels load whole samples.
void check_device_tile(const Op& op, const char* which, const void* data, std::size_t row_stride,
                       DType dtype, int device) {
  cudaPointerAttributes attributes{};
  cuda::check_cuda(cudaPointerGetAttributes(&attributes, data), "cudaPointerGetAttributes");
  check<UsageError>(attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged,
                    op.spec(), ": the ", which, " tile at ", data, " is not device memory");
  check<UsageError>(attributes.device == device, op.spec(), ": the ", which, " tile is on device ",
                    attributes.device, ", the stream on device ", device);
  const std::size_t sample = bytes_per_sample(dtype);
  check<UsageError>(reinterpret_cast<std::uintptr_t>(data) % sample == 0 && row_stride % sample == 0, op.spec(),
                    ": the ", which, " tile (", data, ", rows ", row_stride, " bytes apart) is not aligned to its ",
                    sample, "-byte ", to_string(dtype), " samples");
}

}  // namespace

void run_op(const Op& op, const ConstDeviceTileView& in, const ImageShape& in_shape, const DeviceTileView& out,
            const cuda::Stream& stream) {
  const detail::OpEntry* entry = detail::find_op(op.name());
  check<UsageError>(entry != nullptr && entry->launch != nullptr, op.spec(),
                    ": no CUDA twin (only the ops that make_op builds run on the device)");
  detail::check_tiles(op, ConstTileView{in.data, in.row_stride, in.box}, in_shape,
                      TileView{out.data, out.row_stride, out.box});
  const ImageShape out_shape = op.output_shape(in_shape);
  check_device_tile(op, "input", in.data, in.row_stride, in_shape.dtype, stream.device());
  check_device_tile(op, "output", out.data, out.row_stride, out_shape.dtype, stream.device());

  device::TilePair t;
  t.in = in.data;
  t.in_stride = in.row_stride;
  t.in_y = in.box.y, t.in_x = in.box.x, t.in_height = in.box.height, t.in_width = in.box.width;
  t.out = out.data;
  t.out_stride = out.row_stride;
  t.out_y = out.box.y, t.out_x = out.box.x, t.out_height = out.box.height, t.out_width = out.box.width;
  t.image_height = in_shape.height, t.image_width = in_shape.width;
  t.samples = in_shape.samples;
  entry->launch(op, t, in_shape.dtype, stream);
}

void run_chain(const Chain& chain, const ConstDeviceTileView& in, const ImageShape& in_shape,
               const DeviceTileView& out, const cuda::Stream& stream) {
  const std::vector<ImageShape> shapes = chain.shapes(in_shape);
  const std::vector<Box> boxes = chain.input_boxes(out.box, in_shape);
  const Box& want = boxes.front();
  check<UsageError>(in.box == want, "op chain ", chain.spec(), ": input tile ", in.box.width, "x", in.box.height,
                    "+", in.box.x, "+", in.box.y, " is not the box the output needs, ", want.width, "x",
                    want.height, "+", want.x, "+", want.y);
  if (chain.empty()) {  // the identity: in.box is out.box
    cuda::check_cuda(cudaMemcpy2DAsync(out.data, out.row_stride, in.data, in.row_stride,
                                       out.box.width * in_shape.pixel_bytes(), out.box.height,
                                       cudaMemcpyDeviceToDevice, stream.get()),
                     "cudaMemcpy2DAsync(device to device)");
    return;
  }
  ConstDeviceTileView current = in;
  cuda::DeviceBuffer held;  // the intermediate `current` points into
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    const Box& box = boxes[i + 1];
    const std::size_t row_stride = box.width * shapes[i + 1].pixel_bytes();
    cuda::DeviceBuffer next(row_stride * box.height, stream);
    run_op(chain.op(i), current, shapes[i], DeviceTileView{next.data(), row_stride, box}, stream);
    // Frees the tile op i read, stream-ordered: after op i has run.
    held = std::move(next);
    current = ConstDeviceTileView{held.data(), row_stride, box};
  }
  run_op(chain.op(chain.size() - 1), current, shapes[chain.size() - 1], out, stream);
}

}  // namespace tilestream::ops
