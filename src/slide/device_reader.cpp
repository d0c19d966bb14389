// DeviceReader: plans raw-tile reads, runs them on the reader's threads through the chosen io
// backend, or decodes bands on the CPU into pinned memory and uploads them; see the header.
#include "tilestream/slide/device_reader.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <functional>
#include <future>
#include <limits>
#include <vector>

#include <atomic>
#include <mutex>

#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/jpeg_stream.hpp"
#include "tilestream/codec/nvjpeg2k.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory_budget.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/io/direct_file.hpp"
#include "tilestream/io/device_range_reader.hpp"
#include "tilestream/slide/device_place_patches.hpp"
#include "tilestream/slide/device_place_tiles.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/slide/tile_read_plan.hpp"

namespace tilestream::slide {
namespace {

using Clock = std::chrono::steady_clock;


// One staging slot of a reading thread: the buffers a task's read lands in, and whether the work
// queued on them has finished.
struct Slot {
  io::DeviceReadBuffers buffers;
  cuda::Event done;  // recorded after the task's last work on the stream
  bool pending = false;
};

// One reading thread's stream and its two slots: it fills one while the other's copy and kernel run.
// The stream is declared first so that the slots' device buffers, which free on it, go before it.
struct Lane {
  cuda::Stream stream;
  std::array<Slot, 2> slots;
  std::size_t next = 0;
};

PlaceGeometry geometry_of(const tiff::ImageInfo& image, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                          std::uint64_t height) {
  PlaceGeometry g;
  g.image_width = image.width;
  g.image_height = image.height;
  g.tile_width = image.tile_width;
  g.tile_height = image.tile_height;
  g.samples = image.samples;
  g.dtype = image.dtype;
  g.region_x = x;
  g.region_y = y;
  g.region_width = width;
  g.region_height = height;
  return g;
}

// Every tile of the region is stored whole (not sparse, not short), so its raw bytes are its pixels.
bool tiles_complete(const tiff::ImageInfo& image, std::span<const TileSlot> slots, std::size_t tile_bytes) {
  return std::all_of(slots.begin(), slots.end(), [&](const TileSlot& s) {
    return image.tile_byte_counts[image.tile_number(s.column, s.row)] >= tile_bytes;
  });
}

// The read of a task in io terms: each run of tiles lands where it lies in its tiles' slots, tile i
// of the task at i * tile_bytes.
io::DeviceReadRequest read_request(const TileReadTask& task, std::size_t tile_bytes) {
  io::DeviceReadRequest request{task.offset, task.length, {}};
  request.ranges.reserve(task.runs.size());
  for (const TileRun& run : task.runs) {
    request.ranges.push_back({run.file_offset, run.bytes, run.first * tile_bytes + run.skip});
  }
  return request;
}

// JPEG 2000 tiles, which nvJPEG2000 decodes (the others of the GPU decode path are JPEG, nvJPEG's).
bool is_jpeg2000(std::uint16_t compression) {
  return compression == codec::compression::jpeg2000 || compression == codec::compression::jpeg2000_ycbcr ||
         compression == codec::compression::jpeg2000_rgb || compression == codec::compression::jpeg2000_lossy;
}

// The layout of a level's tiles on the GPU decode path (whole tiles, interleaved) as the CPU decoder
// takes them.
codec::TileLayout gpu_path_tile_layout(const tiff::ImageInfo& image) {
  codec::TileLayout layout;
  layout.width = image.tile_width;
  layout.rows = image.tile_height;
  layout.samples = image.samples;
  layout.dtype = image.dtype;
  layout.photometric = image.photometric;
  layout.jpeg_tables = image.jpeg_tables;
  return layout;
}

// A tile named for an error: the file, level, tile number, place in the grid and offset.
std::string tile_place(const Slide& slide, std::size_t level, const TileSlot& tile) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::size_t number = image.tile_number(tile.column, tile.row);
  return concat(slide.path(), ": level ", level, " (", image.ifd_label, "), tile ", number, " (column ", tile.column,
                ", row ", tile.row, ") at ", slide.source().locate(image.tile_offsets[number]));
}

// One slot of an nvJPEG lane: a batch's tile bytes as read, their complete streams, tiles decoded on
// the CPU instead (uploaded from here), the decoded tiles on the device, and whether its work is done.
struct JpegSlot {
  cuda::PinnedBuffer raw;
  cuda::PinnedBuffer joined;
  cuda::PinnedBuffer fallback;
  cuda::DeviceBuffer tiles;
  cuda::Event done;
  bool pending = false;
};

// A thread of the GPU decode path: its stream, two slots and its batch decoders, nvJPEG's and
// nvJPEG2000's, each made when the lane first decodes its kind of tile (their two states serve the two
// slots). The stream is declared first so that it goes last.
struct JpegLane {
  cuda::Stream stream;
  std::array<JpegSlot, 2> slots;
  std::optional<codec::nvjpeg::BatchDecoder> decoder;
  std::optional<codec::nvjpeg2k::BatchDecoder> j2k_decoder;
  std::size_t next = 0;
};

// Consecutive tiles of a region (in its slot order) decoded as one nvJPEG batch. When the tiles lie
// close together in the file (as scanners write them) one pread covers them all.
struct JpegBatch {
  std::size_t first = 0;
  std::size_t count = 0;
  bool one_read = false;
  std::uint64_t offset = 0;  // one_read: the covering read
  std::size_t length = 0;    // one_read: its length; else the tiles' bytes
  std::size_t stream_bytes = 0;  // the batch's complete streams (tables joined)
};

std::vector<JpegBatch> plan_jpeg_batches(const tiff::ImageInfo& image, std::span<const TileSlot> slots,
                                         std::size_t batch_tiles) {
  std::vector<JpegBatch> batches;
  for (std::size_t first = 0; first < slots.size(); first += batch_tiles) {
    JpegBatch b;
    b.first = first;
    b.count = std::min(batch_tiles, slots.size() - first);
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
    std::size_t sum = 0;
    for (std::size_t j = first; j < first + b.count; ++j) {
      const std::size_t number = image.tile_number(slots[j].column, slots[j].row);
      const std::uint64_t offset = image.tile_offsets[number];
      const std::size_t bytes = static_cast<std::size_t>(image.tile_byte_counts[number]);
      lo = std::min(lo, offset);
      hi = std::max(hi, offset + bytes);
      sum += bytes;
      b.stream_bytes += image.jpeg_tables.size() + bytes;  // at least the joined stream's size
    }
    // One read when what lies between the tiles is at most as much again as the tiles themselves.
    b.one_read = hi - lo <= 2 * std::uint64_t{sum} + (1u << 20);
    b.offset = lo;
    b.length = b.one_read ? static_cast<std::size_t>(hi - lo) : sum;
    batches.push_back(b);
  }
  return batches;
}

// Decoded bytes one nvJPEG batch aims at, and the most tiles it takes.
constexpr std::size_t jpeg_batch_target_bytes = 64u << 20;
constexpr std::size_t jpeg_batch_max_tiles = 256;
constexpr unsigned jpeg_default_lanes = 4;

// Bytes of decoded pixels one band of the decode path aims at: big enough that every thread has
// several tiles to decode, small enough to stay a modest pinned buffer.
constexpr std::size_t band_target_bytes = 64u << 20;

}  // namespace

