// Where compressed tiles bound for device memory are decoded: the decode modes a run can ask for, as
// one table (like io/io_mode.hpp). The choice is always visible: reads into device memory report the
// decoder that ran (nvJPEG's hardware or CUDA backend, or the CPU) and why, and count the tiles that
// fell back to the CPU.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tilestream::codec {

enum class DecodeMode {
  automatic,  // JPEG (JPEG 2000) tiles on the GPU where nvJPEG (nvJPEG2000) loads and the run has a
              // device, else on the CPU
  cpu,        // every tile on CPU threads (libjpeg-turbo, OpenJPEG, zlib...), then uploaded
  gpu,        // JPEG tiles with nvJPEG, JPEG 2000 with nvJPEG2000; an error when the one a level needs
              // or the device is missing
};

struct DecodeModeInfo {
  DecodeMode mode;
  std::string_view name;     // as --decode, decode= and TILESTREAM_DECODE spell it
  std::string_view summary;  // for --help
};

std::span<const DecodeModeInfo> decode_modes();
const DecodeModeInfo& info(DecodeMode mode);

// A name of the table; UsageError naming the accepted values otherwise.
DecodeMode parse_decode_mode(std::string_view text);
const char* to_string(DecodeMode mode);
// "auto (...), cpu (...), gpu (...)": the table as --help text.
std::string describe_decode_modes();

// The process default: TILESTREAM_DECODE when set (UsageError when it is not a mode), else auto.
DecodeMode default_decode_mode();

// Who decoded a read's compressed tiles and why (decoder empty: nothing was decoded, raw tiles), the
// tiles nvJPEG decoded and those of its path that fell back to the CPU, with the first reason. Reads
// report it (slide/device_reader.hpp), runs add their reads' up (pipeline/backend.hpp), front ends
// print it.
struct DecodeReport {
  std::string decoder;  // "nvJPEG CUDA backend", "nvJPEG hardware decoder", "CPU"
  std::string detail;
  std::uint64_t tiles_gpu = 0;
  std::uint64_t tiles_cpu = 0;
  std::string fallback_reason;

  // Adds another read's: its decoder and detail where this names none yet, its reason where this
  // has none, its tile counts.
  void add(const DecodeReport& other);
};

}  // namespace tilestream::codec
