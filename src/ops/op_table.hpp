// The table of ops: one line per op in TILESTREAM_OPS below, from which make_op parses, describe_ops
// writes the help text and run_op (ops/device.hpp) finds the op's CUDA twin.
//
// Adding an op named N (a C++ identifier):
//   src/ops/N.cpp  the CPU op (a class deriving from Op) and its factory
//                  std::unique_ptr<Op> detail::make_N(const detail::OpParams&);
//   src/ops/N.cu   its CUDA twin's launcher (built only with CUDA)
//                  void device::launch_N(const Op&, const device::TilePair&, DType, const cuda::Stream&);
//                  which finds the op's parameters through the op's class (where it has any, the
//                  class goes into src/ops/N.hpp for both files to include);
//   one line       OP(N, "syntax", "summary") in TILESTREAM_OPS.
// Both functions are declared here from that line; the table references them by name (no static
// registration, which a static library's linker would drop).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/device_tiles.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/ops/op.hpp"

// OP(name, syntax, summary): the name make_op matches, the spec syntax and what the op does (one
// line of --help).
#define TILESTREAM_OPS(OP)                                                                                  \
  OP(absorbance, "absorbance", "uint8 -> float32 optical density -ln(max(I,1)/255) per sample")           \
  OP(sobel, "sobel", "edge magnitude per channel, float32 (skimage.filters.sobel)")                         \
  OP(gaussian, "gaussian:sigma=S",                                                                         \
     "Gaussian blur per channel, truncate 4, border nearest (skimage.filters.gaussian)")                   \
  OP(median, "median:size=K", "median of a KxK square per channel, K odd (default 3), border nearest")     \
  OP(grayscale, "grayscale",                                                                               \
     "RGB -> float32 luminance 0.2125 R + 0.7154 G + 0.0721 B (skimage.color.rgb2gray)")                   \
  OP(hed, "hed", "RGB -> float32 haematoxylin, eosin, DAB optical densities (skimage.color.rgb2hed)")       \
  OP(downsample2x, "downsample2x", "2x2 area mean, ceil(h/2) x ceil(w/2)")                                   \
  OP(cast, "cast:dtype=float32", "samples to float32, values kept (numpy astype)")

namespace tilestream::cuda {
class Stream;
}

namespace tilestream::ops {
namespace detail {

// "name=value" parameters of one spec, with typed, range-checked getters whose errors name the op.
class OpParams {
 public:
  OpParams(std::string op, std::vector<std::pair<std::string, std::string>> values)
      : op_(std::move(op)), values_(std::move(values)) {}
  // UsageError for any parameter not in `known` (" and "-joined in the message as `syntax`).
  void allow_only(std::initializer_list<const char*> known, const char* syntax) const;
  double number(const char* name, double fallback, double min, double max) const;
  std::uint32_t integer(const char* name, std::uint32_t fallback, std::uint32_t min, std::uint32_t max) const;
  // The parameter's text as given, or `fallback`.
  std::string word(const char* name, const char* fallback) const;

 private:
  const std::string* find(const char* name) const;
  std::string op_;
  std::vector<std::pair<std::string, std::string>> values_;
};

// Builds the op from its parsed parameters; UsageError naming the op for bad ones.
using OpFactory = std::unique_ptr<Op> (*)(const OpParams& params);

}  // namespace detail

namespace device {

// Queues the op's kernels on `stream` for the output tile and input tile of `tiles`; `dtype` is the
// input's sample type. run_op has checked the arguments (op.output_shape accepted the input, the
// boxes are the ones the op needs, device memory aligned to the samples); launchers trust them.
using OpLauncher = void (*)(const Op& op, const TilePair& tiles, DType dtype, const cuda::Stream& stream);

}  // namespace device

#define TILESTREAM_DECLARE_OP(name, syntax, summary)                                                       \
  namespace detail {                                                                                       \
  std::unique_ptr<Op> make_##name(const OpParams& params);                                                 \
  }                                                                                                        \
  namespace device {                                                                                       \
  void launch_##name(const Op& op, const TilePair& tiles, DType dtype, const cuda::Stream& stream);        \
  }
TILESTREAM_OPS(TILESTREAM_DECLARE_OP)
#undef TILESTREAM_DECLARE_OP

namespace detail {

// One op of the table. `launch` is null where tilestream is built without CUDA.
struct OpEntry {
  const char* name;
  const char* syntax;
  const char* summary;
  OpFactory make;
  device::OpLauncher launch;
};

// Every op, in the order of the help text.
std::span<const OpEntry> op_table();
// The entry named `name`, or null.
const OpEntry* find_op(std::string_view name);

// `op` as its class T, for the launchers of ops with parameters; UsageError if it is another op
// (one that is not the table's though it has a table op's name).
[[noreturn]] void throw_op_mismatch(const Op& op);
template <class T>
const T& op_as(const Op& op) {
  const auto* typed = dynamic_cast<const T*>(&op);
  if (typed == nullptr) throw_op_mismatch(op);
  return *typed;
}

// The shortest text that reads back as `value` ("2.5", "1", "0.1").
std::string format_number(double value);

}  // namespace detail
}  // namespace tilestream::ops
