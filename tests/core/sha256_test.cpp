// Sha256: the FIPS 180-4 example messages (empty, "abc", the two-block 448-bit message, a million 'a')
// and the same digest whatever pieces the bytes arrive in.
#include "tilestream/core/sha256.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tilestream/core/error.hpp"

namespace tilestream {
namespace {

struct Vector {
  std::string message;
  const char* digest;
};

TEST(Sha256, KnownDigests) {
  const Vector vectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const Vector& v : vectors) {
    Sha256 hash;
    hash.update(v.message);
    EXPECT_EQ(hash.hex_digest(), v.digest) << v.message.size() << " bytes";
  }
}

TEST(Sha256, PiecesDoNotMatter) {
  std::string message;
  for (int i = 0; i < 3; ++i)
    for (int b = 0; b < 256; ++b) message += static_cast<char>(b);
  for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{55}, std::size_t{64},
                                  std::size_t{65}, std::size_t{700}}) {
    Sha256 hash;
    for (std::size_t at = 0; at < message.size(); at += piece) hash.update(std::string_view(message).substr(at, piece));
    EXPECT_EQ(hash.hex_digest(), "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363") << piece;
  }
}

TEST(Sha256, UpdateAfterDigestIsRefused) {
  Sha256 hash;
  hash.update("abc");
  const std::string first = hash.hex_digest();
  EXPECT_EQ(hash.hex_digest(), first);  // asking twice gives the same digest
  EXPECT_THROW(hash.update("d"), UsageError);
}

}  // namespace
}  // namespace tilestream
