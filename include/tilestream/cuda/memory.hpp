// Owners of device and pinned host memory: DeviceBuffer (stream-ordered), PinnedBuffer, and a pool of
// pinned staging buffers shared by reader threads.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "tilestream/cuda/stream.hpp"

namespace tilestream::cuda {

// Device memory allocated with cudaMallocAsync on a stream and freed with cudaFreeAsync on the same
// stream (or the one set by set_free_stream), so it can be reused as soon as the stream's earlier work
// is done, without a device-wide synchronisation. The stream must outlive the buffer. Move-only.
// Out of memory throws CudaError naming the requested size and the device's free and total memory.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t bytes, const Stream& stream);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  int device() const { return device_; }
  cudaStream_t free_stream() const { return stream_; }
  // Frees on `stream` instead (of the same device): for memory handed to code that outlives our stream.
  void set_free_stream(cudaStream_t stream) { stream_ = stream; }
  // Queues cudaMemsetAsync of every byte to `value` on `stream`.
  void fill(unsigned char value, const Stream& stream);

 private:
  void release() noexcept;

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
};

// Queue copies between host memory and a device buffer at `offset` bytes on `stream`; throw UsageError
// when the range does not fit. With pageable host memory the runtime stages the copy and returns only
// once the host bytes have been read (to device) or written (to host, after the stream's earlier work);
// with pinned memory the copy is truly asynchronous and the host memory must stay valid until it ends.
void copy_to_device(DeviceBuffer& dst, std::span<const std::byte> src, const Stream& stream,
                    std::size_t offset = 0);
void copy_to_host(std::span<std::byte> dst, const DeviceBuffer& src, const Stream& stream,
                  std::size_t offset = 0);

// Page-locked host memory (page-aligned, registered with cudaHostRegister, portable to every device),
// the source or target of truly asynchronous copies. The constructing thread faults its pages in, so
// buffers that threads allocate for themselves are pinned in parallel. Move-only.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<std::byte> bytes() { return {data_, size_}; }

 private:
  void release() noexcept;

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// Grow a buffer that serves work of varying sizes (batches of a few more or fewer tiles, chunks of
// several sizes) to hold at least `bytes`: by half again at least, rounded up to 1 MiB, so that a
// slightly larger request does not allocate or pin again. Its contents are not kept; the old memory is
// freed before the new is allocated (DeviceBuffer: stream-ordered, so work queued on its stream that
// still reads it must be waited for by the caller first).
void reserve(DeviceBuffer& buffer, std::size_t bytes, const Stream& stream);
void reserve(PinnedBuffer& buffer, std::size_t bytes);

// A fixed number of pinned buffers of one size, allocated up front and reused: pinning is slow, so
// readers borrow staging buffers instead of allocating them. Thread-safe. A Lease returns its buffer
// on destruction and keeps the pool's memory alive, so leases may outlive the pool object.
class PinnedBufferPool {
  struct State;

 public:
  class Lease {
   public:
    Lease() = default;
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    explicit operator bool() const { return state_ != nullptr; }
    std::byte* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::span<std::byte> bytes() const { return {data_, size_}; }

   private:
    friend class PinnedBufferPool;
    Lease(std::shared_ptr<State> state, std::size_t index, std::byte* data, std::size_t size)
        : state_(std::move(state)), index_(index), data_(data), size_(size) {}
    void give_back() noexcept;

    std::shared_ptr<State> state_;
    std::size_t index_ = 0;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
  };

  // Throws UsageError for a count or size of 0, CudaError when pinning fails.
  PinnedBufferPool(std::size_t count, std::size_t buffer_bytes);

  // Blocks until a buffer is free.
  Lease acquire();
  // A lease when a buffer is free now, else nothing.
  std::optional<Lease> try_acquire();

  std::size_t count() const;
  std::size_t buffer_bytes() const;
  std::size_t free_count() const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace tilestream::cuda
