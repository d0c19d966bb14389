// Fault injection for the fault tests: an LD_PRELOAD library that wraps the C library's read, write
// and sync calls and makes chosen ones fail (EIO, ENOSPC, EDQUOT, ...), return short, or pause, so
// that the tests drive the real tilestream binary into real system-call failures instead of mocking
// our own classes. Nothing here is linked into tilestream.
//
// Settings, read once from the environment (no TILESTREAM_FAULT_PATH: every call passes through):
//   TILESTREAM_FAULT_PATH    substring of the file's path (readlink of /proc/self/fd/N, cached per
//                            descriptor and checked against the file's device and inode)
//   TILESTREAM_FAULT_OP      read (read, pread, pread64, readv, preadv, preadv64, preadv2),
//                            write (write, pwrite, pwrite64, writev, pwritev, pwritev64, pwritev2)
//                            or sync (fsync, fdatasync, of files and folders); default read
//   TILESTREAM_FAULT_OFFSET  only calls whose byte range holds this file offset (for write and
//                            read: the descriptor's position); default any
//   TILESTREAM_FAULT_AFTER   let this many matching calls through first; default 0
//   TILESTREAM_FAULT_TIMES   fault at most this many calls; default every one after AFTER
//   TILESTREAM_FAULT_ERROR   EIO, ENOSPC, EDQUOT, EFBIG, EINTR: fail with that errno (EINTR with
//                            TIMES: callers retry it);
//                            short: do the call on half the bytes (at least 1) and return that;
//                            pause: create the file TILESTREAM_FAULT_PAUSED, wait until the file
//                            TILESTREAM_FAULT_RESUME exists, then do the call (a test's hook to act,
//                            say truncate the file, at a known point of the run); default EIO
//   TILESTREAM_FAULT_LOG     a file to which each fault appends one line (op, path, offset, bytes)
//
// cuFile (GPUDirect Storage) reads and writes bypass these calls and are out of the shim's reach.
// Sanitizer builds: the shim is not built there (tests/CMakeLists.txt); the tests that load it run
// the release binary.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum op_kind { OP_READ, OP_WRITE, OP_SYNC };
enum fault_kind { FAULT_ERRNO, FAULT_SHORT, FAULT_PAUSE };

struct settings {
  int enabled;
  const char* path;
  enum op_kind op;
  int has_offset;
  uint64_t offset;
  uint64_t after;
  uint64_t times;
  enum fault_kind kind;
  int error;
  const char* paused;
  const char* resume;
  const char* log;
};

static struct settings config;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t matched;  // matching calls seen
static atomic_uint_fast64_t faulted;  // faults injected

static uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* text = getenv(name);
  return text && *text ? strtoull(text, NULL, 0) : fallback;
}

static void load_config(void) {
  const char* path = getenv("TILESTREAM_FAULT_PATH");
  if (!path || !*path) return;
  config.path = path;
  const char* op = getenv("TILESTREAM_FAULT_OP");
  config.op = !op || strcmp(op, "read") == 0 ? OP_READ : strcmp(op, "write") == 0 ? OP_WRITE : OP_SYNC;
  if (op && strcmp(op, "read") != 0 && strcmp(op, "write") != 0 && strcmp(op, "sync") != 0) {
    fprintf(stderr, "fault_shim: TILESTREAM_FAULT_OP=%s is not read, write or sync\n", op);
    abort();
  }
  config.has_offset = getenv("TILESTREAM_FAULT_OFFSET") != NULL;
  config.offset = env_u64("TILESTREAM_FAULT_OFFSET", 0);
  config.after = env_u64("TILESTREAM_FAULT_AFTER", 0);
  config.times = env_u64("TILESTREAM_FAULT_TIMES", UINT64_MAX);
  const char* error = getenv("TILESTREAM_FAULT_ERROR");
  config.kind = FAULT_ERRNO;
  config.error = EIO;
  if (!error || strcmp(error, "EIO") == 0) {
  } else if (strcmp(error, "ENOSPC") == 0) {
    config.error = ENOSPC;
  } else if (strcmp(error, "EDQUOT") == 0) {
    config.error = EDQUOT;
  } else if (strcmp(error, "EFBIG") == 0) {
    config.error = EFBIG;
  } else if (strcmp(error, "EINTR") == 0) {
    config.error = EINTR;
  } else if (strcmp(error, "short") == 0) {
    config.kind = FAULT_SHORT;
  } else if (strcmp(error, "pause") == 0) {
    config.kind = FAULT_PAUSE;
    config.paused = getenv("TILESTREAM_FAULT_PAUSED");
    config.resume = getenv("TILESTREAM_FAULT_RESUME");
    if (!config.paused || !config.resume) {
      fprintf(stderr, "fault_shim: pause needs TILESTREAM_FAULT_PAUSED and TILESTREAM_FAULT_RESUME\n");
      abort();
    }
  } else {
    fprintf(stderr, "fault_shim: unknown TILESTREAM_FAULT_ERROR=%s\n", error);
    abort();
  }
  config.log = getenv("TILESTREAM_FAULT_LOG");
  config.enabled = 1;
}

