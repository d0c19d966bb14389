// Zstandard tiles through libzstd's streaming decoder, so that a frame longer than the tile (a writer
// that compressed extra rows) fills the tile and the rest is dropped, as libtiff does.
#include "codec/zstd.hpp"

#include <zstd.h>

#include <memory>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

struct FreeDecoder {
  void operator()(ZSTD_DStream* stream) const { ZSTD_freeDStream(stream); }
};

}  // namespace

void zstd_decode(std::span<const std::byte> src, const TileLayout& /*layout*/, std::span<std::byte> dst) {
  const std::unique_ptr<ZSTD_DStream, FreeDecoder> stream(ZSTD_createDStream());
  check<CodecError>(stream != nullptr, "zstd: cannot make a decoder (out of memory)");
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  ZSTD_outBuffer out{dst.data(), dst.size(), 0};
  while (out.pos < out.size) {
    const std::size_t in_before = in.pos, out_before = out.pos;
    const std::size_t status = ZSTD_decompressStream(stream.get(), &out, &in);
    check<CodecError>(!ZSTD_isError(status), "zstd stream is corrupt: ", ZSTD_getErrorName(status),
                      " (after ", out.pos, " of ", dst.size(), " bytes)");
    if (status == 0 && in.pos == in.size) break;              // the (last) frame ended
    if (in.pos == in_before && out.pos == out_before) break;  // wants input there is not
  }
  check<CodecError>(out.pos == dst.size(), "zstd stream truncated: decoded ", out.pos, " of ", dst.size(),
                    " bytes");
}

std::vector<std::byte> zstd_encode(std::span<const std::byte> data, const TileLayout& /*layout*/,
                                   const EncodeOptions& options) {
  check<UsageError>(options.zstd_level >= 1 && options.zstd_level <= ZSTD_maxCLevel(),
                    "zstd level must be 1 to ", ZSTD_maxCLevel(), ", not ", options.zstd_level);
  std::vector<std::byte> out(ZSTD_compressBound(data.size()));
  const std::size_t size =
      ZSTD_compress(out.data(), out.size(), data.data(), data.size(), options.zstd_level);
  check<CodecError>(!ZSTD_isError(size), "zstd compression failed: ", ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

}  // namespace tilestream::codec
