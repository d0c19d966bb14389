// Keys of Zarr node documents inside a store: "<path>/zarr.json", "<path>/.zarray", ...
#pragma once

#include <string>

namespace tilestream::zarr {

inline std::string node_key(const std::string& node_path, const char* name) {
  return node_path.empty() ? std::string(name) : node_path + "/" + name;
}

}  // namespace tilestream::zarr
