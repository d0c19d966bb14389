// zarr::DeviceChunkEncoder: a batch of device chunks compressed by nvCOMP in one call per batch, then
// framed on the host (src/zarr/device_frames.cpp) into what the CPU codecs decode. Per batch: stage
// (byte-shuffle blosc chunks, copy misaligned ones), upload the pointer table, compress, checksum
// (Adler-32 for zlib), download sizes and statuses, then download each stream (or, for a blosc block
// that did not shrink, the block itself) and frame it.
#include "tilestream/zarr/device_encoder.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "zarr/compressor.hpp"
#include "zarr/device_frames.hpp"
#include "zarr/device_kernels.hpp"
#include "zarr/nvcomp.hpp"

namespace tilestream::zarr {
namespace {

constexpr std::size_t buffer_alignment = 256;

std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

bool aligned(const void* pointer, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

nvcomp::Compressor compressor_for(const device::ChunkFormat& format) {
  nvcomp::Compressor compressor;
  switch (format.segment) {
    case device::SegmentFormat::zstd_frame:
      compressor.algorithm = nvcomp::Algorithm::zstd;
      break;
    case device::SegmentFormat::lz4_block:
      compressor.algorithm = nvcomp::Algorithm::lz4;
      break;
    case device::SegmentFormat::gzip_member:
    case device::SegmentFormat::zlib_stream:
      compressor.algorithm = nvcomp::Algorithm::gzip;
      compressor.gzip_algorithm = format.gzip_algorithm;
      break;
  }
  return compressor;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += concat(text.empty() ? "" : "; ", item);
  return text;
}

// One piece nvCOMP compresses: a whole chunk, or one blosc block of it.
struct Segment {
  std::size_t chunk = 0;
  std::size_t offset = 0;  // in the chunk
  std::size_t bytes = 0;
};

// What one chunk becomes.
struct ChunkPlan {
  enum class Kind { done, segments, memcpyed } kind = Kind::done;
  std::size_t first_segment = 0;
  std::size_t segment_count = 0;
  bool staged = false;     // compressed from the staging buffer, not from the caller's memory
  bool shuffled = false;   // staged byte-shuffled (blosc)
  std::size_t staging_offset = 0;
};

// The byte offsets of the device pointer table's arrays, nvCOMP's arguments: the first three are
// uploaded, the last three downloaded.
struct TableLayout {
  std::size_t input_bytes = 0;
  std::size_t outputs = 0;
  std::size_t output_bytes = 0;
  std::size_t statuses = 0;
  std::size_t adler = 0;
  std::size_t total = 0;

  explicit TableLayout(std::size_t segments) {
    const std::size_t words = align_up(segments * sizeof(std::size_t), 16);
    const std::size_t ints = align_up(segments * sizeof(std::int32_t), 16);
    input_bytes = words;
    outputs = input_bytes + words;
    output_bytes = outputs + words;
    statuses = output_bytes + words;
    adler = statuses + ints;
    total = adler + ints;
  }
};

// The table's array of T at `offset`.
template <class T>
T* at(std::byte* base, std::size_t offset) {
  return reinterpret_cast<T*>(base + offset);
}
template <class T>
const T* at(const std::byte* base, std::size_t offset) {
  return reinterpret_cast<const T*>(base + offset);
}

}  // namespace

struct DeviceChunkEncoder::State {
  CompressorSpec spec;
  std::size_t typesize = 1;
  device::ChunkFormat format;
  nvcomp::Compressor compressor;
  nvcomp::Alignments alignments;
  std::size_t max_chunk_bytes = 0;
  int device = -1;  // of the first call's stream; every later call's must match
  cuda::DeviceBuffer staging;
  cuda::DeviceBuffer outputs;
  cuda::DeviceBuffer table;
  cuda::DeviceBuffer temp;
  cuda::PinnedBuffer host_table;
  cuda::PinnedBuffer download;
};

bool DeviceChunkEncoder::available(std::string* why_not) noexcept { return nvcomp::available(why_not); }

DeviceChunkEncoder::DeviceChunkEncoder(CompressorSpec spec, std::size_t typesize) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.format = device::device_chunk_format(spec, typesize);
  s.spec = std::move(spec);
  s.typesize = typesize;
  s.compressor = compressor_for(s.format);
  nvcomp::library();  // UnsupportedError saying what is missing, before any chunk
  s.alignments = nvcomp::alignments(s.compressor);
  s.max_chunk_bytes = nvcomp::max_chunk_bytes(s.compressor);
}

DeviceChunkEncoder::~DeviceChunkEncoder() = default;
DeviceChunkEncoder::DeviceChunkEncoder(DeviceChunkEncoder&& other) noexcept = default;
DeviceChunkEncoder& DeviceChunkEncoder::operator=(DeviceChunkEncoder&& other) noexcept = default;

const CompressorSpec& DeviceChunkEncoder::spec() const { return state_->spec; }
std::size_t DeviceChunkEncoder::typesize() const { return state_->typesize; }

std::vector<std::vector<std::byte>> DeviceChunkEncoder::encode(std::span<const Chunk> chunks,
                                                               const cuda::Stream& stream) {
  State& s = *state_;
  const device::ChunkFormat& format = s.format;
  if (s.device < 0) s.device = stream.device();
  check<UsageError>(stream.device() == s.device, "DeviceChunkEncoder: a stream of device ", stream.device(),
                    ", but the encoder's buffers are on device ", s.device, " (one encoder per device)");
  cuda::DeviceGuard guard(s.device);
  // The previous call ended synchronised, so its buffers may be freed on this call's stream.
  for (cuda::DeviceBuffer* buffer : {&s.staging, &s.outputs, &s.table, &s.temp})
    if (buffer->data() != nullptr) buffer->set_free_stream(stream.get());

  const CompressorCodec& codec = *find_compressor(s.spec.name);
  const char* algorithm = nvcomp::algorithm_name(s.compressor.algorithm);
  std::vector<std::vector<std::byte>> results(chunks.size());

  // 1. Plan: segments, staging, and the chunks nvCOMP cannot take (all named before any work).
  std::vector<ChunkPlan> plans(chunks.size());
  std::vector<Segment> segments;
  std::vector<std::string> too_large;
  std::size_t staging_bytes = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& chunk = chunks[i];
    ChunkPlan& plan = plans[i];
    if (chunk.bytes == 0) {  // nothing to move: the CPU codec's frame of nothing
      results[i] = codec.encode(s.spec, s.typesize, {});
      continue;
    }
    check<UsageError>(chunk.device_data != nullptr, "DeviceChunkEncoder: chunk ", i, " has no device memory for its ",
                      chunk.bytes, " bytes");
    if (!format.blosc) {
      if (chunk.bytes > s.max_chunk_bytes) {
        too_large.push_back(concat("chunk ", i, " (", chunk.bytes, " bytes)"));
        continue;
      }
      plan.kind = ChunkPlan::Kind::segments;
      plan.first_segment = segments.size();
      plan.segment_count = 1;
      segments.push_back({i, 0, chunk.bytes});
    } else {
      if (chunk.bytes > device::blosc_max_buffer) {
        too_large.push_back(concat("chunk ", i, " (", chunk.bytes, " bytes, over blosc1's ", device::blosc_max_buffer, ")"));
        continue;
      }
      if (device::blosc_memcpyed(format, chunk.bytes)) {
        plan.kind = ChunkPlan::Kind::memcpyed;
        continue;
      }
      plan.kind = ChunkPlan::Kind::segments;
      plan.first_segment = segments.size();
      plan.segment_count = device::blosc_block_count(format, chunk.bytes);
      const std::size_t blocksize = device::blosc_blocksize(format, chunk.bytes);
      for (std::size_t b = 0; b < plan.segment_count; ++b)
        segments.push_back({i, b * blocksize, std::min(blocksize, chunk.bytes - b * blocksize)});
      plan.shuffled = format.byte_shuffle && format.typesize > 1;
    }
    plan.staged = plan.shuffled || !aligned(chunk.device_data, s.alignments.input);
    if (plan.staged) {
      plan.staging_offset = staging_bytes;
      staging_bytes += align_up(chunk.bytes, buffer_alignment);
    }
  }
  check<UnsupportedError>(too_large.empty(), "GPU chunk encoding (nvCOMP ", algorithm, ") takes chunks of at most ",
                          format.blosc ? device::blosc_max_buffer : s.max_chunk_bytes, " bytes: ", join(too_large));

