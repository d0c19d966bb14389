// Device buffers (stream-ordered), pinned host buffers and the pinned staging pool.
#include "tilestream/cuda/memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {
namespace {

std::size_t page_bytes() {
  static const std::size_t bytes = [] {
    const long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? static_cast<std::size_t>(page) : std::size_t{4096};
  }();
  return bytes;
}

std::string gib(std::size_t bytes) {
  return concat(static_cast<double>(bytes) / static_cast<double>(std::size_t{1} << 30), " GiB");
}

}  // namespace

DeviceBuffer::DeviceBuffer(std::size_t bytes, const Stream& stream)
    : size_(bytes), stream_(stream.get()), device_(stream.device()) {
  if (bytes == 0) return;
  DeviceGuard guard(device_);
  void* pointer = nullptr;
  const cudaError_t status = cudaMallocAsync(&pointer, bytes, stream_);
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // out of memory is not sticky: clear it so later launch checks stay clean
    std::size_t free = 0;
    std::size_t total = 0;
    check_cuda(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    throw CudaError(concat("cudaMallocAsync of ", bytes, " bytes (", gib(bytes), ") on device ", device_,
                           " failed: ", cudaGetErrorName(status), ": ", cudaGetErrorString(status), "; ",
                           free, " bytes (", gib(free), ") free of ", total, " (", gib(total), ")"));
  }
  check_cuda(status, "cudaMallocAsync");
  data_ = static_cast<std::byte*>(pointer);
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      stream_(other.stream_),
      device_(other.device_) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    stream_ = other.stream_;
    device_ = other.device_;
  }
  return *this;
}

void DeviceBuffer::release() noexcept {
  if (data_ == nullptr) return;
  // The destructor may run on a thread whose current device is another one.
  int previous = device_;
  report_cuda_in_destructor(cudaGetDevice(&previous), "cudaGetDevice");
  if (previous != device_) report_cuda_in_destructor(cudaSetDevice(device_), "cudaSetDevice");
  report_cuda_in_destructor(cudaFreeAsync(data_, stream_), "cudaFreeAsync");
  if (previous != device_) report_cuda_in_destructor(cudaSetDevice(previous), "cudaSetDevice");
  data_ = nullptr;
  size_ = 0;
}

void DeviceBuffer::fill(unsigned char value, const Stream& stream) {
  if (size_ == 0) return;
  check_cuda(cudaMemsetAsync(data_, value, size_, stream.get()), "cudaMemsetAsync");
}

void copy_to_device(DeviceBuffer& dst, std::span<const std::byte> src, const Stream& stream,
                    std::size_t offset) {
  check<UsageError>(offset <= dst.size() && src.size() <= dst.size() - offset, "copy_to_device: ", src.size(),
                    " bytes at offset ", offset, " do not fit a device buffer of ", dst.size(), " bytes");
  if (src.empty()) return;
  check_cuda(
      cudaMemcpyAsync(dst.data() + offset, src.data(), src.size(), cudaMemcpyHostToDevice, stream.get()),
      "cudaMemcpyAsync (host to device)");
}

namespace {

std::size_t reserved_size(std::size_t had, std::size_t bytes) {
  constexpr std::size_t granule = std::size_t{1} << 20;
  return (std::max(bytes, had + had / 2) + granule - 1) / granule * granule;
}

}  // namespace

void reserve(DeviceBuffer& buffer, std::size_t bytes, const Stream& stream) {
  if (buffer.data() != nullptr && buffer.size() >= bytes) return;
  const std::size_t size = reserved_size(buffer.size(), bytes);
  buffer = DeviceBuffer();
  buffer = DeviceBuffer(size, stream);
}

void reserve(PinnedBuffer& buffer, std::size_t bytes) {
  if (buffer.data() != nullptr && buffer.size() >= bytes) return;
  const std::size_t size = reserved_size(buffer.size(), bytes);
  buffer = PinnedBuffer();
  buffer = PinnedBuffer(size);
}

