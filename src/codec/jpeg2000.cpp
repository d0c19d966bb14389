// JPEG 2000 tiles through OpenJPEG (libopenjp2), from and to memory: the stream callbacks read a span
// and write a vector; the decoded components go straight into the caller's rows.
#include "codec/jpeg2000.hpp"

#include <openjpeg.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::codec {
namespace {

struct CodecDeleter {
  void operator()(opj_codec_t* codec) const { opj_destroy_codec(codec); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* stream) const { opj_stream_destroy(stream); }
};
struct ImageDeleter {
  void operator()(opj_image_t* image) const { opj_image_destroy(image); }
};
using CodecPtr = std::unique_ptr<opj_codec_t, CodecDeleter>;
using StreamPtr = std::unique_ptr<opj_stream_t, StreamDeleter>;
using ImagePtr = std::unique_ptr<opj_image_t, ImageDeleter>;

// What OpenJPEG said through its callbacks, for the message of a failure (its info is chatter).
struct Messages {
  std::string errors, warnings;
  std::string text() const {
    if (!errors.empty()) return concat("OpenJPEG: ", errors);
    if (!warnings.empty()) return concat("OpenJPEG warned: ", warnings);
    return "OpenJPEG gave no reason";
  }
};

void append_message(std::string& to, const char* message) {
  std::string line = message != nullptr ? message : "";
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');  // one line
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.empty() || to.size() > 400) return;  // the first few are the useful ones
  to += concat(to.empty() ? "" : "; ", line);
}

void set_handlers(opj_codec_t* codec, Messages& messages) {
  opj_set_error_handler(
      codec, [](const char* m, void* data) { append_message(static_cast<Messages*>(data)->errors, m); },
      &messages);
  opj_set_warning_handler(
      codec, [](const char* m, void* data) { append_message(static_cast<Messages*>(data)->warnings, m); },
      &messages);
  opj_set_info_handler(
      codec, [](const char*, void*) {}, nullptr);
}

// ---- memory streams ----

struct Reader {
  const std::byte* data;
  std::size_t size, offset;
};

OPJ_SIZE_T read_bytes(void* buffer, OPJ_SIZE_T count, void* user) {
  auto& r = *static_cast<Reader*>(user);
  const std::size_t n = std::min<std::size_t>(count, r.size - r.offset);
  if (n == 0) return static_cast<OPJ_SIZE_T>(-1);  // OpenJPEG's end of stream
  std::memcpy(buffer, r.data + r.offset, n);
  r.offset += n;
  return n;
}

OPJ_OFF_T skip_read(OPJ_OFF_T count, void* user) {
  auto& r = *static_cast<Reader*>(user);
  const auto to =
      std::clamp<OPJ_OFF_T>(static_cast<OPJ_OFF_T>(r.offset) + count, 0, static_cast<OPJ_OFF_T>(r.size));
  const OPJ_OFF_T moved = to - static_cast<OPJ_OFF_T>(r.offset);
  r.offset = static_cast<std::size_t>(to);
  return count != 0 && moved == 0 ? -1 : moved;
}

OPJ_BOOL seek_read(OPJ_OFF_T position, void* user) {
  auto& r = *static_cast<Reader*>(user);
  if (position < 0 || static_cast<std::uint64_t>(position) > r.size) return OPJ_FALSE;
  r.offset = static_cast<std::size_t>(position);
  return OPJ_TRUE;
}

struct Writer {
  std::vector<std::byte> data;
  std::size_t offset = 0;
};

OPJ_SIZE_T write_bytes(void* buffer, OPJ_SIZE_T count, void* user) {
  auto& w = *static_cast<Writer*>(user);
  if (w.data.size() < w.offset + count) w.data.resize(w.offset + count);
  std::memcpy(w.data.data() + w.offset, buffer, count);
  w.offset += count;
  return count;
}