static void* next_symbol(const char* name) {
  void* symbol = dlsym(RTLD_NEXT, name);
  if (!symbol) {
    fprintf(stderr, "fault_shim: dlsym(RTLD_NEXT, %s) failed\n", name);
    abort();
  }
  return symbol;
}

// Per descriptor: the file (device, inode) last looked at and whether its path matched. A descriptor
// number reused for another file is noticed through the inode, so closes need no wrapping.
#define CACHED_FDS 4096
struct fd_entry {
  dev_t dev;
  ino_t ino;
  int known;
  int matches;
};
static struct fd_entry fd_cache[CACHED_FDS];
static pthread_mutex_t fd_mutex = PTHREAD_MUTEX_INITIALIZER;

static int path_matches(int fd, char* path, size_t path_size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, path_size - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  return strstr(path, config.path) != NULL;
}

// Whether `fd` is a file (or, with `folders`, a folder) the settings name; `path` gets its path when it
// does.
static int fd_matches(int fd, char* path, size_t path_size, int folders) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || (folders && S_ISDIR(st.st_mode)))) return 0;
  if (fd >= CACHED_FDS) return path_matches(fd, path, path_size);
  pthread_mutex_lock(&fd_mutex);
  struct fd_entry* entry = &fd_cache[fd];
  int matches = 0;
  if (entry->known && entry->dev == st.st_dev && entry->ino == st.st_ino && !entry->matches) {
    matches = 0;
  } else {
    matches = path_matches(fd, path, path_size);
    entry->dev = st.st_dev;
    entry->ino = st.st_ino;
    entry->known = 1;
    entry->matches = matches;
  }
  pthread_mutex_unlock(&fd_mutex);
  return matches;
}

static void log_fault(const char* op, const char* path, int64_t offset, size_t bytes, const char* what) {
  if (!config.log) return;
  FILE* f = fopen(config.log, "a");
  if (!f) return;
  fprintf(f, "%s %s offset %lld bytes %zu: %s\n", op, path, (long long)offset, bytes, what);
  fclose(f);
}

