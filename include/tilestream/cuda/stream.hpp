// RAII CUDA streams and events.
#pragma once

#include <cuda_runtime_api.h>

namespace tilestream::cuda {

class Event;

// A non-blocking stream (it does not synchronise with the legacy default stream) on the device that
// is current at construction. Move-only; destroying it does not wait for its work, but work already
// queued still runs. Objects that free on a stream (DeviceBuffer) must not outlive it.
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const { return stream_; }
  int device() const { return device_; }
  // Blocks until all work queued so far has finished; throws CudaError for errors of that work.
  void synchronize() const;
  // The same, but the calling thread sleeps until the work is done instead of spinning on a core (the
  // CUDA runtime spins while a process has fewer contexts than cores): for long waits, such as a batch
  // of chunks being compressed, that many threads make at once while others need the cores.
  void synchronize_sleeping() const;
  // Makes later work on this stream wait for `event` (recorded on any stream).
  void wait(const Event& event) const;

 private:
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
};

// A CUDA event; timing is off unless asked for, which makes record/wait cheaper.
class Event {
 public:
  explicit Event(bool timing = false);
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  cudaEvent_t get() const { return event_; }
  void record(const Stream& stream);
  void synchronize() const;
  // True when the work before the last record() has finished.
  bool ready() const;
  // Milliseconds from `start` to this event; both need timing and must have completed.
  float elapsed_ms_since(const Event& start) const;

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace tilestream::cuda
