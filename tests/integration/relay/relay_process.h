// SPDX-License-Identifier: Apache-2.0
#pragma once
// Starts the real hearth-relay binary for a test and stops it again.
//
//   RelayProcess relay(dir);            // --listen 127.0.0.1:0 --data-dir dir [extra]
//   relay.port(), relay.spki_hex()      // parsed from its two stdout lines
//   relay.invites(3)                    // `hearth-relay invite --data-dir dir --count 3`
//   relay.terminate() / relay.kill9()   // SIGTERM (returns the exit code) / SIGKILL
//
// The destructor kills a still running relay. Every wait is bounded.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hearth::test {

/// A fresh directory under the temp dir, removed in the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

[[nodiscard]] std::filesystem::path relay_binary();

struct ProcessResult {
  int exit_code = -1;  // -1: killed after the timeout
  std::string out;
  std::string err;
};
/// Runs a program to completion (bounded), capturing stdout and stderr.
[[nodiscard]] ProcessResult run_process(const std::vector<std::string>& args,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

class RelayProcess {
 public:
  explicit RelayProcess(std::filesystem::path data_dir, std::vector<std::string> extra_args = {});
  ~RelayProcess();
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::string& spki_hex() const noexcept { return spki_hex_; }
  [[nodiscard]] const std::filesystem::path& data_dir() const noexcept { return data_dir_; }
  /// Creates invites with the subcommand and returns their tokens.
  [[nodiscard]] std::vector<std::string> invites(int count) const;
  [[nodiscard]] std::string invite() const { return invites(1).at(0); }
  /// SIGTERM, then waits; returns the exit code (or -1 if it had to be killed).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void kill9();
  [[nodiscard]] std::string stderr_text() const;

 private:
  std::optional<int> wait(std::chrono::milliseconds timeout);

  std::filesystem::path data_dir_;
  std::filesystem::path out_file_;
  std::filesystem::path err_file_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string spki_hex_;
};

}  // namespace hearth::test
