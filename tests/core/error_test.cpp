// Errors name the library's options by name (what()) and a front end spells them its own way
// (render_options), through rethrow_with_context too.
#include "tilestream/core/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tilestream {
namespace {

std::string as_flag(std::string_view name) {
  std::string flag = "--" + std::string(name);
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

TEST(ErrorOptions, WhatNamesTheOptionAndAFrontEndSpellsIt) {
  const UsageError e(concat(option("shard"), " (100) must be a multiple of ", option("chunk"), " (64)"));
  EXPECT_STREQ(e.what(), "shard (100) must be a multiple of chunk (64)");
  EXPECT_EQ(render_options(e, &as_flag), "--shard (100) must be a multiple of --chunk (64)");
  try {
    rethrow_with_context(UsageError(concat(option("zarr_version"), " must be 2 or 3")), "slide.tif");
  } catch (const UsageError& outer) {
    EXPECT_STREQ(outer.what(), "slide.tif: zarr_version must be 2 or 3");
    EXPECT_EQ(render_options(outer, &as_flag), "slide.tif: --zarr-version must be 2 or 3");
  }
  const IoError plain("no options here");
  EXPECT_EQ(render_options(plain, &as_flag), "no options here");
}

}  // namespace
}  // namespace tilestream
