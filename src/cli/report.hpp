// What the long-running sub-commands (convert, process) print about themselves: a progress bar on a
// terminal and the process's peak memory in their closing line.
#pragma once

#include <cstdint>

namespace tilestream::cli {

// "\r[#####.....] 45% 1234/2743 <unit> 1.2 GB/s" on stderr (bytes_per_second < 0: no rate).
void draw_bar(std::uint64_t done, std::uint64_t total, const char* unit, double bytes_per_second);

// Peak resident memory of this process in MB: VmHWM from /proc/self/status where there is one,
// since getrusage's ru_maxrss keeps the high-water mark of the process image before exec (a
// command started from a large Python process would report the parent's memory); ru_maxrss
// elsewhere.
double peak_rss_mb();

}  // namespace tilestream::cli
