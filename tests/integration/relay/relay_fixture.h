// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared helpers for the relay integration tests.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/messages.h"
#include "tests/integration/relay/relay_process.h"
#include "tests/support/relay_client.h"

namespace hearth::test {

/// A relay in a fresh data directory.
struct RelayFixture {
  explicit RelayFixture(std::vector<std::string> extra = {})
      : relay(std::make_unique<RelayProcess>(tmp.path() / "data", std::move(extra))) {}

  /// Restarts the relay on the same data directory (after kill9/terminate).
  void restart(std::vector<std::string> extra = {}) {
    relay.reset();
    relay = std::make_unique<RelayProcess>(tmp.path() / "data", std::move(extra));
  }

  [[nodiscard]] RelayClient connect() const {
    auto c = RelayClient::connect("127.0.0.1", relay->port());
    c.hello();
    return c;
  }

  /// A connection logged in as a freshly registered account.
  [[nodiscard]] RelayClient user(Identity& id) const {
    auto c = connect();
    c.register_account(relay->invite(), id);
    return c;
  }

  /// A new connection logged in as an existing account.
  [[nodiscard]] RelayClient login(const Identity& id) const {
    auto c = connect();
    c.login(id);
    return c;
  }

  TempDir tmp;
  std::unique_ptr<RelayProcess> relay;
};

[[nodiscard]] inline Bytes random_id(std::size_t n = 16) { return crypto::random_bytes(n); }
[[nodiscard]] inline RoomId new_room_id() { return RoomId{random_id()}; }
[[nodiscard]] inline EnvelopeId new_envelope_id() { return EnvelopeId{random_id()}; }

/// The answer must be an Error with `code`.
inline void require_error(const wire::Frame& f, wire::ErrorCode code) {
  const auto* e = std::get_if<wire::Error>(&f.body);
  INFO("answer kind: " << wire::kind_name(f.body) << (e != nullptr ? " " + wire::to_string(e->code) : ""));
  REQUIRE(e != nullptr);
  REQUIRE(e->code == code);
}

/// Creates a room owned by `c` and returns its id.
inline RoomId create_room(RelayClient& c, std::uint64_t lifetime_ms = 0) {
  RoomId room = new_room_id();
  auto ok = c.call<wire::CreateRoomOk>(wire::CreateRoom{room, Bytes{1, 2, 3}, lifetime_ms});
  REQUIRE(ok.room == room);
  REQUIRE(ok.epoch.v == 0);
  return room;
}

/// Adds `members` to `room` (submitted by facilitator `c` at `epoch`), with a Welcome each.
inline wire::BundleOk add_members(RelayClient& c, const RoomId& room, Epoch epoch,
                                  const std::vector<const Identity*>& members) {
  wire::SubmitBundle b{room, epoch, new_envelope_id(), Bytes{0xc0, 0x01}, {}, {}};
  for (const auto* m : members) {
    b.roster_changes.push_back(wire::RosterChange{wire::RosterOp::Add, m->account, wire::Role::Member});
    b.welcomes.push_back(wire::WelcomeFor{m->account, Bytes{0x77, m->account.v[0]}});
  }
  return c.call<wire::BundleOk>(std::move(b));
}

inline wire::SendOk send_text(RelayClient& c, const RoomId& room, Epoch epoch, const std::string& text,
                              EnvelopeId id = new_envelope_id()) {
  return c.call<wire::SendOk>(wire::SendEnvelope{room, std::move(id), epoch, to_bytes(text)});
}

}  // namespace hearth::test