bool raw_tiles_possible(const tiff::ImageInfo& image) {
  const std::size_t sample = bytes_per_sample(image.dtype);
  // A photometric conversion (palette, MinIsWhite, CMYK) runs where the CPU decodes: such tiles take
  // the decode path, so that device and CPU reads give the same bytes.
  return image.unsupported_reason.empty() && image.conversion.identity() && image.tiled &&
         image.compression == codec::compression::none &&
         image.predictor == 1 && image.planes() == 1 && image.photometric != codec::photometric::ycbcr &&
         image.bits_per_sample == 8 * sample &&
         (sample == 1 || image.big_endian == (std::endian::native == std::endian::big));
}

unsigned jpeg_lanes(const DeviceReaderOptions& options, unsigned threads) {
  const unsigned lanes = options.jpeg_lanes != 0 ? options.jpeg_lanes : default_settings().jpeg_lanes;
  return lanes != 0 ? lanes : std::max(1u, std::min(threads, jpeg_default_lanes));
}

std::size_t jpeg_batch_tiles(const DeviceReaderOptions& options, unsigned lanes, std::size_t tiles,
                             std::size_t tile_bytes) {
  const std::size_t asked = options.jpeg_batch_tiles != 0 ? options.jpeg_batch_tiles : default_settings().jpeg_batch_tiles;
  const std::size_t batch =
      asked != 0 ? asked : std::clamp<std::size_t>(jpeg_batch_target_bytes / std::max<std::size_t>(tile_bytes, 1), 1, jpeg_batch_max_tiles);
  // Every lane gets batches, so that a small region still spreads over the lanes.
  return std::max<std::size_t>(1, std::min(batch, (tiles + lanes - 1) / std::max(lanes, 1u)));
}

std::string gpu_decode_unsupported_reason(const tiff::ImageInfo& image) {
  if (!image.unsupported_reason.empty()) return image.unsupported_reason;
  if (is_jpeg2000(image.compression)) {
    if (!image.tiled) return "JPEG 2000 strips, not tiles";
    if (image.planes() != 1) return "JPEG 2000 in separate planes";
    if ((image.dtype != DType::uint8 && image.dtype != DType::uint16) ||
        image.bits_per_sample != 8 * bytes_per_sample(image.dtype)) {
      return concat(image.bits_per_sample, "-bit ", to_string(image.dtype), " JPEG 2000");
    }
    if (image.samples < 1 || image.samples > 4) return concat(image.samples, " samples per pixel");
    if (image.compression == codec::compression::jpeg2000_ycbcr &&
        (image.samples != 3 || image.dtype != DType::uint8)) {
      return concat("Aperio YCbCr JPEG 2000 of ", image.samples, " ", to_string(image.dtype), " samples");
    }
    if (!image.conversion.identity()) return "pixels converted after decoding (photometric)";
    return {};
  }
  if (image.compression != codec::compression::jpeg) {
    return concat(codec::compression_name(image.compression), " tiles, not JPEG or JPEG 2000");
  }
  // NDPI's restart intervals (a header joined to each) and OpenSlide's DCT-scaled NDPI levels go to the
  // CPU decoder, whose bytes the reads then give.
  if (image.jpeg_scale_denom != 1)
    return concat("JPEG decoded at 1/", image.jpeg_scale_denom, " scale (an NDPI level)");
  if (!image.jpeg_header.empty()) return "JPEG restart intervals of an NDPI strip";
  if (!image.tiled) return "JPEG strips, not tiles";
  if (image.planes() != 1) return "JPEG in separate planes";
  if (image.bits_per_sample != 8 || image.dtype != DType::uint8) return concat(image.bits_per_sample, "-bit JPEG");
  if (image.samples != 1 && image.samples != 3) return concat(image.samples, " samples per pixel");
  if (!image.conversion.identity()) return "pixels converted after decoding (photometric)";
  if (image.samples == 3 && image.photometric != codec::photometric::ycbcr &&
      image.photometric != codec::photometric::rgb) {
    return concat("photometric ", image.photometric, " JPEG");
  }
  return {};
}

struct DeviceReader::Impl {
  int device = 0;
  unsigned threads = 1;
  io::IoMode mode = io::IoMode::posix;
  std::string detail;
  std::size_t capacity = 0;  // bytes of each slot's device tile buffer (and staging, plus slack)
  double setup_seconds = 0;
  cuda::Stream main;         // allocations of output images and the decode path's uploads
  cuda::Stream side;         // a patch batch's CPU share: its uploads and placement
  cuda::PinnedBuffer share_host;    // the CPU share's decoded tiles
  cuda::DeviceBuffer share_device;  // and on the device
  std::vector<Lane> lanes;
  std::array<cuda::PinnedBuffer, 2> bands;  // decode path, allocated on first use
  std::array<cuda::Event, 2> band_done;
  codec::nvjpeg::ResolvedDecode decode;
  // JPEG 2000's decoder, resolved from the same mode on the first read of JPEG 2000 tiles (so that
  // nvJPEG2000 is loaded only where a slide needs it).
  std::optional<codec::nvjpeg2k::ResolvedDecode> j2k_decode;
  DeviceReaderOptions options;  // as made, for the nvJPEG path's batching
  unsigned jpeg_lane_count = 1;
  std::vector<JpegLane> jpeg_lanes;  // made on the first nvJPEG read

  // The lanes set up their slots in parallel (pinning staging is slow on one thread), except for
  // cuFile registrations, which stay on this thread.
  void size_slots(std::size_t bytes) {
    capacity = bytes;
    const bool gds = mode == io::IoMode::gds;
    parallel_for(lanes.size(), gds ? 1 : static_cast<unsigned>(lanes.size()), [&](std::size_t n) {
      const cuda::DeviceGuard guard(device);
      Lane& lane = lanes[n];
      for (Slot& slot : lane.slots) {
        io::DeviceReadBuffers& buffers = slot.buffers;
        buffers.registration.reset();
        buffers.device = cuda::DeviceBuffer(capacity, lane.stream);
        if (gds) {
          buffers.registration = std::make_shared<io::gds::RegisteredBuffer>(buffers.device.data(), capacity);
        }
        if (io::uses_staging(mode)) buffers.staging = cuda::PinnedBuffer(capacity + 2 * io::staging_slack);
        slot.pending = false;
      }
      lane.stream.synchronize();
    });
  }

