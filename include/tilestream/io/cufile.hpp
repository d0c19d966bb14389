// cuFile (GPUDirect Storage): files read into and written from device memory. libcufile is loaded with
// dlopen at first use, never linked, so tilestream runs where it is absent; whether reads go straight
// from storage to the GPU or through cuFile's compatibility mode is a decision driver() reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tilestream::io::gds {

// A loaded cuFile library and its entry points. driver() loads the file TILESTREAM_CUFILE_LIBRARY
// names when set, else the first of "libcufile.so.0" and "libcufile.so" that dlopen finds; tests and
// diagnostics may load any file. Move-only; a moved-from Library may only be destroyed or assigned to.
class Library {
 public:
  struct Functions;  // the resolved entry points (defined in cufile.cpp, opaque elsewhere)

  // dlopen(file) and dlsym of every entry point tilestream calls; opens no driver and needs no GPU.
  // Throws UnsupportedError naming `file` and dlerror() when it cannot be loaded or lacks an entry
  // point, and in builds without cufile.h.
  explicit Library(std::string file);
  ~Library();
  Library(Library&& other) noexcept;
  Library& operator=(Library&& other) noexcept;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const std::string& file() const { return file_; }
  const Functions& functions() const { return *functions_; }

 private:
  std::string file_;
  void* handle_ = nullptr;
  std::unique_ptr<Functions> functions_;
};

struct DriverInfo {
  bool loaded = false;       // always true in a DriverInfo that driver() returns
  bool compat_mode = false;  // reads and writes go through host bounce buffers, not GPUDirect
  std::string library;       // the file that was loaded
  // "GPUDirect Storage (nvidia-fs)", or "cuFile compatibility mode (<why>: POSIX reads through
  // cuFile's bounce buffers)". With nvidia-fs, cuFile still falls back to compat mode for a file on a
  // file system GDS does not support, and says so only in its own log (cufile.log).
  std::string mode;
};

// Loads the library, makes the CUDA context of the current device and opens the cuFile driver, once
// per process (thread-safe); the driver is closed at process exit. Compat mode is chosen when
// CUFILE_FORCE_COMPAT_MODE=true or the nvidia-fs kernel module is not loaded (no /sys/module/nvidia_fs
// nor /proc/driver/nvidia-fs). Throws UnsupportedError saying why (dlerror(), no device, the
// cuFileDriverOpen error) and what to do, on this call and every later one.
const DriverInfo& driver();

// What io mode `auto` takes between gds and posix: gds only where GPUDirect Storage really runs, since
// compatibility mode adds cuFile's bounce copy to what posix does anyway. `reason` says why, for
// reports ("auto chose gds: ..." or "auto chose posix (...)"). Never throws for a missing cuFile.
struct AutoChoice {
  bool gds = false;
  std::string reason;
};
AutoChoice choose_for_auto();

// Whether driver() succeeds; when it does not and `why_not` is given, stores the reason there.
bool available(std::string* why_not = nullptr) noexcept;

// A file opened for cuFile reads or writes and registered with cuFileHandleRegister. Reads and writes
// are positional, so one FileHandle serves any number of threads. Move-only.
class FileHandle {
 public:
  // write: created or truncated, permissions 0644; update: an existing file written in place (a
  // store value's file, whose other bytes other writers fill).
  enum class Mode { read, write, update };

  // Opens with O_DIRECT, which GPUDirect needs. Where the file system refuses O_DIRECT (EINVAL) and
  // the driver is in compat mode, opens without it (direct() is false); in GPUDirect mode that is an
  // UnsupportedError. Other open or registration failures are IoError naming the file.
  FileHandle(std::string path, Mode mode);
  ~FileHandle();
  FileHandle(FileHandle&& other) noexcept;
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  // Reads `bytes` bytes at `file_offset` of the file to `device_pointer + buffer_offset`, looping on
  // short reads, and returns the bytes read: fewer than `bytes` only when the file ends first.
  // `device_pointer` is the start of device memory (of a registered buffer, when there is one); any
  // offset or length is allowed, cuFile handles alignment. The calling thread's current device is
  // switched to the memory's device for the call. IoError names the file, offset, length and the
  // cuFile or system error; UsageError when the pointer is not device memory.
  std::size_t read(void* device_pointer, std::size_t bytes, std::uint64_t file_offset,
                   std::size_t buffer_offset = 0) const;
  // Writes all `bytes` bytes from `device_pointer + buffer_offset` at `file_offset`; errors as read.
  void write(const void* device_pointer, std::size_t bytes, std::uint64_t file_offset,
             std::size_t buffer_offset = 0) const;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool direct() const { return direct_; }  // opened with O_DIRECT

 private:
  void close() noexcept;

  std::string path_;
  int fd_ = -1;
  void* handle_ = nullptr;  // CUfileHandle_t
  bool direct_ = false;
};

// Device memory registered with cuFileBufRegister for the object's lifetime: with GPUDirect, reads into
// a registered buffer skip cuFile's internal staging; in compat mode registration changes nothing.
// The memory must outlive the registration. Move-only.
class RegisteredBuffer {
 public:
  // Throws UnsupportedError as driver(), CudaError when registration fails.
  RegisteredBuffer(void* device_pointer, std::size_t bytes);
  ~RegisteredBuffer();
  RegisteredBuffer(RegisteredBuffer&& other) noexcept;
  RegisteredBuffer& operator=(RegisteredBuffer&& other) noexcept;
  RegisteredBuffer(const RegisteredBuffer&) = delete;
  RegisteredBuffer& operator=(const RegisteredBuffer&) = delete;

  void* data() const { return pointer_; }
  std::size_t size() const { return bytes_; }

 private:
  void release() noexcept;

  void* pointer_ = nullptr;
  std::size_t bytes_ = 0;
  int device_ = 0;
};

}  // namespace tilestream::io::gds
