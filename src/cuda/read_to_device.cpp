// read_region_to_device: raw tiles through the posix backend and pinned staging onto the GPU, or CPU
// decoding and a pinned upload; see the header for which path takes which images.
#include "tilestream/cuda/read_to_device.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/place_tiles.hpp"
#include "tilestream/io/range_reader.hpp"

namespace tilestream::cuda {
namespace {

// One copy lane: a stream, the device buffer its batches land in, the pinned buffer they are read into,
// and the event marking the end of its last batch. The stream is declared first so that the buffer,
// which frees on it, goes before it.
struct Lane {
  Stream stream;
  DeviceBuffer tiles;
  PinnedBufferPool::Lease staging;
  Event done;
  bool busy = false;
};

slide::PlaceGeometry geometry_of(const tiff::ImageInfo& image, std::uint64_t x, std::uint64_t y,
                                 std::uint64_t width, std::uint64_t height) {
  slide::PlaceGeometry g;
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

// Every tile of the region is stored whole (not sparse, not short), so raw bytes are its pixels.
bool tiles_complete(const tiff::ImageInfo& image, std::span<const slide::TileSlot> slots, std::size_t tile_bytes) {
  return std::all_of(slots.begin(), slots.end(), [&](const slide::TileSlot& s) {
    return image.tile_byte_counts[image.tile_number(s.column, s.row)] >= tile_bytes;
  });
}

void read_raw_tiles(const io::ByteSource& source, const tiff::ImageInfo& image, const slide::PlaceGeometry& g,
                    std::span<const slide::TileSlot> slots, const DeviceReadOptions& options, DeviceImage& out,
                    const Stream& main, DeviceReadReport& report) {
  const std::size_t tile_bytes = g.tile_bytes();
  const std::size_t per_batch =
      std::clamp<std::size_t>(options.staging_bytes / tile_bytes, 1, slots.size());
  const std::size_t batches = (slots.size() + per_batch - 1) / per_batch;
  const std::size_t lane_count = std::clamp<std::size_t>(options.streams, 1, batches);
  PinnedBufferPool pool(lane_count, per_batch * tile_bytes);
  Event allocated;
  allocated.record(main);
  std::vector<Lane> lanes(lane_count);
  for (Lane& lane : lanes) {
    lane.stream.wait(allocated);
    lane.tiles = DeviceBuffer(per_batch * tile_bytes, lane.stream);
    lane.staging = pool.acquire();
  }
  const io::RangeReadOptions read_options{resolve_threads(options.threads)};
  std::vector<io::ByteRange> ranges;
  for (std::size_t b = 0; b < batches; ++b) {
    Lane& lane = lanes[b % lane_count];
    if (lane.busy) lane.done.synchronize();  // its staging buffer is free again
    const std::size_t first = b * per_batch;
    const std::size_t count = std::min(per_batch, slots.size() - first);
    ranges.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const slide::TileSlot& s = slots[first + i];
      ranges.push_back({image.tile_offsets[image.tile_number(s.column, s.row)], tile_bytes,
                        lane.staging.data() + i * tile_bytes});
    }
    report.bytes_read += io::read_ranges(source, ranges, read_options).bytes_read;
    copy_to_device(lane.tiles, {lane.staging.data(), count * tile_bytes}, lane.stream);
    place_tiles(lane.tiles, slots.subspan(first, count), g, out, lane.stream);
    lane.done.record(lane.stream);
    lane.busy = true;
  }
  for (const Lane& lane : lanes) main.wait(lane.done);
  main.synchronize();
}

void upload_decoded(const HostImage& host, const DeviceReadOptions& options, DeviceImage& out, const Stream& stream) {
  const std::size_t total = host.size_bytes();
  const std::size_t chunk = std::clamp<std::size_t>(options.staging_bytes, 1, total);
  const std::size_t chunks = (total + chunk - 1) / chunk;
  PinnedBufferPool pool(std::min<std::size_t>(2, chunks), chunk);
  std::vector<PinnedBufferPool::Lease> staging;
  std::vector<Event> done(pool.count());
  for (std::size_t k = 0; k < pool.count(); ++k) staging.push_back(pool.acquire());
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t k = i % staging.size();
    if (i >= staging.size()) done[k].synchronize();  // the copy out of this buffer has ended
    const std::size_t offset = i * chunk;
    const std::size_t n = std::min(chunk, total - offset);
    std::memcpy(staging[k].data(), host.data() + offset, n);
    copy_to_device(out.buffer(), {staging[k].data(), n}, stream, offset);
    done[k].record(stream);
  }
  stream.synchronize();
}

}  // namespace

bool raw_tiles_possible(const tiff::ImageInfo& image) {
  const std::size_t sample = bytes_per_sample(image.dtype);
  return image.unsupported_reason.empty() && image.tiled && image.compression == codec::compression::none &&
         image.predictor == 1 && image.planes() == 1 && image.photometric != codec::photometric::ycbcr &&
         image.bits_per_sample == 8 * sample &&
         (sample == 1 || image.big_endian == (std::endian::native == std::endian::big));
}

DeviceImage read_region_to_device(const slide::Slide& slide, std::size_t level, std::uint64_t x,
                                  std::uint64_t y, std::uint64_t width, std::uint64_t height,
                                  const DeviceReadOptions& options, DeviceReadReport* report) {
  const auto start = std::chrono::steady_clock::now();
  const tiff::ImageInfo& image = slide.level(level).image;
  DeviceReadReport mine;
  const int devices = device_count();
  check<UsageError>(devices > 0, "no CUDA device (", no_device_reason(), ")");
  check<UsageError>(options.device >= 0 && options.device < devices, "CUDA device ", options.device,
                    " does not exist (", devices, " device", devices == 1 ? "" : "s", ")");
  const DeviceGuard guard(options.device);
  const Stream main;
  DeviceImage out;

  bool raw = false;
  slide::PlaceGeometry g;
  std::vector<slide::TileSlot> slots;
  if (raw_tiles_possible(image)) {
    slide::check_region(slide.source().name(), concat("level ", level), image, x, y, width, height);
    g = geometry_of(image, x, y, width, height);
    slots = slide::region_tile_slots(g);
    raw = tiles_complete(image, slots, g.tile_bytes());
  }
  if (raw) {
    mine.path = raw_tiles_path;
    out = DeviceImage(height, width, image.samples, image.dtype, main);
    read_raw_tiles(slide.source(), image, g, slots, options, out, main, mine);
  } else {
    mine.path = cpu_decode_path;
    const HostImage host = slide.read_region(level, x, y, width, height, {resolve_threads(options.threads)});
    mine.bytes_read = host.size_bytes();
    out = DeviceImage(height, width, image.samples, image.dtype, main);
    upload_decoded(host, options, out, main);
  }
  // `main` ends here; the image lives on, so it frees on a stream that always exists.
  out.buffer().set_free_stream(cudaStreamLegacy);
  mine.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report != nullptr) *report = mine;
  return out;
}

}  // namespace tilestream::cuda
