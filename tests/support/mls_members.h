// SPDX-License-Identifier: Apache-2.0
#pragma once
// Real MLS for tests that drive a real relay (library hearth_test_mls):
// every test identity is a device whose login identity key is its MLS
// signature key and whose credential names its account
// (common/mls/identity.h), as a Hearth client builds it.
// MlsMembers keeps each device's unused KeyPackages and its group state per
// room, builds real GroupInfos, commits, proposals and PrivateMessages, and
// moves every member's state along once the relay accepted a bundle.
//
//   MlsMembers mls;
//   mls.publish(conn, alice);                      // PublishKeys
//   RoomId room = mls.create_room(conn, alice);    // CreateRoom, real GroupInfo
//   auto p = mls.add(conn, alice, room, {&bob});   // FetchKeyPackage, commit + Welcome
//   conn.call<wire::BundleOk>(p.bundle);
//   mls.accepted(room, std::move(p));              // Alice adopts, Bob joins
//
// Tools without a RelayClient (hearth-bench) use the calls that only build
// or consume frames: new_key_packages, new_group_info, add_fetched,
// accepted, encrypt, open.
//
// Not thread-safe; throws std::runtime_error on an MLS failure (a test bug).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mls/group_state.h"
#include "tests/support/relay_client.h"

namespace hearth::test {

/// A bundle built from a real commit (or proposal), not yet sent.
struct PendingBundle {
  wire::SubmitBundle bundle;
  AccountId by;
  std::optional<mls::PendingCommit> commit;    // a commit
  std::optional<mls::MlsMessage> proposal;     // a standalone proposal
  std::optional<mls::GroupState> proposer;     // the proposer's state with its proposal cached
};

class MlsMembers {
 public:
  /// Publishes `count` fresh KeyPackages of `id` through its connection.
  void publish(RelayClient& c, const Identity& id, std::size_t count = 3);
  /// The PublishKeys of `count` fresh KeyPackages of `id` (not sent); `id`
  /// joins with them once a Welcome for one is accepted.
  [[nodiscard]] wire::PublishKeys new_key_packages(const Identity& id, std::size_t count);
  /// Creates a room on the relay from a real GroupInfo; `id` facilitates it.
  [[nodiscard]] RoomId create_room(RelayClient& c, const Identity& id, std::uint64_t lifetime_ms = 0);
  /// The GroupInfo a new room of `id` would be created from (not sent).
  [[nodiscard]] Bytes new_group_info(const Identity& id, const RoomId& room);

  /// A commit of `by` adding `joiners`, whose KeyPackages `c` fetches from the relay.
  [[nodiscard]] PendingBundle add(RelayClient& c, const Identity& by, const RoomId& room,
                                  const std::vector<const Identity*>& joiners);
  /// A commit of `by` adding the KeyPackages the relay handed out in `fetched`.
  [[nodiscard]] PendingBundle add_fetched(const Identity& by, const RoomId& room,
                                          const std::vector<wire::KeyPackageOk>& fetched);
  /// A commit of `by` adding KeyPackages it already has (not fetched).
  [[nodiscard]] PendingBundle add_packages(const Identity& by, const RoomId& room,
                                           const std::vector<std::pair<AccountId, mls::KeyPackage>>& packages);
  /// A commit of `by` removing `members`.
  [[nodiscard]] PendingBundle remove(const Identity& by, const RoomId& room,
                                     const std::vector<const Identity*>& members);
  /// A commit of `by` refreshing its own keys (and committing cached proposals).
  [[nodiscard]] PendingBundle update(const Identity& by, const RoomId& room);
  /// A standalone proposal of `by` removing itself (leaving).
  [[nodiscard]] PendingBundle leave(const Identity& by, const RoomId& room);
  /// After the relay accepted `p`: the committer adopts it, the other
  /// members process it, joiners join from their Welcome, removed members
  /// drop the room.
  void accepted(const RoomId& room, PendingBundle&& p);

  /// A real application message of `by` for the room's current epoch
  /// (an encoded PrivateMessage, padded as a client pads it).
  [[nodiscard]] Bytes encrypt(const Identity& by, const RoomId& room, BytesView plaintext);
  [[nodiscard]] Bytes encrypt(const Identity& by, const RoomId& room, std::string_view text);
  /// Opens an application envelope for `reader`: its plaintext.
  [[nodiscard]] Bytes open(const Identity& reader, const RoomId& room, BytesView payload);
  [[nodiscard]] std::string decrypt(const Identity& reader, const RoomId& room, BytesView payload);
  [[nodiscard]] std::uint64_t epoch(const Identity& id, const RoomId& room) const;
  [[nodiscard]] mls::GroupState& group(const Identity& id, const RoomId& room);
  /// A copy of `id`'s state in the room that ignores the role policy, as a
  /// hostile or broken client would: for commits the relay must refuse.
  [[nodiscard]] mls::GroupState rogue(const Identity& id, const RoomId& room);
  /// A fresh KeyPackage of `id` that the relay never saw.
  [[nodiscard]] mls::KeyPackage unpublished_package(const Identity& id);

 private:
  struct Device {
    std::vector<mls::KeyPackageBundle> packages;  // published, not yet joined with
    std::map<RoomId, mls::GroupState> groups;
    std::optional<crypto::SigningKey> key;  // its identity key, to join with
  };
  [[nodiscard]] Device& device_of(const Identity& id);
  [[nodiscard]] PendingBundle bundle_of(const Identity& by, const RoomId& room, mls::PendingCommit commit,
                                        const std::vector<AccountId>& joiners);
  [[nodiscard]] mls::KeyPackageBundle new_package(const Identity& id);

  crypto::SystemRng rng_;
  std::map<AccountId, Device> devices_;
};

}  // namespace hearth::test
