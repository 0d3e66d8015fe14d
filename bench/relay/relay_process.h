// SPDX-License-Identifier: Apache-2.0
#pragma once
// Starting, watching and stopping the relay under test, and asking it for
// invite tokens through its `invite` subcommand.
//
//   bench ──fork/exec──> hearth-relay --listen 127.0.0.1:0 --data-dir D [extra...]
//         <──stdout file── "hearth-relay: listening 127.0.0.1:PORT"
//                          "hearth-relay: spki-sha256 HEX"
//   bench ──fork/exec──> hearth-relay invite --data-dir D --count N  (one invite per line)
//
// Start-up failures throw BenchError with a message meant for the operator
// (exit status and the tail of the relay's stderr).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/types/bytes.h"

namespace hearth::bench {

/// A start-up or setup failure; main() prints it and exits non-zero.
class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RelayEndpoint {
  std::string host;
  std::uint16_t port = 0;
  Bytes spki_pin;  // SHA-256 of the relay's SPKI as it announced it; may be empty
};

/// Parses "HOST:PORT" or "[V6]:PORT". Throws BenchError.
[[nodiscard]] RelayEndpoint parse_endpoint(const std::string& text);

/// A relay child process. Killed (SIGKILL) if the bench dies first.
/// Not copyable; stopping happens in stop() or the destructor.
class RelayProcess {
 public:
  /// Starts `binary` on a fresh `data_dir`, its stdout/stderr going to files
  /// in `log_dir`, and waits up to `timeout` for it to announce its address.
  RelayProcess(const std::filesystem::path& binary, const std::filesystem::path& data_dir,
               const std::vector<std::string>& extra_args, const std::filesystem::path& log_dir,
               std::chrono::milliseconds timeout);
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;
  ~RelayProcess();

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] const RelayEndpoint& endpoint() const noexcept { return endpoint_; }
  /// nullopt while it runs; otherwise how it ended ("exit status 1", "signal 11").
  [[nodiscard]] std::optional<std::string> ended();
  /// SIGTERM, up to 5 s grace, then SIGKILL. Returns how it ended.
  std::string stop();
  /// The last lines the relay wrote to stderr (for error messages).
  [[nodiscard]] std::string stderr_tail(std::size_t max_lines = 15) const;

 private:
  pid_t pid_ = -1;
  std::optional<std::string> ended_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  RelayEndpoint endpoint_;
};

/// Runs `binary invite --data-dir D --count N` and returns the N invite
/// strings. Throws BenchError when the subcommand fails or prints fewer.
[[nodiscard]] std::vector<std::string> make_invites(const std::filesystem::path& binary,
                                                    const std::filesystem::path& data_dir, std::size_t count);

/// `<dir of this executable>/../../server/hearth-relay` (the build tree layout),
/// or `../server/hearth-relay` when that one exists instead.
[[nodiscard]] std::filesystem::path default_relay_path();

/// "exit status N" / "signal N" for a waitpid status.
[[nodiscard]] std::string describe_wait_status(int status);

}  // namespace hearth::bench