  // The decoder the GPU decode path would use for `image`'s tiles: nvJPEG2000's decision for JPEG 2000,
  // else nvJPEG's. UnsupportedError under decode gpu when it is missing.
  const codec::nvjpeg::ResolvedDecode& decoder_for(const tiff::ImageInfo& image) {
    if (!is_jpeg2000(image.compression)) return decode;
    if (!j2k_decode) j2k_decode = codec::nvjpeg2k::resolve_device_decode(decode.mode, device);
    return *j2k_decode;
  }

  void read_raw(const Slide& slide, std::size_t level, const PlaceGeometry& g, std::span<const TileSlot> slots,
                cuda::DeviceImage& out, DeviceReadReport& report);
  void read_decoded(const Slide& slide, std::size_t level, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                    std::uint64_t height, cuda::DeviceImage& out, DeviceReadReport& report);
  // What the nvJPEG path does with a batch's decoded tiles: `tiles` holds tiles [first, first + count)
  // of the slot list, back to back; the placement is queued on `stream`.
  using PlaceBatch = std::function<void(const cuda::DeviceBuffer& tiles, std::size_t first, std::size_t count,
                                        const cuda::Stream& stream)>;
  void decode_jpeg_on_gpu(const Slide& slide, std::size_t level, std::span<const TileSlot> slots,
                          const PlaceBatch& place, DeviceReadReport& report);
  // Reads `patches` on `workers` CPU threads into `staging` (pinned) and copies them into their places
  // in `out` on `stream`; finished when it returns.
  void read_patches_on_cpu(const Slide& slide, std::size_t level, std::span<const PatchCorner> patches,
                           const PatchGeometry& g, cuda::DeviceImage& out, DeviceReadReport& report, unsigned workers,
                           const cuda::Stream& stream, cuda::PinnedBuffer& staging);
  // decode auto with the patch split: the share's patch positions read by read_patches_on_cpu (on
  // `workers` threads, the side stream) while nvJPEG decodes the tiles of the others.
  void read_patches_split(const Slide& slide, std::size_t level, std::span<const PatchCorner> patches,
                          const PatchGeometry& g, std::size_t patch_count, cuda::DeviceImage& out, double share,
                          unsigned workers, DeviceReadReport& report);
  // Decodes `plan`'s tiles on `workers` CPU threads, uploads them on `side` and places their pieces
  // (`pieces`, the plan's, in device memory) into `out`; finished when it returns.
  void decode_share_on_cpu(const Slide& slide, std::size_t level, const PatchPlan& plan, const PatchPiece* pieces,
                           const PatchGeometry& g, cuda::DeviceImage& out, unsigned workers);
  double patch_cpu_share() const;
  PatchSplit patch_split() const;
  // Pieces of a patch batch: the patches of `outside` zeroed in `out` (no tile covers them), `pieces`
  // uploaded, both on the main stream.
  void zero_patches(std::span<const std::uint32_t> outside, const PatchGeometry& g, cuda::DeviceImage& out);
  cuda::DeviceBuffer upload_pieces(std::span<const PatchPiece> pieces);
  // nvJPEG decodes `plan`'s tiles and the kernel places their pieces (`pieces`: the plan's, on the
  // device) into `out`.
  void decode_plan_on_gpu(const Slide& slide, std::size_t level, const PatchPlan& plan, const PatchPiece* pieces,
                          const PatchGeometry& g, cuda::DeviceImage& out, DeviceReadReport& report);
  // Runs `on_cpu` (when set) on a thread of its own while `on_gpu` runs on this one, and returns once
  // both and the main stream have finished; on an error, the CPU part ends before it is rethrown (it
  // writes into the caller's image and buffers).
  void beside(const std::function<void()>& on_cpu, const std::function<void()>& on_gpu);
  // The settings of a read by the GPU decode path of `image`'s tiles, for its report.
  void describe_gpu_decode(const tiff::ImageInfo& image, DeviceReadReport& report);
  void describe_cpu_decode(const tiff::ImageInfo& image, DeviceReadReport& report, const std::string& gpu_unsupported,
                           const char* why_not);
};

