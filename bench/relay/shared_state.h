// SPDX-License-Identifier: Apache-2.0
#pragma once
// State every simulated client of one run shares. Everything runs on the one
// io_context thread, so nothing here is synchronised.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/relay/histogram.h"
#include "bench/relay/options.h"
#include "common/types/ids.h"
#include "tests/support/mls_members.h"

namespace hearth::bench {

class Connection;

struct RoomState {
  RoomId id;
  Epoch epoch;  // the room's MLS epoch once every member was added
  std::uint64_t head = 0;  // highest sequence number the relay has assigned (SendOk / BundleOk)
  std::vector<Connection*> members;  // members[0] created the room
};

/// Counters of one run. `recording` is true only inside the measured window;
/// the loss bookkeeping in Connection runs for the whole run.
struct Stats {
  bool recording = false;
  std::uint64_t deliveries = 0;   // application envelopes delivered to a member other than the sender
  std::uint64_t echoes = 0;       // deliveries of a sender's own envelope to itself
  std::uint64_t publishes = 0;    // SendOk received
  std::uint64_t duplicates = 0;   // a (receiver, seq) delivered twice (whole run)
  std::uint64_t out_of_order = 0; // a seq below one the receiver already had (whole run)
  std::uint64_t full_decodes = 0; // frames that took wire::decode instead of the fast path
  std::uint64_t dropped_connections = 0;
  std::uint64_t opened = 0;       // application messages decrypted by a reader
  std::uint64_t held_back = 0;    // closed-loop sends delayed 10 ms because a member lagged
  std::uint64_t key_package_retries = 0;  // FetchKeyPackage refused as RateLimited during set-up
  std::size_t envelope_bytes = 0; // MLS PrivateMessage size of the last envelope sent
  LogHistogram delivery_latency;  // send timestamp in the plaintext -> Deliver opened by a reader
  LogHistogram ack_latency;       // SendEnvelope queued -> SendOk read by the sender
  std::map<std::string, std::uint64_t> errors;  // "RateLimited", "transport: End of file", ...
};

struct Shared {
  const Options& options;
  Stats stats;
  std::vector<RoomState> rooms;
  bool stopping = false;  // senders stop scheduling new envelopes
  // Every member's MLS side: KeyPackages, group state per room. A failure
  // in it throws (the bench's own MLS is broken, not the relay).
  test::MlsMembers mls;
};

}  // namespace hearth::bench
