// DICOM whole-slide images (VL Whole Slide Microscopy, one file per instance) indexed as a slide: the
// files of one series found from a folder or any one of its files, read as one io::FileSeries, and
// a tiff::SlideIndex (the index every reader takes) whose levels are the VOLUME instances, largest
// first, whose associated images are the LABEL ("label"), OVERVIEW ("macro") and THUMBNAIL
// ("thumbnail") instances, and whose tiles are the frames, by offset in the FileSeries. The parser is
// ours (src/dicom/data_set.cpp), as the TIFF one is: see docs/ARCHITECTURE.md for why.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tilestream/io/file.hpp"
#include "tilestream/tiff/slide_index.hpp"

namespace tilestream::dicom {

// Whether `path` is DICOM input: a folder, or a file with the DICOM prefix ("DICM" after 128 bytes).
bool is_dicom_path(const std::string& path);
// Whether the bytes are a DICOM file.
bool is_dicom(const io::ByteSource& source);

struct OpenedSeries {
  std::shared_ptr<const io::FileSeries> source;
  tiff::SlideIndex index;
};

// Opens the series `path` names: every DICOM file of a folder (which must hold one whole slide image
// series; UsageError listing them otherwise), or the files of a given file's series in its folder.
// Files of other SOP classes are passed over. Errors name the file and the element or frame.
OpenedSeries open_series(const std::string& path, const tiff::PixelOptions& pixels = {});

// Opens exactly these files as one series (a list the caller made: files of several folders, or a
// folder's files picked by hand); each must be a DICOM file, and the WSI ones of one series.
OpenedSeries open_files(const std::vector<std::string>& paths, const tiff::PixelOptions& pixels = {});

// Indexes the files of one series, already open (the fuzzer's bytes in memory): file k's offsets are
// moved by io::FileSeries::base_of(k). `name` names the series in messages.
tiff::SlideIndex index_series(const std::vector<const io::ByteSource*>& files, const std::string& name,
                              const tiff::PixelOptions& pixels = {});

}  // namespace tilestream::dicom
