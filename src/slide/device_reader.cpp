// DeviceReader: plans raw-tile reads, runs them on the reader's threads through the chosen io
// backend, or decodes bands on the CPU into pinned memory and uploads them; see the header.
#include "tilestream/slide/device_reader.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <limits>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory_budget.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/io/device_range_reader.hpp"
#include "tilestream/slide/device_place_tiles.hpp"
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

struct DeviceReader::Impl {
  int device = 0;
  unsigned threads = 1;
  io::IoMode mode = io::IoMode::posix;
  std::string detail;
  std::size_t capacity = 0;  // bytes of each slot's device tile buffer (and staging, plus slack)
  double setup_seconds = 0;
  cuda::Stream main;         // allocations of output images and the decode path's uploads
  std::vector<Lane> lanes;
  std::array<cuda::PinnedBuffer, 2> bands;  // decode path, allocated on first use
  std::array<cuda::Event, 2> band_done;

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

  void read_raw(const Slide& slide, std::size_t level, const PlaceGeometry& g, std::span<const TileSlot> slots,
                cuda::DeviceImage& out, DeviceReadReport& report);
  void read_decoded(const Slide& slide, std::size_t level, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                    std::uint64_t height, cuda::DeviceImage& out, DeviceReadReport& report);
};

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
      io::make_device_range_reader(mode, slide.source(), slide.path());

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
        rethrow_with_context(e, concat(slide.path(), ": level ", level, " (", image.ifd_label, "), tiles at offsets ",
                                       task.offset, " to ", task.offset + task.length, " (", task.slots.size(),
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
  m.lanes = std::vector<Lane>(m.threads);
  m.size_slots(resolve_task_bytes(options.task_bytes));
  m.setup_seconds = seconds_since(start);
}

DeviceReader::~DeviceReader() = default;
DeviceReader::DeviceReader(DeviceReader&&) noexcept = default;
DeviceReader& DeviceReader::operator=(DeviceReader&&) noexcept = default;

io::IoMode DeviceReader::io_mode() const { return impl_->mode; }
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
  if (!image.unsupported_reason.empty()) {
    throw UnsupportedError(concat(slide.path(), ": level ", level, ": ", image.unsupported_reason));
  }
  check_region(slide.source().name(), concat("level ", level), image, x, y, width, height);
  DeviceReadReport mine;
  const PlaceGeometry g = geometry_of(image, x, y, width, height);
  std::vector<TileSlot> slots;
  bool raw = raw_tiles_possible(image);
  if (raw) {
    slots = region_tile_slots(g);
    raw = tiles_complete(image, slots, g.tile_bytes());
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
  cuda::DeviceImage out(height, width, image.samples, image.dtype, m.main);
  if (raw) {
    mine.path = raw_tiles_path;
    mine.io = m.mode;
    mine.io_detail = m.detail;
    m.read_raw(slide, level, g, slots, out, mine);
  } else {
    mine.path = cpu_decode_path;
    mine.io = io::IoMode::posix;
    mine.io_detail = m.mode == io::IoMode::posix
                         ? std::string("posix: pread and decode on CPU threads into pinned memory")
                         : concat("posix, not ", io::to_string(m.mode),
                                  ": these tiles are decoded on CPU threads, which read them with pread");
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
