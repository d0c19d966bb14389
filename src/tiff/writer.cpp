// TiffWriter: appends encoded tiles (or strips) page by page, keeps each page's tags in memory and
// writes all IFDs, chained in page order, at the end of the file in finish().
#include "tilestream/tiff/writer.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "tiff/tag_writer.hpp"
#include "tiff/tags.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/parallel.hpp"

namespace tilestream::tiff {
namespace {

bool is_jpeg(const PageSpec& page) { return page.compression == codec::compression::jpeg; }

bool uses_ycbcr(const PageSpec& page) {
  return is_jpeg(page) && page.samples == 3 && page.encode.jpeg_ycbcr;
}

std::uint16_t photometric_of(const PageSpec& page) {
  if (page.samples == 1) return codec::photometric::min_is_black;
  return uses_ycbcr(page) ? codec::photometric::ycbcr : codec::photometric::rgb;
}

void validate(const PageSpec& page, std::size_t page_index) {
  const std::string where = concat("TIFF page ", page_index, ": ");
  check<UsageError>(page.width > 0 && page.height > 0, where, "image size ", page.width, "x",
                    page.height, " is empty");
  check<UsageError>(page.width <= 0xFFFF'FFFFull && page.height <= 0xFFFF'FFFFull, where,
                    "image size ", page.width, "x", page.height, " exceeds 2^32-1 pixels a side");
  check<UsageError>(page.samples == 1 || page.samples == 3 || page.samples == 4, where,
                    "samples per pixel must be 1, 3 or 4, not ", page.samples);
  if (page.tiled) {
    check<UsageError>(page.tile_width > 0 && page.tile_height > 0 && page.tile_width % 16 == 0 &&
                          page.tile_height % 16 == 0,
                      where, "tile size ", page.tile_width, "x", page.tile_height,
                      " must be a positive multiple of 16 in both directions");
  } else {
    check<UsageError>(page.rows_per_strip > 0, where, "rows per strip must be positive");
  }
  check<UsageError>(page.predictor == 1 || page.predictor == 2, where, "predictor must be 1 (none) or 2 "
                    "(horizontal differencing), not ", page.predictor);
  const bool predictable = page.compression == codec::compression::lzw ||
                           page.compression == codec::compression::deflate ||
                           page.compression == codec::compression::adobe_deflate ||
                           page.compression == codec::compression::zstd;
  check<UsageError>(page.predictor == 1 || predictable, where, "the horizontal predictor only "
                    "applies to LZW, deflate or zstd compression, not ",
                    codec::compression_name(page.compression));
  if (is_jpeg(page)) {
    check<UsageError>(page.dtype == DType::uint8, where, "JPEG compression needs uint8 samples, not ",
                      to_string(page.dtype));
    check<UsageError>(page.tiled || page.rows_per_strip % 16 == 0, where, "JPEG strips need rows per "
                      "strip to be a multiple of 16, not ", page.rows_per_strip);
  }
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Geometry of one page's tiles or strips.
struct ChunkGrid {
  std::uint64_t count = 0;
  std::uint64_t across = 1;     // chunks per row of chunks (1 for strips)
  std::uint32_t width = 0;      // stored width of each chunk
  std::uint32_t height = 0;     // stored height (strips: rows per strip, the last may have fewer)
  std::uint64_t image_height = 0;
  bool tiled = true;

  explicit ChunkGrid(const PageSpec& page) : image_height(page.height), tiled(page.tiled) {
    if (tiled) {
      width = page.tile_width;
      height = page.tile_height;
      across = ceil_div(page.width, width);
      count = across * ceil_div(page.height, height);
    } else {
      width = static_cast<std::uint32_t>(page.width);
      height = static_cast<std::uint32_t>(std::min<std::uint64_t>(page.rows_per_strip, page.height));
      count = ceil_div(page.height, height);
    }
  }
  std::uint64_t x0(std::uint64_t i) const { return (i % across) * width; }
  std::uint64_t y0(std::uint64_t i) const { return (i / across) * height; }
  std::uint32_t rows(std::uint64_t i) const {
    if (tiled) return height;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(height, image_height - y0(i)));
  }
};

// Items of an in-order parallel pipeline: encoded in any order, written strictly in order.
struct Slot {
  std::vector<std::byte> pixels;
  std::vector<std::byte> encoded;
  bool ready = false;
};

}  // namespace

struct TiffWriter::State {
  std::string path;
  WriterOptions options;
  io::WriteFile file;
  std::vector<std::vector<detail::OutTag>> pages;
  bool finished = false;
  bool failed = false;