  // 2. Stage, upload the table, compress, checksum, and download sizes and statuses.
  const std::size_t count = segments.size();
  const TableLayout layout(count);
  std::size_t output_stride = 0;
  if (count > 0) {
    std::size_t max_segment = 0;
    std::size_t total = 0;
    for (const Segment& segment : segments) {
      max_segment = std::max(max_segment, segment.bytes);
      total += segment.bytes;
    }
    output_stride = align_up(nvcomp::max_output_bytes(s.compressor, max_segment),
                             std::max(buffer_alignment, s.alignments.output));
    const std::size_t temp_bytes = nvcomp::temp_bytes(s.compressor, count, max_segment, total, stream.get());
    if (staging_bytes > 0) cuda::reserve(s.staging, staging_bytes, stream);
    cuda::reserve(s.outputs, count * output_stride, stream);
    cuda::reserve(s.table, layout.total, stream);
    if (temp_bytes > 0) cuda::reserve(s.temp, temp_bytes, stream);
    cuda::reserve(s.host_table, layout.total);

    std::byte* host = s.host_table.data();
    std::byte* device_table = s.table.data();
    for (std::size_t k = 0; k < count; ++k) {
      const Segment& segment = segments[k];
      const ChunkPlan& plan = plans[segment.chunk];
      const std::byte* base = plan.staged ? s.staging.data() + plan.staging_offset : chunks[segment.chunk].device_data;
      at<const void*>(host, 0)[k] = base + segment.offset;
      at<std::size_t>(host, layout.input_bytes)[k] = segment.bytes;
      at<void*>(host, layout.outputs)[k] = s.outputs.data() + k * output_stride;
    }
    cuda::check_cuda(cudaMemcpyAsync(device_table, host, layout.output_bytes, cudaMemcpyHostToDevice, stream.get()),
                     "cudaMemcpyAsync (nvCOMP pointer table to the device)");
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const ChunkPlan& plan = plans[i];
      if (plan.kind != ChunkPlan::Kind::segments || !plan.staged) continue;
      std::byte* target = s.staging.data() + plan.staging_offset;
      if (plan.shuffled) {
        device::launch_byte_shuffle(chunks[i].device_data, target, chunks[i].bytes,
                                    device::blosc_blocksize(format, chunks[i].bytes), format.typesize, stream.get());
      } else {
        cuda::check_cuda(cudaMemcpyAsync(target, chunks[i].device_data, chunks[i].bytes, cudaMemcpyDeviceToDevice,
                                         stream.get()),
                         "cudaMemcpyAsync (staging a chunk nvCOMP needs aligned)");
      }
    }
    nvcomp::Batch batch;
    batch.inputs = at<const void* const>(device_table, 0);
    batch.input_bytes = at<const std::size_t>(device_table, layout.input_bytes);
    batch.outputs = at<void* const>(device_table, layout.outputs);
    batch.output_bytes = at<std::size_t>(device_table, layout.output_bytes);
    batch.statuses = at<std::int32_t>(device_table, layout.statuses);
    batch.chunks = count;
    batch.max_chunk_bytes = max_segment;
    nvcomp::compress_async(s.compressor, batch, temp_bytes > 0 ? s.temp.data() : nullptr, temp_bytes, stream.get());
    if (format.segment == device::SegmentFormat::zlib_stream) {
      device::launch_adler32(batch.inputs, batch.input_bytes, count, at<std::uint32_t>(device_table, layout.adler),
                             stream.get());
    }
    cuda::check_cuda(cudaMemcpyAsync(host + layout.output_bytes, device_table + layout.output_bytes,
                                     layout.total - layout.output_bytes, cudaMemcpyDeviceToHost, stream.get()),
                     "cudaMemcpyAsync (nvCOMP sizes and statuses to the host)");
    stream.synchronize_sleeping();
  }
  const std::byte* host = s.host_table.data();
  const std::size_t* output_sizes = at<std::size_t>(host, layout.output_bytes);
  const std::int32_t* statuses = at<std::int32_t>(host, layout.statuses);
  const std::uint32_t* adlers = at<std::uint32_t>(host, layout.adler);
  const void* const* inputs = at<const void*>(host, 0);

  std::vector<std::string> failed;
  for (std::size_t k = 0; k < count; ++k) {
    const Segment& segment = segments[k];
    const std::int32_t status = statuses[k];
    const std::string where = format.blosc ? concat("chunk ", segment.chunk, " block ", segment.offset / format.blocksize)
                                           : concat("chunk ", segment.chunk);
    if (status != 0) {
      failed.push_back(concat(where, ": ", nvcomp::status_name(status)));
    } else if (output_sizes[k] > output_stride) {
      failed.push_back(concat(where, ": nvCOMP reports ", output_sizes[k], " bytes, more than the ", output_stride,
                              " it was given"));
    }
  }
  check<CodecError>(failed.empty(), "GPU chunk encoding (nvCOMP ", algorithm, ") failed: ", join(failed));

  // 3. Download each segment's stream (a blosc block that did not shrink: the block) and memcpyed chunks.
  struct Download {
    const std::byte* from = nullptr;
    std::size_t bytes = 0;
    std::size_t offset = 0;  // in s.download
  };
  std::vector<Download> segment_downloads(count);
  std::vector<char> stored(count);  // blosc blocks kept as they are (compressed, they did not shrink)
  std::vector<Download> chunk_downloads(chunks.size());
  std::size_t download_bytes = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const Segment& segment = segments[k];
    stored[k] = format.blosc && output_sizes[k] >= segment.bytes;
    segment_downloads[k] = {stored[k] ? static_cast<const std::byte*>(inputs[k]) : s.outputs.data() + k * output_stride,
                            stored[k] ? segment.bytes : output_sizes[k], download_bytes};
    download_bytes += segment_downloads[k].bytes;
  }
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (plans[i].kind != ChunkPlan::Kind::memcpyed) continue;
    chunk_downloads[i] = {chunks[i].device_data, chunks[i].bytes, download_bytes};
    download_bytes += chunks[i].bytes;
  }
  if (download_bytes > 0) {
    cuda::reserve(s.download, download_bytes);
    auto queue = [&](const Download& d) {
      if (d.bytes == 0) return;
      cuda::check_cuda(cudaMemcpyAsync(s.download.data() + d.offset, d.from, d.bytes, cudaMemcpyDeviceToHost, stream.get()),
                       "cudaMemcpyAsync (compressed chunk to the host)");
    };
    for (const Download& d : segment_downloads) queue(d);
    for (const Download& d : chunk_downloads) queue(d);
    stream.synchronize_sleeping();
  }
  const auto downloaded = [&](const Download& d) {
    return std::span<const std::byte>(s.download.data() + d.offset, d.bytes);
  };

  // 4. Frame each chunk.
  std::vector<std::string> unframed;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ChunkPlan& plan = plans[i];
    try {
      if (plan.kind == ChunkPlan::Kind::memcpyed) {
        results[i] = device::blosc_memcpyed_frame(format, downloaded(chunk_downloads[i]));
      } else if (plan.kind == ChunkPlan::Kind::segments) {
        // Each segment's finished stream: zlib streams are made from gzip members, the others are
        // nvCOMP's bytes (gzip members checked).
        std::vector<std::vector<std::byte>> finished(plan.segment_count);
        std::vector<std::span<const std::byte>> streams(plan.segment_count);
        for (std::size_t j = 0; j < plan.segment_count; ++j) {
          const std::size_t k = plan.first_segment + j;
          const std::span<const std::byte> bytes = downloaded(segment_downloads[k]);
          if (stored[k] || format.segment == device::SegmentFormat::zstd_frame ||
              format.segment == device::SegmentFormat::lz4_block) {
            finished[j].assign(bytes.begin(), bytes.end());
          } else if (format.segment == device::SegmentFormat::gzip_member) {
            device::checked_gzip_header(bytes, segments[k].bytes);
            finished[j].assign(bytes.begin(), bytes.end());
          } else {
            finished[j] = device::zlib_from_gzip(bytes, segments[k].bytes, adlers[k], format.zlib_level);
          }
          streams[j] = finished[j];
        }
        results[i] = format.blosc ? device::blosc_frame(format, chunks[i].bytes, streams) : std::move(finished[0]);
      }
    } catch (const CodecError& e) {
      unframed.push_back(concat("chunk ", i, ": ", e.what()));
    }
  }
  check<CodecError>(unframed.empty(), "GPU chunk encoding (nvCOMP ", algorithm, "): ", join(unframed));
  return results;
}

}  // namespace tilestream::zarr
