// The table of ops that make_op parses: one entry per op, each built by a factory in the op's own
// file from its parsed parameters. Adding an op is adding its file and one line in registry.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tilestream/ops/op.hpp"

namespace tilestream::ops::detail {

// "name=value" parameters of one spec, with typed, range-checked getters whose errors name the op.
class OpParams {
 public:
  OpParams(std::string op, std::vector<std::pair<std::string, std::string>> values)
      : op_(std::move(op)), values_(std::move(values)) {}
  // UsageError for any parameter not in `known` (" and "-joined in the message as `syntax`).
  void allow_only(std::initializer_list<const char*> known, const char* syntax) const;
  double number(const char* name, double fallback, double min, double max) const;
  std::uint32_t integer(const char* name, std::uint32_t fallback, std::uint32_t min, std::uint32_t max) const;

 private:
  const std::string* find(const char* name) const;
  std::string op_;
  std::vector<std::pair<std::string, std::string>> values_;
};

std::unique_ptr<Op> make_absorbance(const OpParams& params);
std::unique_ptr<Op> make_sobel(const OpParams& params);
std::unique_ptr<Op> make_gaussian(const OpParams& params);
std::unique_ptr<Op> make_median(const OpParams& params);
std::unique_ptr<Op> make_grayscale(const OpParams& params);
std::unique_ptr<Op> make_downsample2x(const OpParams& params);

// The shortest text that reads back as `value` ("2.5", "1", "0.1").
std::string format_number(double value);

}  // namespace tilestream::ops::detail
