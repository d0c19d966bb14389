// Faults on the GPU paths, injected for real: the tilestream binary runs `read --device cuda` (posix
// and O_DIRECT reads into pinned buffers), `convert --device cuda` and `process --device cuda` with
// the LD_PRELOAD shim of tests/faults/fault_shim.c making the slide's reads fail (EIO) or come back
// short, and chunk writes fail (ENOSPC). Each failing run must exit 1 naming the file and the offset,
// leave no file that differs from a clean run's and no partial file, and leave a store that --resume
// completes to equal the clean run byte for byte. cuFile (--io gds) bypasses the shim: not tested here.
// With --fsync, the shim's log shows the store's durability policy applied to every file and folder.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/store_files.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::testing {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int status = -1;     // exit status, -1 when killed by a signal
  std::string errors;  // what it printed on stderr
};

// `text` in single quotes for the shell.
std::string shell_quoted(const std::string& text) {
  std::string out(1, '\'');
  for (const char c : text) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs the CLI with `args` and, where `fault` is not empty, the shim preloaded with those settings
// (TILESTREAM_FAULT_<name>=<value>).
CliRun run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& fault = {}) {
  std::vector<std::string> words{"env"};
  if (!fault.empty()) {
    const char* preloaded = std::getenv("LD_PRELOAD");
    std::string preload = preloaded && *preloaded ? std::string(preloaded) + " " : std::string();
    preload.append(TILESTREAM_FAULT_SHIM_PATH);
    words.push_back(std::string("LD_PRELOAD=").append(shell_quoted(preload)));
    for (const auto& [name, value] : fault)
      words.push_back(std::string("TILESTREAM_FAULT_").append(name).append("=").append(shell_quoted(value)));
  }
  words.push_back(shell_quoted(TILESTREAM_CLI_PATH));
  for (const std::string& arg : args) words.push_back(shell_quoted(arg));
  const std::string err = disk_path("stderr.txt");
  words.push_back("> /dev/null 2>");
  words.push_back(shell_quoted(err));
  std::string command;
  for (const std::string& word : words) command.append(word).push_back(' ');
  const int status = std::system(command.c_str());
  CliRun result;
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.errors = read_text(err);
  fs::remove(err);
  return result;
}

// A 1024 x 1024 uncompressed slide (raw tiles take the device transfer paths), made once per process
// in the current folder (a real disk: O_DIRECT) and removed at exit.
const std::string& slide_path() {
  struct SlideFile {
    std::string path = (fs::current_path() / ("gpu_faults_" + std::to_string(::getpid()) + ".tif")).string();
    SlideFile() {
      const CliRun made = run_cli({"synth", path, "--size", "1024x1024", "--compression", "none", "--threads", "2"});
      if (made.status != 0) throw std::runtime_error("synth failed: " + made.errors);
    }
    ~SlideFile() { fs::remove(path); }
  };
  static const SlideFile slide;
  return slide.path;
}

// The file offset of level 0's tile `n`.
std::uint64_t tile_offset(std::size_t n) {
  const slide::Slide slide = slide::Slide::open(slide_path());
  return slide.level(0).image.tile_offsets.at(n);
}

bool has_partial_files(const std::string& root) {
  if (!fs::exists(root)) return false;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename().string().ends_with(".partial")) return true;
  return false;
}

// Every file of `out` is one of `reference`, with the same bytes.
void expect_no_wrong_file(const std::string& out, const std::map<std::string, std::string>& reference) {
  EXPECT_FALSE(has_partial_files(out)) << out;
  if (!fs::exists(out)) return;
  for (const auto& [key, bytes] : files_of(out)) {
    const auto want = reference.find(key);
    ASSERT_NE(want, reference.end()) << key << ": a file a clean run does not write";
    EXPECT_TRUE(want->second == bytes) << key << ": differs from a clean run";
  }
}

struct StoreCase {
  const char* name;
  std::vector<std::string> args;  // after the slide and the output
  const char* chunks;             // a substring of every chunk file's path below the output
};

