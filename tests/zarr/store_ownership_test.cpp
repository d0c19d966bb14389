// StoreInventory and check_output_location: which entries of a directory are a Zarr store of ours
// (a table of stores and strays), that a refusal changes nothing, that removal takes exactly what was
// classified (races included) and never follows a link, and which output locations are refused.
#include "tilestream/zarr/store_ownership.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

namespace fs = std::filesystem;

// A level array as convert writes it: (y, x, c) 1000 x 1000 x 3 in chunks of 256 (a 4 x 4 x 1 grid).
ArraySpec level_spec(int zarr_format, char separator = '/', std::uint64_t shard = 0) {
  ArraySpec spec;
  spec.zarr_format = zarr_format;
  spec.shape = {1000, 1000, 3};
  spec.chunk_shape = {256, 256, 3};
  if (shard) spec.shard_shape = {shard, shard, 3};
  spec.separator = separator;
  return spec;
}

// Every entry under `root`, links not followed: files by content, folders as "/", fifos as "|", links
// by target.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> entries;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string key = it->path().lexically_relative(root).string();
    if (it->is_symlink()) {
      entries[key] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      entries[key] = "/";
    } else if (it->is_fifo()) {
      entries[key] = "|";
    } else {
      std::ifstream in(it->path(), std::ios::binary);
      entries[key] = std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return entries;
}

// Creates `entries` under `root`: "a/b/" a folder, "x -> target" a symbolic link, "|p" a fifo, else a
// file holding its own name.
void populate(const std::string& root, const std::vector<std::string>& entries) {
  for (const std::string& entry : entries) {
    if (const std::size_t arrow = entry.find(" -> "); arrow != std::string::npos) {
      const fs::path link = fs::path(root) / entry.substr(0, arrow);
      fs::create_directories(link.parent_path());
      fs::create_symlink(entry.substr(arrow + 4), link);
    } else if (entry.starts_with("|")) {
      ASSERT_EQ(::mkfifo((fs::path(root) / entry.substr(1)).c_str(), 0644), 0);
    } else if (entry.ends_with("/")) {
      fs::create_directories(fs::path(root) / entry);
    } else {
      const fs::path file = fs::path(root) / entry;
      fs::create_directories(file.parent_path());
      std::ofstream(file, std::ios::binary) << entry;
    }
  }
}

struct Case {
  const char* name;
  std::vector<StoreArray> arrays;
  std::vector<std::string> entries;
  std::size_t foreign;             // how many entries are not ours
  std::vector<std::string> named;  // what the refusal names (the first few, in name order)
};