OPJ_OFF_T skip_write(OPJ_OFF_T count, void* user) {
  auto& w = *static_cast<Writer*>(user);
  if (count < 0 && static_cast<std::uint64_t>(-count) > w.offset) return -1;
  w.offset = static_cast<std::size_t>(static_cast<OPJ_OFF_T>(w.offset) + count);
  if (w.data.size() < w.offset) w.data.resize(w.offset);
  return count;
}

OPJ_BOOL seek_write(OPJ_OFF_T position, void* user) {
  auto& w = *static_cast<Writer*>(user);
  if (position < 0) return OPJ_FALSE;
  w.offset = static_cast<std::size_t>(position);
  if (w.data.size() < w.offset) w.data.resize(w.offset);
  return OPJ_TRUE;
}

// ---- decoding ----

constexpr std::uint8_t j2k_signature[] = {0xff, 0x4f, 0xff, 0x51};  // SOC, then SIZ
constexpr std::uint8_t jp2_signature[] = {0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50,
                                          0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a};

template <std::size_t N>
bool starts_with(std::span<const std::byte> src, const std::uint8_t (&signature)[N]) {
  return src.size() >= N && std::memcmp(src.data(), signature, N) == 0;
}

std::string first_bytes(std::span<const std::byte> src) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(src.size(), 4); ++i) {
    const auto b = static_cast<unsigned>(src[i]);
    out += concat(i == 0 ? "" : " ", hex[b >> 4], hex[b & 15]);
  }
  return out.empty() ? "(no bytes)" : out;
}

// A decoded tile, or the part of it around a window: its components cover `area` of the tile.
struct Decoded {
  ImagePtr image;
  TileWindow area;
};

