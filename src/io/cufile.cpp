// cuFile reached through dlopen: the library, the process-wide driver and its compat-mode decision,
// registered file handles and buffers. cufile.h types stay in this file; built without cufile.h
// (TILESTREAM_HAVE_CUFILE_H unset), every entry point throws UnsupportedError.
#include "tilestream/io/cufile.hpp"

#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#if TILESTREAM_HAVE_CUFILE_H
#include <cufile.h>
#endif

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::io::gds {
namespace {

const std::string posix_hint = concat(" (use ", option("io"), " posix)");

[[maybe_unused]] std::string built_without_header() {
  return concat("tilestream was built without cufile.h, so GPUDirect Storage (cuFile) is not available;"
                " rebuild with the CUDA toolkit's GDS headers or the nvidia-cufile wheel in .venv",
                posix_hint);
}

}  // namespace

#if TILESTREAM_HAVE_CUFILE_H

static_assert(std::is_same_v<CUfileHandle_t, void*>, "FileHandle stores a CUfileHandle_t as void*");

// The entry points tilestream calls, typed by cufile.h. cufile.h maps some names to versioned symbols
// (cuFileDriverClose is cuFileDriverClose_v2): TILESTREAM_CUFILE_SYMBOL resolves the mapped name.
struct Library::Functions {
  decltype(&cuFileDriverOpen) driver_open = nullptr;
  decltype(&cuFileDriverClose) driver_close = nullptr;
  decltype(&cuFileHandleRegister) handle_register = nullptr;
  decltype(&cuFileHandleDeregister) handle_deregister = nullptr;
  decltype(&cuFileBufRegister) buf_register = nullptr;
  decltype(&cuFileBufDeregister) buf_deregister = nullptr;
  decltype(&cuFileRead) read = nullptr;
  decltype(&cuFileWrite) write = nullptr;
};

namespace {

// The whole of dlerror(), which also clears it.
std::string dl_error() {
  const char* message = ::dlerror();
  return message != nullptr ? message : "unknown dlerror";
}

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

#define TILESTREAM_CUFILE_STRINGIFY(name) #name
#define TILESTREAM_CUFILE_SYMBOL(name) TILESTREAM_CUFILE_STRINGIFY(name)

template <class Function>
void resolve(void* handle, const std::string& file, const char* symbol, Function& function) {
  (void)::dlerror();
  void* address = ::dlsym(handle, symbol);
  check<UnsupportedError>(address != nullptr, file, " has no ", symbol, " (", dl_error(),
                          "): not a cuFile library, or one too old");
  function = reinterpret_cast<Function>(address);
}

std::string describe(CUfileError_t status) {
  std::string text = concat(cufileop_status_error(status.err), " (cuFile error ", static_cast<int>(status.err));
  if (IS_CUDA_ERR(status)) text += concat(", CUresult ", static_cast<int>(CU_FILE_CUDA_ERR(status)));
  return text + ")";
}

// The meaning of a negative cuFileRead or cuFileWrite result: -1 with errno set, -CUfileOpError, or
// -errno.
std::string describe_io_result(ssize_t result, int saved_errno) {
  if (result == -1) return concat(std::strerror(saved_errno), " (errno ", saved_errno, ")");
  const long long code = -static_cast<long long>(result);
  if (code > CUFILEOP_BASE_ERR) {
    return concat(cufileop_status_error(static_cast<CUfileOpError>(code)), " (cuFile error ", code, ")");
  }
  return concat(std::strerror(static_cast<int>(code)), " (errno ", code, ")");
}

// Why cuFile runs in compatibility mode, or "" when GPUDirect can be used: it needs the nvidia-fs
// kernel module, and CUFILE_FORCE_COMPAT_MODE=true makes cuFile use compat mode regardless.
std::string compat_reason() {
  const char* force = std::getenv("CUFILE_FORCE_COMPAT_MODE");
  if (force != nullptr && std::string_view(force) == "true") return "CUFILE_FORCE_COMPAT_MODE=true";
  std::error_code ignored;
  if (std::filesystem::exists("/sys/module/nvidia_fs", ignored) ||
      std::filesystem::exists("/proc/driver/nvidia-fs", ignored)) {
    return "";
  }
  return "nvidia-fs not loaded";
}

Library load_library() {
  if (const std::string& file = default_settings().cufile_library; !file.empty()) {
    try {
      return Library(file);
    } catch (const UnsupportedError& e) {
      throw UnsupportedError(concat("TILESTREAM_CUFILE_LIBRARY=", file, ": ", e.what(), posix_hint));
    }
  }
  std::string errors;
  for (const char* file : {"libcufile.so.0", "libcufile.so"}) {
    try {
      return Library(file);
    } catch (const UnsupportedError& e) {
      errors += concat(errors.empty() ? "" : "; ", e.what());
    }
  }
  throw UnsupportedError(concat("GPUDirect Storage needs the cuFile library: ", errors,
                                "; install the CUDA toolkit's GDS component or set TILESTREAM_CUFILE_LIBRARY "
                                "to the library file",
                                posix_hint));
}

// The process-wide driver: opened by the first driver() call, closed when static objects are destroyed
// at exit. The CUDA context is made before cuFileDriverOpen so that the CUDA runtime's own exit
// handlers, registered at its initialisation, run after this object's destructor.
class Driver {
 public:
  Driver() {
    try {
      open();
    } catch (const Error& e) {
      error_ = e.what();
    }
  }
  ~Driver() {
    if (!info_.loaded) return;
    const CUfileError_t status = library_->functions().driver_close();
    if (status.err != CU_FILE_SUCCESS) {
      std::fprintf(stderr, "tilestream: cuFileDriverClose failed: %s\n", describe(status).c_str());
    }
  }
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  const DriverInfo& info() const {
    if (!error_.empty()) throw UnsupportedError(error_);
    return info_;
  }
  const Library::Functions& functions() const {
    info();
    return library_->functions();
  }

 private:
  void open() {
    library_.emplace(load_library());
    check<UnsupportedError>(cuda::device_count() > 0, "GPUDirect Storage needs a CUDA device: ",
                            cuda::no_device_reason(), posix_hint);
    cuda::check_cuda(cudaFree(nullptr),
                     "cudaFree(nullptr) (making the CUDA context before cuFileDriverOpen)");
    const std::string reason = compat_reason();
    const CUfileError_t status = library_->functions().driver_open();
    check<UnsupportedError>(status.err == CU_FILE_SUCCESS, "cuFileDriverOpen (", library_->file(),
                            ") failed: ", describe(status), posix_hint);
    info_.loaded = true;
    info_.compat_mode = !reason.empty();
    info_.library = library_->file();
    info_.mode = reason.empty() ? "GPUDirect Storage (nvidia-fs)"
                                : concat("cuFile compatibility mode (", reason,
                                         ": POSIX reads through cuFile's bounce buffers)");
  }

  std::optional<Library> library_;
  DriverInfo info_;
  std::string error_;  // why the driver is unavailable; empty once open
};

const Driver& process_driver() {
  static const Driver driver;
  return driver;
}

const Library::Functions& api() { return process_driver().functions(); }

// The device of the memory at `pointer`; UsageError when it is not device memory.
int device_of(const void* pointer, const std::string& context) {
  cudaPointerAttributes attributes{};
  cuda::check_cuda(cudaPointerGetAttributes(&attributes, pointer), "cudaPointerGetAttributes");
  check<UsageError>(attributes.type == cudaMemoryTypeDevice, context, ": ", pointer,
                    " is not device memory (cuFile reads to and writes from device memory)");
  return attributes.device;
}

off_t file_position(std::uint64_t offset, std::size_t bytes, const std::string& context) {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());
  check<UsageError>(offset <= max && bytes <= max - offset, context, ": the range exceeds off_t");
  return static_cast<off_t>(offset);
}

}  // namespace

