// JPEG decoding and encoding with libjpeg. libjpeg reports errors through a callback that must not
// return; ours longjmp()s back to the function that called setjmp(). Those functions hold only C
// objects (no destructors are skipped) and report failure through a plain struct; the C++ wrappers
// around them throw.
#include "codec/jpeg.hpp"

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <new>

#include <jpeglib.h>
// jerror.h after jpeglib.h: it needs its types.
#include <jerror.h>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

// What a libjpeg call sequence ended with.
struct JpegStatus {
  enum Kind { ok, codec_error, unsupported } kind = ok;
  const char* stage = "";  // "JPEGTables: " while the tables are read, so errors say which stream failed
  char message[JMSG_LENGTH_MAX + 64] = {};
};

struct ErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  JpegStatus* status;
};

[[noreturn]] void fail(j_common_ptr cinfo) {
  auto* manager = reinterpret_cast<ErrorManager*>(cinfo->err);
  char buffer[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buffer);
  std::snprintf(manager->status->message, sizeof manager->status->message, "%s%s", manager->status->stage,
                buffer);
  manager->status->kind = cinfo->err->msg_code == JERR_BAD_PRECISION ? JpegStatus::unsupported
                                                                      : JpegStatus::codec_error;
  std::longjmp(manager->jump, 1);
}

extern "C" void on_error_exit(j_common_ptr cinfo) { fail(cinfo); }

// Warnings (level -1: corrupt data, premature end...) are errors: libjpeg would otherwise fill
// the rest of a damaged tile with grey and report success. Trace messages are ignored.
extern "C" void on_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) fail(cinfo);
}

void install_error_manager(ErrorManager& manager, JpegStatus& status) {
  jpeg_std_error(&manager.pub);
  manager.pub.error_exit = on_error_exit;
  manager.pub.emit_message = on_emit_message;
  manager.status = &status;
}

void set_failure(JpegStatus& status, JpegStatus::Kind kind, const char* message) {
  status.kind = kind;
  std::snprintf(status.message, sizeof status.message, "%s", message);
}

// ---- decoding -------------------------------------------------------------------------------

struct DecodeJob {
  const unsigned char* tables;
  unsigned long tables_size;
  const unsigned char* data;
  unsigned long data_size;
  std::uint32_t width;
  std::uint32_t rows;
  std::uint32_t samples;
  std::uint16_t photometric;
  unsigned char* out;
  std::size_t out_row_stride;  // bytes from one output row to the next
  TileWindow window;           // what the caller needs; the whole tile when empty
  unsigned scale_denom;        // libjpeg's DCT scaling: output at 1/scale_denom
};

