// StoreInventory: classifies every entry under a store's root as ours (Zarr metadata, block keys of
// known arrays, our partial files, the folders leading to them) or foreign, with *at() calls on
// descriptors opened O_NOFOLLOW, so that neither the walk nor the removal ever leaves the store
// through a symbolic link; and check_output_location, which keeps stores out of /, $HOME and the
// current directory.
#include "tilestream/zarr/store_ownership.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {
namespace fs = std::filesystem;
namespace {

std::string system_message(int code) { return std::generic_category().message(code); }

constexpr std::size_t max_examples = 5;                 // foreign entries named in a refusal
constexpr std::size_t max_metadata_bytes = 1 << 20;      // larger "metadata" is not ours to parse
constexpr std::array<std::string_view, 4> metadata_names = {".zgroup", ".zattrs", ".zarray", "zarr.json"};
// "<key>.<16 hex digits>.partial", as io::WriteFile names the temporary files of FileStore's values.
constexpr std::size_t partial_suffix_size = 1 + 16 + 8;

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : prefix + "/" + std::string(name);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool is_number(std::string_view text) {
  return !text.empty() && text.size() <= 19 && (text.size() == 1 || text[0] != '0') &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A block coordinate as our writers spell it (no sign, no leading zero) inside the grid.
bool is_coordinate(std::string_view text, std::uint64_t grid) {
  if (!is_number(text)) return false;
  std::uint64_t value = 0;
  for (const char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return value < grid;
}

// The key names of one array's blocks and the folders above them.
struct ArrayKeys {
  std::string path;
  char separator;
  bool c_prefix;  // v3 default key encoding: "c" + separator first
  std::vector<std::uint64_t> grid;

  explicit ArrayKeys(const StoreArray& array)
      : path(array.path),
        separator(array.spec.separator),
        c_prefix(array.spec.zarr_format == 3 && array.spec.key_encoding == ChunkKeyEncoding::default_encoding),
        grid(array.spec.grid_shape()) {}

  // The part of `key` inside this array, or nullopt when `key` is not below the array's path.
  std::optional<std::string_view> inside(std::string_view key) const {
    if (path.empty()) return key;
    if (key.size() <= path.size() + 1 || !key.starts_with(path) || key[path.size()] != '/') return std::nullopt;
    return key.substr(path.size() + 1);
  }

  // Coordinates of `count` leading dimensions spelled by `parts`.
  bool coordinates(std::span<const std::string_view> parts) const {
    for (std::size_t d = 0; d < parts.size(); ++d)
      if (d >= grid.size() || !is_coordinate(parts[d], grid[d])) return false;
    return true;
  }

  bool is_block(std::string_view key) const {
    std::optional<std::string_view> rest = inside(key);
    if (!rest) return false;
    if (c_prefix) {
      if (grid.empty()) return *rest == "c";
      if (rest->size() < 2 || (*rest)[0] != 'c' || (*rest)[1] != separator) return false;
      rest = rest->substr(2);
    } else if (grid.empty()) {
      return *rest == "0";
    }
    const std::vector<std::string_view> parts = split(*rest, separator);
    return parts.size() == grid.size() && coordinates(parts);
  }

  bool is_folder(std::string_view key) const {
    if (separator != '/') return false;
    const std::optional<std::string_view> rest = inside(key);
    if (!rest) return false;
    std::vector<std::string_view> parts = split(*rest, '/');
    if (c_prefix) {
      if (parts.front() != "c") return false;
      parts.erase(parts.begin());
    } else if (parts.empty()) {
      return false;
    }
    // "c" then up to rank - 1 coordinates, or 1 to rank - 1 coordinates.
    return parts.size() < std::max<std::size_t>(grid.size(), 1) && coordinates(parts);
  }
};

// The keys of a store of ours: node paths (root, arrays, level folders) holding metadata, and the
// arrays' block keys.
class KeySpace {
 public:
  KeySpace(const std::vector<StoreArray>& arrays, const std::vector<std::string>& level_folders) {
    nodes_.insert("");
    for (const StoreArray& array : arrays) {
      keys_.emplace_back(array);
      const std::string& path = array.path;  // the path and its parents
      for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
        nodes_.insert(path.substr(0, slash));
      nodes_.insert(path);
    }
    nodes_.insert(level_folders.begin(), level_folders.end());
  }

  bool is_metadata(std::string_view key) const {
    const std::size_t slash = key.rfind('/');
    const std::string_view folder = slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
    const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
    return std::find(metadata_names.begin(), metadata_names.end(), name) != metadata_names.end() &&
           nodes_.contains(folder);
  }

  bool is_block(std::string_view key) const {
    return std::any_of(keys_.begin(), keys_.end(), [&](const ArrayKeys& a) { return a.is_block(key); });
  }

  bool is_file(std::string_view key) const { return is_metadata(key) || is_block(key); }

  bool is_partial(std::string_view key) const {
    if (key.size() <= partial_suffix_size || !key.ends_with(".partial")) return false;
    const std::size_t dot = key.size() - partial_suffix_size;
    if (key[dot] != '.') return false;
    for (std::size_t i = dot + 1; i < dot + 17; ++i)
      if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'))) return false;
    return is_file(key.substr(0, dot));
  }

  bool is_folder(std::string_view key) const {
    return nodes_.contains(key) ||
           std::any_of(keys_.begin(), keys_.end(), [&](const ArrayKeys& a) { return a.is_folder(key); });
  }

 private:
  std::set<std::string, std::less<>> nodes_;
  std::vector<ArrayKeys> keys_;
};

// The names in the folder `fd` (borrowed; listed from its start) without "." and "..", sorted.
std::vector<std::string> list_folder(int fd, const std::string& path) {
  const int copy = ::dup(fd);
  if (copy < 0) throw IoError(concat("cannot list ", path, ": ", system_message(errno)));
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(copy), &::closedir);
  if (!listing) {
    const int error = errno;
    ::close(copy);
    throw IoError(concat("cannot list ", path, ": ", system_message(error)));
  }
  ::rewinddir(listing.get());  // the copy shares the offset of earlier listings of `fd`
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(listing.get());
    if (entry == nullptr) {
      if (errno != 0) throw IoError(concat("cannot list ", path, ": ", system_message(errno)));
      break;
    }
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

int open_folder(int parent, const char* name) {
  return ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// A small regular file's bytes (metadata), or nullopt when absent, not a regular file, or too big.
std::optional<std::string> read_small_file(int folder, const char* name) {
  const Descriptor fd(::openat(folder, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode) ||
      static_cast<std::size_t>(info.st_size) > max_metadata_bytes)
    return std::nullopt;
  std::string text(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  text.resize(done);
  return text;
}

std::optional<nlohmann::json> read_json(int folder, const char* name) {
  const std::optional<std::string> text = read_small_file(folder, name);
  if (!text) return std::nullopt;
  nlohmann::json document = nlohmann::json::parse(*text, nullptr, false);
  if (document.is_discarded()) return std::nullopt;
  return document;
}

// The array whose metadata the folder holds (v3 zarr.json, else v2 .zarray + .zattrs), if any parses.
std::optional<ArraySpec> declared_array(int folder) {
  try {
    if (const auto v3 = read_json(folder, "zarr.json"))
      if (v3->is_object() && v3->value("node_type", "") == "array") return parse_array_metadata(3, *v3);
    if (const auto v2 = read_json(folder, ".zarray")) {
      const auto attributes = read_json(folder, ".zattrs");
      return parse_array_metadata(2, *v2,
                                  attributes && attributes->is_object() ? *attributes : nlohmann::json::object());
    }
  } catch (const std::exception&) {
    // Metadata we cannot read declares nothing; its file is still metadata by name and place.
  }
  return std::nullopt;
}

bool is_level_folder_name(std::string_view name) { return is_number(name) && name.size() <= 9; }

struct Walk {
  const KeySpace& keys;
  const std::string& root;
  std::size_t files = 0, partial_files = 0, directories = 0, foreign = 0;
  std::vector<std::string> examples;

  void found_foreign(std::string description) {
    ++foreign;
    if (examples.size() < max_examples) examples.push_back(std::move(description));
  }

  // Classifies the entries of the folder `fd` (borrowed) at `prefix` into `node`.
  void folder(int fd, const std::string& prefix, StoreInventory::Entry& node) {
    for (const std::string& name : list_folder(fd, prefix.empty() ? root : root + "/" + prefix)) {
      const std::string key = join(prefix, name);
      struct stat info {};
      if (::fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed while we looked: nothing to classify
        throw IoError(concat("cannot stat ", root, "/", key, ": ", system_message(errno)));
      }
      if (S_ISLNK(info.st_mode)) {
        std::string target(4096, '\0');
        const ssize_t n = ::readlinkat(fd, name.c_str(), target.data(), target.size());
        target.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        found_foreign(concat(key, " -> ", target, " (symbolic link)"));
      } else if (S_ISDIR(info.st_mode)) {
        if (!keys.is_folder(key)) {
          found_foreign(key + "/");
          continue;
        }
        const Descriptor child_fd(open_folder(fd, name.c_str()));
        if (child_fd.get() < 0) throw IoError(concat("cannot open ", root, "/", key, ": ", system_message(errno)));
        StoreInventory::Entry child{name, info.st_ino, true, false, {}};
        folder(child_fd.get(), key, child);
        ++directories;
        node.children.push_back(std::move(child));
      } else if (S_ISREG(info.st_mode) && keys.is_file(key)) {
        ++files;
        node.children.push_back({name, info.st_ino, false, false, {}});
      } else if (S_ISREG(info.st_mode) && keys.is_partial(key)) {
        ++files;
        ++partial_files;
        node.children.push_back({name, info.st_ino, false, true, {}});
      } else {
        found_foreign(S_ISREG(info.st_mode) ? key : key + " (special file)");
      }
    }
  }
};

// Removes the entries of `node` from the folder `fd` (see StoreInventory::remove_owned).
std::size_t remove_entries(int fd, const StoreInventory::Entry& node, const std::string& where, bool partial_only) {
  std::size_t removed = 0;
  for (const StoreInventory::Entry& child : node.children) {
    const std::string path = where + "/" + child.name;
    if (child.directory) {
      const Descriptor child_fd(open_folder(fd, child.name.c_str()));
      struct stat info {};
      if (child_fd.get() < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;  // gone, or no longer a folder
        throw IoError(concat("cannot open ", path, ": ", system_message(errno)));
      }
      if (::fstat(child_fd.get(), &info) != 0 || info.st_ino != child.inode) continue;  // replaced since
      removed += remove_entries(child_fd.get(), child, path, partial_only);
      if (!partial_only && ::unlinkat(fd, child.name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT &&
          errno != ENOTEMPTY && errno != EEXIST)
        throw IoError(concat("cannot remove the folder ", path, ": ", system_message(errno)));
    } else if (!partial_only || child.partial) {
      struct stat info {};
      if (::fstatat(fd, child.name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        throw IoError(concat("cannot stat ", path, ": ", system_message(errno)));
      }
      if (!S_ISREG(info.st_mode) || info.st_ino != child.inode) continue;  // not the file we classified
      if (::unlinkat(fd, child.name.c_str(), 0) != 0) {
        if (errno == ENOENT) continue;
        throw IoError(concat("cannot remove ", path, ": ", system_message(errno)));
      }
      ++removed;
    }
  }
  return removed;
}

// `inner` is `outer` or below it (both absolute and normal).
bool is_within(const fs::path& outer, const fs::path& inner) {
  const std::string a = outer.string(), b = inner.string();
  return a == "/" || b == a || (b.size() > a.size() && b.starts_with(a) && b[a.size()] == '/');
}

// The absolute path `path` names, symbolic links resolved as far as it exists.
fs::path resolved(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error);
  if (error) throw UsageError(concat("cannot resolve the path ", path, ": ", error.message()));
  fs::path result = fs::weakly_canonical(absolute, error);
  if (error) result = absolute.lexically_normal();
  std::string text = result.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

StoreInventory StoreInventory::of(const std::string& root, std::span<const StoreArray> arrays) {
  StoreInventory inventory;
  inventory.root_ = root;
  struct stat info {};
  if (::stat(root.c_str(), &info) != 0) {
    if (errno == ENOENT) return inventory;
    throw IoError(concat("cannot stat ", root, ": ", system_message(errno)));
  }
  check<UsageError>(S_ISDIR(info.st_mode), root, " is not a directory: a Zarr store is one");
  const Descriptor fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw IoError(concat("cannot open ", root, ": ", system_message(errno)));
  inventory.exists_ = true;
  inventory.tree_.directory = true;
  if (::fstat(fd.get(), &info) == 0) inventory.tree_.inode = info.st_ino;

  // The arrays of this write, then those the store's metadata declares at the root and in level folders.
  std::vector<StoreArray> known(arrays.begin(), arrays.end());
  std::vector<std::string> level_folders;
  if (const auto spec = declared_array(fd.get())) known.push_back({"", *spec});
  for (const std::string& name : list_folder(fd.get(), root)) {
    if (!is_level_folder_name(name)) continue;
    const Descriptor level(open_folder(fd.get(), name.c_str()));
    if (level.get() < 0) continue;  // not a folder (or a link): the walk classifies it
    level_folders.push_back(name);
    if (const auto spec = declared_array(level.get())) known.push_back({name, *spec});
  }
  const KeySpace keys(known, level_folders);
  Walk walk{keys, root, 0, 0, 0, 0, {}};
  walk.folder(fd.get(), "", inventory.tree_);
  inventory.files_ = walk.files;
  inventory.partial_files_ = walk.partial_files;
  inventory.directories_ = walk.directories;
  inventory.foreign_count_ = walk.foreign;
  inventory.foreign_examples_ = std::move(walk.examples);
  return inventory;
}

void StoreInventory::require_owned() const {
  if (owned()) return;
  std::string list;
  for (const std::string& example : foreign_examples_) list += (list.empty() ? "" : ", ") + example;
  if (foreign_count_ > foreign_examples_.size()) list += concat(" and ", foreign_count_ - foreign_examples_.size(), " more");
  throw UsageError(concat(root_, " is not a Zarr store written by tilestream: it holds ", foreign_count_,
                          foreign_count_ == 1 ? " entry that is" : " entries that are",
                          " not Zarr metadata, blocks of the arrays written, or partial files of an interrupted "
                          "write (",
                          list, "); nothing was removed or changed: write the store to a new or empty directory"));
}

std::size_t StoreInventory::remove(bool partial_only) const {
  require_owned();
  if (!exists_) return 0;
  const Descriptor fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw IoError(concat("cannot open ", root_, ": ", system_message(errno)));
  struct stat info {};
  check<IoError>(::fstat(fd.get(), &info) == 0 && info.st_ino == tree_.inode, root_,
                 " was replaced by another directory since it was checked; nothing was removed");
  return remove_entries(fd.get(), tree_, root_, partial_only);
}

std::size_t StoreInventory::remove_owned() const { return remove(false); }

std::size_t StoreInventory::remove_partial_files() const { return remove(true); }

void check_output_location(const std::string& output) {
  check<UsageError>(!output.empty(), "the output directory is empty: name a directory for the store");
  struct stat info {};
  if (::lstat(output.c_str(), &info) == 0) {
    if (S_ISLNK(info.st_mode)) {
      check<UsageError>(::stat(output.c_str(), &info) == 0, output,
                        " is a symbolic link to nothing: name a directory for the store");
    }
    check<UsageError>(S_ISDIR(info.st_mode), output, " is ", S_ISREG(info.st_mode) ? "a file" : "not a directory",
                      ": a Zarr store is a directory; name a new directory for the store");
  }
  const fs::path path = resolved(output);
  std::string what;
  std::error_code error;
  const fs::path cwd = fs::current_path(error);
  const char* home = std::getenv("HOME");
  if (path == "/") {
    what = "the root directory";
  } else if (home != nullptr && *home != '\0' && is_within(path, resolved(home))) {
    what = path == resolved(home) ? "the home directory" : "a directory above the home directory";
  } else if (!error && is_within(path, resolved(cwd.string()))) {
    what = path == resolved(cwd.string()) ? "the current directory" : "a directory above the current directory";
  }
  if (what.empty()) return;
  throw UsageError(concat(output, path.string() == output ? "" : concat(" (", path.string(), ")"), " is ", what,
                          ": a store is never written there, as replacing or resuming it could remove files that "
                          "are not the store's; name a new directory for the store"));
}

}  // namespace tilestream::zarr
