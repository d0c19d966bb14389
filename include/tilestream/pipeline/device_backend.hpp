// The pipeline's GPU backend (pipeline/backend.hpp): levels and tiles read into device memory with a
// DeviceReader, ops run by their CUDA twins (ops/device.hpp), and each chunk streamed out in bands of
// rows (the settings' band size, at least one row): a band is copied into one of its worker's two pinned bands while the other
// is handed to the sink (ChunkRows), which stores it on the worker's thread. No pinned or device
// buffer of a whole chunk is ever made.
//  - global: the whole level on the device, each op over the whole image (input and output resident,
//    so two full copies at least), then every chunk's bands copied out;
//  - tiled: `workers` chunks in flight, each worker with its own stream, one-thread reader, device band
//    and pinned bands: read the chunk's source box (halo included), then band by band run the chain
//    into the device band, copy it out and hand it over.
// Device tiled output equals device global output bit for bit, and both equal the CPU backend's
// (ops/device.hpp states the one float32 median exception).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/zarr/encode_mode.hpp"
#include "tilestream/pipeline/backend.hpp"

namespace tilestream::pipeline {

struct DeviceBackendOptions {
  int device = 0;
  std::optional<io::IoMode> io;  // how raw tiles are read (slide/device_reader.hpp); nullopt: default
  std::optional<codec::DecodeMode> decode;  // where JPEG tiles are decoded; nullopt: the default
  // Where chunks are compressed (nvCOMP on the GPU, or the CPU codecs); nullopt: the default.
  // UnsupportedError from make_device_backend for gpu where nvCOMP is missing, and from a run for
  // gpu where the array's codecs cannot run on the GPU.
  std::optional<zarr::EncodeMode> encode;
  std::size_t band_bytes = 0;    // bytes of a band of output rows; 0: the settings' band size
};

// UsageError when the device does not exist. Its reports (BackendReport) give the io mode its
// reads ran and peak_device_bytes: the most device memory the run held at once (the high-water mark of
// the device's stream-ordered pool over the run, which every allocation of tilestream goes through).
std::unique_ptr<Backend> make_device_backend(const DeviceBackendOptions& options);

}  // namespace tilestream::pipeline
