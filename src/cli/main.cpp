// Entry point of the `tilestream` command: dispatches to sub-commands and turns every error into
// one line on stderr and a non-zero exit status (2 usage, 1 everything else).
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "cli/option_flags.hpp"
#include "tilestream/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tilestream: whole-slide images between storage, CPU and GPU, tile by tile"};
  app.set_version_flag("--version", std::string("tilestream ") + TILESTREAM_VERSION +
                                        (TILESTREAM_WITH_CUDA ? " (CUDA)" : " (no CUDA)"));
  app.require_subcommand(1);
  tilestream::cli::add_info_command(app);
  tilestream::cli::add_read_command(app);
  tilestream::cli::add_synth_command(app);
  tilestream::cli::add_convert_command(app);
  tilestream::cli::add_process_command(app);
  std::string known;
  bool is_known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
    is_known = is_known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !is_known) {
    std::fprintf(stderr, "tilestream: usage error: unknown command '%s' (commands: %s)\n", argv[1], known.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "tilestream: usage error: %s (see tilestream --help)\n", e.what());
    return 2;
  } catch (const tilestream::Error& e) {
    std::fprintf(stderr, "tilestream: %s: %s\n", tilestream::to_string(e.kind()),
                 tilestream::cli::command_line_message(e).c_str());
    return e.kind() == tilestream::ErrorKind::usage ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tilestream: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
