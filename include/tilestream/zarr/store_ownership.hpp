// Whether a directory is a Zarr store of ours, and removing exactly what is: the one check behind
// replacing a store, cleaning up after an interrupted write before resuming it, and every other place
// that deletes files from an output directory. Nothing here follows a symbolic link inside the store.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "tilestream/zarr/array.hpp"

namespace tilestream::zarr {

// An array a writer puts into a store: its path ("" for the root) and its spec.
struct StoreArray {
  std::string path;
  ArraySpec spec;
};

// What a directory holds, every entry classified as ours or not. An entry is ours when it is
// - Zarr metadata (.zgroup, .zattrs, .zarray, zarr.json) at the root or at an array's path;
// - a block key of an array: an array being written (`arrays`) or one the store's own metadata
//   declares (at the root, or in a root folder named by a level number: "0", "1", ...), with its
//   separator and key encoding and coordinates inside its grid (chunks, or shards when sharded);
// - a partial file of ours: such a key followed by ".<16 hex digits>.partial" (FileStore's values are
//   io::WriteFiles, which name them so), left by an interrupted write;
// - a folder on the way to such keys (an array's folder, "c", "c/3", "3/1" with '/' separators), empty
//   or not: an interrupted write may leave one empty.
// Anything else is foreign: another file or folder, a symbolic link anywhere (never followed), a
// device, pipe or socket. A foreign folder is reported once and not looked into.
class StoreInventory {
 public:
  // Walks `root` (which may be reached through a symbolic link: the path the user named) without
  // following any link below it. A missing root is an empty inventory. IoError names a folder that
  // cannot be listed; UsageError when `root` exists and is not a directory.
  static StoreInventory of(const std::string& root, std::span<const StoreArray> arrays);

  const std::string& root() const { return root_; }
  bool exists() const { return exists_; }
  bool empty() const { return files_ == 0 && directories_ == 0 && foreign_count_ == 0; }
  // Every entry is ours (also true when empty).
  bool owned() const { return foreign_count_ == 0; }
  std::size_t foreign_count() const { return foreign_count_; }
  // The first entries found that are not ours, relative to the root, in name order: "notes.txt",
  // "photos/" (a folder), "link -> /target (symbolic link)", "pipe (special file)".
  const std::vector<std::string>& foreign_examples() const { return foreign_examples_; }
  std::size_t file_count() const { return files_; }  // files of ours, partial files included
  std::size_t partial_file_count() const { return partial_files_; }
  std::size_t directory_count() const { return directories_; }  // folders of ours below the root

  // Throws UsageError when !owned(), naming the root, the first few foreign entries and their count,
  // and saying that nothing was changed.
  void require_owned() const;
  // Removes what was classified as ours: each file only while it is still the file seen (same inode,
  // still a regular file), then each folder of ours once empty, deepest first; the root stays. An
  // entry that appeared since the walk is left in place, and so is the folder holding it. Call only
  // when owned(). Returns the number of files removed; IoError names a file that cannot be removed.
  std::size_t remove_owned() const;
  // Removes only the partial files of ours (before resuming); returns how many.
  std::size_t remove_partial_files() const;

  struct Entry {
    std::string name;
    ino_t inode = 0;
    bool directory = false;
    bool partial = false;
    std::vector<Entry> children;  // folders: the entries of ours inside, in name order
  };

 private:
  std::size_t remove(bool partial_only) const;

  std::string root_;
  bool exists_ = false;
  Entry tree_;
  std::size_t files_ = 0, partial_files_ = 0, directories_ = 0, foreign_count_ = 0;
  std::vector<std::string> foreign_examples_;
};

// Throws UsageError when `output` must not be a store's directory: it exists and is not a directory
// (a file, a link to a file or to nothing), or it is, or resolves to, the root directory, the home
// directory ($HOME) or a directory above it, or the current directory or a directory above it. Such a
// directory is never written into, let alone replaced or cleaned.
void check_output_location(const std::string& output);

}  // namespace tilestream::zarr
