#include "tilestream/core/device_name.hpp"

#include <charconv>

#include "tilestream/core/error.hpp"

namespace tilestream {

int parse_device_name(std::string_view text) {
  if (text == "cpu") return -1;
  if (text == "cuda") return 0;
  if (text.starts_with("cuda:")) {
    const std::string_view number = text.substr(5);
    int n = 0;
    if (!number.empty() && number.size() <= 4 && number.find_first_not_of("0123456789") == std::string_view::npos) {
      std::from_chars(number.data(), number.data() + number.size(), n);
      return n;
    }
  }
  throw UsageError(concat(option("device"), " wants cpu, cuda or cuda:N, got '", text, "'"));
}

}  // namespace tilestream
