// RAII CUDA streams and events.
#include "tilestream/cuda/stream.hpp"

#include <utility>

#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {

Stream::Stream() : device_(current_device()) {
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

Stream::~Stream() {
  if (stream_ != nullptr) report_cuda_in_destructor(cudaStreamDestroy(stream_), "cudaStreamDestroy");
}

Stream::Stream(Stream&& other) noexcept
    : stream_(std::exchange(other.stream_, nullptr)), device_(other.device_) {}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    if (stream_ != nullptr) report_cuda_in_destructor(cudaStreamDestroy(stream_), "cudaStreamDestroy");
    stream_ = std::exchange(other.stream_, nullptr);
    device_ = other.device_;
  }
  return *this;
}

void Stream::synchronize() const { check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

void Stream::synchronize_sleeping() const {
  // A blocking-sync event puts the thread to sleep until the work before it is done; the stream's own
  // wait afterwards returns at once and reports the errors of that work.
  cudaEvent_t done = nullptr;
  check_cuda(cudaEventCreateWithFlags(&done, cudaEventBlockingSync | cudaEventDisableTiming),
             "cudaEventCreateWithFlags(blocking sync)");
  cudaError_t status = cudaEventRecord(done, stream_);
  if (status == cudaSuccess) status = cudaEventSynchronize(done);
  report_cuda_in_destructor(cudaEventDestroy(done), "cudaEventDestroy");
  check_cuda(status, "cudaEventSynchronize(blocking sync)");
  synchronize();
}

void Stream::wait(const Event& event) const {
  check_cuda(cudaStreamWaitEvent(stream_, event.get(), 0), "cudaStreamWaitEvent");
}

Event::Event(bool timing) {
  check_cuda(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming),
             "cudaEventCreateWithFlags");
}

Event::~Event() {
  if (event_ != nullptr) report_cuda_in_destructor(cudaEventDestroy(event_), "cudaEventDestroy");
}

Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (event_ != nullptr) report_cuda_in_destructor(cudaEventDestroy(event_), "cudaEventDestroy");
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

void Event::record(const Stream& stream) {
  check_cuda(cudaEventRecord(event_, stream.get()), "cudaEventRecord");
}

void Event::synchronize() const { check_cuda(cudaEventSynchronize(event_), "cudaEventSynchronize"); }

bool Event::ready() const {
  const cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) {
    (void)cudaGetLastError();  // not-ready is an answer, not an error to report at the next launch
    return false;
  }
  check_cuda(status, "cudaEventQuery");
  return true;
}

float Event::elapsed_ms_since(const Event& start) const {
  float ms = 0;
  check_cuda(cudaEventElapsedTime(&ms, start.get(), event_), "cudaEventElapsedTime");
  return ms;
}

}  // namespace tilestream::cuda
