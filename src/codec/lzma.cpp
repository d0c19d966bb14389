// LZMA tiles through liblzma's .xz stream decoder, run until the tile is full (the rest of a longer
// stream is dropped, as libtiff does).
#include "codec/lzma.hpp"

#include <lzma.h>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

const char* reason(lzma_ret status) {
  switch (status) {
    case LZMA_MEM_ERROR:
      return "out of memory";
    case LZMA_MEMLIMIT_ERROR:
      return "memory limit reached";
    case LZMA_FORMAT_ERROR:
      return "not an .xz stream";
    case LZMA_OPTIONS_ERROR:
      return "unsupported options";
    case LZMA_DATA_ERROR:
      return "corrupt data";
    case LZMA_BUF_ERROR:
      return "the stream ends early";
    case LZMA_UNSUPPORTED_CHECK:
      return "unsupported integrity check";
    default:
      return "liblzma error";
  }
}

// Owns a liblzma stream.
class Stream {
 public:
  Stream() = default;
  ~Stream() { lzma_end(&stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  lzma_stream& get() { return stream_; }

 private:
  lzma_stream stream_ = LZMA_STREAM_INIT;
};

}  // namespace

void lzma_decode(std::span<const std::byte> src, const TileLayout& /*layout*/, std::span<std::byte> dst) {
  Stream owner;
  lzma_stream& stream = owner.get();
  // 512 MiB: ample for any preset (preset 9 needs 65 MiB to decode), and a bound a corrupt header that
  // asks for more cannot pass.
  const lzma_ret init = lzma_stream_decoder(&stream, std::uint64_t{512} << 20, LZMA_CONCATENATED);
  check<CodecError>(init == LZMA_OK, "lzma: cannot make a decoder: ", reason(init));
  stream.next_in = reinterpret_cast<const std::uint8_t*>(src.data());
  stream.avail_in = src.size();
  stream.next_out = reinterpret_cast<std::uint8_t*>(dst.data());
  stream.avail_out = dst.size();
  lzma_ret status = LZMA_OK;
  while (stream.avail_out > 0 && status == LZMA_OK) {
    // LZMA_FINISH once all input is given: liblzma then reports a stream that ends short.
    status = lzma_code(&stream, stream.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
  }
  const std::size_t decoded = dst.size() - stream.avail_out;
  if (decoded == dst.size() && (status == LZMA_OK || status == LZMA_STREAM_END)) return;
  if (status == LZMA_STREAM_END || status == LZMA_BUF_ERROR)
    throw CodecError(concat("lzma stream truncated: decoded ", decoded, " of ", dst.size(), " bytes"));
  throw CodecError(
      concat("lzma stream is corrupt: ", reason(status), " (after ", decoded, " of ", dst.size(), " bytes)"));
}

std::vector<std::byte> lzma_encode(std::span<const std::byte> data, const TileLayout& /*layout*/,
                                   const EncodeOptions& options) {
  check<UsageError>(options.lzma_preset >= 0 && options.lzma_preset <= 9, "lzma preset must be 0 to 9, not ",
                    options.lzma_preset);
  std::vector<std::byte> out(lzma_stream_buffer_bound(data.size()));
  std::size_t size = 0;
  const lzma_ret status =
      lzma_easy_buffer_encode(static_cast<std::uint32_t>(options.lzma_preset), LZMA_CHECK_CRC64, nullptr,
                              reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                              reinterpret_cast<std::uint8_t*>(out.data()), &size, out.size());
  check<CodecError>(status == LZMA_OK, "lzma compression failed: ", reason(status));
  out.resize(size);
  return out;
}

}  // namespace tilestream::codec
