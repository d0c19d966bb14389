// Entry point of the `tilestream` command: dispatches to sub-commands and turns every error into
// one line on stderr and a non-zero exit status (2 usage, 1 everything else).
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "tilestream/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tilestream: whole-slide images between storage, CPU and GPU, tile by tile"};
  app.set_version_flag("--version", std::string("tilestream ") + TILESTREAM_VERSION +
                                        (TILESTREAM_WITH_CUDA ? " (CUDA)" : " (no CUDA)"));
  app.require_subcommand(1);
  tilestream::cli::add_info_command(app);
  tilestream::cli::add_read_command(app);
  tilestream::cli::add_synth_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tilestream::Error& e) {
    std::fprintf(stderr, "tilestream: %s: %s\n", tilestream::to_string(e.kind()), e.what());
    return e.kind() == tilestream::ErrorKind::usage ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tilestream: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