const std::vector<Case>& cases() {
  const std::string partial = ".0123456789abcdef.partial";
  static const std::vector<Case> table = {
      {"v3_store_with_leftovers",
       {{"0", level_spec(3)}, {"1", level_spec(3)}},
       {"zarr.json", "0/zarr.json", "0/c/0/0/0", "0/c/3/3/0", "0/c/1/2/0" + partial, "0/c/2/", "1/zarr.json",
        "zarr.json" + partial, "1/c/"},
       0,
       {}},
      {"v2_dot_separator", {{"0", level_spec(2, '.')}},
       {".zgroup", ".zattrs", "0/.zarray", "0/.zattrs", "0/0.0.0", "0/3.3.0", "0/1.1.0" + partial}, 0, {}},
      {"v2_slash_separator", {{"0", level_spec(2, '/')}}, {"0/.zarray", "0/0/0/0", "0/3/1/", "0/2/"}, 0, {}},
      {"v3_dot_separator", {{"0", level_spec(3, '.')}}, {"0/zarr.json", "0/c.0.0.0", "0/c.3.3.0"}, 0, {}},
      {"v3_sharded", {{"0", level_spec(3, '/', 512)}}, {"0/zarr.json", "0/c/1/1/0", "0/c/0/1/0" + partial}, 0, {}},
      {"root_array_of_process", {{"", level_spec(3)}}, {"zarr.json", "c/0/0/0", "c/3/"}, 0, {}},
      {"empty_level_folder_of_an_interrupted_run", {{"0", level_spec(3)}}, {"0/zarr.json", "5/"}, 0, {}},
      {"text_file", {{"0", level_spec(3)}}, {"0/zarr.json", "notes.txt"}, 1, {"notes.txt"}},
      {"sub_folder", {{"0", level_spec(3)}}, {"photos/a.jpg", "photos/b.jpg"}, 1, {"photos/"}},
      {"git_folder", {{"0", level_spec(3)}}, {".git/HEAD", ".git/objects/ab/cdef", "0/zarr.json"}, 1, {".git/"}},
      {"symlink_inside", {{"0", level_spec(3)}}, {"0/zarr.json", "0/c/0/0/0 -> /etc/hostname"}, 1,
       {"0/c/0/0/0 -> /etc/hostname (symbolic link)"}},
      {"symlinked_array_folder", {{"0", level_spec(3)}}, {"0 -> /etc"}, 1, {"0 -> /etc (symbolic link)"}},
      {"fifo", {{"0", level_spec(3)}}, {"|0.fifo"}, 1, {"0.fifo (special file)"}},
      {"block_outside_the_grid", {{"0", level_spec(3)}}, {"0/c/4/0/0", "0/c/0/0/1"}, 2, {"0/c/0/0/1", "0/c/4/"}},
      {"block_key_of_another_encoding", {{"0", level_spec(3)}}, {"0/0.0.0", "0/c.0.0.0", "0/0/"}, 3,
       {"0/0/", "0/0.0.0", "0/c.0.0.0"}},
      {"leading_zero_and_wrong_rank", {{"0", level_spec(3)}}, {"0/c/00/0/0", "0/c/1/1", "0/c/0/0/0/0"}, 3,
       {"0/c/0/0/0/", "0/c/00/", "0/c/1/1"}},
      {"not_our_partial_name", {{"0", level_spec(3)}},
       {"0/c/0/0/0.partial", "0/c/0/0/0.0123456789ABCDEF.partial", "0/c/0/0/0.012345.partial",
        "notes.txt" + partial},
       4,
       {"0/c/0/0/0.012345.partial", "0/c/0/0/0.0123456789ABCDEF.partial", "0/c/0/0/0.partial", "notes.txt" + partial}},
      {"metadata_in_the_wrong_place", {{"0", level_spec(3)}}, {"0/c/zarr.json", "level/zarr.json"}, 2,
       {"0/c/zarr.json", "level/"}},
      {"undeclared_level_with_blocks", {{"0", level_spec(3)}}, {"5/c/0/0/0"}, 1, {"5/c/"}},
      {"many_strays_counted", {{"0", level_spec(3)}}, {"a", "b", "c", "d", "e", "f", "g"}, 7, {"a", "b", "c", "d", "e"}},
  };
  return table;
}

class Inventory : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Inventory, ClassifiesAndRefusesWithoutChangingAnything) {
  const Case& c = cases()[GetParam()];
  SCOPED_TRACE(c.name);
  TempDir dir;
  const std::string root = dir.path() + "/out.zarr";
  fs::create_directories(root);
  populate(root, c.entries);
  const auto before = snapshot(root);
  const StoreInventory inventory = StoreInventory::of(root, c.arrays);
  EXPECT_TRUE(inventory.exists());
  EXPECT_EQ(inventory.foreign_count(), c.foreign);
  EXPECT_EQ(inventory.foreign_examples(), c.named);
  if (c.foreign == 0) {
    EXPECT_TRUE(inventory.owned());
    inventory.remove_owned();
    EXPECT_TRUE(fs::is_directory(root));
    EXPECT_TRUE(snapshot(root).empty()) << "left: " << snapshot(root).begin()->first;
    return;
  }
  EXPECT_FALSE(inventory.owned());
  std::vector<std::string> parts = {root, "is not a Zarr store written by tilestream", "nothing was removed"};
  parts.insert(parts.end(), c.named.begin(), c.named.end());
  if (c.foreign > c.named.size()) parts.push_back(concat("and ", c.foreign - c.named.size(), " more"));
  try {
    inventory.require_owned();
    ADD_FAILURE() << "not refused";
  } catch (const UsageError& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << " lacks " << part;
  }
  EXPECT_THROW(inventory.remove_owned(), UsageError);
  EXPECT_THROW(inventory.remove_partial_files(), UsageError);
  EXPECT_EQ(snapshot(root), before);
}