const std::vector<StoreCase>& store_cases() {
  static const std::vector<StoreCase> cases = {
      {"convert_raw", {"convert", "--device", "cuda", "--chunk", "256", "--codec", "none"}, "/0/c/"},
      {"convert_zstd", {"convert", "--device", "cuda", "--chunk", "256", "--codec", "zstd"}, "/0/c/"},
      {"process_tiled",
       {"process", "--device", "cuda", "--op", "gaussian:sigma=1.5", "--mode", "tiled", "--chunk", "256", "--codec",
        "none"},
       "/c/"},
      {"process_global",
       {"process", "--device", "cuda", "--op", "sobel", "--mode", "global", "--chunk", "256", "--codec", "zstd"},
       "/c/"},
  };
  return cases;
}

std::vector<std::string> store_args(const StoreCase& c, const std::string& out) {
  std::vector<std::string> args{c.args.front(), slide_path(), out};
  args.insert(args.end(), c.args.begin() + 1, c.args.end());
  args.insert(args.end(), {"--threads", "2"});
  return args;
}

// The fault tests' fixture: a device and the shim (not built in sanitizer builds) or a skip.
template <class Param>
class FaultTest : public CudaTestWithParam<Param> {
 protected:
  void SetUp() override {
    CudaTestWithParam<Param>::SetUp();
    if (this->IsSkipped()) return;
    if (std::string(TILESTREAM_FAULT_SHIM_PATH).empty())
      GTEST_SKIP() << "no fault shim in this build (sanitizer builds have none)";
  }
};

class GpuFaultStore : public FaultTest<std::size_t> {
 protected:
  const StoreCase& c() const { return store_cases()[GetParam()]; }
  void TearDown() override {
    for (const std::string& p : {out_, clean_}) fs::remove_all(p);
  }
  // The clean store; its files by key.
  std::map<std::string, std::string> reference() {
    const CliRun clean = run_cli(store_args(c(), clean_));
    EXPECT_EQ(clean.status, 0) << clean.errors;
    return files_of(clean_);
  }
  void expect_resume_completes(const std::map<std::string, std::string>& reference) {
    std::vector<std::string> args = store_args(c(), out_);
    args.push_back("--resume");
    const CliRun resumed = run_cli(args);
    ASSERT_EQ(resumed.status, 0) << resumed.errors;
    EXPECT_TRUE(files_of(out_) == reference) << "the resumed store differs from a clean run";
  }
  const std::string out_ = disk_path("out.zarr");
  const std::string clean_ = disk_path("clean.zarr");
};

TEST_P(GpuFaultStore, ReadErrorAtATile) {
  const auto want = reference();
  const std::uint64_t offset = tile_offset(6);
  const CliRun r = run_cli(store_args(c(), out_), {{"PATH", slide_path()}, {"OP", "read"}, {"ERROR", "EIO"},
                                                {"OFFSET", std::to_string(offset)}});
  EXPECT_EQ(r.status, 1) << r.errors;
  EXPECT_NE(r.errors.find(slide_path()), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("Input/output error"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("level 0 (IFD 0), tiles from offset"), std::string::npos) << r.errors;
  expect_no_wrong_file(out_, want);
  expect_resume_completes(want);
}

TEST_P(GpuFaultStore, ShortReadsAreCompleted) {
  const auto want = reference();
  const CliRun r = run_cli(store_args(c(), out_), {{"PATH", slide_path()}, {"OP", "read"}, {"ERROR", "short"}});
  ASSERT_EQ(r.status, 0) << r.errors;
  EXPECT_TRUE(files_of(out_) == want) << "short reads changed the store";
}

TEST_P(GpuFaultStore, ChunkWriteNoSpace) {
  const auto want = reference();
  const CliRun r = run_cli(store_args(c(), out_), {{"PATH", fs::path(out_).filename().string() + c().chunks},
                                                {"OP", "write"}, {"ERROR", "ENOSPC"}, {"AFTER", "3"}});
  EXPECT_EQ(r.status, 1) << r.errors;
  EXPECT_NE(r.errors.find("No space left on device"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find(out_), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("at offset"), std::string::npos) << r.errors;
  expect_no_wrong_file(out_, want);
  expect_resume_completes(want);
}

// --fsync is the store's one durability policy on the GPU paths too (zarr/store.hpp): every value's file
// is fsynced before its rename, every folder of the store after the renames into it, and the root's
// entry in its parent. The shim logs each fsync and lets it through.
TEST_P(GpuFaultStore, FsyncPolicy) {
  const std::string log = disk_path("fsync.log");
  fs::remove(log);
  std::vector<std::string> args = store_args(c(), out_);
  args.push_back("--fsync");
  const std::string parent = fs::canonical(fs::path(out_).parent_path()).string();
  const CliRun r = run_cli(args, {{"PATH", parent}, {"OP", "sync"}, {"ERROR", "short"}, {"LOG", log}});
  ASSERT_EQ(r.status, 0) << r.errors;
  std::set<std::string> synced;
  std::istringstream lines(read_text(log));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t start = line.find(' ') + 1;  // "sync <path> offset -1 bytes 0: short"
    std::string path = line.substr(start, line.find(" offset ") - start);
    const std::size_t suffix = 1 + 16 + 8;  // a value's "<file>.<16 hex>.partial" stands for the value
    if (path.ends_with(".partial") && path.size() > suffix) path.resize(path.size() - suffix);
    synced.insert(path);
  }
  fs::remove(log);
  const std::string root = fs::canonical(out_).string();
  std::set<std::string> wanted{root, parent};
  for (const auto& [key, bytes] : files_of(out_)) wanted.insert(root + "/" + key);
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_directory()) wanted.insert(entry.path().string());
  ASSERT_GT(wanted.size(), 6u);
  for (const std::string& path : wanted) EXPECT_TRUE(synced.contains(path)) << path << " was not fsynced";
}

