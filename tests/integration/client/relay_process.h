// SPDX-License-Identifier: Apache-2.0
#pragma once
// The real hearth-relay binary, started on 127.0.0.1 with a temporary data
// directory, for client integration tests. Killed in the destructor.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/client/child_process.h"

namespace hearth::test {

inline constexpr std::chrono::milliseconds kRelayStartTimeout{15'000};

class RelayProcess {
 public:
  /// Starts the relay with `data_dir` on `port` (0 = any free port) and waits
  /// for its "listening" and "spki-sha256" lines. Fails the test on error.
  RelayProcess(std::filesystem::path data_dir, std::uint16_t port = 0);

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::string& spki_hex() const { return spki_hex_; }
  /// `n` invite strings from `hearth-relay invite`, pointed at this relay's address.
  [[nodiscard]] std::vector<std::string> invites(int n) const;
  /// kill -9, then start again on the same port and data directory.
  void restart();
  void kill();
  /// Everything the relay wrote to stdout and stderr, over all its runs.
  [[nodiscard]] std::string logs();
  [[nodiscard]] const std::filesystem::path& data_dir() const { return data_dir_; }

  [[nodiscard]] static std::filesystem::path binary();

 private:
  void start(std::uint16_t port);

  std::filesystem::path data_dir_;
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
  std::string spki_hex_;
  std::string past_logs_;  // of runs before this one
};

}  // namespace hearth::test