Library::Library(std::string file) : file_(std::move(file)), functions_(std::make_unique<Functions>()) {
  // RTLD_NODELETE: cuFile's worker threads and exit handlers may outlive any owner of the handle.
  handle_ = ::dlopen(file_.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  check<UnsupportedError>(handle_ != nullptr, "cannot load the cuFile library ", file_, ": ", dl_error());
  try {
    Functions& f = *functions_;
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileDriverOpen), f.driver_open);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileDriverClose), f.driver_close);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileHandleRegister), f.handle_register);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileHandleDeregister), f.handle_deregister);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileBufRegister), f.buf_register);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileBufDeregister), f.buf_deregister);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileRead), f.read);
    resolve(handle_, file_, TILESTREAM_CUFILE_SYMBOL(cuFileWrite), f.write);
  } catch (...) {
    ::dlclose(handle_);
    throw;
  }
}

const DriverInfo& driver() { return process_driver().info(); }

FileHandle::FileHandle(std::string path, Mode mode) : path_(std::move(path)) {
  const DriverInfo& info = driver();
  const int flags = mode == Mode::read    ? O_RDONLY | O_CLOEXEC
                    : mode == Mode::write ? O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
                                          : O_WRONLY | O_CLOEXEC;
  const char* action = mode == Mode::read ? ": cannot open for cuFile reads" : ": cannot create for cuFile writes";
  fd_ = ::open(path_.c_str(), flags | O_DIRECT, 0644);
  direct_ = fd_ >= 0;
  if (fd_ < 0 && errno == EINVAL) {
    check<UnsupportedError>(info.compat_mode, path_,
                            ": the file system does not support O_DIRECT, which GPUDirect Storage needs",
                            posix_hint);
    fd_ = ::open(path_.c_str(), flags, 0644);  // compat mode does plain POSIX I/O
  }
  check<IoError>(fd_ >= 0, system_error(path_ + action));
  CUfileDescr_t description{};
  description.type = CU_FILE_HANDLE_TYPE_OPAQUE_FD;
  description.handle.fd = fd_;
  CUfileHandle_t handle = nullptr;
  const CUfileError_t status = api().handle_register(&handle, &description);
  if (status.err != CU_FILE_SUCCESS) {
    ::close(fd_);
    // cuFile's reasons (no udev data for the block device, an unsupported file system...) are in its
    // own log only.
    throw IoError(concat(path_, ": cuFileHandleRegister failed: ", describe(status), " in ", info.mode,
                         "; cuFile's log (cufile.log in the working directory by default) says why",
                         posix_hint));
  }
  handle_ = handle;
}

