// --bilevel-max: its help and its check.
#include "cli/bilevel_flag.hpp"

namespace tilestream::cli {

void add_bilevel_option(CLI::App& command, unsigned& value) {
  command
      .add_option("--bilevel-max", value,
                  "What a set bit of a 1-bit image reads as: 1 (uint8 0/1, the default) or 255 (0/255); "
                  "MinIsWhite ones are inverted, unless --stored-samples")
      ->check(CLI::IsMember({1u, 255u}));
}

}  // namespace tilestream::cli
