// Stores: the streaming write (begin, pieces from several threads, commit or abandon) on FileStore,
// FileStore with fsync and MemoryStore alike; FileStore's atomic puts (no file and no .partial left
// by a failed put or piece), reads; MemoryStore's basics; concurrent puts into one tree. Replacing and
// cleaning a store: store_ownership_test.cpp.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
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
  FileStore store(dir.path() + "/s.zarr", FileStore::Options{.fsync = true});
  EXPECT_TRUE(store.syncs_on_commit());
  EXPECT_FALSE(FileStore(dir.path() + "/t.zarr").syncs_on_commit());
  const std::vector<std::byte> data = test_array(DType::uint8, 100000);
  store.put("x/y", data);
  store.put("zarr.json", as_bytes("{}"));
  EXPECT_EQ(*store.get("x/y"), data);
  EXPECT_EQ(as_string(*store.get("zarr.json")), "{}");
  EXPECT_FALSE(any_partial(store.name()));
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

// The streaming write, on every kind of store: FileStore with and without the fsync policy, and
// MemoryStore. What one store does, the others must do alike.
struct StoreKind {
  const char* name;
  std::function<std::unique_ptr<Store>(const std::string& root)> make;
};

class StreamingWrite : public ::testing::TestWithParam<StoreKind> {
 protected:
  // Files left under the root that are not values (FileStore); none for MemoryStore.
  bool leftovers() const { return fs::exists(dir_.path()) && any_partial(dir_.path()); }
  TempDir dir_;
  std::unique_ptr<Store> store_ = GetParam().make(dir_.path() + "/s.zarr");
};

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xFF);
  return bytes;
}

TEST_P(StreamingWrite, PiecesFromSeveralThreadsThenCommit) {
  const std::size_t piece = 4096, pieces = 16, size = piece * pieces + 123;  // a short last piece
  const std::vector<std::byte> bytes = pattern(size);
  {
    const std::unique_ptr<ValueWriter> value = store_->begin("a/c/0/1", size);
    EXPECT_EQ(value->key(), "a/c/0/1");
    EXPECT_EQ(value->size(), size);
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        // Each thread writes every fourth piece, last first: the offsets decide, not the order.
        for (std::size_t p = pieces + 1; p-- > 0;) {
          if (p % 4 != t) continue;
          const std::size_t offset = p * piece;
          value->write(offset, std::span(bytes).subspan(offset, std::min(piece, size - offset)));
        }
      });
    }
    threads.clear();
    EXPECT_FALSE(store_->exists("a/c/0/1"));  // nothing under the key before the commit
    value->commit();
  }
  EXPECT_EQ(*store_->get("a/c/0/1"), bytes);
  EXPECT_FALSE(leftovers());
}

TEST_P(StreamingWrite, DestroyedWithoutCommitIsAbandoned) {
  store_->put("k", as_bytes("old value"));
  {
    const std::unique_ptr<ValueWriter> value = store_->begin("k", 9);
    value->write(0, as_bytes("new value"));
    const std::unique_ptr<ValueWriter> other = store_->begin("fresh/key", 3);
    other->write(0, as_bytes("abc"));
  }
  EXPECT_EQ(as_string(*store_->get("k")), "old value");
  EXPECT_FALSE(store_->exists("fresh/key"));
  EXPECT_FALSE(leftovers());
}

TEST_P(StreamingWrite, PiecesOutsideTheValueAndShortValuesAreUsageErrors) {
  store_->put("k", as_bytes("old"));
  const std::unique_ptr<ValueWriter> value = store_->begin("k", 10);
  expect_error<UsageError>([&] { value->write(8, as_bytes("abc")); }, {"k", "offset 8", "10 bytes"});
  expect_error<UsageError>([&] { value->write(~std::uint64_t{0}, as_bytes("a")); }, {"k"});
  value->write(0, as_bytes("12345"));
  // The last 5 bytes never came: the commit refuses, naming the key, and the old value stays.
  expect_error<UsageError>([&] { value->commit(); }, {"k", "5 of its 10 bytes"});
  EXPECT_EQ(as_string(*store_->get("k")), "old");
}

TEST_P(StreamingWrite, PutIsOneWholePiece) {
  store_->put("empty", {});
  EXPECT_TRUE(store_->exists("empty"));
  EXPECT_EQ(store_->get("empty")->size(), 0u);
  const std::vector<std::byte> bytes = pattern(70000);
  store_->put("x/y", bytes);
  store_->put("x/y", bytes);  // a second put replaces
  EXPECT_EQ(*store_->get("x/y"), bytes);
  EXPECT_FALSE(leftovers());
}

// The device-write capability: a FileStore's value offers its file, which another writer (cuFile) fills
// by path; a MemoryStore offers none.
TEST_P(StreamingWrite, ValueFileIsOfferedOnlyByStoresOfFiles) {
  const std::unique_ptr<ValueWriter> value = store_->begin("d/0", 6);
  EXPECT_EQ(value->file() != nullptr, store_->values_are_files());
  EXPECT_EQ(store_->values_are_files(), std::string(GetParam().name).starts_with("File"));
  if (!value->file()) return;
  const std::string& path = *value->file();
  EXPECT_TRUE(path.starts_with(dir_.path() + "/s.zarr/d/0.") && path.ends_with(".partial")) << path;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);  // as cuFile would, by path
    out << "device";
  }
  value->commit();
  EXPECT_EQ(as_string(*store_->get("d/0")), "device");
  EXPECT_FALSE(leftovers());
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StreamingWrite,
    ::testing::Values(
        StoreKind{"File", [](const std::string& root) { return std::make_unique<FileStore>(root); }},
        StoreKind{"FileFsync",
                  [](const std::string& root) {
                    return std::make_unique<FileStore>(root, FileStore::Options{.fsync = true});
                  }},
        StoreKind{"Memory", [](const std::string&) { return std::make_unique<MemoryStore>(); }}),
    [](const auto& info) { return std::string(info.param.name); });

// A write that fails (the file size limit: EFBIG) names the value's file and the offset, and the
// abandoned value leaves nothing under its key.
TEST(FileStore, FailedPieceNamesFileAndOffsetAndLeavesNoFile) {
  TempDir dir;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{1000, 1000};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    FileStore store(dir.path(), FileStore::Options{.fsync = true});
    try {
      const std::unique_ptr<ValueWriter> value = store.begin("big/0", 3000);
      value->write(0, std::vector<std::byte>(900, std::byte{1}));
      value->write(2000, std::vector<std::byte>(1000, std::byte{1}));
      _exit(11);  // no error
    } catch (const IoError& e) {
      const std::string message = e.what();
      if (message.find(dir.path() + "/big/0.") == std::string::npos) _exit(12);
      if (message.find("at offset 2000") == std::string::npos) _exit(13);
      if (message.find("too large") == std::string::npos) _exit(14);  // strerror(EFBIG)
    } catch (...) {
      _exit(15);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(count_files(dir.path()), 0u);
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