void DeviceReader::Impl::decode_jpeg_on_gpu(const Slide& slide, std::size_t level, std::span<const TileSlot> slots,
                                            const PlaceBatch& place, DeviceReadReport& report) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const bool j2k = is_jpeg2000(image.compression);
  const std::size_t tile_row_bytes = std::size_t{image.tile_width} * image.samples * bytes_per_sample(image.dtype);
  const std::size_t tile_bytes = tile_row_bytes * image.tile_height;
  const std::size_t batch_tiles = jpeg_batch_tiles(options, jpeg_lane_count, slots.size(), tile_bytes);
  const std::vector<JpegBatch> batches = plan_jpeg_batches(image, slots, batch_tiles);
  // O_DIRECT reads widen each read to the file's alignment, into aligned places of the buffer.
  std::optional<io::DirectReadFiles> direct;
  if (mode == io::IoMode::direct) direct.emplace(slide.source());
  const std::size_t align = direct ? direct->alignment() : 1;
  std::size_t raw_bytes = 0, stream_bytes = 0;
  for (const JpegBatch& b : batches) {
    raw_bytes = std::max(raw_bytes, b.length + (b.one_read ? 1 : b.count) * 4 * (align > 1 ? align : 0));
    stream_bytes = std::max(stream_bytes, b.stream_bytes);
  }
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(jpeg_lane_count, batches.size()));
  const auto allocate_start = Clock::now();
  if (jpeg_lanes.size() < workers) jpeg_lanes.resize(workers);
  for (unsigned w = 0; w < workers; ++w) {
    JpegLane& lane = jpeg_lanes[w];
    if (j2k && !lane.j2k_decoder) lane.j2k_decoder.emplace(device, decoder_for(image));
    if (!j2k && !lane.decoder) lane.decoder.emplace(device, decode);
  }
  // Buffers grow to the largest batch seen and are kept for the next read; pinning runs on the lanes'
  // own threads, in parallel.
  parallel_for(workers, workers, [&](std::size_t w) {
    const cuda::DeviceGuard guard(device);
    JpegLane& lane = jpeg_lanes[w];
    for (JpegSlot& slot : lane.slots) {
      if (slot.pending) slot.done.synchronize();
      slot.pending = false;
      cuda::reserve(slot.raw, raw_bytes);
      cuda::reserve(slot.joined, stream_bytes);
      cuda::reserve(slot.tiles, batch_tiles * tile_bytes, lane.stream);
    }
  });
  cuda::Event allocated;
  allocated.record(main);
  for (unsigned w = 0; w < workers; ++w) jpeg_lanes[w].stream.wait(allocated);
  report.allocate_seconds += seconds_since(allocate_start);

  const codec::nvjpeg::TileFormat format{image.tile_width, image.tile_height, image.samples,
                                         image.samples == 3 && image.photometric == codec::photometric::rgb};
  const codec::nvjpeg2k::TileFormat j2k_format{image.tile_width, image.tile_height, image.samples, image.dtype,
                                               image.compression == codec::compression::jpeg2000_ycbcr};
  const codec::TileLayout layout = gpu_path_tile_layout(image);
  std::atomic<std::uint64_t> on_gpu{0}, on_cpu{0};
  std::mutex reason_mutex;
  std::string first_reason;
  auto finish_lanes = [&] {
    for (unsigned w = 0; w < workers; ++w) {
      jpeg_lanes[w].stream.synchronize();
      for (JpegSlot& slot : jpeg_lanes[w].slots) slot.pending = false;
    }
  };
  try {
    parallel_for_workers(batches.size(), workers, [&](std::size_t n, unsigned worker) {
      JpegLane& lane = jpeg_lanes[worker];
      const std::size_t k = lane.next++ % lane.slots.size();
      JpegSlot& slot = lane.slots[k];
      if (slot.pending) slot.done.synchronize();  // its decode, uploads and placement have finished
      const JpegBatch& batch = batches[n];
      const std::span<const TileSlot> batch_slots = slots.subspan(batch.first, batch.count);
      std::vector<std::span<const std::byte>> tiles(batch.count);
      auto tile_context = [&](std::size_t j) { return tile_place(slide, level, batch_slots[j]); };
      const std::byte* base = slot.raw.data();  // where the batch's covering read put batch.offset
      if (batch.one_read) {
        try {
          if (direct) {
            base = direct->read_covering(batch.offset, batch.length, slot.raw.bytes()).data();
          } else {
            slide.source().read_exact(batch.offset, {slot.raw.data(), batch.length});
          }
        } catch (const Error& e) {
          rethrow_with_context(e, concat(slide.path(), ": level ", level, " (", image.ifd_label, "), tiles from ",
                                         slide.source().locate(batch.offset), " to ", slide.source().locate(batch.offset + batch.length)));
        }
      }
      std::size_t at = 0;
      for (std::size_t j = 0; j < batch.count; ++j) {
        const std::size_t number = image.tile_number(batch_slots[j].column, batch_slots[j].row);
        const std::uint64_t offset = image.tile_offsets[number];
        const std::size_t bytes = static_cast<std::size_t>(image.tile_byte_counts[number]);
        if (batch.one_read) {
          tiles[j] = {base + (offset - batch.offset), bytes};
        } else {
          try {
            if (direct) {
              at = (at + align - 1) / align * align;
              tiles[j] = direct->read_covering(offset, bytes, slot.raw.bytes().subspan(at));
              at = static_cast<std::size_t>(tiles[j].data() + bytes - slot.raw.data()) + align;
            } else {
              slide.source().read_exact(offset, {slot.raw.data() + at, bytes});
              tiles[j] = {slot.raw.data() + at, bytes};
              at += bytes;
            }
          } catch (const Error& e) {
            rethrow_with_context(e, tile_context(j));
          }
        }
      }
      // Tiles nvJPEG decodes as libjpeg would are joined with the tables; the others go to the CPU.
      // JPEG 2000 codestreams are whole as stored: nvJPEG2000 says itself which it leaves to the CPU.
      std::vector<std::span<const std::byte>> streams;
      std::vector<std::uint32_t> gpu_tiles, cpu_tiles;
      std::string reason;
      std::size_t joined = 0;
      if (j2k) {
        streams.assign(tiles.begin(), tiles.end());
        for (std::size_t j = 0; j < batch.count; ++j) gpu_tiles.push_back(static_cast<std::uint32_t>(j));
      }
      for (std::size_t j = 0; j < batch.count && !j2k; ++j) {
        std::string why;
        try {
          const codec::JpegFrame frame = codec::read_jpeg_frame(image.jpeg_tables, tiles[j]);
          why = codec::gpu_jpeg_unsupported_reason(frame, image.photometric, image.samples, image.tile_width,
                                                   image.tile_height);
          if (why.empty()) why = codec::jpeg_scan_problem(tiles[j]);
        } catch (const CodecError& e) {
          why = e.what();  // the CPU decoder says it again, naming the tile, if the tile is bad
        }
        if (why.empty()) {
          const std::size_t size = codec::joined_jpeg_size(image.jpeg_tables, tiles[j]);
          const std::span<std::byte> stream{slot.joined.data() + joined, size};
          codec::join_jpeg_stream(image.jpeg_tables, tiles[j], stream);
          streams.push_back(stream);
          gpu_tiles.push_back(static_cast<std::uint32_t>(j));
          joined += size;
        } else {
          cpu_tiles.push_back(static_cast<std::uint32_t>(j));
          if (reason.empty()) reason = why;
        }
      }
      const std::string refused =
          j2k ? std::string() : lane.decoder->decode(k, streams, gpu_tiles, format, slot.tiles.data(), lane.stream);
      if (j2k) {
        const codec::nvjpeg2k::Refused left =
            lane.j2k_decoder->decode(k, streams, gpu_tiles, j2k_format, slot.tiles.data(), lane.stream);
        if (!left.streams.empty()) {
          std::vector<bool> to_cpu(gpu_tiles.size(), false);
          for (const std::uint32_t position : left.streams) to_cpu[position] = true;
          std::vector<std::uint32_t> kept;
          for (std::size_t p = 0; p < gpu_tiles.size(); ++p) (to_cpu[p] ? cpu_tiles : kept).push_back(gpu_tiles[p]);
          gpu_tiles = std::move(kept);
          reason = concat("nvJPEG2000 left tiles to the CPU: ", left.reason);
        }
      }
      if (!refused.empty()) {
        cpu_tiles.insert(cpu_tiles.end(), gpu_tiles.begin(), gpu_tiles.end());
        gpu_tiles.clear();
        reason = concat("nvJPEG refused a batch: ", refused);
      }
      if (!cpu_tiles.empty()) {
        cuda::reserve(slot.fallback, batch.count * tile_bytes);
        for (const std::uint32_t j : cpu_tiles) {
          std::byte* dst = slot.fallback.data() + j * tile_bytes;
          try {
            codec::decode_tile_into(image.compression, tiles[j], layout, dst, tile_row_bytes);
          } catch (const Error& e) {
            rethrow_with_context(e, tile_context(j));
          }
          cuda::check_cuda(cudaMemcpyAsync(slot.tiles.data() + j * tile_bytes, dst, tile_bytes, cudaMemcpyHostToDevice,
                                           lane.stream.get()),
                           "cudaMemcpyAsync(CPU-decoded tile to device)");
        }
        const std::lock_guard lock(reason_mutex);
        if (first_reason.empty()) first_reason = reason;
      }
      place(slot.tiles, batch.first, batch.count, lane.stream);
      slot.done.record(lane.stream);
      slot.pending = true;
      on_gpu += gpu_tiles.size();
      on_cpu += cpu_tiles.size();
    });
  } catch (...) {
    try {
      finish_lanes();  // no decode or copy may still read a pinned buffer once the error leaves
    } catch (...) {
    }
    throw;
  }
  finish_lanes();
  report.tasks = batches.size();
  for (const JpegBatch& b : batches) report.bytes_read += b.length;
  report.decode.tiles_gpu = on_gpu.load();
  report.decode.tiles_cpu = on_cpu.load();
  report.decode.fallback_reason = first_reason;
}

