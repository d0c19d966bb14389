// GPU chunk compression with nvCOMP (zarr::DeviceChunkEncoder). Without a GPU: loading a missing
// library or one without nvCOMP's entry points, TILESTREAM_NVCOMP_LIBRARY, available() explaining
// itself, unsupported specs refused with their reason. With a GPU and nvCOMP: every codec of the table
// the GPU supports encodes chunks of random bytes, a smooth image-like pattern, zeros, 0 and 1 bytes, a
// misaligned chunk and several MiB, in one batch, and the codec table's CPU decoder gives back each
// chunk's bytes.
#include "tilestream/zarr/device_encoder.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "zarr/compressor.hpp"
#include "zarr/nvcomp.hpp"

namespace tilestream::zarr {
namespace {

// A library name dlopen cannot find anywhere.
constexpr const char* missing_library = "libtilestream-no-such-nvcomp.so.6";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string unsupported_message(const std::string& file) {
  try {
    nvcomp::Library library(file);
  } catch (const UnsupportedError& e) {
    return e.what();
  }
  return "";
}

TEST(NvcompLibrary, MissingLibraryIsUnsupportedAndNamed) {
  const std::string message = unsupported_message(missing_library);
  ASSERT_FALSE(message.empty()) << "loaded " << missing_library;
  EXPECT_TRUE(contains(message, missing_library)) << message;
  EXPECT_TRUE(contains(message, "not found (dlopen") || contains(message, "built without nvcomp.h")) << message;
}

TEST(NvcompLibrary, LibraryWithoutNvcompEntryPointsIsUnsupported) {
  // zlib is on every machine that builds tilestream, and has no nvCOMP symbol.
  const std::string message = unsupported_message("libz.so.1");
  ASSERT_FALSE(message.empty());
  EXPECT_TRUE(contains(message, "libz.so.1")) << message;
  EXPECT_TRUE(contains(message, "nvcompGetProperties") || contains(message, "built without nvcomp.h")) << message;
}

// The library is loaded once per process, so the variable is tested in a fresh process.
TEST(NvcompLibrary, EnvironmentVariableNamesTheLibrary) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("TILESTREAM_NVCOMP_LIBRARY", missing_library, 1);
        std::string why;
        const bool ok = DeviceChunkEncoder::available(&why);
        std::cerr << why << std::endl;
        std::exit(ok ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), missing_library);
}

TEST(NvcompLibrary, AvailableAnswersWithoutThrowing) {
  std::string why;
  if (DeviceChunkEncoder::available(&why)) {
    EXPECT_EQ(nvcomp::library().version().rfind("6.", 0), 0u) << nvcomp::library().version();
  } else {
    EXPECT_TRUE(contains(why, "pip install nvidia-libnvcomp-cu13") || contains(why, "built without nvcomp.h") ||
                contains(why, "TILESTREAM_NVCOMP_LIBRARY"))
        << why;
    EXPECT_THROW(DeviceChunkEncoder(named_compressor("zstd"), 1), UnsupportedError);
  }
}

TEST(DeviceChunkEncoderSpecs, UnsupportedSpecsAreRefusedWithTheirReason) {
  try {
    DeviceChunkEncoder encoder(crc32c_spec(), 1);
    FAIL() << "crc32c accepted";
  } catch (const UnsupportedError& e) {
    EXPECT_TRUE(contains(e.what(), DeviceChunkEncoder::gpu_unsupported_reason(crc32c_spec()))) << e.what();
  }
}

std::vector<std::byte> random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> bytes(size);
  for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xFF);
  return bytes;
}

// An RGB-like smooth gradient with a little noise: what slide chunks look like to a compressor.
std::vector<std::byte> image_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    const std::size_t pixel = i / 3;
    const std::size_t x = pixel % 512;
    const std::size_t y = pixel / 512;
    bytes[i] = static_cast<std::byte>((x / 2 + y / 3 + (i % 3) * 40 + (rng() & 3)) & 0xFF);
  }
  return bytes;
}

struct NamedChunk {
  std::string name;
  std::vector<std::byte> bytes;
  std::size_t device_offset = 0;  // into its device allocation: 1 makes it misaligned
};

std::vector<NamedChunk> test_chunks() {
  return {
      {"random 64 KiB", random_bytes(std::size_t{64} << 10, 1)},
      {"image 768 KiB", image_bytes(std::size_t{768} << 10, 2)},
      {"zeros 1 MiB", std::vector<std::byte>(std::size_t{1} << 20)},
      {"empty", {}},
      {"one byte", {std::byte{42}}},
      {"127 bytes", image_bytes(127, 3)},
      {"image misaligned 100001", image_bytes(100001, 4), 1},
      {"image 6 MiB + 5", image_bytes((std::size_t{6} << 20) + 5, 5)},
      {"random 1 MiB + 3", random_bytes((std::size_t{1} << 20) + 3, 6)},
  };
}

struct SpecCase {
  std::string name;
  CompressorSpec spec;
  std::size_t typesize = 1;
};

