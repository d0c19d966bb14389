// The procedural H&E-like pattern behind synthetic slides (SlidePattern).
//
// Everything is a function of level-0 coordinates: smooth fields come from small periodic tables of
// blurred random values, interpolated bilinearly (cheap, no trig or exp per pixel); nuclei live in
// a jittered grid of cells, each present or not by a hash of its cell index; per-pixel noise is a
// hash of (level, x, y). Level k evaluates pixel centres at (x + 0.5) * 2^k and fades detail finer
// than its pixels to its mean, so a reduced level looks like a downsample of level 0.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tilestream/core/error.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::synth {
namespace {

constexpr unsigned table_mask = SlidePattern::table_size - 1;

std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Nuclei: one possible nucleus per square cell of this many level-0 pixels, its centre jittered
// within [nucleus_margin, cell - nucleus_margin] and radius up to nucleus_max_radius, so a disk
// never leaves its cell.
constexpr float nucleus_cell = 14.0f;
constexpr float nucleus_margin = 4.5f;
constexpr float nucleus_min_radius = 2.2f;
constexpr float nucleus_max_radius = 4.2f;
constexpr float nucleus_mean_area = 3.14159265f * (nucleus_min_radius * nucleus_min_radius +
                                                   nucleus_min_radius * nucleus_max_radius +
                                                   nucleus_max_radius * nucleus_max_radius) / 3.0f;

// Fibre table cells along and across the fibres (level-0 pixels) and their direction (~28 deg).
constexpr float fibre_along = 26.0f;
constexpr float fibre_across = 4.0f;
constexpr float fibre_cos = 0.883f;
constexpr float fibre_sin = 0.469f;

struct Rgb {
  float r, g, b;
};
constexpr Rgb background{241.0f, 240.0f, 243.0f};
constexpr Rgb eosin_dense{196.0f, 92.0f, 160.0f};
constexpr Rgb hematoxylin{72.0f, 38.0f, 122.0f};

float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }
float lerp(float a, float b, float t) { return a + (b - a) * t; }

struct NucleusCell {
  float cx = 0, cy = 0, radius = 0, darkness = 0;
  std::uint32_t presence = 0;  // present when presence < probability * 65536
};

NucleusCell nucleus_in(std::uint64_t seed, std::int64_t cx, std::int64_t cy) {
  const std::uint64_t h = mix64(seed ^ mix64(static_cast<std::uint64_t>(cx) * 0x9E3779B1ull +
                                             (static_cast<std::uint64_t>(cy) << 32)));
  const float span = nucleus_cell - 2 * nucleus_margin;
  NucleusCell n;
  n.presence = static_cast<std::uint32_t>(h & 0xFFFF);
  n.cx = static_cast<float>(cx) * nucleus_cell + nucleus_margin +
         span * static_cast<float>((h >> 16) & 0xFF) / 255.0f;
  n.cy = static_cast<float>(cy) * nucleus_cell + nucleus_margin +
         span * static_cast<float>((h >> 24) & 0xFF) / 255.0f;
  n.radius = nucleus_min_radius +
             (nucleus_max_radius - nucleus_min_radius) * static_cast<float>((h >> 32) & 0xFF) / 255.0f;
  n.darkness = 0.75f + 0.25f * static_cast<float>((h >> 40) & 0xFF) / 255.0f;
  return n;
}

std::uint8_t to_u8(float v) {
  return static_cast<std::uint8_t>(v <= 0.0f ? 0 : (v >= 255.0f ? 255 : static_cast<int>(v + 0.5f)));
}

}  // namespace

SlidePattern::SlidePattern(std::uint64_t seed) : seed_(mix64(seed ^ 0x5EED5EED5EEDull)) {
  // cell sizes (level-0 pixels) and blur passes: tissue coarse / medium / ragged edge,
  // cellularity, stroma fibres (the fibre table is sampled on rotated, stretched axes instead).
  constexpr float cells[5] = {700.0f, 150.0f, 22.0f, 170.0f, 1.0f};
  constexpr int blur_passes[5] = {3, 2, 1, 2, 2};
  constexpr unsigned n = table_size;
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    NoiseTable& table = tables_[t];
    table.cell = cells[t];
    std::vector<float> v(n * n);
    for (unsigned i = 0; i < n * n; ++i)
      v[i] = static_cast<float>(mix64(seed_ + t * 0x100000000ull + i) >> 40) / 16777216.0f;
    std::vector<float> tmp(n * n);
    for (int pass = 0; pass < blur_passes[t]; ++pass) {  // periodic 3x3 box blur
      for (unsigned y = 0; y < n; ++y)
        for (unsigned x = 0; x < n; ++x)
          tmp[y * n + x] = (v[y * n + ((x + n - 1) & table_mask)] + v[y * n + x] +
                            v[y * n + ((x + 1) & table_mask)]) / 3.0f;
      for (unsigned y = 0; y < n; ++y)
        for (unsigned x = 0; x < n; ++x)
          v[y * n + x] = (tmp[((y + n - 1) & table_mask) * n + x] + tmp[y * n + x] +
                          tmp[((y + 1) & table_mask) * n + x]) / 3.0f;
    }
    // Normalise to mean 0.5, standard deviation 0.18, clamped to [0, 1].
    double sum = 0, sum2 = 0;
    for (const float f : v) sum += f, sum2 += double(f) * f;
    const double mean = sum / static_cast<double>(v.size());
    const double sd = std::sqrt(std::max(1e-12, sum2 / static_cast<double>(v.size()) - mean * mean));
    for (float& f : v) f = clamp01(static_cast<float>(0.5 + (f - mean) / sd * 0.18));
    table.values = std::move(v);
  }
}