void DeviceReader::Impl::read_raw(const Slide& slide, std::size_t level, const PlaceGeometry& g,
                                  std::span<const TileSlot> slots, cuda::DeviceImage& out,
                                  DeviceReadReport& report) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::size_t tile_bytes = g.tile_bytes();
  if (tile_bytes > capacity) size_slots(tile_bytes);  // tiles larger than a task: one tile per task
  // Only the rows of each tile that the region covers are read (a halo wants one row of the tiles
  // above and below it): the placement reads no other rows of a slot.
  std::vector<std::uint64_t> offsets(slots.size());
  std::vector<TilePart> parts(slots.size());
  const std::size_t tile_row_bytes = std::size_t{g.tile_width} * g.pixel_bytes();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    offsets[i] = image.tile_offsets[image.tile_number(slots[i].column, slots[i].row)];
    const std::uint64_t top = std::uint64_t{slots[i].row} * g.tile_height;
    const std::uint64_t first = std::max(g.region_y, top) - top;
    const std::uint64_t end = std::min(g.region_y + g.region_height, top + g.tile_height) - top;
    parts[i] = {static_cast<std::size_t>(first) * tile_row_bytes, static_cast<std::size_t>(end) * tile_row_bytes};
  }
  const TileReadLimits limits{tile_bytes, capacity / tile_bytes, capacity};
  const std::vector<TileReadTask> tasks = plan_tile_reads(slots, offsets, limits, parts);
  std::vector<io::DeviceReadRequest> requests;
  requests.reserve(tasks.size());
  for (const TileReadTask& task : tasks) requests.push_back(read_request(task, tile_bytes));
  const std::unique_ptr<io::DeviceRangeReader> range_reader =
      io::make_device_range_reader(mode, slide.source());

  cuda::Event allocated;
  allocated.record(main);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(lanes.size(), tasks.size()));
  for (unsigned w = 0; w < workers; ++w) lanes[w].stream.wait(allocated);
  auto finish_lanes = [&] {
    for (unsigned w = 0; w < workers; ++w) {
      lanes[w].stream.synchronize();
      for (Slot& slot : lanes[w].slots) slot.pending = false;
    }
  };
  try {
    parallel_for_workers(tasks.size(), workers, [&](std::size_t n, unsigned worker) {
      Lane& lane = lanes[worker];
      Slot& slot = lane.slots[lane.next++ % lane.slots.size()];
      if (slot.pending) slot.done.synchronize();  // its last copy and kernel have finished
      const TileReadTask& task = tasks[n];
      try {
        range_reader->read(requests[n], slot.buffers, lane.stream);
      } catch (const Error& e) {
        const TileSlot& first = task.slots.front();
        rethrow_with_context(e, concat(slide.path(), ": level ", level, " (", image.ifd_label, "), tiles from ",
                                       slide.source().locate(task.offset), " to ",
                                       slide.source().locate(task.offset + task.length), " (", task.slots.size(),
                                       " tiles from tile ", image.tile_number(first.column, first.row), ", column ",
                                       first.column, ", row ", first.row, ")"));
      }
      place_tiles(slot.buffers.device, task.slots, g, out, lane.stream);
      slot.done.record(lane.stream);
      slot.pending = true;
    });
  } catch (...) {
    try {
      finish_lanes();  // no copy may still read a staging buffer once the error leaves
    } catch (...) {
    }
    throw;
  }
  finish_lanes();
  report.tasks = tasks.size();
  for (const io::DeviceReadRequest& request : requests) report.bytes_read += range_reader->bytes_read(request);
}

void DeviceReader::Impl::read_decoded(const Slide& slide, std::size_t level, std::uint64_t x,
                                      std::uint64_t y, std::uint64_t width, std::uint64_t height,
                                      cuda::DeviceImage& out, DeviceReadReport& report) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::string place = concat("level ", level);
  const std::size_t row_bytes = out.row_bytes();
  // Bands follow the tile grid so that no tile is decoded twice.
  const std::uint64_t grid = image.tile_height;
  const std::uint64_t rows_wanted = std::max<std::uint64_t>(1, band_target_bytes / std::max<std::size_t>(row_bytes, 1));
  const std::uint64_t band_rows = std::max<std::uint64_t>(grid, rows_wanted / grid * grid);
  const std::size_t band_bytes = static_cast<std::size_t>(std::min(band_rows, height)) * row_bytes;
  if (bands[0].size() < band_bytes || bands[1].size() < band_bytes) {
    // Sized by the level's width: a very wide level makes bands of many megabytes.
    check_host_memory({.file = slide.path(),
                       .place = place,
                       .what = concat("two pinned bands of ", std::min(band_rows, height), " rows of ", row_bytes,
                                      " bytes (the CPU decode path's staging)"),
                       .bytes = 2 * std::uint64_t{band_bytes},
                       .ways_out = {WayOut::region}});
  }
  for (cuda::PinnedBuffer& band : bands) {
    if (band.size() < band_bytes) band = cuda::PinnedBuffer(band_bytes);
  }
  std::array<bool, 2> pending{false, false};
  std::uint64_t row = y;
  std::size_t n = 0;
  try {
    while (row < y + height) {
      const std::uint64_t band_end = std::min(y + height, (row / grid) * grid + band_rows);
      const std::size_t k = n++ % bands.size();
      if (pending[k]) band_done[k].synchronize();  // its upload has finished
      read_image_region_into(slide.source(), image, place, x, row, width, band_end - row, threads, bands[k].data(),
                             row_bytes);
      const std::size_t bytes = static_cast<std::size_t>(band_end - row) * row_bytes;
      cuda::copy_to_device(out.buffer(), {bands[k].data(), bytes}, main,
                           static_cast<std::size_t>(row - y) * row_bytes);
      band_done[k].record(main);
      pending[k] = true;
      row = band_end;
    }
  } catch (...) {
    try {
      main.synchronize();
    } catch (...) {
    }
    throw;
  }
  main.synchronize();
  report.tasks = n;
  report.bytes_read = out.size_bytes();
}