void copy_to_host(std::span<std::byte> dst, const DeviceBuffer& src, const Stream& stream,
                  std::size_t offset) {
  check<UsageError>(offset <= src.size() && dst.size() <= src.size() - offset, "copy_to_host: ", dst.size(),
                    " bytes at offset ", offset, " do not fit a device buffer of ", src.size(), " bytes");
  if (dst.empty()) return;
  check_cuda(
      cudaMemcpyAsync(dst.data(), src.data() + offset, dst.size(), cudaMemcpyDeviceToHost, stream.get()),
      "cudaMemcpyAsync (device to host)");
}

PinnedBuffer::PinnedBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  // The calling thread faults the pages in and the driver then only locks and maps them: on the
  // device machine this pinned 16 threads' buffers 3 to 4 times faster than cudaHostAlloc, whose
  // page faults run one thread at a time under the driver's lock (bench/results/pinning_*.md).
  const std::size_t page = page_bytes();
  const std::size_t rounded = (bytes + page - 1) / page * page;
  void* pointer = std::aligned_alloc(page, rounded);
  if (pointer == nullptr)
    throw CudaError(concat("allocating ", bytes, " bytes (", gib(bytes), ") of host memory to pin failed"));
  for (std::size_t at = 0; at < rounded; at += page) static_cast<volatile char*>(pointer)[at] = 0;
  const cudaError_t status = cudaHostRegister(pointer, rounded, cudaHostRegisterPortable);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    std::free(pointer);
    throw CudaError(concat("cudaHostRegister of ", bytes, " bytes (", gib(bytes), ") of host memory failed: ",
                           cudaGetErrorName(status), ": ", cudaGetErrorString(status)));
  }
  data_ = static_cast<std::byte*>(pointer);
}

PinnedBuffer::~PinnedBuffer() { release(); }

void PinnedBuffer::release() noexcept {
  if (data_ == nullptr) return;
  report_cuda_in_destructor(cudaHostUnregister(data_), "cudaHostUnregister");
  std::free(data_);
  data_ = nullptr;
  size_ = 0;
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

struct PinnedBufferPool::State {
  std::size_t buffer_bytes = 0;
  std::vector<PinnedBuffer> buffers;
  mutable std::mutex mutex;
  std::condition_variable returned;
  std::vector<std::size_t> free;  // indexes into buffers; guarded by mutex
};

PinnedBufferPool::PinnedBufferPool(std::size_t count, std::size_t buffer_bytes)
    : state_(std::make_shared<State>()) {
  check<UsageError>(count > 0 && buffer_bytes > 0, "PinnedBufferPool of ", count, " buffers of ",
                    buffer_bytes, " bytes: both must be positive");
  state_->buffer_bytes = buffer_bytes;
  state_->buffers.reserve(count);
  state_->free.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    state_->buffers.emplace_back(buffer_bytes);
    state_->free.push_back(count - 1 - i);
  }
}

PinnedBufferPool::Lease PinnedBufferPool::acquire() {
  std::unique_lock lock(state_->mutex);
  state_->returned.wait(lock, [&] { return !state_->free.empty(); });
  const std::size_t index = state_->free.back();
  state_->free.pop_back();
  return Lease(state_, index, state_->buffers[index].data(), state_->buffer_bytes);
}

std::optional<PinnedBufferPool::Lease> PinnedBufferPool::try_acquire() {
  std::lock_guard lock(state_->mutex);
  if (state_->free.empty()) return std::nullopt;
  const std::size_t index = state_->free.back();
  state_->free.pop_back();
  return Lease(state_, index, state_->buffers[index].data(), state_->buffer_bytes);
}

std::size_t PinnedBufferPool::count() const { return state_->buffers.size(); }
std::size_t PinnedBufferPool::buffer_bytes() const { return state_->buffer_bytes; }
std::size_t PinnedBufferPool::free_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->free.size();
}

PinnedBufferPool::Lease::~Lease() { give_back(); }

PinnedBufferPool::Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)), index_(other.index_), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

PinnedBufferPool::Lease& PinnedBufferPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back();
    state_ = std::move(other.state_);
    index_ = other.index_;
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void PinnedBufferPool::Lease::give_back() noexcept {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->free.push_back(index_);  // capacity reserved up front: cannot throw
  }
  state_->returned.notify_one();
  state_.reset();
  data_ = nullptr;
  size_ = 0;
}

}  // namespace tilestream::cuda
