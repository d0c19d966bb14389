// pipeline::make_block_on_device and EncodeBatch; see the header.
#include "pipeline/device_block_batch.hpp"

#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"
#include "pipeline/device_block.hpp"

namespace tilestream::pipeline {

using cuda::check_cuda;

void make_block_on_device(const ChunkTask& task, const DeviceBlockFormat& format, std::size_t pixel_bytes,
                          std::uint64_t rows_per_band, const MakeBand& make_band, std::byte* block,
                          const cuda::Stream& stream) {
  const std::size_t bytes = format.block_bytes();
  check_cuda(cudaMemsetAsync(block, 0, bytes, stream.get()), "cudaMemsetAsync(block padding)");
  const std::size_t sample = bytes_per_sample(format.dtype);
  const std::size_t chunk_row = format.chunk_width * pixel_bytes;
  const bool planes = format.layout == Layout::cyx && format.samples > 1;
  for (std::uint64_t y = task.out.y; y < task.out.y + task.out.height; y += rows_per_band) {
    const ops::Box box{y, task.out.x, std::min(rows_per_band, task.out.y + task.out.height - y), task.out.width};
    const ops::ConstDeviceTileView band = make_band(box);
    const std::byte* first = band.data + (box.y - band.box.y) * band.row_stride + (box.x - band.box.x) * pixel_bytes;
    const std::uint64_t row0 = box.y - task.out.y;
    if (planes) {
      scatter_band_to_planes(first, band.row_stride, box.height, box.width, format.samples, sample,
                             block + row0 * format.chunk_width * sample,
                             format.chunk_height * format.chunk_width * sample, format.chunk_width * sample,
                             stream.get());
    } else {
      check_cuda(cudaMemcpy2DAsync(block + row0 * chunk_row, chunk_row, first, band.row_stride,
                                   box.width * pixel_bytes, box.height, cudaMemcpyDeviceToDevice, stream.get()),
                 "cudaMemcpy2DAsync(band into block)");
    }
  }
}

void EncodeBatch::prepare(const DeviceBlockFormat& format, std::size_t capacity, const cuda::Stream& stream) {
  block_bytes_ = format.block_bytes();
  const std::size_t bytes = block_bytes_ * std::max<std::size_t>(1, capacity);
  if (blocks_.size() < bytes) blocks_ = cuda::DeviceBuffer(bytes, stream);
  const std::string key = concat(format.compressor.name, ":", format.compressor.level, ":",
                                 format.compressor.settings.dump(), ":", bytes_per_sample(format.dtype));
  if (!encoder_ || key != encoder_key_) {
    encoder_.emplace(format.compressor, bytes_per_sample(format.dtype));
    encoder_key_ = key;
  }
  tasks_.clear();
}

void EncodeBatch::add(const ChunkTask& task, const DeviceBlockFormat& format, std::size_t pixel_bytes,
                      std::uint64_t rows_per_band, const MakeBand& make_band, const cuda::Stream& stream,
                      ChunkSink& sink) {
  check<UsageError>(tasks_.size() < capacity(), "EncodeBatch: ", capacity(), " blocks already");
  sink.begin_encoded(task);
  make_block_on_device(task, format, pixel_bytes, rows_per_band, make_band, blocks_.data() + tasks_.size() * block_bytes_,
                       stream);
  tasks_.push_back(&task);
}

std::size_t EncodeBatch::encode_and_store(const cuda::Stream& stream, ChunkSink& sink) {
  std::vector<zarr::DeviceChunkEncoder::Chunk> chunks(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) chunks[i] = {blocks_.data() + i * block_bytes_, block_bytes_};
  const std::vector<std::vector<std::byte>> encoded = encoder_->encode(chunks, stream);
  for (std::size_t i = 0; i < tasks_.size(); ++i) sink.store_encoded(*tasks_[i], encoded[i]);
  const std::size_t done = tasks_.size();
  tasks_.clear();
  return done;
}

}  // namespace tilestream::pipeline
