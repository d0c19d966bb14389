// SharedLibrary, open_first and load_once (the dlopen loading of nvJPEG and nvJPEG2000), with zlib as
// the library that is always there and names that never are.
#include "tilestream/core/shared_library.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tilestream {
namespace {

std::string message_of(const auto& call) {
  try {
    call();
  } catch (const UnsupportedError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SharedLibrary, ResolvesEntryPointsAndNamesWhatIsMissing) {
  const SharedLibrary zlib("libz.so.1", "a zlib library");
  const char* (*version)() = nullptr;
  zlib.resolve("zlibVersion", version);
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(std::string(version()).substr(0, 2), "1.");
  EXPECT_EQ(zlib.find("noSuchEntryPoint"), nullptr);
  void (*missing)() = nullptr;
  const std::string why = message_of([&] { zlib.resolve("noSuchEntryPoint", missing); });
  EXPECT_NE(why.find("libz.so.1 has no noSuchEntryPoint ("), std::string::npos) << why;
  EXPECT_NE(why.find("): not a zlib library, or one too old"), std::string::npos) << why;
  const std::string absent = message_of([] { SharedLibrary("libtilestream-absent.so.9", "x"); });
  EXPECT_EQ(absent.rfind("libtilestream-absent.so.9 could not be loaded (", 0), 0u) << absent;
}

std::string open_name(const std::string& file) { return SharedLibrary(file, "a test library").file(); }

TEST(SharedLibrary, OpenFirstTakesTheSettingElseTheFirstSonameThatOpens) {
  EXPECT_EQ(open_first<std::string>("", "TILESTREAM_X_LIBRARY", {"libabsent.so.1", "libz.so.1"}, "X", "hint",
                                    open_name),
            "libz.so.1");
  EXPECT_EQ(open_first<std::string>("libz.so.1", "TILESTREAM_X_LIBRARY", {"libabsent.so.1"}, "X", "hint", open_name),
            "libz.so.1");
  const std::string set = message_of([] {
    open_first<std::string>("libabsent.so.2", "TILESTREAM_X_LIBRARY", {"libz.so.1"}, "X", "hint", open_name);
  });
  EXPECT_EQ(set.rfind("TILESTREAM_X_LIBRARY=libabsent.so.2: libabsent.so.2 could not be loaded", 0), 0u) << set;
  const std::string none = message_of([] {
    open_first<std::string>("", "TILESTREAM_X_LIBRARY", {"libabsent.so.1", "libabsent.so"}, "X", "install X",
                            open_name);
  });
  EXPECT_EQ(none.rfind("the X library is missing: libabsent.so.1 could not be loaded", 0), 0u) << none;
  EXPECT_NE(none.find("; libabsent.so could not be loaded"), std::string::npos) << none;
  EXPECT_EQ(none.substr(none.size() - 11), "; install X") << none;
}

TEST(SharedLibrary, LoadOnceKeepsTheFirstAttempt) {
  int attempts = 0;
  auto failing = [&]() -> std::string {
    ++attempts;
    throw UnsupportedError(concat("attempt ", attempts));
  };
  for (int k = 0; k < 3; ++k) EXPECT_EQ(message_of([&] { load_once<std::string>(failing); }), "attempt 1");
  EXPECT_EQ(attempts, 1);
  int made = 0;
  auto working = [&] { return std::to_string(++made); };
  EXPECT_EQ(load_once<std::string>(working), "1");
  EXPECT_EQ(load_once<std::string>(working), "1");
  EXPECT_EQ(made, 1);
}

}  // namespace
}  // namespace tilestream