// The tile's components, checked against the tile: `components` of them, each subsampled by a
// (dx, dy) that divides the tile and with samples of at most `dtype`'s bits. Signedness is the
// codestream's: signed samples land as two's complement in the sample's width (the readers pass the
// storage type, uint8 or uint16, for int8 and int16 samples alike). With a `window`, only the area
// around it (widened to the components' subsampling grid) is decoded: OpenJPEG's decode area, whose
// samples equal a whole decode's.
Decoded decode_image(std::span<const std::byte> src, const TileLayout& layout, std::uint32_t components,
                     DType dtype, const TileWindow* window) {
  const bool jp2 = starts_with(src, jp2_signature);
  check<CodecError>(jp2 || starts_with(src, j2k_signature), "JPEG 2000 tile of ", src.size(),
                    " bytes is neither a J2K codestream (FF 4F FF 51) nor a JP2 file: it starts ",
                    first_bytes(src));
  const char* what = jp2 ? "JP2 file" : "J2K codestream";
  Messages messages;
  const CodecPtr codec(opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  check<CodecError>(codec != nullptr, "OpenJPEG: opj_create_decompress failed");
  set_handlers(codec.get(), messages);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  check<CodecError>(opj_setup_decoder(codec.get(), &parameters) != 0,
                    "OpenJPEG: opj_setup_decoder failed: ", messages.text());
  opj_decoder_set_strict_mode(codec.get(),
                              OPJ_TRUE);  // a truncated stream fails, rather than decoding in part
  if (const unsigned threads = default_settings().jpeg2000_threads; threads > 1)
    opj_codec_set_threads(codec.get(),
                          static_cast<int>(threads));  // false without thread support: one thread

  Reader reader{src.data(), src.size(), 0};
  const StreamPtr stream(opj_stream_create(src.size(), OPJ_TRUE));
  check<CodecError>(stream != nullptr, "OpenJPEG: opj_stream_create failed");
  opj_stream_set_user_data(stream.get(), &reader, nullptr);
  opj_stream_set_user_data_length(stream.get(), src.size());
  opj_stream_set_read_function(stream.get(), read_bytes);
  opj_stream_set_skip_function(stream.get(), skip_read);
  opj_stream_set_seek_function(stream.get(), seek_read);

  opj_image_t* raw = nullptr;
  const bool header = opj_read_header(stream.get(), codec.get(), &raw) != 0;
  Decoded out{ImagePtr(raw), TileWindow{0, 0, layout.width, layout.rows}};
  check<CodecError>(header && raw != nullptr, what, " of ", src.size(),
                    " bytes: its header is corrupt or truncated (", messages.text(), ")");
  const opj_image_t& image = *out.image;
  // Checked before decoding, so that a header claiming a huge image costs nothing.
  const std::uint32_t bits = 8 * static_cast<std::uint32_t>(bytes_per_sample(dtype));
  const auto check_components = [&](const TileWindow& area, const char* when) {
    check<CodecError>(
        image.x0 == area.left && image.y0 == area.top && image.x1 == area.right && image.y1 == area.bottom,
        what, " of ", image.x1 - std::min(image.x0, image.x1), " x ", image.y1 - std::min(image.y0, image.y1),
        " pixels at (", image.x0, ", ", image.y0, ") in a tile of ", layout.width, " x ", layout.rows, when);
    check<CodecError>(image.numcomps == components, what, " with ", image.numcomps, " component",
                      image.numcomps == 1 ? "" : "s", " in a tile of ", components, " sample",
                      components == 1 ? "" : "s", " per pixel", when);
    for (std::uint32_t c = 0; c < image.numcomps; ++c) {
      const opj_image_comp_t& comp = image.comps[c];
      check<CodecError>(
          comp.dx >= 1 && comp.dy >= 1 && layout.width % comp.dx == 0 && layout.rows % comp.dy == 0, what,
          ": component ", c, " subsampled ", comp.dx, " x ", comp.dy, " does not divide the ", layout.width,
          " x ", layout.rows, " tile", when);
      const std::uint32_t w = (area.right - area.left) / comp.dx, h = (area.bottom - area.top) / comp.dy;
      check<CodecError>(comp.w == w && comp.h == h, what, ": component ", c, " of ", comp.w, " x ", comp.h,
                        " samples, not ", w, " x ", h, when);
      check<CodecError>(comp.prec >= 1 && comp.prec <= bits, what, ": component ", c, " holds ", comp.prec,
                        "-bit ", comp.sgnd != 0 ? "signed" : "unsigned", " samples, the tile ", bits,
                        "-bit ones", when);
    }
  };
  check_components(out.area, "");
  if (window != nullptr &&
      (window->left > 0 || window->top > 0 || window->right < layout.width || window->bottom < layout.rows)) {
    std::uint32_t step_x = 1,
                  step_y = 1;  // a multiple of every subsampling: the area starts on whole samples
    for (std::uint32_t c = 0; c < image.numcomps; ++c) {
      step_x = std::lcm(step_x, image.comps[c].dx);
      step_y = std::lcm(step_y, image.comps[c].dy);
    }
    const auto up = [](std::uint32_t v, std::uint32_t step) { return (v + step - 1) / step * step; };
    out.area = {window->left - window->left % step_x, window->top - window->top % step_y,
                up(window->right, step_x),
                up(window->bottom, step_y)};  // within the tile: its sides are multiples of every step
    check<CodecError>(
        opj_set_decode_area(codec.get(), out.image.get(), static_cast<OPJ_INT32>(out.area.left),
                            static_cast<OPJ_INT32>(out.area.top), static_cast<OPJ_INT32>(out.area.right),
                            static_cast<OPJ_INT32>(out.area.bottom)) != 0,
        what, ": OpenJPEG refused the decode area (", messages.text(), ")");
  }
  const bool decoded = opj_decode(codec.get(), stream.get(), out.image.get()) != 0 &&
                       opj_end_decompress(codec.get(), stream.get()) != 0;
  check<CodecError>(decoded, what, " of ", src.size(), " bytes is corrupt or truncated (", messages.text(),
                    ")");
  check_components(out.area, " after decoding");  // a JP2 palette or channel definition may have changed them
  for (std::uint32_t c = 0; c < image.numcomps; ++c)
    check<CodecError>(image.comps[c].data != nullptr, what, ": component ", c, " was not decoded");
  return out;
}

// The rows of one component over a decoded area, widened: pixel (x, y) of the tile takes sample
// (x / dx, y / dy), which is at(row(y), x).
struct ComponentRows {
  const OPJ_INT32* data;
  std::uint32_t width, dx, dy, x0, y0;
  const OPJ_INT32* row(std::uint32_t y) const { return data + std::size_t{y / dy - y0} * width; }
  OPJ_INT32 at(const OPJ_INT32* row, std::uint32_t x) const { return row[(dx == 1 ? x : x / dx) - x0]; }
};

ComponentRows rows_of(const opj_image_comp_t& comp, const TileWindow& area) {
  return {comp.data, comp.w, comp.dx, comp.dy, area.left / comp.dx, area.top / comp.dy};
}

template <class T>
void place_components(const Decoded& decoded, std::uint32_t samples, std::byte* dst, std::size_t row_stride) {
  const TileWindow& area = decoded.area;
  for (std::uint32_t c = 0; c < samples; ++c) {
    const ComponentRows comp = rows_of(decoded.image->comps[c], area);
    for (std::uint32_t y = area.top; y < area.bottom; ++y) {
      const OPJ_INT32* in = comp.row(y);
      std::byte* out = dst + y * row_stride + (std::size_t{area.left} * samples + c) * sizeof(T);
      for (std::uint32_t x = area.left; x < area.right; ++x, out += samples * sizeof(T)) {
        const T v = static_cast<T>(comp.at(in, x));  // in range: OpenJPEG clips to the precision
        std::memcpy(out, &v, sizeof v);
      }
    }
  }
}

void decode_components(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                       std::size_t row_stride, const TileWindow* window) {
  check<UnsupportedError>(!is_float(layout.dtype), "JPEG 2000 tiles of ", to_string(layout.dtype),
                          " samples are not supported (8- and 16-bit integers are)");
  const Decoded decoded = decode_image(src, layout, layout.samples, layout.dtype, window);
  // Unsigned casts keep the low bits: a signed sample's two's complement in the sample's width.
  if (bytes_per_sample(layout.dtype) == 1)
    place_components<std::uint8_t>(decoded, layout.samples, dst, row_stride);
  else
    place_components<std::uint16_t>(decoded, layout.samples, dst, row_stride);
}

void check_aperio_layout(const TileLayout& layout) {
  check<UnsupportedError>(layout.dtype == DType::uint8 && layout.samples == 3,
                          "Aperio YCbCr JPEG 2000 tiles hold 3 uint8 samples, not ", layout.samples, " ",
                          to_string(layout.dtype));
}

void decode_aperio_ycbcr(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                         std::size_t row_stride, const TileWindow* window) {
  check_aperio_layout(layout);
  const Decoded decoded = decode_image(src, layout, 3, DType::uint8, window);
  const TileWindow& area = decoded.area;
  const ComponentRows y_rows = rows_of(decoded.image->comps[0], area),
                      cb_rows = rows_of(decoded.image->comps[1], area),
                      cr_rows = rows_of(decoded.image->comps[2], area);
  for (std::uint32_t y = area.top; y < area.bottom; ++y) {
    const OPJ_INT32* luma = y_rows.row(y);
    const OPJ_INT32* cb = cb_rows.row(y);
    const OPJ_INT32* cr = cr_rows.row(y);
    auto* out = reinterpret_cast<std::uint8_t*>(dst + y * row_stride) + std::size_t{area.left} * 3;
    for (std::uint32_t x = area.left; x < area.right; ++x, out += 3) {
      aperio_ycbcr_to_rgb(static_cast<std::uint8_t>(y_rows.at(luma, x)),
                          static_cast<std::uint8_t>(cb_rows.at(cb, x)),
                          static_cast<std::uint8_t>(cr_rows.at(cr, x)), out);
    }
  }
}

// ---- encoding ----

struct Plane {
  std::uint32_t dx = 1, dy = 1;
  std::vector<OPJ_INT32> values;  // (width / dx) x (rows / dy)
};

int resolutions_for(std::uint32_t width, std::uint32_t height) {
  int levels = 1;  // the smallest side must hold 2^(levels - 1) samples
  while (levels < 6 && (std::min(width, height) >> levels) > 0) ++levels;
  return levels;
}

std::vector<std::byte> encode_planes(std::vector<Plane>& planes, const TileLayout& layout, DType dtype,
                                     bool mct, OPJ_COLOR_SPACE space, int quality) {
  check<UsageError>(quality <= 100 && quality != 0,
                    "JPEG 2000 quality must be 1 to 100 (negative: lossless), not ", quality);
  std::vector<opj_image_cmptparm_t> parameters(planes.size());
  for (std::size_t c = 0; c < planes.size(); ++c) {
    opj_image_cmptparm_t& p = parameters[c];
    p.dx = planes[c].dx;
    p.dy = planes[c].dy;
    p.w = layout.width / p.dx;
    p.h = layout.rows / p.dy;
    p.prec = 8 * static_cast<OPJ_UINT32>(bytes_per_sample(dtype));
    p.sgnd = is_signed(dtype) ? 1 : 0;
  }
  const ImagePtr image(opj_image_create(static_cast<OPJ_UINT32>(planes.size()), parameters.data(), space));
  check<CodecError>(image != nullptr, "OpenJPEG: opj_image_create failed for a ", layout.width, " x ",
                    layout.rows, " tile");
  image->x0 = image->y0 = 0;
  image->x1 = layout.width;
  image->y1 = layout.rows;
  std::uint32_t smallest = std::min(layout.width, layout.rows);
  for (std::size_t c = 0; c < planes.size(); ++c) {
    std::copy(planes[c].values.begin(), planes[c].values.end(), image->comps[c].data);
    smallest = std::min({smallest, parameters[c].w, parameters[c].h});
  }

  opj_cparameters_t options;
  opj_set_default_encoder_parameters(&options);
  options.tcp_numlayers = 1;
  options.numresolution = resolutions_for(smallest, smallest);
  options.tcp_mct = mct ? 1 : 0;
  if (quality < 0) {
    options.irreversible = 0;
    options.tcp_rates[0] = 0;  // all the bits
    options.cp_disto_alloc = 1;
  } else {
    options.irreversible = 1;
    options.tcp_distoratio[0] = 25.0F + static_cast<float>(quality) / 4.0F;
    options.cp_fixed_quality = 1;
  }
  Messages messages;
  const CodecPtr codec(opj_create_compress(OPJ_CODEC_J2K));
  check<CodecError>(codec != nullptr, "OpenJPEG: opj_create_compress failed");
  set_handlers(codec.get(), messages);
  check<CodecError>(opj_setup_encoder(codec.get(), &options, image.get()) != 0,
                    "JPEG 2000 encoder setup failed for a ", layout.width, " x ", layout.rows, " tile (",
                    messages.text(), ")");
  Writer writer;
  const StreamPtr stream(opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_FALSE));
  check<CodecError>(stream != nullptr, "OpenJPEG: opj_stream_create failed");
  opj_stream_set_user_data(stream.get(), &writer, nullptr);
  opj_stream_set_write_function(stream.get(), write_bytes);
  opj_stream_set_skip_function(stream.get(), skip_write);
  opj_stream_set_seek_function(stream.get(), seek_write);
  const bool encoded = opj_start_compress(codec.get(), image.get(), stream.get()) != 0 &&
                       opj_encode(codec.get(), stream.get()) != 0 &&
                       opj_end_compress(codec.get(), stream.get()) != 0;
  check<CodecError>(encoded, "JPEG 2000 encoding of a ", layout.width, " x ", layout.rows, " tile failed (",
                    messages.text(), ")");
  return std::move(writer.data);
}

