// nvCOMP's chunk compression on one slide level, as the CUDA backend would use it: the level read to
// the device (DeviceReader), cut into padded chunk x chunk blocks in device memory before the clock
// starts, then every block compressed by zarr::DeviceChunkEncoder in batches of K blocks, on T threads
// (one stream and one encoder each), for each codec and each K asked. The bytes come back to the host
// as the engine's would (encode returns them there), so a figure is what a convert could reach before
// its files are written.
//   tilestream_nvcomp_throughput SLIDE [--level N] [--chunk C] [--threads T] [--repeat R]
//       [--batches 1,16,64] [--codecs zstd,blosc:lz4,gzip:1]
// Prints one JSON line per (codec, batch): blocks, bytes (uncompressed), compressed, threads, batch,
// runs_seconds, cpu_seconds (getrusage of the process per run).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_main.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/device_encoder.hpp"

namespace ts = tilestream;

namespace {

using tilestream::bench::cpu_seconds;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

int run(int argc, char** argv) {
  ts::check<ts::UsageError>(argc >= 2, "usage: tilestream_nvcomp_throughput SLIDE [--level N] [--chunk C] "
                                       "[--threads T] [--repeat R] [--batches 1,16] [--codecs zstd,blosc:lz4]");
  std::size_t level = 0, chunk = 512;
  unsigned threads = 16, repeat = 3;
  std::vector<std::string> batches{"1", "16", "64", "256"}, codecs{"zstd", "blosc:lz4", "gzip:1"};
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--level") level = std::stoul(value);
    else if (flag == "--chunk") chunk = std::stoul(value);
    else if (flag == "--threads") threads = static_cast<unsigned>(std::max(1ul, std::stoul(value)));
    else if (flag == "--repeat") repeat = static_cast<unsigned>(std::max(1ul, std::stoul(value)));
    else if (flag == "--batches") batches = split(value);
    else if (flag == "--codecs") codecs = split(value);
    else throw ts::UsageError("unknown flag " + flag);
  }
  const ts::slide::Slide slide = ts::slide::Slide::open(argv[1]);
  ts::slide::DeviceReaderOptions reader_options;
  reader_options.threads = threads;
  ts::slide::DeviceReader reader(reader_options);
  const ts::cuda::DeviceImage image = reader.read_level(slide, level);
  const ts::cuda::Stream stream;

  // Every padded block, side by side in one buffer, rows of the chunk's width (as the backend makes them).
  const std::size_t pixel = image.pixel_stride();
  const std::size_t rows = (image.height() + chunk - 1) / chunk, cols = (image.width() + chunk - 1) / chunk;
  const std::size_t block_bytes = chunk * chunk * pixel;
  const std::size_t count = rows * cols;
  ts::cuda::DeviceBuffer blocks(count * block_bytes, stream);
  ts::cuda::check_cuda(cudaMemsetAsync(blocks.data(), 0, blocks.size(), stream.get()), "cudaMemsetAsync");
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t h = std::min<std::size_t>(chunk, image.height() - r * chunk);
      const std::size_t w = std::min<std::size_t>(chunk, image.width() - c * chunk);
      ts::cuda::check_cuda(cudaMemcpy2DAsync(blocks.data() + (r * cols + c) * block_bytes, chunk * pixel,
                                             image.data() + r * chunk * image.row_stride() + c * chunk * pixel,
                                             image.row_stride(), w * pixel, h, cudaMemcpyDeviceToDevice,
                                             stream.get()),
                           "cudaMemcpy2DAsync");
    }
  }
  stream.synchronize();
  std::vector<ts::zarr::DeviceChunkEncoder::Chunk> all(count);
  for (std::size_t n = 0; n < count; ++n) all[n] = {blocks.data() + n * block_bytes, block_bytes};

  for (const std::string& codec : codecs) {
    const std::vector<ts::zarr::CompressorSpec> specs = ts::zarr::parse_codec_option(codec);
    ts::check<ts::UsageError>(specs.size() == 1, "one compressor per codec: ", codec);
    for (const std::string& batch_text : batches) {
      const std::size_t batch = std::max<std::size_t>(1, std::stoul(batch_text));
      const std::size_t groups = (count + batch - 1) / batch;
      const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, groups));
      struct Worker {
        ts::cuda::Stream stream;
        std::optional<ts::zarr::DeviceChunkEncoder> encoder;
        std::size_t compressed = 0;
      };
      std::vector<Worker> pool(workers);
      for (Worker& worker : pool) worker.encoder.emplace(specs.front(), image.sample_stride());
      nlohmann::json runs = nlohmann::json::array(), cpu = nlohmann::json::array();
      std::size_t compressed = 0;
      for (unsigned r = 0; r <= repeat; ++r) {  // run 0 warms up (nvCOMP's buffers) and is not reported
        for (Worker& worker : pool) worker.compressed = 0;
        const double cpu_start = cpu_seconds();
        const auto start = std::chrono::steady_clock::now();
        ts::parallel_for_workers(groups, workers, [&](std::size_t g, unsigned w) {
          const ts::cuda::DeviceGuard guard(0);
          const std::size_t first = g * batch, size = std::min(batch, count - first);
          const auto encoded = pool[w].encoder->encode(std::span(all).subspan(first, size), pool[w].stream);
          for (const auto& bytes : encoded) pool[w].compressed += bytes.size();
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        compressed = 0;
        for (const Worker& worker : pool) compressed += worker.compressed;
        if (r > 0) {
          runs.push_back(seconds);
          cpu.push_back(cpu_seconds() - cpu_start);
        }
      }
      const nlohmann::json out{{"slide", slide.path()}, {"level", level},       {"codec", codec},
                               {"chunk", chunk},        {"blocks", count},      {"bytes", count * block_bytes},
                               {"compressed", compressed}, {"threads", workers}, {"batch", batch},
                               {"runs_seconds", runs},  {"cpu_seconds", cpu}};
      std::printf("%s\n", out.dump().c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return tilestream::bench::main_of("tilestream_nvcomp_throughput", run, argc, argv); }
