// Progress bar and peak memory for the sub-commands' reports.
#include "cli/report.hpp"

#include "tilestream/core/error.hpp"

#include <algorithm>

#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tilestream::cli {

void draw_bar(std::uint64_t done, std::uint64_t total, const char* unit, double bytes_per_second) {
  constexpr int width = 30;
  const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '.');
  std::fprintf(stderr, "\r[%s] %3d%% %llu/%llu %s", bar.c_str(), static_cast<int>(fraction * 100),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), unit);
  if (bytes_per_second >= 0) {
    const double rate = bytes_per_second;
    std::fprintf(stderr, " %.1f %s", rate >= 1e9 ? rate / 1e9 : rate / 1e6, rate >= 1e9 ? "GB/s" : "MB/s");
  }
  std::fflush(stderr);
}

double peak_rss_mb() {
  if (std::FILE* status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, status))
      found = std::sscanf(line, "VmHWM: %llu kB", &kib) == 1;
    std::fclose(status);
    if (found) return static_cast<double>(kib) / 1024.0;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

namespace {

// The run's decoding over its datasets: the first that read a slide names the decoder, the counts add up.
codec::DecodeReport all_decoding(const std::vector<pipeline::DatasetReport>& datasets) {
  codec::DecodeReport all;
  for (const pipeline::DatasetReport& d : datasets) all.add(d.run.decode);
  return all;
}

// Who compressed the chunks (nvCOMP on the GPU or the CPU, and why) and how many blocks the GPU encoded.
nlohmann::json encode_json(const pipeline::BackendReport& run) {
  return {{"encoder", run.encoder}, {"detail", run.encode_detail}, {"blocks_gpu", run.blocks_gpu_encoded}};
}

// The run's encoding over its datasets: the first that compressed names the encoder, the counts add up.
nlohmann::json encode_json(const std::vector<pipeline::DatasetReport>& datasets) {
  pipeline::BackendReport all;
  for (const pipeline::DatasetReport& d : datasets) {
    if (all.encoder.empty()) {
      all.encoder = d.run.encoder;
      all.encode_detail = d.run.encode_detail;
    }
    all.blocks_gpu_encoded += d.run.blocks_gpu_encoded;
  }
  return encode_json(all);
}

}  // namespace

nlohmann::json run_report_json(const pipeline::RunReport& report) {
  const auto shape = [](const ops::ImageShape& s) {
    return nlohmann::json{{"shape", {s.height, s.width, s.samples}}, {"dtype", to_string(s.dtype)}};
  };
  nlohmann::json datasets = nlohmann::json::array();
  double read = 0, compute = 0, write = 0, store = 0, flush = 0;
  std::size_t peak = 0;
  for (const pipeline::DatasetReport& d : report.datasets) {
    read += d.run.read_seconds;
    compute += d.run.compute_seconds;
    write += d.run.write_seconds;
    store += d.run.store_seconds;
    flush += d.flush_seconds;
    peak = std::max(peak, d.run.peak_device_bytes);
    datasets.push_back({{"path", d.path},
                        {"source", shape(d.input)},
                        {"result", shape(d.output)},
                        {"array_bytes", d.output.size_bytes()},
                        {"blocks", d.blocks},
                        {"blocks_skipped", d.blocks_skipped},
                        {"blocks_from_device", d.blocks_from_device},
                        {"workers", d.workers},
                        {"group", d.group},
                        {"task_bytes", d.task_bytes},
                        {"bytes_in_flight", d.bytes_in_flight},
                        {"io", d.run.io},
                        {"io_detail", d.run.io_detail},
                        {"decode", decode_json(d.run.decode)},
                        {"encode", encode_json(d.run)},
                        {"peak_device_bytes", d.run.peak_device_bytes},
                        {"busy_seconds",
                         {{"read", d.run.read_seconds}, {"compute", d.run.compute_seconds}, {"write", d.run.write_seconds}}},
                        {"store_seconds", d.run.store_seconds},
                        {"flush_seconds", d.flush_seconds},
                        {"seconds", d.seconds}});
  }
  const pipeline::DatasetReport& first = report.datasets.front();
  return {{"device", report.backend},
          {"io", first.run.io},
          {"io_detail", first.run.io_detail},
          {"decode", decode_json(all_decoding(report.datasets))},
          {"encode", encode_json(report.datasets)},
          {"busy_seconds", {{"read", read}, {"compute", compute}, {"write", write}}},
          // Wall seconds: every block handed to the sink (global mode: from the result in memory), and
          // the wait for the commits still syncing after the last one (fsync).
          {"write_seconds", store},
          {"fsync_seconds", flush},
          {"peak_device_mb", static_cast<double>(peak) / 1e6},
          {"blocks", report.progress.blocks_done},
          {"blocks_skipped", report.progress.blocks_skipped},
          {"bytes_written", report.progress.bytes_written},
          {"total_seconds", report.seconds},
          {"datasets", datasets}};
}

void print_encode(const nlohmann::json& encode) {
  const std::string encoder = encode.value("encoder", "");
  if (encoder.empty()) return;
  std::string line = concat("encode: ", encoder, " (", encode.value("detail", ""), ")");
  if (const std::uint64_t gpu = encode.value("blocks_gpu", std::uint64_t{0}); gpu > 0) line += concat(", ", gpu, " blocks");
  std::fprintf(stderr, "%s\n", line.c_str());
}

nlohmann::json decode_json(const codec::DecodeReport& decode) {
  return {{"decoder", decode.decoder},
          {"detail", decode.detail},
          {"tiles_gpu", decode.tiles_gpu},
          {"tiles_cpu_fallback", decode.tiles_cpu},
          {"fallback_reason", decode.fallback_reason}};
}

void print_decode(const nlohmann::json& decode) {
  const std::string decoder = decode.value("decoder", "");
  if (decoder.empty()) return;
  std::string line = concat("decode: ", decoder, " (", decode.value("detail", ""), ")");
  const std::uint64_t gpu = decode.value("tiles_gpu", std::uint64_t{0});
  const std::uint64_t cpu = decode.value("tiles_cpu_fallback", std::uint64_t{0});
  if (gpu + cpu > 0) line += concat(", ", gpu, " tiles on the GPU, ", cpu, " on the CPU");
  if (cpu > 0) line += concat(" (", decode.value("fallback_reason", ""), ")");
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace tilestream::cli
