// The table of ops (TILESTREAM_OPS in op_table.hpp made into entries), and make_op, which parses
// "name[:key=value[,key=value...]]" and builds the op through its entry's factory.
#include "ops/op_table.hpp"

#include <charconv>
#include <cmath>

#include "tilestream/core/error.hpp"

namespace tilestream::ops {
namespace detail {
namespace {

#if TILESTREAM_WITH_CUDA
#define TILESTREAM_OP_LAUNCHER(name) device::launch_##name
#else
#define TILESTREAM_OP_LAUNCHER(name) nullptr
#endif
#define TILESTREAM_OP_ENTRY(name, syntax, summary) \
  OpEntry{#name, syntax, summary, make_##name, TILESTREAM_OP_LAUNCHER(name)},
constexpr OpEntry entries[] = {TILESTREAM_OPS(TILESTREAM_OP_ENTRY)};
#undef TILESTREAM_OP_ENTRY
#undef TILESTREAM_OP_LAUNCHER

std::string syntax_list() {
  std::string list;
  for (const OpEntry& e : entries) list += (list.empty() ? "" : ", ") + std::string(e.syntax);
  return list;
}

}  // namespace

std::span<const OpEntry> op_table() { return entries; }

const OpEntry* find_op(std::string_view name) {
  for (const OpEntry& e : entries)
    if (name == e.name) return &e;
  return nullptr;
}

void throw_op_mismatch(const Op& op) {
  throw UsageError(concat(op.spec(), ": not the table's op '", op.name(), "' (an op of another class)"));
}

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

std::string OpParams::word(const char* name, const char* fallback) const {
  const std::string* text = find(name);
  return text == nullptr ? fallback : *text;
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
  const detail::OpEntry* entry = detail::find_op(name);
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
  for (const detail::OpEntry& e : detail::op_table()) text += concat("  ", e.syntax, ": ", e.summary, "\n");
  return text;
}

}  // namespace tilestream::ops