template <class T>
std::vector<Plane> planes_of(std::span<const std::byte> pixels, const TileLayout& layout) {
  std::vector<Plane> planes(layout.samples);
  const std::size_t count = std::size_t{layout.width} * layout.rows;
  for (Plane& p : planes) p.values.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    for (std::uint32_t c = 0; c < layout.samples; ++c) {
      T v;
      std::memcpy(&v, pixels.data() + (i * layout.samples + c) * sizeof(T), sizeof v);
      planes[c].values[i] = v;
    }
  }
  return planes;
}

}  // namespace

void jpeg2000_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                          std::size_t row_stride) {
  decode_components(src, layout, dst, row_stride, nullptr);
}

void jpeg2000_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst) {
  decode_components(src, layout, dst.data(),
                    std::size_t{layout.width} * layout.samples * bytes_per_sample(layout.dtype), nullptr);
}

void jpeg2000_decode_window(std::span<const std::byte> src, const TileLayout& layout,
                            const TileWindow& window, std::byte* dst, std::size_t row_stride) {
  decode_components(src, layout, dst, row_stride, &window);
}

void jpeg2000_ycbcr_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                                std::size_t row_stride) {
  decode_aperio_ycbcr(src, layout, dst, row_stride, nullptr);
}

void jpeg2000_ycbcr_decode(std::span<const std::byte> src, const TileLayout& layout,
                           std::span<std::byte> dst) {
  decode_aperio_ycbcr(src, layout, dst.data(), std::size_t{layout.width} * 3, nullptr);
}

