// Names of the tags tilestream reads, for error messages and `info`.
#include "tiff/tags.hpp"

namespace tilestream::tiff::detail {

const char* known_tag_name(std::uint16_t t) {
  switch (t) {
    case tag::new_subfile_type: return "NewSubfileType";
    case tag::image_width: return "ImageWidth";
    case tag::image_length: return "ImageLength";
    case tag::bits_per_sample: return "BitsPerSample";
    case tag::compression: return "Compression";
    case tag::photometric: return "PhotometricInterpretation";
    case tag::fill_order: return "FillOrder";
    case tag::image_description: return "ImageDescription";
    case tag::make: return "Make";
    case tag::model: return "Model";
    case tag::strip_offsets: return "StripOffsets";
    case tag::samples_per_pixel: return "SamplesPerPixel";
    case tag::rows_per_strip: return "RowsPerStrip";
    case tag::strip_byte_counts: return "StripByteCounts";
    case tag::x_resolution: return "XResolution";
    case tag::y_resolution: return "YResolution";
    case tag::planar_config: return "PlanarConfiguration";
    case tag::resolution_unit: return "ResolutionUnit";
    case tag::software: return "Software";
    case tag::date_time: return "DateTime";
    case tag::predictor: return "Predictor";
    case tag::tile_width: return "TileWidth";
    case tag::tile_length: return "TileLength";
    case tag::tile_offsets: return "TileOffsets";
    case tag::tile_byte_counts: return "TileByteCounts";
    case tag::sub_ifds: return "SubIFDs";
    case tag::extra_samples: return "ExtraSamples";
    case tag::sample_format: return "SampleFormat";
    case tag::jpeg_tables: return "JPEGTables";
    case tag::ycbcr_subsampling: return "YCbCrSubSampling";
    case tag::ndpi_format_flag: return "NDPI FormatFlag";
    case tag::ndpi_source_lens: return "NDPI SourceLens";
    case tag::ndpi_z_offset: return "NDPI ZOffset";
    case tag::ndpi_mcu_starts: return "NDPI McuStarts";
    case tag::ndpi_mcu_starts_high: return "NDPI McuStartsHighBytes";
    case tag::document_name: return "DocumentName";
    case tag::x_position: return "XPosition";
    case tag::y_position: return "YPosition";
    case tag::artist: return "Artist";
    case tag::host_computer: return "HostComputer";
    case tag::color_map: return "ColorMap";
    case tag::ink_set: return "InkSet";
    case tag::copyright: return "Copyright";
    case tag::icc_profile: return "InterColorProfile";
    case tag::ndpi_x_offset: return "NDPI XOffsetFromSlideCentre";
    case tag::ndpi_y_offset: return "NDPI YOffsetFromSlideCentre";
    case tag::ndpi_reference: return "NDPI Reference";
    case tag::ndpi_property_map: return "NDPI PropertyMap";
    default: return nullptr;
  }
}

}  // namespace tilestream::tiff::detail
