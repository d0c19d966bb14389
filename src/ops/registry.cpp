// make_op: parses "name[:key=value[,key=value...]]" and builds the op through the table below.
#include "ops/registry.hpp"

#include <charconv>
#include <cmath>

#include "tilestream/core/error.hpp"

namespace tilestream::ops {
namespace detail {
namespace {

struct OpEntry {
  const char* name;
  const char* syntax;
  const char* summary;
  std::unique_ptr<Op> (*make)(const OpParams&);
};

constexpr OpEntry op_table[] = {
    {"absorbance", "absorbance", "uint8 -> float32 optical density -ln(max(I,1)/255) per sample",
     make_absorbance},
    {"sobel", "sobel", "edge magnitude per channel, float32 (skimage.filters.sobel)", make_sobel},
    {"gaussian", "gaussian:sigma=S",
     "Gaussian blur per channel, truncate 4, border nearest (skimage.filters.gaussian)", make_gaussian},
    {"median", "median:size=K", "median of a KxK square per channel, K odd (default 3), border nearest",
     make_median},
    {"grayscale", "grayscale",
     "RGB -> float32 luminance 0.2125 R + 0.7154 G + 0.0721 B (skimage.color.rgb2gray)", make_grayscale},
    {"downsample2x", "downsample2x", "2x2 area mean, ceil(h/2) x ceil(w/2)", make_downsample2x},
};

std::string syntax_list() {
  std::string list;
  for (const OpEntry& e : op_table) list += (list.empty() ? "" : ", ") + std::string(e.syntax);
  return list;
}

}  // namespace

const std::string* OpParams::find(const char* name) const {
  for (const auto& [key, value] : values_)
    if (key == name) return &value;
  return nullptr;
}

void OpParams::allow_only(std::initializer_list<const char*> known, const char* syntax) const {
  for (const auto& [key, value] : values_) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    check<UsageError>(ok, "op '", op_, "' has no parameter '", key, "' (usage: ", syntax, ")");
  }
}

double OpParams::number(const char* name, double fallback, double min, double max) const {
  const std::string* text = find(name);
  if (text == nullptr) return fallback;
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  check<UsageError>(ec == std::errc() && end == text->data() + text->size() && std::isfinite(value) &&
                        value >= min && value <= max && !(min == 0 && value == 0),
                    op_, ": ", name, " must be a number in ", min == 0 ? "(" : "[", min, ", ", max,
                    "], not '", *text, "'");
  return value;
}

std::uint32_t OpParams::integer(const char* name, std::uint32_t fallback, std::uint32_t min,
                                std::uint32_t max) const {
  const std::string* text = find(name);
  if (text == nullptr) return fallback;
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  check<UsageError>(ec == std::errc() && end == text->data() + text->size() && value >= min && value <= max,
                    op_, ": ", name, " must be an integer from ", min, " to ", max, ", not '", *text, "'");
  return value;
}

std::string format_number(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

}  // namespace detail

std::unique_ptr<Op> make_op(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  const detail::OpEntry* entry = nullptr;
  for (const detail::OpEntry& e : detail::op_table)
    if (name == e.name) entry = &e;
  check<UsageError>(entry != nullptr, "unknown op '", spec, "' (ops: ", detail::syntax_list(), ")");
  std::vector<std::pair<std::string, std::string>> values;
  if (colon != std::string_view::npos) {
    std::string_view rest = spec.substr(colon + 1);
    check<UsageError>(!rest.empty(), "op '", spec, "': nothing after ':' (usage: ", entry->syntax, ")");
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const std::size_t eq = item.find('=');
      check<UsageError>(eq != std::string_view::npos && eq > 0 && eq + 1 < item.size(), "op '", spec,
                        "': parameters are name=value (usage: ", entry->syntax, ")");
      const std::string key(item.substr(0, eq));
      for (const auto& [k, v] : values)
        check<UsageError>(k != key, "op '", spec, "': parameter '", key, "' given twice");
      values.emplace_back(key, std::string(item.substr(eq + 1)));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  return entry->make(detail::OpParams(name, std::move(values)));
}

std::string describe_ops() {
  std::string text;
  for (const detail::OpEntry& e : detail::op_table) text += concat("  ", e.syntax, ": ", e.summary, "\n");
  return text;
}

}  // namespace tilestream::ops
