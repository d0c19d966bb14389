// Parsing of --device.
#include "cli/device_flag.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::cli {

int parse_device_flag(const std::string& text) {
  if (text == "cpu") return -1;
  if (text == "cuda") return 0;
  if (text.starts_with("cuda:")) {
    const std::string number = text.substr(5);
    if (!number.empty() && number.size() <= 4 && number.find_first_not_of("0123456789") == std::string::npos)
      return std::stoi(number);
  }
  throw UsageError("--device wants cpu, cuda or cuda:N, got '" + text + "'");
}

}  // namespace tilestream::cli
