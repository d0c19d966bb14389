#include "commands.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "tilestream/core/error.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace tilestream::python {
namespace {

// What the run's thread and the calling thread share.
struct RunState {
  std::mutex mutex;
  std::condition_variable changed;
  bool finished = false;
  std::exception_ptr error;
  nlohmann::json report;
  bool new_progress = false;
  std::uint64_t done = 0, total = 0, skipped = 0, bytes = 0;
  std::atomic<bool> stop{false};
};

// Parses and runs one sub-command as the command line would, its output going to the hooks.
void run_sub_command(const std::vector<std::string>& args, const cli::RunHooks& hooks) {
  CLI::App app{"tilestream"};
  app.require_subcommand(1);
  cli::add_convert_command(app, hooks);
  cli::add_process_command(app, hooks);
  std::vector<const char*> argv{"tilestream"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    throw UsageError(concat(args.empty() ? "tilestream" : args.front(), ": ", e.what(),
                            " (the keyword arguments are the command line's options, without the leading -- and "
                            "with _ for -: `tilestream ", args.empty() ? "" : args.front(), " --help` lists them)"));
  }
}

nb::object run_command(const std::vector<std::string>& args, const nb::object& on_progress) {
  auto state = std::make_shared<RunState>();
  cli::RunHooks hooks;
  hooks.stop = [state] { return state->stop.load(); };
  hooks.report = [state](nlohmann::json j) { state->report = std::move(j); };
  hooks.progress = [state](std::uint64_t done, std::uint64_t total, std::uint64_t skipped, std::uint64_t bytes) {
    {
      const std::lock_guard lock(state->mutex);
      state->done = done;
      state->total = total;
      state->skipped = skipped;
      state->bytes = bytes;
      state->new_progress = true;
    }
    state->changed.notify_all();
  };
  std::thread worker([state, args, hooks] {
    try {
      run_sub_command(args, hooks);
    } catch (...) {
      state->error = std::current_exception();
    }
    {
      const std::lock_guard lock(state->mutex);
      state->finished = true;
    }
    state->changed.notify_all();
  });
  // The calling thread waits with the GIL released, waking every 100 ms for signals and on progress.
  std::exception_ptr python_error;  // what stopped the run from Python's side, re-raised after it ends
  while (true) {
    bool finished = false, report_progress = false;
    std::uint64_t done = 0, total = 0, skipped = 0, bytes = 0;
    {
      nb::gil_scoped_release release;
      std::unique_lock lock(state->mutex);
      state->changed.wait_for(lock, std::chrono::milliseconds(100),
                              [&] { return state->finished || state->new_progress; });
      finished = state->finished;
      report_progress = state->new_progress;
      state->new_progress = false;
      done = state->done, total = state->total, skipped = state->skipped, bytes = state->bytes;
    }
    try {
      if (report_progress && !on_progress.is_none()) {
        nb::dict p;
        p["done"] = done;
        p["total"] = total;
        p["skipped"] = skipped;
        p["bytes_written"] = bytes;
        on_progress(p);
      }
      if (PyErr_CheckSignals() != 0) throw nb::python_error();  // KeyboardInterrupt, or a handler's error
    } catch (...) {
      python_error = std::current_exception();
      state->stop = true;
    }
    if (finished || python_error) break;
  }
  {
    nb::gil_scoped_release release;
    worker.join();  // the blocks being written are committed first
  }
  if (python_error) std::rethrow_exception(python_error);
  if (state->error) std::rethrow_exception(state->error);
  return nb::module_::import_("json").attr("loads")(state->report.dump());
}

}  // namespace

void bind_commands(nb::module_& m) {
  m.def("_run_command", &run_command, "args"_a, "on_progress"_a = nb::none(),
        "Runs `tilestream <args>` (convert or process) in this process and returns its report as a dict; "
        "on_progress(dict(done, total, skipped, bytes_written)) is called on this thread. Ctrl-C or an "
        "exception from on_progress stops the run cleanly and is re-raised.");
}

}  // namespace tilestream::python
