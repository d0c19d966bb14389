// Where Zarr chunks computed in device memory are compressed: the encode modes a run can ask for, as
// one table (like codec/decode_mode.hpp). The choice is visible: a device run's report names the
// encoder that ran (nvCOMP on the GPU, or the CPU codecs) and why.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tilestream::zarr {

enum class EncodeMode {
  automatic,  // on the GPU with nvCOMP where it loads and the array's codecs allow, else on the CPU
  cpu,        // chunks copied to the host and compressed by the CPU codecs
  gpu,        // with nvCOMP; an error where it is missing or the array's codecs cannot run on the GPU
};

struct EncodeModeInfo {
  EncodeMode mode;
  std::string_view name;     // as --encode and TILESTREAM_ENCODE spell it
  std::string_view summary;  // for --help
};

std::span<const EncodeModeInfo> encode_modes();
const EncodeModeInfo& info(EncodeMode mode);

// A name of the table; UsageError naming the accepted values otherwise.
EncodeMode parse_encode_mode(std::string_view text);
const char* to_string(EncodeMode mode);
// "auto (...), cpu (...), gpu (...)": the table as --help text.
std::string describe_encode_modes();

// The process default: TILESTREAM_ENCODE when set (UsageError when it is not a mode), else auto.
EncodeMode default_encode_mode();

}  // namespace tilestream::zarr
