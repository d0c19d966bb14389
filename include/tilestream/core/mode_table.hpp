// Tables of named modes (the io modes, the decode and encode modes): each entry has `mode`, `name`
// (as flags and settings spell it) and `summary` (for --help). Lookup, parsing, help text and the
// environment default are the same for every such table, so they are written once here.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tilestream/core/error.hpp"

namespace tilestream {

// The entry of `mode`; UsageError ("<what> 7 is not in the <what> table") for a value outside it.
template <class Entry>
const Entry& mode_entry(std::span<const Entry> table, decltype(Entry::mode) mode, std::string_view what) {
  for (const Entry& entry : table)
    if (entry.mode == mode) return entry;
  throw UsageError(concat(what, " ", static_cast<int>(mode), " is not in the ", what, " table"));
}

// The mode named `text`; UsageError "<what> must be a, b or c, not 'text'" otherwise.
template <class Entry>
decltype(Entry::mode) parse_mode(std::span<const Entry> table, std::string_view text, std::string_view what) {
  std::string names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == text) return table[i].mode;
    names += concat(i == 0 ? "" : i + 1 == table.size() ? " or " : ", ", table[i].name);
  }
  throw UsageError(concat(what, " must be ", names, ", not '", text, "'"));
}

// "a (summary), b (summary)": the table as help text.
template <class Entry>
std::string describe_modes(std::span<const Entry> table) {
  std::string text;
  for (const Entry& entry : table) text += concat(text.empty() ? "" : ", ", entry.name, " (", entry.summary, ")");
  return text;
}

// The mode a setting names (`value` as the environment variable `variable` holds it), `fallback` when
// it is empty; UsageError naming the variable otherwise.
template <class Entry>
decltype(Entry::mode) mode_setting(std::span<const Entry> table, const std::string& value, std::string_view variable,
                                   std::string_view what, decltype(Entry::mode) fallback) {
  if (value.empty()) return fallback;
  try {
    return parse_mode(table, value, what);
  } catch (const UsageError& e) {
    throw UsageError(concat(variable, ": ", e.what()));
  }
}

}  // namespace tilestream
