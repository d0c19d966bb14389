// What the long-running sub-commands (convert, process) print about themselves: a progress bar on a
// terminal, the process's peak memory in their closing line, and their run report as JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "tilestream/pipeline/executor.hpp"

namespace tilestream::cli {

// "\r[#####.....] 45% 1234/2743 <unit> 1.2 GB/s" on stderr (bytes_per_second < 0: no rate).
void draw_bar(std::uint64_t done, std::uint64_t total, const char* unit, double bytes_per_second);

// Peak resident memory of this process in MB: VmHWM from /proc/self/status where there is one,
// since getrusage's ru_maxrss keeps the high-water mark of the process image before exec (a
// command started from a large Python process would report the parent's memory); ru_maxrss
// elsewhere.
double peak_rss_mb();

// A run's report as JSON, the one serialisation of it (convert's and process's --json): totals
// ("io", "io_detail", "decode", "encode", "busy_seconds", "write_seconds", "fsync_seconds", "peak_device_mb", "blocks",
// "blocks_skipped", "bytes_written", "total_seconds") and "datasets", one object per array written.
nlohmann::json run_report_json(const pipeline::RunReport& report);

// A read's or run's decoding as JSON: decoder, detail, tiles_gpu, tiles_cpu_fallback, fallback_reason.
nlohmann::json decode_json(const codec::DecodeReport& decode);

// "decode: <decoder> (<detail>), N tiles on the GPU, M on the CPU (<why>)" on stderr, from a
// report's "decode" object; nothing for raw tiles (no decoder).
void print_decode(const nlohmann::json& decode);
// "encode: <encoder> (<detail>), N blocks" on stderr, from a report's "encode" object.
void print_encode(const nlohmann::json& encode);

}  // namespace tilestream::cli