INSTANTIATE_TEST_SUITE_P(Table, Inventory, ::testing::Range<std::size_t>(0, cases().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return std::string(cases()[info.param].name);
                         });

TEST(StoreInventory, MissingRootIsEmptyAndAFileIsRefused) {
  TempDir dir;
  const StoreArray arrays[] = {{"0", level_spec(3)}};
  const StoreInventory missing = StoreInventory::of(dir.path() + "/none", arrays);
  EXPECT_FALSE(missing.exists());
  EXPECT_TRUE(missing.empty());
  EXPECT_EQ(missing.remove_owned(), 0u);
  std::ofstream(dir.path() + "/file") << "keep";
  expect_error<UsageError>([&] { StoreInventory::of(dir.path() + "/file", arrays); }, {"file", "not a directory"});
}

TEST(StoreInventory, ArraysTheStoreDeclaresAreOurs) {
  // Written with levels 0, 1 and 7 (v2, '.' keys) and a root array; replaced by a run writing only level 0.
  TempDir dir;
  FileStore store(dir.path());
  const ArraySpec v2 = level_spec(2, '.');
  for (const char* path : {"1", "7"}) {
    const ArrayWriter writer(store, path, v2);
    const std::vector<std::uint64_t> coords = {3, 3, 0};
    writer.write_block(coords, writer.encoder().fill_block());
  }
  const ArrayWriter root_array(store, "", level_spec(3));
  const std::vector<std::uint64_t> origin = {0, 0, 0};
  root_array.write_block(origin, root_array.encoder().fill_block());
  populate(dir.path(), {"7/0.1.0.0123456789abcdef.partial"});
  const StoreArray arrays[] = {{"0", level_spec(3)}};
  const StoreInventory inventory = StoreInventory::of(dir.path(), arrays);
  EXPECT_TRUE(inventory.owned()) << inventory.foreign_examples().front();
  EXPECT_EQ(inventory.file_count(), 9u);  // 2 x (.zarray, .zattrs, block), zarr.json, c/0/0/0, the partial file
  EXPECT_EQ(inventory.partial_file_count(), 1u);
  EXPECT_EQ(inventory.remove_owned(), 9u);
  EXPECT_TRUE(snapshot(dir.path()).empty());
  // Blocks outside the declared grid are not the array's.
  const ArrayWriter level1(store, "1", v2);
  populate(dir.path(), {"1/4.0.0"});
  EXPECT_EQ(StoreInventory::of(dir.path(), arrays).foreign_examples(), std::vector<std::string>{"1/4.0.0"});
  // Unreadable metadata declares nothing, though its file is metadata by name and place.
  populate(dir.path(), {"2/zarr.json", "2/c/0/0/0"});
  EXPECT_EQ(StoreInventory::of(dir.path(), arrays).foreign_examples(),
            (std::vector<std::string>{"1/4.0.0", "2/c/"}));
}