void run_decode(const DecodeJob& job, JpegStatus& status) {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  install_error_manager(errors, status);
  cinfo.err = &errors.pub;
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  jpeg_create_decompress(&cinfo);
  if (job.tables_size > 0) {
    jpeg_mem_src(&cinfo, job.tables, job.tables_size);
    status.stage = "JPEGTables: ";
    const int tables = jpeg_read_header(&cinfo, FALSE);
    status.stage = "";
    if (tables != JPEG_HEADER_TABLES_ONLY) {
      set_failure(status, JpegStatus::codec_error, "JPEGTables is not a tables-only JPEG stream");
      jpeg_destroy_decompress(&cinfo);
      return;
    }
  }
  jpeg_mem_src(&cinfo, job.data, job.data_size);
  jpeg_read_header(&cinfo, TRUE);

  if (static_cast<std::uint32_t>(cinfo.num_components) != job.samples) {
    std::snprintf(status.message, sizeof status.message,
                  "JPEG has %d components, the tile has %u samples per pixel", cinfo.num_components,
                  static_cast<unsigned>(job.samples));
    status.kind = JpegStatus::codec_error;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  if (cinfo.num_components == 3) {
    // TIFF decides the colour space, not JFIF/Adobe markers (which TIFF JPEG usually lacks).
    cinfo.jpeg_color_space = job.photometric == photometric::ycbcr ? JCS_YCbCr : JCS_RGB;
    cinfo.out_color_space = JCS_RGB;
  } else if (cinfo.num_components == 1) {
    cinfo.jpeg_color_space = JCS_GRAYSCALE;
    cinfo.out_color_space = JCS_GRAYSCALE;
  }
  cinfo.scale_num = 1;
  cinfo.scale_denom = job.scale_denom;
  jpeg_start_decompress(&cinfo);

  if (cinfo.output_width != job.width || cinfo.output_height < job.rows ||
      static_cast<std::uint32_t>(cinfo.output_components) != job.samples) {
    std::snprintf(status.message, sizeof status.message,
                  "JPEG frame is %u x %u x %d, the tile is %u x %u x %u (width x rows x samples)",
                  static_cast<unsigned>(cinfo.output_width), static_cast<unsigned>(cinfo.output_height),
                  cinfo.output_components, static_cast<unsigned>(job.width), static_cast<unsigned>(job.rows),
                  static_cast<unsigned>(job.samples));
    status.kind = JpegStatus::codec_error;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  const std::size_t stride = job.out_row_stride;
  // A window: one MCU of margin on every side, since cropping and skipping leave the upsampling
  // context at their edges to blocks they do not decode; the margin keeps those edges outside it.
  JDIMENSION left = 0, end_row = job.rows;
  const TileWindow& w = job.window;
  if (w.right > w.left && w.bottom > w.top) {
    const auto mcu_width = static_cast<JDIMENSION>(cinfo.max_h_samp_factor * DCTSIZE);
    const auto mcu_height = static_cast<JDIMENSION>(cinfo.max_v_samp_factor * DCTSIZE);
    left = w.left > mcu_width ? w.left - mcu_width : 0;
    JDIMENSION width = std::min<JDIMENSION>(w.right + mcu_width, job.width) - left;
#if defined(LIBJPEG_TURBO_VERSION_NUMBER)
    if (width < cinfo.output_width) jpeg_crop_scanline(&cinfo, &left, &width);  // left moves to an MCU edge
    const JDIMENSION top = w.top > mcu_height ? w.top - mcu_height : 0;
    if (top > 0 && jpeg_skip_scanlines(&cinfo, top) != top) {
      set_failure(status, JpegStatus::codec_error, "JPEG decoder skipped fewer rows than asked");
      jpeg_destroy_decompress(&cinfo);
      return;
    }
#else
    left = 0;  // plain libjpeg: no cropping or skipping, the rows above are decoded too
    (void)width;
#endif
    end_row = std::min<JDIMENSION>(w.bottom + mcu_height, job.rows);
  }
  const std::size_t column_offset = static_cast<std::size_t>(left) * job.samples;
  constexpr int max_batch = 16;
  JSAMPROW rows[max_batch];
  while (cinfo.output_scanline < end_row) {
    const JDIMENSION first = cinfo.output_scanline;
    JDIMENSION batch = end_row - first;
    if (batch > static_cast<JDIMENSION>(max_batch)) batch = max_batch;
    for (JDIMENSION i = 0; i < batch; ++i) rows[i] = job.out + (first + i) * stride + column_offset;
    if (jpeg_read_scanlines(&cinfo, rows, batch) == 0) {
      // Only a suspending data source returns 0; ours never should.
      set_failure(status, JpegStatus::codec_error, "JPEG decoder returned no scanlines");
      jpeg_destroy_decompress(&cinfo);
      return;
    }
  }
  // Rows past job.rows (the padding of a last strip) are not decoded: abort, not finish.
  jpeg_destroy_decompress(&cinfo);
}

// ---- encoding -------------------------------------------------------------------------------

// A destination manager appending to a std::vector owned by the caller of the setjmp function.
struct VectorDestination {
  jpeg_destination_mgr pub;  // first member
  std::vector<std::byte>* out;
};

// Grows the buffer to `size`; on allocation failure raises a libjpeg error (outside the catch).
void grow(j_compress_ptr cinfo, std::size_t size) {
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  bool failed = false;
  try {
    dest->out->resize(size);
  } catch (const std::bad_alloc&) {
    failed = true;
  }
  if (failed) {
    cinfo->err->msg_code = JERR_OUT_OF_MEMORY;
    cinfo->err->msg_parm.i[0] = 0;
    (*cinfo->err->error_exit)(reinterpret_cast<j_common_ptr>(cinfo));
  }
}

extern "C" void dest_init(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  dest->out->clear();
  grow(cinfo, 64 * 1024);
  dest->pub.next_output_byte = reinterpret_cast<JOCTET*>(dest->out->data());
  dest->pub.free_in_buffer = dest->out->size();
}

extern "C" boolean dest_empty(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  const std::size_t used = dest->out->size();  // libjpeg only calls this when the buffer is full
  grow(cinfo, used * 2);
  dest->pub.next_output_byte = reinterpret_cast<JOCTET*>(dest->out->data()) + used;
  dest->pub.free_in_buffer = dest->out->size() - used;
  return TRUE;
}

extern "C" void dest_term(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  dest->out->resize(dest->out->size() - dest->pub.free_in_buffer);  // shrinking never throws
}

struct EncodeJob {
  const unsigned char* pixels;  // nullptr: write the tables-only stream
  std::uint32_t width;
  std::uint32_t rows;
  std::uint32_t samples;
  int quality;
  bool ycbcr;
  std::array<std::uint8_t, 2> sampling;  // luma factors of YCbCr
  bool progressive;
  std::vector<std::byte>* out;
};

void run_encode(const EncodeJob& job, JpegStatus& status) {
  jpeg_compress_struct cinfo;
  ErrorManager errors;
  VectorDestination destination;
  install_error_manager(errors, status);
  cinfo.err = &errors.pub;
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    return;
  }
  jpeg_create_compress(&cinfo);
  destination.pub.init_destination = dest_init;
  destination.pub.empty_output_buffer = dest_empty;
  destination.pub.term_destination = dest_term;
  destination.out = job.out;
  cinfo.dest = &destination.pub;

  cinfo.image_width = job.width;
  cinfo.image_height = job.rows;
  cinfo.input_components = static_cast<int>(job.samples);
  cinfo.in_color_space = job.samples == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  if (job.samples == 3) {
    if (job.ycbcr) {
      jpeg_set_colorspace(&cinfo, JCS_YCbCr);
      cinfo.comp_info[0].h_samp_factor = job.sampling[0];
      cinfo.comp_info[0].v_samp_factor = job.sampling[1];
    } else {
      jpeg_set_colorspace(&cinfo, JCS_RGB);  // 1x1 sampling for all components
    }
  }
  // TIFF says the colour space (Photometric); libtiff writes no JFIF or Adobe marker either.
  cinfo.write_JFIF_header = FALSE;
  cinfo.write_Adobe_marker = FALSE;
  jpeg_set_quality(&cinfo, job.quality, TRUE);
  if (job.progressive) jpeg_simple_progression(&cinfo);

  if (job.pixels == nullptr) {
    jpeg_write_tables(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return;
  }
  jpeg_suppress_tables(&cinfo, TRUE);
  jpeg_start_compress(&cinfo, FALSE);
  const std::size_t stride = static_cast<std::size_t>(job.width) * job.samples;
  while (cinfo.next_scanline < cinfo.image_height) {
    // libjpeg does not write through the rows it is given; its API predates const.
    JSAMPROW row = const_cast<unsigned char*>(job.pixels + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
}

void throw_on_failure(const JpegStatus& status, const char* what) {
  if (status.kind == JpegStatus::unsupported) throw UnsupportedError(concat(what, ": ", status.message));
  if (status.kind == JpegStatus::codec_error) throw CodecError(concat(what, ": ", status.message));
}

void check_encodable(std::uint32_t samples, const EncodeOptions& options) {
  const auto [h, v] = options.jpeg_ycbcr_sampling;
  check<UsageError>((h == 1 || h == 2) && (v == 1 || v == 2), "JPEG YCbCr sampling must be 1 or 2 each way, not ",
                    unsigned{h}, "x", unsigned{v});
  check<UnsupportedError>(samples == 1 || samples == 3, "JPEG encoding of ", samples,
                          " samples per pixel is not supported (1 or 3)");
  check<UsageError>(options.jpeg_quality >= 1 && options.jpeg_quality <= 100,
                    "JPEG quality must be 1..100, not ", options.jpeg_quality);
}

}  // namespace

void jpeg_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst) {
  jpeg_decode_rows(src, layout, dst.data(), std::size_t{layout.width} * layout.samples);
}

void jpeg_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                      std::size_t row_stride) {
  jpeg_decode_window(src, layout, {}, dst, row_stride);
}

void jpeg_decode_window(std::span<const std::byte> src, const TileLayout& layout, const TileWindow& window,
                        std::byte* dst, std::size_t row_stride) {
  check<UnsupportedError>(bytes_per_sample(layout.dtype) == 1, "JPEG with ", to_string(layout.dtype),
                          " samples is not supported (8-bit only)");
  const unsigned denom = layout.jpeg_scale_denom;
  check<UsageError>(denom == 1 || denom == 2 || denom == 4 || denom == 8, "JPEG scaling of 1/", denom,
                    " (1, 2, 4 or 8)");
  std::span<const std::byte> stream = src;
  if (!layout.jpeg_header.empty()) {
    // One restart interval: the header, then its data, its restart marker made EOI (as OpenSlide does).
    const std::size_t n = src.size();
    check<CodecError>(n >= 2 && src[n - 2] == std::byte{0xFF} &&
                          ((src[n - 1] >= std::byte{0xD0} && src[n - 1] <= std::byte{0xD7}) ||
                           src[n - 1] == std::byte{0xD9}),
                      "the restart interval's ", n, " bytes do not end with a restart marker or EOI");
    thread_local std::vector<std::byte> joined;
    joined.resize(layout.jpeg_header.size() + n);
    std::copy(layout.jpeg_header.begin(), layout.jpeg_header.end(), joined.begin());
    std::copy(src.begin(), src.end(),
              joined.begin() + static_cast<std::ptrdiff_t>(layout.jpeg_header.size()));
    joined.back() = std::byte{0xD9};
    stream = joined;
  }
  const DecodeJob job{reinterpret_cast<const unsigned char*>(layout.jpeg_tables.data()),
                      static_cast<unsigned long>(layout.jpeg_tables.size()),
                      reinterpret_cast<const unsigned char*>(stream.data()),
                      static_cast<unsigned long>(stream.size()),
                      layout.width,
                      layout.rows,
                      layout.samples,
                      layout.photometric,
                      reinterpret_cast<unsigned char*>(dst),
                      row_stride,
                      window,
                      denom};
  JpegStatus status;
  run_decode(job, status);
  throw_on_failure(status, "JPEG");
}

std::vector<std::byte> jpeg_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                   const EncodeOptions& options) {
  check<UnsupportedError>(bytes_per_sample(layout.dtype) == 1, "JPEG encoding of ", to_string(layout.dtype),
                          " samples is not supported (8-bit only)");
  check_encodable(layout.samples, options);
  check<UsageError>(layout.width > 0 && layout.rows > 0 && layout.width <= JPEG_MAX_DIMENSION &&
                        layout.rows <= JPEG_MAX_DIMENSION,
                    "JPEG tile of ", layout.width, " x ", layout.rows, " pixels is out of range");
  std::vector<std::byte> out;
  const EncodeJob job{reinterpret_cast<const unsigned char*>(pixels.data()), layout.width, layout.rows,
                      layout.samples, options.jpeg_quality, options.jpeg_ycbcr, options.jpeg_ycbcr_sampling,
                      options.jpeg_progressive, &out};
  JpegStatus status;
  run_encode(job, status);
  throw_on_failure(status, "JPEG encoder");
  return out;
}

std::vector<std::byte> jpeg_tables(std::uint32_t samples, const EncodeOptions& options) {
  check_encodable(samples, options);
  std::vector<std::byte> out;
  const EncodeJob job{nullptr, 8, 8, samples, options.jpeg_quality, options.jpeg_ycbcr, options.jpeg_ycbcr_sampling,
                      options.jpeg_progressive, &out};
  JpegStatus status;
  run_encode(job, status);
  throw_on_failure(status, "JPEG encoder");
  return out;
}

}  // namespace tilestream::codec