void DeviceReader::Impl::describe_gpu_decode(const tiff::ImageInfo& image, DeviceReadReport& report) {
  const bool j2k = is_jpeg2000(image.compression);
  const char* library = j2k ? "nvJPEG2000" : "nvJPEG";
  report.path = j2k ? gpu_j2k_decode_path : gpu_decode_path;
  report.io = mode == io::IoMode::direct ? io::IoMode::direct : io::IoMode::posix;
  report.io_detail = mode == io::IoMode::posix    ? concat("posix: pread of tile batches into pinned memory, decoded by ", library)
                     : mode == io::IoMode::direct ? concat("direct: O_DIRECT reads of tile batches into pinned memory, decoded by ", library)
                                                  : concat("posix, not ", io::to_string(mode), ": ", library,
                                                           " takes its streams from pinned host memory, read with pread");
  const codec::nvjpeg::ResolvedDecode& used = decoder_for(image);
  report.decode.decoder = used.decoder;
  report.decode.detail = used.detail;
}

void DeviceReader::Impl::describe_cpu_decode(const tiff::ImageInfo& image, DeviceReadReport& report,
                                             const std::string& gpu_unsupported, const char* why_not) {
  report.path = cpu_decode_path;
  report.decode.decoder = "CPU";
  const codec::nvjpeg::ResolvedDecode& gpu = decoder_for(image);
  report.decode.detail = !gpu.gpu                 ? gpu.detail
                         : gpu_unsupported.empty() ? std::string(why_not)
                                                   : concat(gpu_unsupported, ": nvJPEG decodes 8-bit JPEG tiles and nvJPEG2000 "
                                                                             "8- or 16-bit JPEG 2000 tiles only");
  report.io = io::IoMode::posix;
  report.io_detail = mode == io::IoMode::posix
                         ? std::string("posix: pread and decode on CPU threads into pinned memory")
                         : concat("posix, not ", io::to_string(mode),
                                  ": these tiles are decoded on CPU threads, which read them with pread");
}

// The patches read on CPU threads into pinned memory (each tile they share decoded once), then copied
// into their places in `out`, runs of neighbouring patches in one copy.
void DeviceReader::Impl::read_patches_on_cpu(const Slide& slide, std::size_t level, std::span<const PatchCorner> patches,
                                             const PatchGeometry& g, cuda::DeviceImage& out, DeviceReadReport& report,
                                             unsigned workers, const cuda::Stream& stream, cuda::PinnedBuffer& staging) {
  const std::size_t patch_bytes = g.patch_bytes();
  const std::size_t bytes = patches.size() * patch_bytes;
  check_host_memory({.file = slide.path(),
                     .place = concat("level ", level),
                     .what = concat(patches.size(), " patches of ", g.patch_width, " x ", g.patch_height,
                                    " pixels in pinned memory (the CPU decode path's staging)"),
                     .bytes = bytes,
                     .ways_out = {WayOut::region}});
  cuda::reserve(staging, bytes);
  std::vector<LevelRect> rects;
  std::vector<std::byte*> destinations;
  rects.reserve(patches.size());
  destinations.reserve(patches.size());
  for (std::size_t k = 0; k < patches.size(); ++k) {
    rects.push_back({patches[k].x, patches[k].y, g.patch_width, g.patch_height});
    destinations.push_back(staging.data() + k * patch_bytes);
  }
  read_level_rects_to(slide, level, rects, destinations, g.patch_row_bytes(), workers);
  try {
    for (std::size_t k = 0; k < patches.size();) {
      std::size_t run = 1;
      while (k + run < patches.size() && patches[k + run].index == patches[k].index + run) ++run;
      cuda::copy_to_device(out.buffer(), {staging.data() + k * patch_bytes, run * patch_bytes}, stream,
                           std::size_t{patches[k].index} * patch_bytes);
      k += run;
    }
  } catch (...) {
    try {
      stream.synchronize();
    } catch (...) {
    }
    throw;
  }
  stream.synchronize();
  report.tasks = 1;
  report.bytes_read = bytes;
}

double DeviceReader::Impl::patch_cpu_share() const {
  if (options.patch_cpu_share) {
    check<UsageError>(*options.patch_cpu_share >= 0 && *options.patch_cpu_share <= 1, "the patch CPU share must be "
                      "from 0 to 1, not ", *options.patch_cpu_share);
    return *options.patch_cpu_share;
  }
  if (default_settings().patch_cpu_share >= 0) return default_settings().patch_cpu_share;
  return threads > jpeg_lane_count ? default_patch_cpu_share : 0.0;
}

PatchSplit DeviceReader::Impl::patch_split() const {
  if (options.patch_split) return *options.patch_split;
  return default_settings().patch_split == "patches" ? PatchSplit::patches : PatchSplit::tiles;
}

void DeviceReader::Impl::zero_patches(std::span<const std::uint32_t> outside, const PatchGeometry& g,
                                      cuda::DeviceImage& out) {
  for (const std::uint32_t index : outside) {
    cuda::check_cuda(cudaMemsetAsync(out.data() + std::size_t{index} * g.patch_bytes(), 0, g.patch_bytes(), main.get()),
                     "cudaMemsetAsync(patch outside the level)");
  }
}

cuda::DeviceBuffer DeviceReader::Impl::upload_pieces(std::span<const PatchPiece> pieces) {
  cuda::DeviceBuffer buffer(std::max<std::size_t>(1, pieces.size()) * sizeof(PatchPiece), main);
  cuda::copy_to_device(buffer, std::as_bytes(pieces), main);
  return buffer;
}

void DeviceReader::Impl::decode_plan_on_gpu(const Slide& slide, std::size_t level, const PatchPlan& plan,
                                            const PatchPiece* pieces, const PatchGeometry& g, cuda::DeviceImage& out,
                                            DeviceReadReport& report) {
  if (plan.tiles.empty()) return;
  decode_jpeg_on_gpu(slide, level, plan.tiles,
                     [&](const cuda::DeviceBuffer& tiles, std::size_t first, std::size_t count, const cuda::Stream& stream) {
                       const std::size_t from = plan.first_piece[first];
                       place_patch_pieces(tiles.data(), static_cast<std::uint32_t>(first), count, pieces + from,
                                          plan.first_piece[first + count] - from, g, out.data(), stream);
                     },
                     report);
}

void DeviceReader::Impl::beside(const std::function<void()>& on_cpu, const std::function<void()>& on_gpu) {
  std::future<void> cpu_part;
  if (on_cpu) {
    cpu_part = std::async(std::launch::async, [&] {
      const cuda::DeviceGuard cpu_guard(device);
      on_cpu();
    });
  }
  try {
    on_gpu();
  } catch (...) {
    if (cpu_part.valid()) {
      try {
        cpu_part.get();
      } catch (...) {
      }
    }
    try {
      main.synchronize();
    } catch (...) {
    }
    throw;
  }
  if (cpu_part.valid()) cpu_part.get();
  main.synchronize();  // (the lanes and the CPU part have finished; the caller's piece table may go)
}

