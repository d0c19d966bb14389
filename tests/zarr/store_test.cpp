// Stores: FileStore's atomic puts (no file and no .partial left by a failed put), reads; MemoryStore's
// basics; concurrent puts into one tree. Replacing and cleaning a store: store_ownership_test.cpp.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "tilestream/zarr/store.hpp"
#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

namespace fs = std::filesystem;

std::size_t count_files(const std::string& root) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) ++n;
  return n;
}

bool any_partial(const std::string& root) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().string().ends_with(".partial")) return true;
  return false;
}

TEST(FileStore, PutGetOverwriteEraseAndNestedKeys) {
  TempDir dir;
  FileStore store(dir.path() + "/root.zarr/");
  EXPECT_TRUE(store.is_empty());
  EXPECT_EQ(store.name(), dir.path() + "/root.zarr");
  EXPECT_FALSE(store.get("a/b/c/0.0").has_value());
  EXPECT_FALSE(store.exists("a/b/c/0.0"));
  store.put("a/b/c/0.0", as_bytes("first"));
  EXPECT_TRUE(store.exists("a/b/c/0.0"));
  EXPECT_FALSE(store.exists("a/b"));  // a directory is not a value
  EXPECT_EQ(as_string(*store.get("a/b/c/0.0")), "first");
  store.put("a/b/c/0.0", as_bytes("second, longer"));
  EXPECT_EQ(as_string(*store.get("a/b/c/0.0")), "second, longer");
  store.put("empty", {});
  EXPECT_EQ(store.get("empty")->size(), 0u);
  EXPECT_FALSE(store.is_empty());
  EXPECT_EQ(count_files(store.name()), 2u);
  store.erase("a/b/c/0.0");
  store.erase("a/b/c/0.0");  // erasing a missing key is fine
  EXPECT_FALSE(store.get("a/b/c/0.0").has_value());
  EXPECT_FALSE(any_partial(store.name()));
}

TEST(FileStore, FsyncOptionWritesTheSameBytes) {
  TempDir dir;
  FileStore store(dir.path(), FileStore::Options{.fsync = true});
  const std::vector<std::byte> data = test_array(DType::uint8, 100000);
  store.put("x/y", data);
  EXPECT_EQ(*store.get("x/y"), data);
}

TEST(FileStore, SyncDirectoriesReachesNestedFoldersAndNamesAMissingRoot) {
  TempDir dir;
  FileStore store(dir.path() + "/s.zarr", FileStore::Options{.fsync = true});
  EXPECT_TRUE(store.fsync());
  store.put("c/0/1", as_bytes("chunk"));
  store.put("zarr.json", as_bytes("{}"));
  store.sync_directories();
  EXPECT_EQ(as_string(*store.get("c/0/1")), "chunk");
  fs::remove_all(store.name());
  try {
    store.sync_directories();
    FAIL() << "a missing root was synced";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(store.name()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(FileStore(dir.path() + "/t.zarr").fsync());
}

TEST(FileStore, RejectsKeysThatLeaveTheRoot) {
  TempDir dir;
  FileStore store(dir.path());
  for (const char* key : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/"})
    expect_error<UsageError>([&] { store.put(key, as_bytes("x")); }, {"invalid key"});
}

TEST(FileStore, FailedPutLeavesNoFileAndNoPartial) {
  TempDir dir;
  FileStore store(dir.path());
  fs::create_directories(dir.path() + "/arr/0.0");  // the target name is taken by a directory
  expect_error<IoError>([&] { store.put("arr/0.0", as_bytes("data")); },
                        {dir.path() + "/arr/0.0", "cannot rename"});
  EXPECT_FALSE(any_partial(dir.path()));
  EXPECT_EQ(count_files(dir.path()), 0u);
  // A parent that is a file: the directory cannot be created.
  store.put("file", as_bytes("x"));
  expect_error<IoError>([&] { store.put("file/0.0", as_bytes("data")); }, {"cannot create directory"});
  EXPECT_FALSE(any_partial(dir.path()));
}

TEST(FileStore, FileSizeLimitFailsWithEFBIGAndCleansUp) {
  // In a child: RLIMIT_FSIZE of 1000 bytes with SIGXFSZ ignored makes write() fail with EFBIG.
  TempDir dir;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{1000, 1000};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    FileStore store(dir.path());
    try {
      store.put("big/0", std::vector<std::byte>(5000, std::byte{1}));
      _exit(11);  // no error
    } catch (const IoError& e) {
      const std::string message = e.what();
      if (message.find(dir.path() + "/big/0") == std::string::npos) _exit(12);
      if (message.find("too large") == std::string::npos) _exit(13);  // strerror(EFBIG)
    } catch (...) {
      _exit(14);
    }
    store.put("small", std::vector<std::byte>(500, std::byte{1}));  // small values still work
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(dir.path() + "/big/0"));
  EXPECT_FALSE(any_partial(dir.path()));
  EXPECT_EQ(count_files(dir.path()), 1u);
}

TEST(FileStore, ConcurrentPutsIntoOneTree) {
  TempDir dir;
  FileStore store(dir.path());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string value = std::to_string(t * 1000 + i);
        store.put("x/c/" + std::to_string(i % 5) + "/" + std::to_string(t) + "/" + std::to_string(i),
                  as_bytes(value));
        store.put("shared", as_bytes(value));
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(count_files(dir.path()), 8u * 50 + 1);
  EXPECT_EQ(as_string(*store.get("x/c/3/6/48")), "6048");
  EXPECT_FALSE(any_partial(dir.path()));
}

TEST(MemoryStore, PutGetEraseKeys) {
  MemoryStore store;
  EXPECT_EQ(store.name(), "<memory>");
  store.put("b", as_bytes("2"));
  store.put("a/x", as_bytes("1"));
  store.put("b", as_bytes("3"));
  EXPECT_EQ(store.keys(), (std::vector<std::string>{"a/x", "b"}));
  EXPECT_EQ(as_string(*store.get("b")), "3");
  EXPECT_TRUE(store.exists("a/x"));
  store.erase("a/x");
  EXPECT_FALSE(store.exists("a/x"));
  EXPECT_FALSE(store.get("a/x").has_value());
}

}  // namespace
}  // namespace tilestream::zarr::test
