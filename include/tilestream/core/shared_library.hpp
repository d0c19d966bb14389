// Libraries loaded with dlopen (NVIDIA's nvJPEG and nvJPEG2000), so that one binary runs where they
// are absent: a library is found once for the process, from its TILESTREAM_*_LIBRARY setting or the
// usual sonames, its entry points resolved by name, and never closed (handles made from it live as
// long); where it cannot be loaded, the first attempt's reason is kept and given on every later call.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "tilestream/core/error.hpp"

namespace tilestream {

class SharedLibrary {
 public:
  // dlopen(file); UnsupportedError "<file> could not be loaded (<dlerror>)". `what` names the library
  // expected there in messages ("an nvJPEG library"). Never closed.
  SharedLibrary(std::string file, std::string what);
  const std::string& file() const { return file_; }
  // The address of `symbol`, or nullptr where the library has none (entry points of newer versions).
  void* find(const char* symbol) const;
  // `function` set to `symbol`; UnsupportedError "<file> has no <symbol> (<dlerror>): not <what>, or one
  // too old" where the library has none.
  template <class Function>
  void resolve(const char* symbol, Function& function) const {
    function = reinterpret_cast<Function>(require(symbol));
  }

 private:
  void* require(const char* symbol) const;

  std::string file_;
  std::string what_;
  void* handle_ = nullptr;
};

// What `open` makes of the library file to use: `setting` (the value of TILESTREAM_<variable>) where it
// is set, its error then prefixed "<variable>=<file>: "; else the first of `sonames` that opens, and
// UnsupportedError "the <name> library is missing: <each soname's error>; <hint>" where none does.
template <class Library, class Open>
Library open_first(const std::string& setting, const char* variable, std::initializer_list<const char*> sonames,
                   const char* name, const char* hint, Open open) {
  if (!setting.empty()) {
    try {
      return open(setting);
    } catch (const UnsupportedError& e) {
      throw UnsupportedError(concat(variable, "=", setting, ": ", e.what()));
    }
  }
  std::string errors;
  for (const char* soname : sonames) {
    try {
      return open(soname);
    } catch (const UnsupportedError& e) {
      errors += concat(errors.empty() ? "" : "; ", e.what());
    }
  }
  throw UnsupportedError(concat("the ", name, " library is missing: ", errors, "; ", hint));
}

// The value `load` makes on the first call, for the process; where it threw UnsupportedError, that
// error again on every call (the first attempt decides). One instance per `Load` type, so each call
// site (its own lambda) keeps its own value.
template <class Library, class Load>
const Library& load_once(Load load) {
  static std::string missing;
  static const std::optional<Library> loaded = [&]() -> std::optional<Library> {
    try {
      return load();
    } catch (const UnsupportedError& e) {
      missing = e.what();
      return std::nullopt;
    }
  }();
  check<UnsupportedError>(loaded.has_value(), missing);
  return *loaded;
}

}  // namespace tilestream
