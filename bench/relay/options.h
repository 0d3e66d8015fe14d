// SPDX-License-Identifier: Apache-2.0
#pragma once
// What one bench run does: the load shape, where the relay comes from, and
// how the result is printed. Filled by main() from the command line.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace hearth::bench {

/// The named scenarios (a, b, c); explicit options override them.
struct ScenarioSpec {
  std::size_t rooms = 1;
  std::size_t members = 50;
  std::size_t payload = 512;
  double rate = 0;  // messages/s offered in total; 0 = maximum throughput
  std::size_t idle = 0;
};
[[nodiscard]] std::optional<ScenarioSpec> scenario_spec(std::string_view name);

struct Options {
  std::string scenario = "custom";
  std::size_t rooms = 1;
  std::size_t members = 50;           // connections per room
  std::size_t senders_per_room = 0;   // 0 = every member sends
  std::size_t payload = 512;          // plaintext bytes per message (>= 8: the timestamp), before MLS
  std::size_t readers = 1;            // members per room that open every message (latency is theirs)
  double rate = 0;                    // total messages/s, open loop; 0 = maximum (closed window)
  std::size_t window = 16;            // maximum mode: unacknowledged sends per sender
  std::size_t max_lag = 1000;         // maximum mode: hold back while a member is this far behind the head
  std::size_t idle = 0;               // extra logged-in, synced connections that do nothing
  double duration_s = 10;
  double warmup_s = 3;
  double drain_timeout_s = 10;        // after the run, how long to wait for every delivery
  std::size_t ack_interval_ms = 100;  // per-connection Ack batching
  std::size_t setup_concurrency = 64; // connections being set up at once
  bool json = false;

  // The relay: spawned by default, or an existing one.
  std::string relay_path;                  // empty = default_relay_path()
  std::vector<std::string> relay_args;     // extra arguments for a spawned relay
  double startup_timeout_s = 15;
  bool keep_data = false;                  // keep the spawned relay's temp dir
  std::string connect;                     // HOST:PORT of a running relay
  std::string relay_data_dir;              // its data dir (for `invite`)
  pid_t relay_pid = 0;                     // its pid (for RSS and CPU); 0 = unknown
  std::string pin_hex;                     // overrides the pin in the invites
  std::string invites_file;                // invites, one per line, instead of `invite`

  [[nodiscard]] std::size_t connections() const noexcept { return rooms * members + idle; }
  [[nodiscard]] std::size_t senders() const noexcept {
    return rooms * (senders_per_room == 0 ? members : senders_per_room);
  }
};

/// Checks ranges and combinations; returns a message for the operator, or nullopt.
[[nodiscard]] std::optional<std::string> validate(const Options& o);

}  // namespace hearth::bench
