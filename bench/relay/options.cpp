// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/options.h"

namespace hearth::bench {

std::optional<ScenarioSpec> scenario_spec(std::string_view name) {
  if (name == "a") return ScenarioSpec{1, 50, 512, 0, 0};
  if (name == "b") return ScenarioSpec{100, 20, 512, 2000, 0};
  if (name == "c") return ScenarioSpec{1, 50, 512, 0, 1000};
  return std::nullopt;
}

std::optional<std::string> validate(const Options& o) {
  if (o.rooms == 0) return "--rooms must be at least 1";
  if (o.members < 2) return "--members must be at least 2 (someone has to receive)";
  if (o.senders_per_room > o.members) return "--senders-per-room cannot exceed --members";
  if (o.payload < 8) return "--payload must be at least 8 bytes (the send timestamp in the plaintext)";
  if (o.readers > o.members) return "--readers cannot exceed --members";
  if (o.payload > 900 * 1024) return "--payload must stay well under the 1 MiB frame limit";
  if (o.rate < 0) return "--rate must be >= 0";
  if (o.window == 0) return "--window must be at least 1";
  if (o.max_lag == 0) return "--max-lag must be at least 1";
  if (o.duration_s <= 0) return "--duration must be > 0";
  if (o.warmup_s < 0) return "--warmup must be >= 0";
  if (o.setup_concurrency == 0) return "--setup-concurrency must be at least 1";
  if (o.ack_interval_ms == 0) return "--ack-interval-ms must be at least 1";
  if (!o.connect.empty() && o.relay_data_dir.empty() && o.invites_file.empty())
    return "--connect needs --relay-data-dir (to issue invites) or --invites FILE";
  if (o.connect.empty() && (!o.relay_data_dir.empty() || o.relay_pid != 0))
    return "--relay-data-dir and --relay-pid go with --connect";
  return std::nullopt;
}

}  // namespace hearth::bench