TEST(StoreInventory, RemovesPartialFilesOnly) {
  TempDir dir;
  populate(dir.path(), {"0/zarr.json", "0/c/0/0/0", "0/c/0/1/0.0123456789abcdef.partial",
                        "zarr.json.fedcba9876543210.partial", "0/c/3/"});
  const StoreArray arrays[] = {{"0", level_spec(3)}};
  const StoreInventory inventory = StoreInventory::of(dir.path(), arrays);
  EXPECT_EQ(inventory.file_count(), 4u);
  EXPECT_EQ(inventory.partial_file_count(), 2u);
  EXPECT_EQ(inventory.remove_partial_files(), 2u);
  EXPECT_EQ(snapshot(dir.path()), (std::map<std::string, std::string>{{"0", "/"},
                                                                      {"0/c", "/"},
                                                                      {"0/c/0", "/"},
                                                                      {"0/c/0/0", "/"},
                                                                      {"0/c/0/0/0", "0/c/0/0/0"},
                                                                      {"0/c/0/1", "/"},
                                                                      {"0/c/3", "/"},
                                                                      {"0/zarr.json", "0/zarr.json"}}));
}

TEST(StoreInventory, RemovesOnlyWhatItClassified) {
  // Entries that appear, or are replaced, between the walk and the removal stay, with their folders.
  TempDir dir;
  const std::string outside = dir.path() + "/outside";
  populate(dir.path(), {"outside/precious.txt"});
  const std::string root = dir.path() + "/s";
  populate(root, {"0/zarr.json", "0/c/0/0/0", "0/c/0/1/0", "0/c/1/0/0", "0/c/2/2/0", "zarr.json"});
  const StoreArray arrays[] = {{"0", level_spec(3)}};
  const StoreInventory inventory = StoreInventory::of(root, arrays);
  ASSERT_TRUE(inventory.owned());
  populate(root, {"0/c/0/new.txt", "0/c/3/3/0"});  // appeared since
  populate(root, {"0/c/0/1/0.new"});
  fs::rename(root + "/0/c/0/1/0.new", root + "/0/c/0/1/0");  // replaced by another file (inode)
  fs::remove_all(root + "/0/c/2");
  populate(root, {"0/c/2 -> " + outside});  // a folder replaced by a link out of the store
  EXPECT_EQ(inventory.remove_owned(), 4u);  // zarr.json, 0/zarr.json, 0/c/0/0/0, 0/c/1/0/0
  EXPECT_EQ(snapshot(root), (std::map<std::string, std::string>{{"0", "/"},
                                                                {"0/c", "/"},
                                                                {"0/c/0", "/"},
                                                                {"0/c/0/1", "/"},
                                                                {"0/c/0/1/0", "0/c/0/1/0.new"},
                                                                {"0/c/0/new.txt", "0/c/0/new.txt"},
                                                                {"0/c/2", "-> " + outside},
                                                                {"0/c/3", "/"},
                                                                {"0/c/3/3", "/"},
                                                                {"0/c/3/3/0", "0/c/3/3/0"}}));
  EXPECT_EQ(snapshot(outside), (std::map<std::string, std::string>{{"precious.txt", "outside/precious.txt"}}));
}

TEST(StoreInventory, ALinkOutsideTheStoreIsRefusedAndItsTargetSurvives) {
  TempDir dir;
  populate(dir.path(), {"data/keep.txt", "data/sub/deep.txt"});
  const std::string root = dir.path() + "/s";
  populate(root, {"0/zarr.json", "0/c/0/0/0", "0/c/1 -> " + dir.path() + "/data"});
  const auto before = snapshot(dir.path());
  const StoreArray arrays[] = {{"0", level_spec(3)}};
  const StoreInventory inventory = StoreInventory::of(root, arrays);
  EXPECT_EQ(inventory.foreign_examples(),
            std::vector<std::string>{"0/c/1 -> " + dir.path() + "/data (symbolic link)"});
  EXPECT_THROW(inventory.remove_owned(), UsageError);
  EXPECT_EQ(snapshot(dir.path()), before);
}