void FileHandle::close() noexcept {
  if (handle_ != nullptr) api().handle_deregister(handle_);  // the driver is open: handle_ exists
  if (fd_ >= 0) ::close(fd_);
  handle_ = nullptr;
  fd_ = -1;
}

namespace {

// Calls `step(done)` (one cuFileRead or cuFileWrite of the rest) until `bytes` have moved, retrying
// EINTR. A zero return ends a read (end of file) and fails a write. Returns the bytes moved.
template <class Context, class Step>
std::size_t move_bytes(std::size_t bytes, bool zero_is_end, const Context& context, const Step& step) {
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t moved = step(done);
    const int saved_errno = errno;
    if (moved == -1 && saved_errno == EINTR) continue;
    check<IoError>(moved >= 0, context(), " failed after ", done, " bytes: ", describe_io_result(moved, saved_errno));
    if (moved == 0) {
      check<IoError>(zero_is_end, context(), ": cuFileWrite wrote nothing after ", done, " bytes");
      break;  // end of file
    }
    done += static_cast<std::size_t>(moved);
  }
  return done;
}

}  // namespace

std::size_t FileHandle::read(void* device_pointer, std::size_t bytes, std::uint64_t file_offset,
                             std::size_t buffer_offset) const {
  if (bytes == 0) return 0;
  const auto context = [&] {
    return concat(path_, ": cuFileRead of ", bytes, " bytes at offset ", file_offset, " to buffer offset ",
                  buffer_offset);
  };
  const off_t position = file_position(file_offset, bytes, context());
  const off_t buffer_position = file_position(buffer_offset, bytes, context());
  cuda::DeviceGuard guard(device_of(device_pointer, context()));
  return move_bytes(bytes, true, context, [&](std::size_t done) {
    return api().read(handle_, device_pointer, bytes - done, position + static_cast<off_t>(done),
                      buffer_position + static_cast<off_t>(done));
  });
}

void FileHandle::write(const void* device_pointer, std::size_t bytes, std::uint64_t file_offset,
                       std::size_t buffer_offset) const {
  if (bytes == 0) return;
  const auto context = [&] {
    return concat(path_, ": cuFileWrite of ", bytes, " bytes at offset ", file_offset, " from buffer offset ",
                  buffer_offset);
  };
  const off_t position = file_position(file_offset, bytes, context());
  const off_t buffer_position = file_position(buffer_offset, bytes, context());
  cuda::DeviceGuard guard(device_of(device_pointer, context()));
  (void)move_bytes(bytes, false, context, [&](std::size_t done) {
    return api().write(handle_, device_pointer, bytes - done, position + static_cast<off_t>(done),
                       buffer_position + static_cast<off_t>(done));
  });
}

