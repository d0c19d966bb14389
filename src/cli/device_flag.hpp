// The backend that the --device flag (core/device_name.hpp) picks, for every sub-command that can use the GPU.
#pragma once

#include <memory>
#include <optional>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/zarr/encode_mode.hpp"
#include "tilestream/pipeline/backend.hpp"

namespace tilestream::cli {

// The backend of `device` (parse_device_name's number): the CPU's, or the CUDA device's reading raw
// tiles with `io` and decoding JPEG tiles as `decode` says (nullopt: the settings' defaults).
// UsageError for a CUDA device in a build without CUDA; UnsupportedError for decode gpu where nvJPEG
// is unavailable, and for encode gpu where nvCOMP is.
std::unique_ptr<pipeline::Backend> make_backend(int device, const std::optional<io::IoMode>& io,
                                                const std::optional<codec::DecodeMode>& decode = std::nullopt,
                                                const std::optional<zarr::EncodeMode>& encode = std::nullopt);

}  // namespace tilestream::cli