TEST(StoreInventory, TheRootMayBeALinkToAStore) {
  TempDir dir;
  populate(dir.path(), {"real/0/zarr.json", "real/0/c/0/0/0", "link -> " + dir.path() + "/real"});
  const StoreArray arrays[] = {{"0", level_spec(3)}};
  const StoreInventory inventory = StoreInventory::of(dir.path() + "/link", arrays);
  EXPECT_TRUE(inventory.owned());
  EXPECT_EQ(inventory.remove_owned(), 2u);
  EXPECT_TRUE(fs::is_symlink(dir.path() + "/link"));
  EXPECT_TRUE(fs::is_empty(dir.path() + "/real"));
}

// Runs check_output_location(path) and returns its message, or nullopt when it accepts the path.
std::optional<std::string> refusal(const std::string& path) {
  try {
    check_output_location(path);
    return std::nullopt;
  } catch (const UsageError& e) {
    return std::string(e.what());
  }
}

void expect_refused(const std::string& path, const std::string& reason) {
  const std::optional<std::string> message = refusal(path);
  ASSERT_TRUE(message.has_value()) << path << " accepted";
  EXPECT_NE(message->find(path), std::string::npos) << *message;
  EXPECT_NE(message->find(reason), std::string::npos) << *message << " lacks " << reason;
}

class ScopedHome {
 public:
  explicit ScopedHome(const std::string& home) {
    if (const char* old = std::getenv("HOME")) old_ = old;
    ::setenv("HOME", home.c_str(), 1);
  }
  ~ScopedHome() {
    if (old_)
      ::setenv("HOME", old_->c_str(), 1);
    else
      ::unsetenv("HOME");
  }
  ScopedHome(const ScopedHome&) = delete;
  ScopedHome& operator=(const ScopedHome&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST(CheckOutputLocation, RefusesRootHomeCurrentDirectoryAndFiles) {
  TempDir dir;
  populate(dir.path(), {"home/user/notes.txt", "file.zarr", "store/", "dangling -> " + dir.path() + "/nothing",
                        "to_file -> " + dir.path() + "/file.zarr", "to_home -> " + dir.path() + "/home/user"});
  const ScopedHome home(dir.path() + "/home/user");
  const std::string cwd = fs::current_path().string();
  expect_refused("/", "the root directory");
  expect_refused("//", "the root directory");
  expect_refused(dir.path() + "/home/user", "the home directory");
  expect_refused(dir.path() + "/home/user/", "the home directory");
  expect_refused(dir.path() + "/to_home", "the home directory");              // resolved through a link
  expect_refused(dir.path() + "/home/user/../user", "the home directory");
  expect_refused(dir.path() + "/home", "a directory above the home directory");
  expect_refused(".", "the current directory");
  expect_refused(cwd, "the current directory");
  expect_refused("missing/..", "the current directory");  // resolves to it though "missing" does not exist
  expect_refused("..", "a directory above the current directory");
  expect_refused(fs::path(cwd).parent_path().string(), "a directory above the current directory");
  expect_refused(dir.path() + "/file.zarr", "is a file");
  expect_refused(dir.path() + "/to_file", "is a file");
  expect_refused(dir.path() + "/dangling", "symbolic link to nothing");
  for (const std::string ok : {dir.path() + "/store", dir.path() + "/new.zarr", dir.path() + "/new/deeper.zarr",
                               dir.path() + "/home/user/out.zarr", std::string("new_below_cwd.zarr")})
    EXPECT_EQ(refusal(ok), std::nullopt) << ok;
}

TEST(CheckOutputLocation, AnEmptyOrUnsetHomeProtectsNothingElse) {
  TempDir dir;
  {
    const ScopedHome home("");
    EXPECT_EQ(refusal(dir.path()), std::nullopt);
  }
  const ScopedHome root_home("/");
  EXPECT_EQ(refusal(dir.path()), std::nullopt);  // only "/" itself, which is refused anyway
}

}  // namespace
}  // namespace tilestream::zarr::test