RegisteredBuffer::RegisteredBuffer(void* device_pointer, std::size_t bytes) : bytes_(bytes) {
  const std::string context = concat("cuFileBufRegister of ", bytes, " bytes at ", device_pointer);
  const Library::Functions& functions = api();
  device_ = device_of(device_pointer, context);
  cuda::DeviceGuard guard(device_);
  const CUfileError_t status = functions.buf_register(device_pointer, bytes, 0);
  check<CudaError>(status.err == CU_FILE_SUCCESS, context, " failed: ", describe(status));
  pointer_ = device_pointer;
}

void RegisteredBuffer::release() noexcept {
  if (pointer_ == nullptr) return;
  // The destructor may run on a thread whose current device is another one.
  int previous = device_;
  cuda::report_cuda_in_destructor(cudaGetDevice(&previous), "cudaGetDevice");
  if (previous != device_) cuda::report_cuda_in_destructor(cudaSetDevice(device_), "cudaSetDevice");
  const CUfileError_t status = api().buf_deregister(pointer_);
  if (status.err != CU_FILE_SUCCESS) {
    std::fprintf(stderr, "tilestream: cuFileBufDeregister of %p failed: %s\n", pointer_,
                 describe(status).c_str());
  }
  if (previous != device_) cuda::report_cuda_in_destructor(cudaSetDevice(previous), "cudaSetDevice");
  pointer_ = nullptr;
  bytes_ = 0;
}

#else  // !TILESTREAM_HAVE_CUFILE_H

struct Library::Functions {};

Library::Library(std::string file) : file_(std::move(file)) {
  throw UnsupportedError(concat(built_without_header(), " (asked to load ", file_, ")"));
}

const DriverInfo& driver() {
  if (const std::string& file = default_settings().cufile_library; !file.empty()) {
    throw UnsupportedError(concat(built_without_header(), " (TILESTREAM_CUFILE_LIBRARY=", file, " not loaded)"));
  }
  throw UnsupportedError(built_without_header());
}

FileHandle::FileHandle(std::string path, Mode) : path_(std::move(path)) {
  throw UnsupportedError(concat(path_, ": ", built_without_header()));
}

void FileHandle::close() noexcept {}

std::size_t FileHandle::read(void*, std::size_t, std::uint64_t, std::size_t) const {
  throw UnsupportedError(built_without_header());
}

void FileHandle::write(const void*, std::size_t, std::uint64_t, std::size_t) const {
  throw UnsupportedError(built_without_header());
}

RegisteredBuffer::RegisteredBuffer(void*, std::size_t) { throw UnsupportedError(built_without_header()); }

void RegisteredBuffer::release() noexcept {}

#endif  // TILESTREAM_HAVE_CUFILE_H

Library::~Library() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

Library::Library(Library&& other) noexcept
    : file_(std::move(other.file_)),
      handle_(std::exchange(other.handle_, nullptr)),
      functions_(std::move(other.functions_)) {}

Library& Library::operator=(Library&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) ::dlclose(handle_);
    file_ = std::move(other.file_);
    handle_ = std::exchange(other.handle_, nullptr);
    functions_ = std::move(other.functions_);
  }
  return *this;
}

bool available(std::string* why_not) noexcept {
  try {
    driver();
    return true;
  } catch (const std::exception& e) {
    if (why_not != nullptr) *why_not = e.what();
    return false;
  }
}

FileHandle::~FileHandle() { close(); }

FileHandle::FileHandle(FileHandle&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      handle_(std::exchange(other.handle_, nullptr)),
      direct_(other.direct_) {}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    handle_ = std::exchange(other.handle_, nullptr);
    direct_ = other.direct_;
  }
  return *this;
}

RegisteredBuffer::~RegisteredBuffer() { release(); }

RegisteredBuffer::RegisteredBuffer(RegisteredBuffer&& other) noexcept
    : pointer_(std::exchange(other.pointer_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      device_(other.device_) {}

RegisteredBuffer& RegisteredBuffer::operator=(RegisteredBuffer&& other) noexcept {
  if (this != &other) {
    release();
    pointer_ = std::exchange(other.pointer_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    device_ = other.device_;
  }
  return *this;
}

AutoChoice choose_for_auto() {
  std::string why_not;
  if (available(&why_not)) {
    const DriverInfo& info = driver();
    if (!info.compat_mode) return {true, concat("auto chose gds: ", info.mode)};
    why_not = concat("cuFile would run in ", info.mode);
  }
  return {false, concat("auto chose posix (", why_not, ")")};
}

}  // namespace tilestream::io::gds