void DeviceReader::Impl::read_patches_split(const Slide& slide, std::size_t level, std::span<const PatchCorner> patches,
                                            const PatchGeometry& g, std::size_t patch_count, cuda::DeviceImage& out,
                                            double share, unsigned workers, DeviceReadReport& report) {
  std::vector<PatchCorner> cpu_patches, gpu_patches;
  for (const PatchCorner& p : patches) (cpu_share_patch(p.x, p.y, share) ? cpu_patches : gpu_patches).push_back(p);
  const PatchPlan plan = plan_patches(g, gpu_patches, patch_count);
  zero_patches(plan.outside, g, out);  // nvJPEG's patches only: the CPU path fills its own
  const cuda::DeviceBuffer pieces = upload_pieces(plan.pieces);
  DeviceReadReport cpu_report;
  beside(cpu_patches.empty() ? std::function<void()>()
                             : [&] { read_patches_on_cpu(slide, level, cpu_patches, g, out, cpu_report, workers, side,
                                                         share_host); },
         [&] {
           decode_plan_on_gpu(slide, level, plan, reinterpret_cast<const PatchPiece*>(pieces.data()), g, out, report);
         });
  if (!cpu_patches.empty()) {
    const std::size_t tiles = plan_patches(g, cpu_patches, patch_count).tiles.size();
    report.decode.tiles_cpu += tiles;
    if (report.decode.fallback_reason.empty())
      report.decode.fallback_reason =
          concat("decode auto: ", cpu_patches.size(), " of the batch's ", patches.size(), " patches (a fixed ", share,
                 " of patch positions) read by ", workers, " CPU threads beside nvJPEG, decoding only the windows of "
                 "the ", tiles, " tiles they cover");
  }
}

void DeviceReader::Impl::decode_share_on_cpu(const Slide& slide, std::size_t level, const PatchPlan& plan,
                                             const PatchPiece* pieces, const PatchGeometry& g, cuda::DeviceImage& out,
                                             unsigned workers) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::size_t tile_bytes = g.tile_bytes();
  const std::size_t bytes = plan.tiles.size() * tile_bytes;
  cuda::reserve(share_host, bytes);
  cuda::reserve(share_device, bytes, side);
  const codec::TileLayout layout = gpu_path_tile_layout(image);
  parallel_for(plan.tiles.size(), std::max(1u, workers), [&](std::size_t i) {
    thread_local std::vector<std::byte> stored;
    const TileSlot& tile = plan.tiles[i];
    const std::size_t number = image.tile_number(tile.column, tile.row);
    try {
      stored.resize(static_cast<std::size_t>(image.tile_byte_counts[number]));
      slide.source().read_exact(image.tile_offsets[number], stored);
      codec::decode_tile_into(image.compression, stored, layout, share_host.data() + i * tile_bytes,
                              std::size_t{g.tile_width} * g.pixel_bytes());
    } catch (const Error& e) {
      rethrow_with_context(e, tile_place(slide, level, tile));
    }
  });
  cuda::copy_to_device(share_device, {share_host.data(), bytes}, side);
  place_patch_pieces(share_device.data(), 0, plan.tiles.size(), pieces, plan.pieces.size(), g, out.data(), side);
  side.synchronize();
}

DeviceReader::DeviceReader(const DeviceReaderOptions& options) {
  const auto start = Clock::now();
  const int devices = cuda::device_count();
  check<UsageError>(devices > 0, "no CUDA device (", cuda::no_device_reason(), ")");
  check<UsageError>(options.device >= 0 && options.device < devices, "CUDA device ", options.device,
                    " does not exist (", devices, " device", devices == 1 ? "" : "s", ")");
  const cuda::DeviceGuard guard(options.device);
  // Made here, after the checks and on the reader's device: its main stream is a CUDA call, which on a
  // machine without a driver would fail with a CudaError instead of the UsageError above.
  impl_ = std::make_unique<Impl>();
  Impl& m = *impl_;
  m.device = options.device;
  m.threads = resolve_threads(options.threads);
  const io::ResolvedIo io = options.resolved_io ? *options.resolved_io
                                                : io::resolve_device_io(options.io.value_or(io::default_io_mode()));
  m.mode = io.mode;
  m.detail = io.detail;
  if (options.keep_freed_device_memory) {
    cudaMemPool_t pool = nullptr;
    cuda::check_cuda(cudaDeviceGetDefaultMemPool(&pool, m.device), "cudaDeviceGetDefaultMemPool");
    std::uint64_t keep_all = std::numeric_limits<std::uint64_t>::max();
    cuda::check_cuda(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all),
                     "cudaMemPoolSetAttribute(release threshold)");
  }
  m.decode = options.resolved_decode
                 ? *options.resolved_decode
                 : codec::nvjpeg::resolve_device_decode(options.decode.value_or(codec::default_decode_mode()), m.device);
  m.options = options;
  m.jpeg_lane_count = jpeg_lanes(options, m.threads);
  m.lanes = std::vector<Lane>(m.threads);
  m.size_slots(resolve_task_bytes(options.task_bytes));
  m.setup_seconds = seconds_since(start);
}

DeviceReader::~DeviceReader() = default;
DeviceReader::DeviceReader(DeviceReader&&) noexcept = default;
DeviceReader& DeviceReader::operator=(DeviceReader&&) noexcept = default;

io::IoMode DeviceReader::io_mode() const { return impl_->mode; }
const codec::nvjpeg::ResolvedDecode& DeviceReader::decode() const { return impl_->decode; }
const std::string& DeviceReader::io_detail() const { return impl_->detail; }
unsigned DeviceReader::threads() const { return impl_->threads; }
int DeviceReader::device() const { return impl_->device; }
double DeviceReader::setup_seconds() const { return impl_->setup_seconds; }

