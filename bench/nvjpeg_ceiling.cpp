// nvJPEG's ceiling on one slide level: every tile of the level, joined with the JPEGTables into a
// complete stream and held in pinned memory before the clock starts, decoded by the backend and the
// batching that the DeviceReader uses (codec::nvjpeg::BatchDecoder; the same lanes, batch size and
// two slots per lane), with no file read and no placement. The DeviceReader's nvJPEG path adds the
// reads, the joining and the placement kernel to this; bench/decode.py states the ratio.
//   tilestream_nvjpeg_ceiling SLIDE [--level N] [--threads T] [--repeat R]
// Prints one JSON line: tiles, bytes (decoded), lanes, batch_tiles, decoder, runs_seconds and
// cpu_seconds (getrusage of the process, user + system, per run).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench_main.hpp"
#include "tilestream/codec/jpeg_stream.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/slide/slide.hpp"

namespace ts = tilestream;

namespace {

using tilestream::bench::cpu_seconds;

struct Lane {
  ts::cuda::Stream stream;
  std::array<ts::cuda::DeviceBuffer, 2> tiles;
  std::array<ts::cuda::Event, 2> done;
  std::array<bool, 2> pending{false, false};
  std::optional<ts::codec::nvjpeg::BatchDecoder> decoder;
  std::size_t next = 0;
};

int run(int argc, char** argv) {
  ts::check<ts::UsageError>(argc >= 2, "usage: tilestream_nvjpeg_ceiling SLIDE [--level N] [--threads T] [--repeat R]");
  std::size_t level = 0;
  unsigned threads = 16, repeat = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const unsigned long value = std::strtoul(argv[i + 1], nullptr, 10);
    if (flag == "--level") level = value;
    else if (flag == "--threads") threads = static_cast<unsigned>(std::max(1ul, value));
    else if (flag == "--repeat") repeat = static_cast<unsigned>(std::max(1ul, value));
    else throw ts::UsageError("unknown flag " + flag);
  }
  const ts::slide::Slide slide = ts::slide::Slide::open(argv[1]);
  const ts::tiff::ImageInfo& image = slide.level(level).image;
  const std::string why = image.compression == ts::codec::compression::jpeg
                              ? ts::slide::gpu_decode_unsupported_reason(image)
                              : std::string("not JPEG tiles (this measures nvJPEG)");
  ts::check<ts::UnsupportedError>(why.empty(), slide.path(), " level ", level, ": ", why);
  const ts::codec::nvjpeg::ResolvedDecode decode =
      ts::codec::nvjpeg::resolve_device_decode(ts::codec::DecodeMode::gpu, 0);

  // Every tile's complete stream, in one pinned buffer.
  const std::size_t count = image.tile_offsets.size();
  std::vector<std::size_t> at(count + 1, 0);
  std::vector<std::vector<std::byte>> raw(count);
  for (std::size_t t = 0; t < count; ++t) {
    raw[t].resize(static_cast<std::size_t>(image.tile_byte_counts[t]));
    slide.source().read_exact(image.tile_offsets[t], raw[t]);
    at[t + 1] = at[t] + ts::codec::joined_jpeg_size(image.jpeg_tables, raw[t]);
  }
  ts::cuda::PinnedBuffer streams(at[count]);
  std::vector<std::span<const std::byte>> spans(count);
  for (std::size_t t = 0; t < count; ++t) {
    const std::span<std::byte> out{streams.data() + at[t], at[t + 1] - at[t]};
    ts::codec::join_jpeg_stream(image.jpeg_tables, raw[t], out);
    spans[t] = out;
  }
  raw.clear();

  // The DeviceReader's batching (src/slide/device_reader.cpp): lanes and tiles per batch.
  const ts::codec::nvjpeg::TileFormat format{image.tile_width, image.tile_height, image.samples,
                                             image.samples == 3 && image.photometric == 2};
  const std::size_t tile_bytes = format.bytes();
  const ts::slide::DeviceReaderOptions reader_options;
  const unsigned lanes_wanted = ts::slide::jpeg_lanes(reader_options, threads);
  const std::size_t batch = ts::slide::jpeg_batch_tiles(reader_options, lanes_wanted, count, tile_bytes);
  const std::size_t batches = (count + batch - 1) / batch;
  const unsigned lanes = static_cast<unsigned>(std::min<std::size_t>(lanes_wanted, batches));
  std::vector<Lane> pool(lanes);
  for (Lane& lane : pool) {
    lane.decoder.emplace(0, decode);
    for (ts::cuda::DeviceBuffer& buffer : lane.tiles) buffer = ts::cuda::DeviceBuffer(batch * tile_bytes, lane.stream);
  }
  std::vector<std::uint32_t> order(batch);
  for (std::size_t j = 0; j < batch; ++j) order[j] = static_cast<std::uint32_t>(j);

  nlohmann::json runs = nlohmann::json::array(), cpu = nlohmann::json::array();
  for (unsigned r = 0; r <= repeat; ++r) {  // run 0 warms up and is not reported
    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    ts::parallel_for_workers(batches, lanes, [&](std::size_t n, unsigned worker) {
      Lane& lane = pool[worker];
      const std::size_t k = lane.next++ % 2;
      if (lane.pending[k]) lane.done[k].synchronize();
      const std::size_t first = n * batch, size = std::min(batch, count - first);
      const std::string refused = lane.decoder->decode(k, std::span(spans).subspan(first, size),
                                                       std::span(order).first(size), format, lane.tiles[k].data(),
                                                       lane.stream);
      ts::check<ts::CodecError>(refused.empty(), "batch ", n, ": ", refused);
      lane.done[k].record(lane.stream);
      lane.pending[k] = true;
    });
    for (Lane& lane : pool) {
      lane.stream.synchronize();
      lane.pending = {false, false};
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r > 0) {
      runs.push_back(seconds);
      cpu.push_back(cpu_seconds() - cpu_start);
    }
  }
  const nlohmann::json out{{"slide", slide.path()},        {"level", level},
                           {"tiles", count},               {"bytes", count * tile_bytes},
                           {"lanes", lanes},               {"batch_tiles", batch},
                           {"decoder", decode.decoder},    {"detail", decode.detail},
                           {"runs_seconds", runs},         {"cpu_seconds", cpu}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return tilestream::bench::main_of("tilestream_nvjpeg_ceiling", run, argc, argv); }