void SlidePattern::render_rgb_row(unsigned level, std::uint64_t x0, std::uint64_t y,
                                  std::uint32_t width, std::uint8_t* rgb) const {
  const float scale = static_cast<float>(std::uint64_t{1} << level);  // level-0 pixels per pixel
  const float Y = (static_cast<float>(y) + 0.5f) * scale;

  // Per table: the two table rows around Y, the vertical weight, and how much of the table's detail
  // survives at this scale (detail finer than ~2 pixels fades to the mean, 0.5).
  struct RowField {
    const float* row0;
    const float* row1;
    float fy, inv_cell, keep;
  } f[4];
  for (std::size_t t = 0; t < 4; ++t) {
    const NoiseTable& table = tables_[t];
    const float v = Y / table.cell;
    const auto iy = static_cast<std::int64_t>(v);
    f[t].fy = v - static_cast<float>(iy);
    f[t].row0 = table.values.data() + (iy & table_mask) * table_size;
    f[t].row1 = table.values.data() + ((iy + 1) & table_mask) * table_size;
    f[t].inv_cell = 1.0f / table.cell;
    f[t].keep = clamp01(table.cell / scale - 0.5f);  // kept while a cell spans >= 1.5 pixels
  }
  // Stroma fibres: the fibre table stretched along a slanted direction (wavy collagen streaks),
  // looked up in 2-D because its rows are not the image rows.
  const float* fibres = tables_[4].values.data();
  const float fibre_keep = clamp01((fibre_across / scale - 1.5f) / 2.0f);
  const float fu_y = Y * fibre_sin / fibre_along, fv_y = Y * fibre_cos / fibre_across;
  auto fibre_field = [&](float X) {
    const float u = X * (fibre_cos / fibre_along) + fu_y + 65536.0f;  // keeps both positive
    const float v = fv_y - X * (fibre_sin / fibre_across) + 65536.0f;
    const auto iu = static_cast<std::int64_t>(u), iv = static_cast<std::int64_t>(v);
    const float du = u - static_cast<float>(iu), dv = v - static_cast<float>(iv);
    const float* r0 = fibres + (iv & table_mask) * table_size;
    const float* r1 = fibres + ((iv + 1) & table_mask) * table_size;
    const std::size_t i0 = iu & table_mask, i1 = (iu + 1) & table_mask;
    const float value = lerp(lerp(r0[i0], r0[i1], du), lerp(r1[i0], r1[i1], du), dv);
    return 0.5f + (value - 0.5f) * fibre_keep;
  };
  auto field = [&](const RowField& rf, float X) {
    const float u = X * rf.inv_cell;
    const auto ix = static_cast<std::int64_t>(u);
    const float fx = u - static_cast<float>(ix);
    const std::size_t i0 = ix & table_mask, i1 = (ix + 1) & table_mask;
    const float top = lerp(rf.row0[i0], rf.row0[i1], fx);
    const float bottom = lerp(rf.row1[i0], rf.row1[i1], fx);
    return 0.5f + (lerp(top, bottom, rf.fy) - 0.5f) * rf.keep;
  };

  // Nuclei sampling mode: soft disks for fine levels, footprint coverage for middle levels, the
  // mean density for coarse ones.
  const bool disk_mode = scale <= 2.0f;
  // The shape field changes by ~1e-3 per level-0 pixel: a tissue edge ~1.5 pixels wide at any level.
  const float edge_sharpness = std::max(12.0f, 400.0f / scale);
  const bool mean_mode = scale >= 32.0f;
  const auto ncy = static_cast<std::int64_t>(Y / nucleus_cell);
  std::int64_t cached_cx = -1;
  NucleusCell cached;

  const std::uint64_t noise_key = seed_ ^ (static_cast<std::uint64_t>(level) << 58) ^ (y << 29);
  for (std::uint32_t i = 0; i < width; ++i) {
    const std::uint64_t x = x0 + i;
    const float X = (static_cast<float>(x) + 0.5f) * scale;

    const float shape = 0.62f * field(f[0], X) + 0.27f * field(f[1], X) + 0.11f * field(f[2], X);
    const float tissue = clamp01((shape - 0.53f) * edge_sharpness);  // edge ~1.5 pixels wide
    const float depth = clamp01((shape - 0.53f) * 5.0f);    // denser stain away from the edge
    const float cellularity = field(f[3], X);

    float r = background.r, g = background.g, b = background.b;
    if (tissue > 0.0f) {
      const float fibre = fibre_field(X);
      const float eosin = tissue * clamp01(0.30f + 0.45f * fibre + 0.30f * depth - 0.15f * cellularity);
      r = lerp(r, eosin_dense.r, eosin);
      g = lerp(g, eosin_dense.g, eosin);
      b = lerp(b, eosin_dense.b, eosin);

      const float probability = clamp01(0.12f + 1.8f * (cellularity - 0.42f) + 0.2f * depth);
      const auto threshold = static_cast<std::uint32_t>(probability * 65536.0f);
      float cover = 0.0f;
      if (disk_mode) {
        const auto ncx = static_cast<std::int64_t>(X / nucleus_cell);
        if (ncx != cached_cx) {
          cached = nucleus_in(seed_, ncx, ncy);
          cached_cx = ncx;
        }
        if (cached.presence < threshold) {
          const float dx = X - cached.cx, dy = Y - cached.cy;
          const float reach = cached.radius + scale;
          const float d2 = dx * dx + dy * dy;
          if (d2 < reach * reach)
            cover = cached.darkness * clamp01((cached.radius - std::sqrt(d2)) / scale + 0.5f);
        }
      } else if (!mean_mode) {
        // Every nucleus whose centre falls in this pixel's footprint adds its area.
        const float fx0 = X - 0.5f * scale, fy0 = Y - 0.5f * scale;
        const auto cx0 = static_cast<std::int64_t>(fx0 / nucleus_cell);
        const auto cx1 = static_cast<std::int64_t>((fx0 + scale) / nucleus_cell);
        const auto cy0 = static_cast<std::int64_t>(fy0 / nucleus_cell);
        const auto cy1 = static_cast<std::int64_t>((fy0 + scale) / nucleus_cell);
        for (std::int64_t cy = cy0; cy <= cy1; ++cy)
          for (std::int64_t cx = cx0; cx <= cx1; ++cx) {
            const NucleusCell n = nucleus_in(seed_, cx, cy);
            if (n.presence < threshold && n.cx >= fx0 && n.cx < fx0 + scale && n.cy >= fy0 &&
                n.cy < fy0 + scale)
              cover += n.darkness * 3.14159265f * n.radius * n.radius / (scale * scale);
          }
        cover = clamp01(cover);
      } else {
        cover = 0.875f * probability * nucleus_mean_area / (nucleus_cell * nucleus_cell);
      }
      cover *= tissue;
      r = lerp(r, hematoxylin.r, cover);
      g = lerp(g, hematoxylin.g, cover);
      b = lerp(b, hematoxylin.b, cover);
    }

    // Per-pixel noise: a shared grain of +-3 and +-1 per channel.
    const std::uint64_t h = mix64(noise_key ^ x);
    const float grain = static_cast<float>(h & 0xFF) * (6.0f / 255.0f) - 3.0f;
    rgb[3 * i + 0] = to_u8(r + grain + static_cast<float>((h >> 8) & 0x3) - 1.5f);
    rgb[3 * i + 1] = to_u8(g + grain + static_cast<float>((h >> 10) & 0x3) - 1.5f);
    rgb[3 * i + 2] = to_u8(b + grain + static_cast<float>((h >> 12) & 0x3) - 1.5f);
  }
}

