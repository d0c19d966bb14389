// TIFF tag numbers tilestream reads (TIFF 6.0, TIFF Technical Notes, vendor tags).
#pragma once

#include <cstdint>

namespace tilestream::tiff::tag {
inline constexpr std::uint16_t new_subfile_type = 254;
inline constexpr std::uint16_t image_width = 256;
inline constexpr std::uint16_t image_length = 257;
inline constexpr std::uint16_t bits_per_sample = 258;
inline constexpr std::uint16_t compression = 259;
inline constexpr std::uint16_t fill_order = 266;
inline constexpr std::uint16_t document_name = 269;
inline constexpr std::uint16_t photometric = 262;
inline constexpr std::uint16_t image_description = 270;
inline constexpr std::uint16_t make = 271;
inline constexpr std::uint16_t model = 272;
inline constexpr std::uint16_t strip_offsets = 273;
inline constexpr std::uint16_t samples_per_pixel = 277;
inline constexpr std::uint16_t rows_per_strip = 278;
inline constexpr std::uint16_t strip_byte_counts = 279;
inline constexpr std::uint16_t x_resolution = 282;
inline constexpr std::uint16_t y_resolution = 283;
inline constexpr std::uint16_t planar_config = 284;
inline constexpr std::uint16_t x_position = 286;
inline constexpr std::uint16_t y_position = 287;
inline constexpr std::uint16_t resolution_unit = 296;
inline constexpr std::uint16_t software = 305;
inline constexpr std::uint16_t date_time = 306;
inline constexpr std::uint16_t artist = 315;
inline constexpr std::uint16_t host_computer = 316;
inline constexpr std::uint16_t predictor = 317;
inline constexpr std::uint16_t color_map = 320;
inline constexpr std::uint16_t tile_width = 322;
inline constexpr std::uint16_t tile_length = 323;
inline constexpr std::uint16_t tile_offsets = 324;
inline constexpr std::uint16_t tile_byte_counts = 325;
inline constexpr std::uint16_t sub_ifds = 330;
inline constexpr std::uint16_t ink_set = 332;
inline constexpr std::uint16_t extra_samples = 338;
inline constexpr std::uint16_t sample_format = 339;
inline constexpr std::uint16_t jpeg_tables = 347;
inline constexpr std::uint16_t ycbcr_subsampling = 530;
inline constexpr std::uint16_t copyright = 33432;
inline constexpr std::uint16_t icc_profile = 34675;
inline constexpr std::uint16_t ndpi_format_flag = 65420;
inline constexpr std::uint16_t ndpi_source_lens = 65421;
inline constexpr std::uint16_t ndpi_x_offset = 65422;
inline constexpr std::uint16_t ndpi_y_offset = 65423;
inline constexpr std::uint16_t ndpi_z_offset = 65424;
inline constexpr std::uint16_t ndpi_mcu_starts = 65426;
inline constexpr std::uint16_t ndpi_reference = 65427;
inline constexpr std::uint16_t ndpi_mcu_starts_high = 65432;
inline constexpr std::uint16_t ndpi_property_map = 65449;
}  // namespace tilestream::tiff::tag

namespace tilestream::tiff::detail {
// Name of a tag we know ("TileOffsets"), or nullptr.
const char* known_tag_name(std::uint16_t tag);
}  // namespace tilestream::tiff::detail
