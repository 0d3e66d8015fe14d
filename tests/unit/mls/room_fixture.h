// SPDX-License-Identifier: Apache-2.0
#pragma once
// A room of seeded clients in memory, for tests that need a group with some
// history (the codec tests): client 0 ("alice") creates it and is its only
// facilitator, every message crosses the wire encoded, and with `with_relay`
// every handshake message first goes through the relay's view
// (DeliveryService) before the other members handle it.
//
// The order in which the fixture draws from its SeededRng is part of what
// it promises: seeded states come out byte for byte the same.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/mls/group_fixture.h"

namespace hearth::mls::testing {

class TestRoom {
 public:
  enum class Relay { None, View };
  TestRoom(std::uint64_t seed, std::string_view group_id, Relay relay = Relay::None);

  GroupState& at(std::size_t who) { return *states[who]; }
  /// A new person (no state until a Welcome).
  std::size_t add_person(const std::string& name);
  /// Clients with a state that is not removed.
  [[nodiscard]] std::vector<std::size_t> members() const;

  /// `m` from `origin`: accepted by the relay (when there is one), then
  /// handled by every other current member in `env`.
  void deliver(const MlsMessage& m, std::size_t origin, const GroupEnv& env = test_env());
  /// The others handle `pending`'s commit, its committer adopts it, joiners join.
  void adopt(std::size_t committer, PendingCommit pending,
             const std::vector<std::pair<std::size_t, KeyPackageBundle>>& joiners = {});
  /// Alice adds `names` in one commit; with `join` off she adopts it alone.
  std::vector<std::size_t> add(const std::vector<std::string>& names, bool join = true);
  /// Alice removes `who`.
  void remove(std::size_t who);
  void commit_update(std::size_t who);
  /// An Update proposal by `who`, cached by the relay and the members.
  void propose_update(std::size_t who);
  /// An application message from `who`, encoded and decoded.
  MlsMessage say(std::size_t who, const std::string& text);

  /// Every member is on the same epoch, context, tree and secrets.
  void check_agree();
  /// Every member reads a message from every other.
  void check_everyone_reads_everyone();

  SeededRng rng;
  std::vector<Identity> people;
  std::vector<std::optional<GroupState>> states;
  std::optional<DeliveryService> relay;
};

}  // namespace hearth::mls::testing
