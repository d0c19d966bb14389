// The dicom.* properties of a slide, named as OpenSlide 4 names them: an attribute's keyword
// ("dicom.TotalPixelMatrixColumns"), a sequence's items indexed ("dicom.OpticalPathSequence[0].
// OpticalPathIdentifier"), a value of several indexed ("dicom.ImageType[2]") for the VRs OpenSlide
// splits. Text values as written (padding removed), binary integers in decimal, floats as %.17g;
// binary data, private and unknown attributes and the per-frame functional groups are left out.
#pragma once

#include <map>
#include <string>

#include "dicom/data_set.hpp"

namespace tilestream::dicom {

void add_properties(const DataSet& set, std::map<std::string, std::string>& properties);

}  // namespace tilestream::dicom