cuda::DeviceImage DeviceReader::read_region(const Slide& slide, std::size_t level, std::uint64_t x,
                                            std::uint64_t y, std::uint64_t width, std::uint64_t height,
                                            DeviceReadReport* report) {
  const auto start = Clock::now();
  Impl& m = *impl_;
  const cuda::DeviceGuard guard(m.device);
  const tiff::ImageInfo& image = slide.level(level).image;
  image.check_readable(concat("level ", level));
  check_region(slide.source().name(), concat("level ", level), image, x, y, width, height);
  DeviceReadReport mine;
  const PlaceGeometry g = geometry_of(image, x, y, width, height);
  std::vector<TileSlot> slots;
  bool raw = raw_tiles_possible(image);
  if (raw) {
    slots = region_tile_slots(g);
    raw = tiles_complete(image, slots, g.tile_bytes());
  }
  const std::string gpu_unsupported = raw ? std::string() : gpu_decode_unsupported_reason(image);
  bool gpu_jpeg = !raw && gpu_unsupported.empty() && m.decoder_for(image).gpu;
  if (gpu_jpeg) {
    slots = region_tile_slots(g);
    gpu_jpeg = tiles_complete(image, slots, 1);  // no sparse tile: those are the CPU path's
  }
  const bool whole = x == 0 && y == 0 && width == image.width && height == image.height;
  cuda::check_device_memory(
      {.file = slide.path(),
       .place = whole ? concat("level ", level)
                      : concat("level ", level, " region ", x, ",", y, " ", width, "x", height),
       .what = concat("reading ", height, " x ", width, " x ", image.samples, " ", to_string(image.dtype),
                      whole ? " (the whole level)" : "", " to the device"),
       .bytes = image_bytes(height, width, image.samples, image.dtype),
       .ways_out = {WayOut::region}},
      m.device);
  const auto allocate_start = Clock::now();
  cuda::DeviceImage out(height, width, image.samples, image.dtype, m.main);
  mine.allocate_seconds += seconds_since(allocate_start);
  if (raw) {
    mine.path = raw_tiles_path;
    mine.io = m.mode;
    mine.io_detail = m.detail;
    m.read_raw(slide, level, g, slots, out, mine);
  } else if (gpu_jpeg) {
    m.describe_gpu_decode(image, mine);
    m.decode_jpeg_on_gpu(slide, level, slots,
                         [&](const cuda::DeviceBuffer& tiles, std::size_t first, std::size_t count,
                             const cuda::Stream& stream) {
                           place_tiles(tiles, std::span<const TileSlot>(slots).subspan(first, count), g, out, stream);
                         },
                         mine);
  } else {
    m.describe_cpu_decode(image, mine, gpu_unsupported, "sparse tiles in the region");
    m.read_decoded(slide, level, x, y, width, height, out, mine);
  }
  // The reader's streams may end before the image does, so it frees on a stream that always exists.
  out.buffer().set_free_stream(cudaStreamLegacy);
  mine.seconds = seconds_since(start);
  if (report != nullptr) *report = mine;
  return out;
}

cuda::DeviceImage DeviceReader::read_level(const Slide& slide, std::size_t level, DeviceReadReport* report) {
  const tiff::ImageInfo& image = slide.level(level).image;
  return read_region(slide, level, 0, 0, image.width, image.height, report);
}

void DeviceReader::read_patches(const Slide& slide, std::size_t level, std::span<const PatchCorner> patches,
                                std::uint64_t width, std::uint64_t height, cuda::DeviceImage& out,
                                DeviceReadReport* report) {
  const auto start = Clock::now();
  Impl& m = *impl_;
  const cuda::DeviceGuard guard(m.device);
  check<UsageError>(level < slide.level_count(), slide.path(), ": level ", level, " does not exist (",
                    slide.level_count(), " levels)");
  const tiff::ImageInfo& image = slide.level(level).image;
  image.check_readable(concat("level ", level));
  check<UsageError>(width > 0 && height > 0, slide.path(), " level ", level, ": empty patches (", width, " x ", height,
                    ")");
  check<UsageError>(out.width() == width && out.samples() == image.samples && out.dtype() == image.dtype &&
                        out.height() % height == 0 && out.row_stride() == out.row_bytes() && out.device() == m.device,
                    slide.path(), " level ", level, ": patches of ", height, " x ", width, " x ", image.samples, " ",
                    to_string(image.dtype), " into a ", out.height(), " x ", out.width(), " x ", out.samples(), " ",
                    to_string(out.dtype()), " device image on device ", out.device());
  const PatchGeometry g{image.width,   image.height, image.tile_width, image.tile_height,
                        image.samples, image.dtype,  width,            height};
  DeviceReadReport mine;
  const PatchPlan plan = plan_patches(g, patches, static_cast<std::size_t>(out.height() / height));
  const std::string gpu_unsupported = gpu_decode_unsupported_reason(image);
  const bool gpu_jpeg = gpu_unsupported.empty() && m.decoder_for(image).gpu && tiles_complete(image, plan.tiles, 1);
  if (gpu_jpeg) {
    m.describe_gpu_decode(image, mine);
    // Under auto a fixed share goes to the CPU threads the nvJPEG lanes leave free: of the level's tiles,
    // or, with the patch split, of patch positions.
    const double share = m.decoder_for(image).automatic ? m.patch_cpu_share() : 0.0;
    const unsigned cpu_workers = m.threads > m.jpeg_lane_count ? m.threads - m.jpeg_lane_count : 1;
    if (share > 0 && m.patch_split() == PatchSplit::patches) {
      m.read_patches_split(slide, level, patches, g, static_cast<std::size_t>(out.height() / height), out, share,
                           cpu_workers, mine);
      mine.seconds = seconds_since(start);
      if (report != nullptr) *report = mine;
      return;
    }
    const SplitPlan split = split_plan(plan, [&](const TileSlot& t) {
      return cpu_share_tile(image.tile_number(t.column, t.row), share);
    });
    const PatchPlan& on_gpu = split.rest;
    const PatchPlan& on_cpu = split.taken;
    m.zero_patches(plan.outside, g, out);
    std::vector<PatchPiece> all_pieces(on_gpu.pieces);
    all_pieces.insert(all_pieces.end(), on_cpu.pieces.begin(), on_cpu.pieces.end());
    const cuda::DeviceBuffer pieces = m.upload_pieces(all_pieces);
    const auto* gpu_pieces = reinterpret_cast<const PatchPiece*>(pieces.data());
    const PatchPiece* cpu_pieces = gpu_pieces + on_gpu.pieces.size();
    cuda::Event ready;
    ready.record(m.main);
    m.side.wait(ready);
    m.beside(on_cpu.tiles.empty() ? std::function<void()>()
                                  : [&] { m.decode_share_on_cpu(slide, level, on_cpu, cpu_pieces, g, out, cpu_workers); },
             [&] { m.decode_plan_on_gpu(slide, level, on_gpu, gpu_pieces, g, out, mine); });
    if (!on_cpu.tiles.empty()) {
      mine.decode.tiles_cpu += on_cpu.tiles.size();
      if (mine.decode.fallback_reason.empty())
        mine.decode.fallback_reason = concat("decode auto: ", on_cpu.tiles.size(), " of the batch's ", plan.tiles.size(),
                                             " tiles (a fixed ", share, " of the level's) decoded by ", cpu_workers,
                                             " CPU threads beside nvJPEG");
    }
  } else {
    m.describe_cpu_decode(image, mine, gpu_unsupported, "sparse tiles under the patches");
    m.read_patches_on_cpu(slide, level, patches, g, out, mine, m.threads, m.main, m.bands[0]);
  }
  mine.seconds = seconds_since(start);
  if (report != nullptr) *report = mine;
}

cuda::DeviceImage read_region_to_device(const Slide& slide, std::size_t level, std::uint64_t x, std::uint64_t y,
                                        std::uint64_t width, std::uint64_t height,
                                        const DeviceReaderOptions& options, DeviceReadReport* report) {
  const auto start = Clock::now();
  DeviceReader reader(options);
  cuda::DeviceImage image = reader.read_region(slide, level, x, y, width, height, report);
  if (report != nullptr) report->seconds = seconds_since(start);
  return image;
}

}  // namespace tilestream::slide
