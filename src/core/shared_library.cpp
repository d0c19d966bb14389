// SharedLibrary: dlopen and dlsym with their errors.
#include "tilestream/core/shared_library.hpp"

#include <dlfcn.h>

namespace tilestream {
namespace {

std::string dl_error() {
  const char* message = ::dlerror();
  return message != nullptr ? message : "unknown dlerror";
}

}  // namespace

SharedLibrary::SharedLibrary(std::string file, std::string what) : file_(std::move(file)), what_(std::move(what)) {
  handle_ = ::dlopen(file_.c_str(), RTLD_NOW | RTLD_LOCAL);
  check<UnsupportedError>(handle_ != nullptr, file_, " could not be loaded (", dl_error(), ")");
}

void* SharedLibrary::find(const char* symbol) const {
  (void)::dlerror();
  return ::dlsym(handle_, symbol);
}

void* SharedLibrary::require(const char* symbol) const {
  (void)::dlerror();
  void* address = ::dlsym(handle_, symbol);
  check<UnsupportedError>(address != nullptr, file_, " has no ", symbol, " (", dl_error(), "): not ", what_,
                          ", or one too old");
  return address;
}

}  // namespace tilestream
