// SPDX-License-Identifier: Apache-2.0
#pragma once
// A child process for tests: started with pipes on stdout/stderr, read with
// deadlines, always killed and reaped (destructor).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hearth::test {

class ChildProcess {
 public:
  /// Starts `program` with `args`. Throws std::runtime_error if it cannot start.
  ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// The next stdout line, or nullopt at EOF or after `timeout`.
  [[nodiscard]] std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Waits for exit up to `timeout`, collecting output; nullopt on timeout
  /// (the child is then killed). The exit status otherwise (128+signal when killed).
  [[nodiscard]] std::optional<int> wait(std::chrono::milliseconds timeout);
  /// SIGKILL and reap (idempotent).
  void kill_now();
  /// SIGTERM, then SIGKILL after `grace`.
  void terminate(std::chrono::milliseconds grace);

  /// Collects what the child wrote within `timeout` (into out() and err()).
  void collect(std::chrono::milliseconds timeout) { (void)pump(timeout); }

  [[nodiscard]] const std::string& out() const { return out_; }
  [[nodiscard]] const std::string& err() const { return err_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  /// Reads whatever is available within `timeout`; false when both pipes are closed.
  bool pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::size_t out_pos_ = 0;  // how much of out_ read_line() has consumed
  std::string err_;
  std::optional<int> status_;
};

/// Runs a program to completion within `timeout` (killed after it).
struct RunResult {
  std::optional<int> exit_code;  // nullopt: timed out
  std::string out;
  std::string err;
};
[[nodiscard]] RunResult run(const std::filesystem::path& program, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout);

}  // namespace hearth::test