void SlidePattern::render(unsigned level, std::uint64_t x0, std::uint64_t y0, std::uint32_t width,
                          std::uint32_t rows, std::uint32_t samples, DType dtype,
                          std::span<std::byte> out) const {
  check<UsageError>(samples == 1 || samples == 3 || samples == 4,
                    "synthetic slides have 1, 3 or 4 samples, not ", samples);
  check<UsageError>(level < 40, "synthetic pattern level ", level, " is too deep");
  const std::size_t pixel_bytes = samples * bytes_per_sample(dtype);
  const std::size_t row_bytes = static_cast<std::size_t>(width) * pixel_bytes;
  check<UsageError>(out.size() == row_bytes * rows, "synthetic render: buffer of ", out.size(),
                    " bytes for ", width, "x", rows, " pixels of ", pixel_bytes, " bytes");
  const bool direct = samples == 3 && dtype == DType::uint8;
  std::vector<std::uint8_t> rgb(direct ? 0 : 3 * static_cast<std::size_t>(width));
  for (std::uint32_t row = 0; row < rows; ++row) {
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + row * row_bytes);
    std::uint8_t* src = direct ? dst : rgb.data();
    render_rgb_row(level, x0, y0 + row, width, src);
    if (direct) continue;
    for (std::uint32_t i = 0; i < width; ++i) {
      const std::uint8_t* p = src + 3 * i;
      std::uint8_t values[4] = {p[0], p[1], p[2], 255};
      if (samples == 1)
        values[0] = static_cast<std::uint8_t>((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
      for (std::uint32_t c = 0; c < samples; ++c) {
        if (dtype == DType::uint8) {
          dst[i * samples + c] = values[c];
        } else {
          const auto v16 = static_cast<std::uint16_t>(values[c] * 257u);
          std::memcpy(dst + 2 * (static_cast<std::size_t>(i) * samples + c), &v16, 2);
        }
      }
    }
  }
}

}  // namespace tilestream::synth
