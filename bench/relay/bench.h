// SPDX-License-Identifier: Apache-2.0
#pragma once
// One bench run against a relay that is already listening.
//
//   set-up   connect + TLS + Register (+ PublishKeys) all connections (pool
//            of setup_concurrency); per room CreateRoom{GroupInfo}, then
//            FetchKeyPackage (paced by the relay's limit) + SubmitBundle{Add
//            commit, Welcomes}; then Sync everywhere
//   warm-up  senders run, nothing is recorded
//   measure  deliveries, publishes, latencies, relay RSS/CPU and bench CPU
//   drain    senders stop; wait until every SendOk and every delivery is in
//            (or drain_timeout_s passes), then count what never arrived
//
// Runs every client on the calling thread's io_context (one core for the
// bench, the other for the relay). Set-up failures throw BenchError.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "bench/relay/histogram.h"
#include "bench/relay/options.h"
#include "bench/relay/relay_process.h"

namespace hearth::bench {

struct RelayTarget {
  RelayEndpoint endpoint;  // where to connect, and the pin to check
  std::vector<std::string> invite_tokens;  // one per connection
  pid_t pid = 0;  // 0 = unknown: no RSS/CPU figures
};

struct Report {
  Options options;
  std::size_t connections = 0;
  std::size_t senders = 0;
  double setup_s = 0;
  double measured_s = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t echoes = 0;
  std::uint64_t publishes = 0;
  std::uint64_t opened = 0;               // messages decrypted by readers in the window
  std::uint64_t held_back = 0;            // maximum mode: sends delayed because a member lagged
  std::uint64_t key_package_retries = 0;  // set-up fetches refused as RateLimited and asked again
  std::size_t envelope_bytes = 0;         // the MLS PrivateMessage for one --payload plaintext
  LogHistogram delivery_latency;
  LogHistogram ack_latency;
  std::optional<double> relay_rss_end_mib;
  std::optional<double> relay_rss_peak_mib;  // highest VmRSS sampled (every 100 ms) in the window
  std::optional<double> relay_hwm_mib;       // VmHWM: peak over the relay's life (includes set-up)
  std::optional<double> relay_cpu_pct;       // of one core, over the window
  double bench_cpu_pct = 0;                  // of one core, over the window
  std::optional<double> relay_runqueue_pct;  // of the window, the relay's main thread waited for a CPU
  std::optional<double> bench_runqueue_pct;  // the same for the bench's thread
  std::optional<double> others_cpu_pct;      // the rest of the machine (not relay, not bench), of one core
  unsigned machine_cores = 0;
  std::optional<double> loadavg_end;         // 1-minute load average after the window
  std::uint64_t lost = 0;                    // (receiver, seq) pairs never delivered
  std::uint64_t duplicates = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t unanswered_sends = 0;        // SendEnvelope with no SendOk/Error by the end of the drain
  std::uint64_t dropped_connections = 0;
  std::uint64_t full_decodes = 0;
  bool drained = false;                      // everything arrived before drain_timeout_s
  std::map<std::string, std::uint64_t> errors;
  std::string relay_state;                   // "running", or how it ended

  /// Losses, dropped connections, refused sends, or an unfinished drain.
  [[nodiscard]] bool clean() const noexcept {
    return lost == 0 && unanswered_sends == 0 && dropped_connections == 0 && errors.empty() && drained;
  }
};

/// Runs the whole bench. Throws BenchError on set-up failure.
[[nodiscard]] Report run_bench(const Options& options, const RelayTarget& target);

}  // namespace hearth::bench
