// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared helpers for the relay integration tests: every room is a real MLS
// group (mls_members.h).

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/messages.h"
#include "tests/integration/relay/relay_process.h"
#include "tests/support/ids.h"
#include "tests/support/mls_members.h"
#include "tests/support/relay_client.h"

namespace hearth::test {

/// A relay in a fresh data directory, and the MLS side of its test users.
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

  /// A connection logged in as a freshly registered account, which has
  /// published `packages` KeyPackages.
  [[nodiscard]] RelayClient user(Identity& id, std::size_t packages = 3) {
    auto c = connect();
    c.register_account(relay->invite(), id);
    if (packages > 0) mls.publish(c, id, packages);
    return c;
  }

  /// A new connection logged in as an existing account.
  [[nodiscard]] RelayClient login(const Identity& id) const {
    auto c = connect();
    c.login(id);
    return c;
  }

  /// Creates a real MLS room facilitated by `id` (logged in on `c`).
  [[nodiscard]] RoomId create_room(RelayClient& c, const Identity& id, std::uint64_t lifetime_ms = 0) {
    return mls.create_room(c, id, lifetime_ms);
  }

  /// Sends a bundle; once accepted every member's state follows it.
  wire::BundleOk submit(RelayClient& c, const RoomId& room, PendingBundle p) {
    auto ok = c.call<wire::BundleOk>(p.bundle);
    mls.accepted(room, std::move(p));
    return ok;
  }

  /// `by` adds `members` (their KeyPackages fetched from the relay), with a Welcome each.
  wire::BundleOk add_members(RelayClient& c, const Identity& by, const RoomId& room,
                             const std::vector<const Identity*>& members) {
    return submit(c, room, mls.add(c, by, room, members));
  }

  /// A real PrivateMessage of `by` for the room's current epoch.
  wire::SendOk send_text(RelayClient& c, const Identity& by, const RoomId& room, const std::string& text,
                         EnvelopeId id = new_envelope_id()) {
    const Epoch epoch{mls.epoch(by, room)};
    return c.call<wire::SendOk>(wire::SendEnvelope{room, std::move(id), epoch, mls.encrypt(by, room, text)});
  }

  /// The plaintext of a delivered application envelope, opened by `reader`.
  [[nodiscard]] std::string text_of(const Identity& reader, const wire::Deliver& d) {
    return mls.decrypt(reader, d.room, d.payload);
  }

  TempDir tmp;
  std::unique_ptr<RelayProcess> relay;
  MlsMembers mls;
};

/// The Deliver frames `c` received (waiting up to 3 s for `n`), in order.
inline std::vector<wire::Deliver> deliveries(RelayClient& c, std::size_t n) {
  (void)c.wait_deliveries(n, std::chrono::milliseconds(3000));
  return c.take_deliveries();
}

/// The answer must be an Error with `code`.
inline void require_error(const wire::Frame& f, wire::ErrorCode code) {
  const auto* e = std::get_if<wire::Error>(&f.body);
  INFO("answer kind: " << wire::kind_name(f.body) << (e != nullptr ? " " + wire::to_string(e->code) : ""));
  REQUIRE(e != nullptr);
  REQUIRE(e->code == code);
}

}  // namespace hearth::test