static void pause_here(void) {
  const int fd = open(config.paused, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  const struct timespec tick = {0, 2000000};
  for (int i = 0; i < 30000 && access(config.resume, F_OK) != 0; ++i) nanosleep(&tick, NULL);
}

// What to do with one call of kind `op` on `fd` over [offset, offset + bytes) (offset -1: the
// descriptor's position). Returns the fault, or -1 to pass the call through; `path` is filled.
static int decide(enum op_kind op, int fd, int64_t offset, size_t bytes, char* path, size_t path_size) {
  pthread_once(&config_once, load_config);
  if (!config.enabled || op != config.op) return -1;
  if (!fd_matches(fd, path, path_size, op == OP_SYNC)) return -1;  // folders: for their fsync
  if (config.has_offset && op != OP_SYNC) {
    if (offset < 0) offset = lseek(fd, 0, SEEK_CUR);
    if (offset < 0) return -1;
    const uint64_t begin = (uint64_t)offset;
    if (config.offset < begin || config.offset >= begin + (bytes > 0 ? bytes : 1)) return -1;
  }
  if (atomic_fetch_add(&matched, 1) < config.after) return -1;
  if (atomic_fetch_add(&faulted, 1) >= config.times) return -1;
  static const char* names[] = {"read", "write", "sync"};
  log_fault(names[op], path, offset, bytes,
            config.kind == FAULT_SHORT ? "short" : config.kind == FAULT_PAUSE ? "pause" : strerror(config.error));
  return (int)config.kind;
}

static size_t short_count(size_t bytes) { return bytes > 1 ? bytes / 2 : bytes; }

#define PATH_BYTES 4096

// The positional and sequential single-buffer calls.
#define WRAP_IO(name, op_kind_, buffer_type, offset_type, has_offset_)                                   \
  ssize_t name(int fd, buffer_type buffer, size_t count WRAP_OFFSET_PARAM_##has_offset_(offset_type)) { \
    typedef ssize_t (*real_t)(int, buffer_type, size_t WRAP_OFFSET_TYPE_##has_offset_(offset_type));    \
    static real_t real;                                                                                 \
    if (!real) real = (real_t)next_symbol(#name);                                                       \
    char path[PATH_BYTES];                                                                              \
    const int fault = decide(op_kind_, fd, WRAP_OFFSET_VALUE_##has_offset_, count, path, sizeof path);   \
    if (fault == FAULT_ERRNO) {                                                                         \
      errno = config.error;                                                                             \
      return -1;                                                                                        \
    }                                                                                                   \
    if (fault == FAULT_PAUSE) pause_here();                                                             \
    if (fault == FAULT_SHORT && op_kind_ == OP_WRITE) count = short_count(count);                       \
    ssize_t done = real(fd, buffer, count WRAP_OFFSET_ARG_##has_offset_);                               \
    if (fault == FAULT_SHORT && op_kind_ == OP_READ && done > 1) {                                      \
      /* Read it all (O_DIRECT wants aligned lengths), report half, and put the position back. */     \
      const ssize_t kept = (ssize_t)short_count((size_t)done);                                          \
      if (!(has_offset_)) lseek(fd, kept - done, SEEK_CUR);                                             \
      done = kept;                                                                                      \
    }                                                                                                   \
    return done;                                                                                        \
  }
#define WRAP_OFFSET_PARAM_1(type) , type offset
#define WRAP_OFFSET_PARAM_0(type)
#define WRAP_OFFSET_TYPE_1(type) , type
#define WRAP_OFFSET_TYPE_0(type)
#define WRAP_OFFSET_VALUE_1 ((int64_t)offset)
#define WRAP_OFFSET_VALUE_0 ((int64_t)-1)
#define WRAP_OFFSET_ARG_1 , offset
#define WRAP_OFFSET_ARG_0

WRAP_IO(read, OP_READ, void*, off_t, 0)
WRAP_IO(pread, OP_READ, void*, off_t, 1)
WRAP_IO(pread64, OP_READ, void*, off64_t, 1)
WRAP_IO(write, OP_WRITE, const void*, off_t, 0)
WRAP_IO(pwrite, OP_WRITE, const void*, off_t, 1)
WRAP_IO(pwrite64, OP_WRITE, const void*, off64_t, 1)

static size_t iov_bytes(const struct iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  return total;
}

// Vector calls: an error or a pause as above; "short" moves only the first buffer (or half of it when
// there is one), which is a short transfer as far as the caller can tell.
static int vector_fault(enum op_kind op, int fd, int64_t offset, const struct iovec* iov, int* count,
                        struct iovec* first) {
  char path[PATH_BYTES];
  const int fault = decide(op, fd, offset, iov_bytes(iov, *count), path, sizeof path);
  if (fault == FAULT_ERRNO) {
    errno = config.error;
    return -1;
  }
  if (fault == FAULT_PAUSE) pause_here();
  if (fault == FAULT_SHORT && *count > 0) {
    *first = iov[0];
    if (*count == 1) first->iov_len = short_count(first->iov_len);
    *count = 1;
    return 1;
  }
  return 0;
}

#define VECTOR_REAL(name, ...)                                \
  typedef ssize_t (*real_t)(int, const struct iovec*, int, ##__VA_ARGS__); \
  static real_t real;                                         \
  if (!real) real = (real_t)next_symbol(name);                \
  struct iovec first;

ssize_t readv(int fd, const struct iovec* iov, int count) {
  VECTOR_REAL("readv")
  const int fault = vector_fault(OP_READ, fd, -1, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count);
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  VECTOR_REAL("writev")
  const int fault = vector_fault(OP_WRITE, fd, -1, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count);
}

ssize_t preadv(int fd, const struct iovec* iov, int count, off_t offset) {
  VECTOR_REAL("preadv", off_t)
  const int fault = vector_fault(OP_READ, fd, (int64_t)offset, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count, offset);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  VECTOR_REAL("pwritev", off_t)
  const int fault = vector_fault(OP_WRITE, fd, (int64_t)offset, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count, offset);
}

ssize_t preadv64(int fd, const struct iovec* iov, int count, off64_t offset) {
  VECTOR_REAL("preadv64", off64_t)
  const int fault = vector_fault(OP_READ, fd, (int64_t)offset, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count, offset);
}

ssize_t pwritev64(int fd, const struct iovec* iov, int count, off64_t offset) {
  VECTOR_REAL("pwritev64", off64_t)
  const int fault = vector_fault(OP_WRITE, fd, (int64_t)offset, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count, offset);
}

ssize_t preadv2(int fd, const struct iovec* iov, int count, off_t offset, int flags) {
  VECTOR_REAL("preadv2", off_t, int)
  const int fault = vector_fault(OP_READ, fd, (int64_t)offset, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count, offset, flags);
}

ssize_t pwritev2(int fd, const struct iovec* iov, int count, off_t offset, int flags) {
  VECTOR_REAL("pwritev2", off_t, int)
  const int fault = vector_fault(OP_WRITE, fd, (int64_t)offset, iov, &count, &first);
  return fault < 0 ? -1 : real(fd, fault ? &first : iov, count, offset, flags);
}

#define WRAP_SYNC(name)                                           \
  int name(int fd) {                                              \
    typedef int (*real_t)(int);                                   \
    static real_t real;                                           \
    if (!real) real = (real_t)next_symbol(#name);                 \
    char path[PATH_BYTES];                                        \
    const int fault = decide(OP_SYNC, fd, -1, 0, path, sizeof path); \
    if (fault == FAULT_ERRNO) {                                   \
      errno = config.error;                                       \
      return -1;                                                  \
    }                                                             \
    if (fault == FAULT_PAUSE) pause_here();                       \
    return real(fd);                                              \
  }

WRAP_SYNC(fsync)
WRAP_SYNC(fdatasync)
