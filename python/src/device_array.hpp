// tilestream.DeviceArray: pixels in GPU memory, handed to CuPy, PyTorch and any DLPack or CUDA Array
// Interface consumer without a copy (__dlpack__, __dlpack_device__, __cuda_array_interface__).
// Regions are read onto the device by DeviceReaders kept per (device, threads, decode mode) for the process, so
// that their streams and pinned buffers serve every later read.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/core/host_image.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/slide/place_patches.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::python {

// The CUDA device a `device` argument names: nullopt for None or "cpu", 0 for "cuda", N for "cuda:N".
// UsageError naming the argument otherwise.
std::optional<int> cuda_device(const std::optional<std::string>& device);

void bind_device_array(nanobind::module_& m);

// Reads `rect` of `level` (OpenSlide's addressing, zeros outside the level) onto CUDA device `device`
// as a DeviceArray, the GIL released; the pixels are finished when it returns, for any stream.
// UsageError in a build without CUDA or on a machine without the device.
// `decode` says where JPEG tiles are decoded (nullopt: TILESTREAM_DECODE, else auto).
nanobind::object read_rect_to_device(std::shared_ptr<const slide::Slide> slide, std::size_t level,
                                     const slide::LevelRect& rect, int device, unsigned threads,
                                     std::optional<codec::DecodeMode> decode);

// The decode mode a `decode` argument names (None: nullopt). UsageError naming the argument for a
// name not in the table, and for "gpu" where the pixels go to host memory (`to_device` false).
std::optional<codec::DecodeMode> decode_mode(const std::optional<std::string>& decode, bool to_device);

// Copies a batch of `n` images stacked in `batch` to CUDA device `device` as an (n, rows, width,
// samples) DeviceArray, finished when it returns. UsageError in a build without CUDA.
nanobind::object upload_batch(const HostImage& batch, std::size_t n, int device);

// A batch's pixels copied to GPU memory off the Python thread (a PatchLoader worker; needs no GIL),
// finished when it returns; device_batch_array (with the GIL) hands it to Python as an (n, rows, width,
// samples) DeviceArray, once. UsageError in a build without CUDA.
struct DeviceBatch;
// One slide's patches of a batch: their corners in the level's pixels and places in the batch.
struct SlidePatches {
  std::shared_ptr<const slide::Slide> slide;
  std::vector<slide::PatchCorner> corners;
};
// Reads a batch of `count` patches of `level` (each width x height; the groups' corners together name
// every place) straight into GPU memory with a pooled DeviceReader (JPEG tiles decoded by nvJPEG where
// `decode` allows, each tile once), off the Python thread; finished when it returns. The slides must
// agree on samples and sample type. UsageError in a build without CUDA or for an empty batch.
std::shared_ptr<DeviceBatch> read_patches_to_device(std::span<const SlidePatches> groups, std::size_t level,
                                                    std::uint64_t width, std::uint64_t height, std::size_t count,
                                                    int device, unsigned threads,
                                                    std::optional<codec::DecodeMode> decode);
// The same for one slide's rectangles (read_regions), as an (n, height, width, samples) DeviceArray; the
// GIL released while it reads.
nanobind::object read_regions_to_device(std::shared_ptr<const slide::Slide> slide, std::size_t level,
                                        std::span<const slide::LevelRect> rects, std::uint64_t width,
                                        std::uint64_t height, int device, unsigned threads,
                                        std::optional<codec::DecodeMode> decode);
std::shared_ptr<DeviceBatch> copy_batch_to_device(const HostImage& batch, int device);
nanobind::object device_batch_array(const std::shared_ptr<DeviceBatch>& batch, std::size_t n);

}  // namespace tilestream::python