INSTANTIATE_TEST_SUITE_P(Paths, GpuFaultStore, ::testing::Range<std::size_t>(0, 4),
                         [](const ::testing::TestParamInfo<std::size_t>& param) {
                           return std::string(store_cases()[param.param].name);
                         });

// `read --device cuda` with the posix and the O_DIRECT transfers.
class GpuFaultRead : public FaultTest<const char*> {
 protected:
  void TearDown() override {
    for (const std::string& p : {out_, clean_}) fs::remove(p);
  }
  std::vector<std::string> args(const std::string& out) const {
    return {"read", slide_path(), "--level", "0", "--device", "cuda", "--io", GetParam(), "-o", out, "--threads", "2"};
  }
  // The clean read; skips where the file system refuses O_DIRECT.
  std::string reference() {
    const CliRun clean = run_cli(args(clean_));
    if (clean.status != 0 && clean.errors.find("does not support O_DIRECT") != std::string::npos)
      return {};
    EXPECT_EQ(clean.status, 0) << clean.errors;
    return read_text(clean_);
  }
  const std::string out_ = disk_path("out.npy");
  const std::string clean_ = disk_path("clean.npy");
};

TEST_P(GpuFaultRead, ErrorAtATile) {
  if (reference().empty()) GTEST_SKIP() << "the file system of " << slide_path() << " refuses O_DIRECT";
  const std::uint64_t offset = tile_offset(6);
  const CliRun r = run_cli(args(out_), {{"PATH", slide_path()}, {"OP", "read"}, {"ERROR", "EIO"},
                                     {"OFFSET", std::to_string(offset)}});
  EXPECT_EQ(r.status, 1) << r.errors;
  EXPECT_NE(r.errors.find(slide_path()), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("Input/output error"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("level 0 (IFD 0), tiles from offset"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("at offset"), std::string::npos) << r.errors;
  EXPECT_FALSE(fs::exists(out_));
}

TEST_P(GpuFaultRead, ShortReads) {
  const std::string want = reference();
  if (want.empty()) GTEST_SKIP() << "the file system of " << slide_path() << " refuses O_DIRECT";
  const CliRun r = run_cli(args(out_), {{"PATH", slide_path()}, {"OP", "read"}, {"ERROR", "short"}});
  if (std::string(GetParam()) == "posix" || r.status == 0) {
    ASSERT_EQ(r.status, 0) << r.errors;  // the reader reads the rest
    EXPECT_TRUE(read_text(out_) == want);
  } else {
    // O_DIRECT goes on only from an aligned offset: a read that ends short of the request by less
    // than an alignment step is reported (whether one does depends on where the tiles lie).
    EXPECT_EQ(r.status, 1) << r.errors;
    EXPECT_NE(r.errors.find("less than the"), std::string::npos) << r.errors;
    EXPECT_NE(r.errors.find(slide_path()), std::string::npos) << r.errors;
    EXPECT_FALSE(fs::exists(out_));
  }
}

INSTANTIATE_TEST_SUITE_P(Io, GpuFaultRead, ::testing::Values("posix", "direct"),
                         [](const ::testing::TestParamInfo<const char*>& param) { return std::string(param.param); });

}  // namespace
}  // namespace tilestream::testing