void jpeg2000_ycbcr_decode_window(std::span<const std::byte> src, const TileLayout& layout,
                                  const TileWindow& window, std::byte* dst, std::size_t row_stride) {
  decode_aperio_ycbcr(src, layout, dst, row_stride, &window);
}

std::vector<std::byte> jpeg2000_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                       const EncodeOptions& options) {
  check<UnsupportedError>(!is_float(layout.dtype), "JPEG 2000 tiles of ", to_string(layout.dtype),
                          " samples are not supported (8- and 16-bit integers are)");
  std::vector<Plane> planes;
  switch (layout.dtype) {
    case DType::uint8:
      planes = planes_of<std::uint8_t>(pixels, layout);
      break;
    case DType::int8:
      planes = planes_of<std::int8_t>(pixels, layout);
      break;
    case DType::uint16:
      planes = planes_of<std::uint16_t>(pixels, layout);
      break;
    default:
      planes = planes_of<std::int16_t>(pixels, layout);
      break;
  }
  const bool colour = layout.samples >= 3;
  return encode_planes(planes, layout, layout.dtype, colour, colour ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY,
                       options.jpeg2000_quality);
}

std::vector<std::byte> jpeg2000_ycbcr_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                             const EncodeOptions& options) {
  check_aperio_layout(layout);
  check<UsageError>(layout.width % 2 == 0,
                    "Aperio YCbCr JPEG 2000 tiles subsample chroma 2 x 1: the width must be "
                    "even, not ",
                    layout.width);
  const auto* rgb = reinterpret_cast<const std::uint8_t*>(pixels.data());
  std::vector<Plane> planes(3);
  planes[0].values.resize(std::size_t{layout.width} * layout.rows);
  for (int c : {1, 2}) {
    planes[c].dx = 2;
    planes[c].values.resize(std::size_t{layout.width / 2} * layout.rows);
  }
  const auto to_sample = [](double v) {
    return static_cast<OPJ_INT32>(std::clamp(std::lround(v), 0L, 255L));
  };
  for (std::size_t i = 0; i < planes[0].values.size(); ++i) {
    const std::uint8_t* p = rgb + 3 * i;
    planes[0].values[i] = to_sample(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
  }
  for (std::size_t i = 0; i < planes[1].values.size(); ++i) {
    const std::uint8_t* p = rgb + 6 * i;  // a pair of pixels: their mean colour
    const double r = (p[0] + p[3]) / 2.0, g = (p[1] + p[4]) / 2.0, b = (p[2] + p[5]) / 2.0;
    planes[1].values[i] = to_sample(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
    planes[2].values[i] = to_sample(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
  }
  return encode_planes(planes, layout, DType::uint8, false, OPJ_CLRSPC_SYCC, options.jpeg2000_quality);
}

const char* openjpeg_library_version() { return opj_version(); }

}  // namespace tilestream::codec