std::vector<SpecCase> spec_cases() {
  std::vector<SpecCase> cases;
  auto level = [](const char* name, int value) {
    CompressorSpec spec = named_compressor(name);
    spec.level = value;
    return spec;
  };
  for (const CompressorCodec* codec : compressor_codecs()) {
    const CompressorSpec spec = named_compressor(std::string(codec->name));
    cases.push_back({std::string(codec->name), spec, 2});
  }
  cases.push_back({"zstd_level_19", level("zstd", 19), 1});
  cases.push_back({"gzip_level_0", level("gzip", 0), 1});
  cases.push_back({"gzip_level_1", level("gzip", 1), 1});
  cases.push_back({"gzip_level_9", level("gzip", 9), 1});
  cases.push_back({"zlib_level_1", level("zlib", 1), 1});
#if TILESTREAM_WITH_BLOSC
  auto blosc = [](const char* cname, int shuffle, int clevel) {
    CompressorSpec spec = named_compressor("blosc");
    spec.level = clevel;
    spec.settings = {{"cname", cname}, {"shuffle", shuffle}};
    return spec;
  };
  for (const char* cname : {"lz4", "lz4hc", "zstd", "zlib"}) {
    cases.push_back({std::string("blosc_") + cname + "_noshuffle", blosc(cname, 0, 5), 1});
    cases.push_back({std::string("blosc_") + cname + "_shuffle_4", blosc(cname, 1, 5), 4});
  }
  cases.push_back({"blosc_zstd_shuffle_3", blosc("zstd", 1, 9), 3});
  cases.push_back({"blosc_lz4_clevel_0", blosc("lz4", 1, 0), 2});
  cases.push_back({"blosc_bitshuffle", blosc("lz4", 2, 5), 2});
  cases.push_back({"blosc_blosclz", blosc("blosclz", 1, 5), 2});
#endif
  return cases;
}

// GPU tests: skip where there is no device or nvCOMP cannot be loaded, saying why.
class DeviceChunkEncoderGpu : public testing::CudaTestWithParam<SpecCase> {
 protected:
  void SetUp() override {
    testing::CudaTestWithParam<SpecCase>::SetUp();
    if (IsSkipped()) return;
    std::string why;
    if (!DeviceChunkEncoder::available(&why)) GTEST_SKIP() << "nvCOMP not available: " << why;
  }
};

TEST_P(DeviceChunkEncoderGpu, CpuCodecDecodesEveryChunk) {
  const SpecCase& c = GetParam();
  const std::string reason = DeviceChunkEncoder::gpu_unsupported_reason(c.spec, c.typesize);
  if (!reason.empty()) {
    try {
      DeviceChunkEncoder encoder(c.spec, c.typesize);
      FAIL() << c.name << " accepted although: " << reason;
    } catch (const UnsupportedError& e) {
      EXPECT_TRUE(contains(e.what(), reason)) << e.what();
    }
    return;
  }
  const std::vector<NamedChunk> chunks = test_chunks();
  cuda::Stream stream;
  std::vector<cuda::DeviceBuffer> buffers;
  std::vector<DeviceChunkEncoder::Chunk> inputs;
  for (const NamedChunk& chunk : chunks) {
    buffers.emplace_back(chunk.bytes.size() + chunk.device_offset + 1, stream);
    cuda::copy_to_device(buffers.back(), chunk.bytes, stream, chunk.device_offset);
    inputs.push_back({buffers.back().data() + chunk.device_offset, chunk.bytes.size()});
  }
  DeviceChunkEncoder encoder(c.spec, c.typesize);
  const CompressorCodec& codec = *find_compressor(c.spec.name);
  // Twice: the second call reuses the first one's buffers.
  for (int round = 0; round < 2; ++round) {
    const std::vector<std::vector<std::byte>> encoded = encoder.encode(inputs, stream);
    ASSERT_EQ(encoded.size(), chunks.size());
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      std::vector<std::byte> decoded;
      try {
        decoded = codec.decode(c.spec, encoded[i], chunks[i].bytes.size());
      } catch (const Error& e) {
        ADD_FAILURE() << c.name << ", " << chunks[i].name << ": " << e.what();
        continue;
      }
      EXPECT_TRUE(decoded == chunks[i].bytes) << c.name << ", " << chunks[i].name << ": decoded " << decoded.size()
                                              << " bytes, expected " << chunks[i].bytes.size();
      if (chunks[i].name.rfind("zeros", 0) == 0) {
        EXPECT_LT(encoded[i].size(), chunks[i].bytes.size() / 4) << c.name << ", " << chunks[i].name;
      }
    }
    if (round == 0) {
      std::cout << c.name << ":";
      for (std::size_t i = 0; i < chunks.size(); ++i) std::cout << " " << chunks[i].bytes.size() << "->" << encoded[i].size();
      std::cout << std::endl;
    }
  }
  // A batch of one and an empty batch.
  EXPECT_EQ(encoder.encode(std::span(inputs).first(1), stream).size(), 1u);
  EXPECT_TRUE(encoder.encode({}, stream).empty());
}

TEST_P(DeviceChunkEncoderGpu, ChunksOverNvcompsLimitAreNamed) {
  const SpecCase& c = GetParam();
  if (c.spec.name != "zstd" || c.typesize != 2) GTEST_SKIP() << "zstd only (its 16 MiB limit)";
  cuda::Stream stream;
  const std::size_t big = (std::size_t{16} << 20) + 1;
  cuda::DeviceBuffer buffer(big, stream);
  buffer.fill(0, stream);
  DeviceChunkEncoder encoder(c.spec, c.typesize);
  const std::vector<DeviceChunkEncoder::Chunk> inputs{{buffer.data(), 10}, {buffer.data(), big}};
  try {
    encoder.encode(inputs, stream);
    FAIL() << "a chunk of " << big << " bytes was accepted";
  } catch (const UnsupportedError& e) {
    EXPECT_TRUE(contains(e.what(), "chunk 1 (")) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, DeviceChunkEncoderGpu, ::testing::ValuesIn(spec_cases()),
                         [](const ::testing::TestParamInfo<SpecCase>& param) { return param.param.name; });

}  // namespace
}  // namespace tilestream::zarr