  State(std::string p, WriterOptions o) : path(std::move(p)), options(o), file(path) {}

  // Appends one chunk's bytes, returning its offset; classic TIFF stays below 4 GiB.
  std::uint64_t append_chunk(std::span<const std::byte> bytes, std::size_t page, std::uint64_t index) {
    const std::uint64_t offset = file.size();
    if (!options.big_tiff)
      detail::check_classic_offset(offset + bytes.size(),
                                   concat(path, ": page ", page, ", tile or strip ", index));
    file.append(bytes);
    return offset;
  }
};

TiffWriter::TiffWriter(std::string path, WriterOptions options)
    : state_(std::make_unique<State>(std::move(path), options)) {
  state_->file.append(detail::encode_header(options.big_tiff, options.big_endian, 0));
}

TiffWriter::~TiffWriter() = default;

void TiffWriter::add_page(const PageSpec& page, const TileFiller& fill, unsigned threads) {
  State& s = *state_;
  check<UsageError>(!s.finished, s.path, ": add_page after finish");
  check<UsageError>(!s.failed, s.path, ": add_page after an earlier page failed");
  const std::size_t page_index = s.pages.size();
  validate(page, page_index);

  const ChunkGrid grid(page);
  const std::uint16_t photometric = photometric_of(page);
  const std::vector<std::byte> jpeg_tables =
      is_jpeg(page) ? codec::make_jpeg_tables(page.samples, page.encode) : std::vector<std::byte>{};
  const std::size_t pixel_bytes = page.samples * bytes_per_sample(page.dtype);

  std::vector<std::uint64_t> offsets(grid.count);
  std::vector<std::uint64_t> byte_counts(grid.count);

  // Bounded window: item i starts only once item i - window has been written, so at most
  // `window` chunks (raw + encoded) are in memory whatever the page size.
  threads = std::max(1u, threads);
  const std::size_t window = std::min<std::size_t>(2 * threads, grid.count);
  std::vector<Slot> slots(window);
  std::mutex mutex;
  std::condition_variable written_cv;
  std::uint64_t next_to_write = 0;
  bool writer_active = false;
  bool aborted = false;

  auto write_ready_items = [&] {
    for (;;) {
      Slot* slot = nullptr;
      std::uint64_t index = 0;
      {
        std::lock_guard lock(mutex);
        index = next_to_write;
        if (index >= grid.count || !slots[index % window].ready) {
          writer_active = false;
          return;
        }
        slot = &slots[index % window];
      }
      // Only the active writer touches this slot until next_to_write moves past it.
      offsets[index] = s.append_chunk(slot->encoded, page_index, index);
      byte_counts[index] = slot->encoded.size();
      {
        std::lock_guard lock(mutex);
        slot->ready = false;
        slot->encoded = {};
        ++next_to_write;
      }
      written_cv.notify_all();
    }
  };

  try {
    parallel_for(grid.count, threads, [&](std::size_t i) {
      Slot& slot = slots[i % window];
      {
        std::unique_lock lock(mutex);
        written_cv.wait(lock, [&] { return aborted || i < next_to_write + window; });
        if (aborted) return;
      }
      try {
        codec::TileLayout layout;
        layout.width = grid.width;
        layout.rows = grid.rows(i);
        layout.samples = page.samples;
        layout.dtype = page.dtype;
        layout.predictor = page.predictor;
        layout.photometric = photometric;
        layout.big_endian = s.options.big_endian;
        layout.jpeg_tables = jpeg_tables;
        slot.pixels.resize(static_cast<std::size_t>(layout.width) * layout.rows * pixel_bytes);
        fill(grid.x0(i), grid.y0(i), layout.width, layout.rows, slot.pixels);
        slot.encoded = codec::encode_tile(page.compression, slot.pixels, layout, page.encode);
        bool i_write = false;
        {
          std::lock_guard lock(mutex);
          slot.ready = true;
          if (!writer_active) writer_active = i_write = true;
        }
        if (i_write) write_ready_items();
      } catch (...) {
        {
          std::lock_guard lock(mutex);
          aborted = true;
        }
        written_cv.notify_all();
        throw;
      }
    });
  } catch (const Error& e) {
    s.failed = true;
    if (e.kind() == ErrorKind::usage || e.kind() == ErrorKind::format) throw;
    rethrow_with_context(e, concat(s.path, ": page ", page_index));
  } catch (...) {
    s.failed = true;
    throw;
  }

  detail::TagListBuilder tags(s.options.big_tiff, s.options.big_endian);
  tags.add_long(tag::new_subfile_type, page.subfile_type);
  tags.add_long(tag::image_width, static_cast<std::uint32_t>(page.width));
  tags.add_long(tag::image_length, static_cast<std::uint32_t>(page.height));
  const std::vector<std::uint16_t> bits(page.samples,
                                        static_cast<std::uint16_t>(8 * bytes_per_sample(page.dtype)));
  tags.add_shorts(tag::bits_per_sample, bits);
  tags.add_short(tag::compression, page.compression);
  tags.add_short(tag::photometric, photometric);
  if (!page.description.empty()) tags.add_ascii(tag::image_description, page.description);
  tags.add_short(tag::samples_per_pixel, static_cast<std::uint16_t>(page.samples));
  tags.add_short(tag::planar_config, 1);
  if (page.predictor != 1) tags.add_short(tag::predictor, page.predictor);
  if (page.tiled) {
    tags.add_long(tag::tile_width, page.tile_width);
    tags.add_long(tag::tile_length, page.tile_height);
    tags.add_offsets(tag::tile_offsets, offsets);
    tags.add_offsets(tag::tile_byte_counts, byte_counts);
  } else {
    tags.add_long(tag::rows_per_strip, grid.height);
    tags.add_offsets(tag::strip_offsets, offsets);
    tags.add_offsets(tag::strip_byte_counts, byte_counts);
  }
  if (page.samples == 4) tags.add_short(tag::extra_samples, 2);  // unassociated alpha
  // SampleFormat 1 unsigned, 2 signed integer, 3 floating point.
  const std::vector<std::uint16_t> formats(page.samples, is_float(page.dtype) ? 3 : is_signed(page.dtype) ? 2 : 1);
  tags.add_shorts(tag::sample_format, formats);
  if (is_jpeg(page)) tags.add_undefined(tag::jpeg_tables, jpeg_tables);
  if (uses_ycbcr(page)) {
    const std::uint16_t subsampling[2] = {page.encode.jpeg_ycbcr_sampling[0], page.encode.jpeg_ycbcr_sampling[1]};
    tags.add_shorts(tag::ycbcr_subsampling, subsampling);
  }
  s.pages.push_back(tags.take());
}

void TiffWriter::finish() {
  State& s = *state_;
  check<UsageError>(!s.finished, s.path, ": finish called twice");
  check<UsageError>(!s.failed, s.path, ": cannot finish after a page failed");
  check<UsageError>(!s.pages.empty(), s.path, ": a TIFF needs at least one page");
  const bool big_tiff = s.options.big_tiff;
  const std::uint64_t alignment = big_tiff ? 8 : 2;
  auto aligned = [&](std::uint64_t v) { return (v + alignment - 1) / alignment * alignment; };

  std::uint64_t ifd_offset = aligned(s.file.size());
  const std::uint64_t first_ifd = ifd_offset;
  if (ifd_offset != s.file.size())
    s.file.append(std::vector<std::byte>(ifd_offset - s.file.size()));
  for (std::size_t p = 0; p < s.pages.size(); ++p) {
    const std::uint64_t size = detail::ifd_encoded_size(s.pages[p], big_tiff);
    const std::uint64_t next = p + 1 < s.pages.size() ? aligned(ifd_offset + size) : 0;
    std::vector<std::byte> bytes =
        detail::encode_ifd(s.pages[p], ifd_offset, next, big_tiff, s.options.big_endian);
    bytes.resize(next != 0 ? next - ifd_offset : bytes.size());  // padding up to the next IFD
    s.file.append(bytes);
    ifd_offset = next;
  }
  const std::vector<std::byte> header = detail::encode_header(big_tiff, s.options.big_endian, first_ifd);
  s.file.write_at(0, header);
  s.file.commit();
  s.finished = true;
  s.pages.clear();
}

}  // namespace tilestream::tiff
