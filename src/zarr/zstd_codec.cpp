// Zarr "zstd" codec (numcodecs Zstd in v2, zarr v3 zstd): one zstd frame per chunk. Negative
// (fast) levels written by others read as our default (-1) when parsed; they only matter for encoding.
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "tilestream/core/error.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr {

const CompressorCodec& zstd_codec();  // below; registered in compressor.cpp

namespace {

struct ContextDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: creating them per chunk costs more than small chunks' compression.
ZSTD_CCtx* compression_context() {
  thread_local std::unique_ptr<ZSTD_CCtx, ContextDeleter> context(ZSTD_createCCtx());
  check<CodecError>(context != nullptr, "zstd: cannot create a compression context");
  return context.get();
}
ZSTD_DCtx* decompression_context() {
  thread_local std::unique_ptr<ZSTD_DCtx, ContextDeleter> context(ZSTD_createDCtx());
  check<CodecError>(context != nullptr, "zstd: cannot create a decompression context");
  return context.get();
}

std::vector<std::byte> encode(const CompressorSpec& spec, std::size_t, std::span<const std::byte> bytes) {
  std::vector<std::byte> out(ZSTD_compressBound(bytes.size()));
  const std::size_t n = ZSTD_compressCCtx(compression_context(), out.data(), out.size(), bytes.data(),
                                          bytes.size(), effective_level(zstd_codec(), spec));
  check<CodecError>(!ZSTD_isError(n), "zstd compression failed: ", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::vector<std::byte> decode(const CompressorSpec&, std::span<const std::byte> bytes, std::size_t max_size) {
  const unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  check<CodecError>(size != ZSTD_CONTENTSIZE_ERROR, "corrupt zstd data (not a zstd frame, ", bytes.size(),
                    " bytes)");
  check<CodecError>(size == ZSTD_CONTENTSIZE_UNKNOWN || size <= max_size, "corrupt zstd data: the frame claims ",
                    size, " decoded bytes, more than the ", max_size, " expected");
  ZSTD_DCtx* context = decompression_context();
  if (size != ZSTD_CONTENTSIZE_UNKNOWN) {
    std::vector<std::byte> out(static_cast<std::size_t>(size));
    const std::size_t n = ZSTD_decompressDCtx(context, out.data(), out.size(), bytes.data(), bytes.size());
    check<CodecError>(!ZSTD_isError(n), "corrupt zstd data: ", ZSTD_getErrorName(n));
    check<CodecError>(n == out.size(), "corrupt zstd data: decoded ", n, " bytes, frame header says ", size);
    return out;
  }
  // Frames written by streaming encoders do not record their size: decompress as a stream.
  ZSTD_DCtx_reset(context, ZSTD_reset_session_only);
  std::vector<std::byte> out;
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  std::size_t remaining = 1;
  while (in.pos < in.size || remaining != 0) {
    const std::size_t done = out.size();
    check<CodecError>(done < max_size + 1, "corrupt zstd data: decodes to more than the ", max_size,
                      " bytes expected");
    // One byte past the limit is room enough to see a stream that goes beyond it.
    out.resize(std::min(done + std::max<std::size_t>(ZSTD_DStreamOutSize(), done), max_size + 1));
    ZSTD_outBuffer o{out.data() + done, out.size() - done, 0};
    remaining = ZSTD_decompressStream(context, &o, &in);
    check<CodecError>(!ZSTD_isError(remaining), "corrupt zstd data: ", ZSTD_getErrorName(remaining));
    out.resize(done + o.pos);
    if (o.pos == 0 && in.pos == in.size && remaining != 0)
      throw CodecError("corrupt zstd data: truncated frame");
  }
  return out;
}

// v2 and v3 spell the level alike.
CompressorSpec from_json(const nlohmann::json& j) {
  CompressorSpec spec = named_compressor("zstd");
  spec.level = std::max(-1, json_int(j, "level", 3));
  return spec;
}

}  // namespace

const CompressorCodec& zstd_codec() {
  static const CompressorCodec codec{
      .name = "zstd",
      .in_v2 = true,
      .in_v3 = true,
      .has_level = true,
      .default_level = 3,
      .min_level = 0,  // 0: zstd's own default (zarr-python writes it)
      .max_level = 22,
      .encode = encode,
      .decode = decode,
      .to_v2 = [](const CompressorSpec& s) -> nlohmann::json {
        return {{"id", "zstd"}, {"level", effective_level(zstd_codec(), s)}};
      },
      .to_v3 = [](const CompressorSpec& s, std::size_t) -> nlohmann::json {
        return {{"level", effective_level(zstd_codec(), s)}, {"checksum", false}};
      },
      .from_v2 = from_json,
      .from_v3 = from_json,
      .option_syntax = "zstd[:LEVEL]",
      .option_forms = "zstd, zstd:LEVEL (0-22)",
      .parse_option = parse_level_option<zstd_codec>,
  };
  return codec;
}

}  // namespace tilestream::zarr
