// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared pieces of the group tests (group_random_test, group_tamper_test):
//
//   SeededRng         a deterministic Rng (splitmix64): a failing run is
//                     replayed from its seed
//   Identity          a name, its Basic credential and its Ed25519 key
//   make_key_package  a Hearth KeyPackage (capabilities list the roles
//                     extension) valid around kTestNow
//   DeliveryService   the relay's part in memory: handshake messages are
//                     checked by a PublicGroup started from a GroupInfo and
//                     kept in one order, one commit per epoch (a commit for
//                     an epoch that already has one loses: WrongEpoch);
//                     Welcomes are kept for the KeyPackages they are for
//   EpochKeys         the secrets of an epoch a joiner entered, recomputed
//                     from its Welcome and init key (tamper tests re-tag
//                     PublicMessages with the membership key)
//
// Nothing here is thread-safe; each test owns its fixture.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/mls/group_state.h"
#include "common/mls/key_schedule.h"
#include "common/mls/leaf_node.h"
#include "common/mls/public_group.h"
#include "common/mls/roles.h"
#include "common/types/rng.h"
#include "tests/support/seeded_rng.h"

namespace hearth::mls::testing {

/// The clock of every test group (Unix seconds, 2027-01-15); KeyPackages
/// are valid from an hour before to kDefaultKeyPackageLifetimeSeconds after.
inline constexpr std::uint64_t kTestNow = 1'800'000'000;

using test::SeededRng;  // tests/support/seeded_rng.h

struct Identity {
  Bytes name;  // the Basic credential's identity
  Credential credential;
  crypto::SigningKey key;
  /// A copy of the signing key (GroupState takes its own).
  [[nodiscard]] crypto::SigningKey signing_key() const;
  [[nodiscard]] Bytes public_key() const { return Bytes(key.public_key.begin(), key.public_key.end()); }
};
/// An identity whose key comes from `rng`.
[[nodiscard]] Identity make_identity(std::string_view name, Rng& rng);

/// A fresh KeyPackage for `id`: default_capabilities({kRolesExtensionType}),
/// lifetime [kTestNow - 1 h, kTestNow + kDefaultKeyPackageLifetimeSeconds].
[[nodiscard]] KeyPackageBundle make_key_package(const Identity& id, Rng& rng);

/// External PSKs by id, for tests (resumption PSKs come from the group itself).
class TestPsks final : public PskLookup {
 public:
  void add(Bytes id, Bytes secret) { items_.emplace_back(std::move(id), std::move(secret)); }
  [[nodiscard]] std::optional<crypto::SecretBytes> external(BytesView psk_id) const override;
  [[nodiscard]] std::optional<crypto::SecretBytes> resumption(BytesView group_id, std::uint64_t epoch) const override;

 private:
  std::vector<std::pair<Bytes, Bytes>> items_;
};

/// The environment of every test transition: the clock at kTestNow, and
/// `psks` (nullptr: only the group's own resumption PSKs).
[[nodiscard]] GroupEnv test_env(const PskLookup* psks = nullptr);

/// The GroupContext extensions of a Hearth room whose facilitators are `names`.
[[nodiscard]] std::vector<Extension> room_extensions(std::vector<Bytes> names);

/// A one-member Hearth room created by `creator` (its only facilitator).
[[nodiscard]] MlsResult<GroupState> create_room(const Identity& creator, BytesView group_id, Rng& rng,
                                                RolePolicy policy = RolePolicy::Hearth);

/// Joins from a Welcome MlsMessage (InvalidWelcome for another wire format).
[[nodiscard]] MlsResult<GroupState> join_room(const MlsMessage& welcome, const KeyPackageBundle& own,
                                              const Identity& id, const std::optional<RatchetTree>& tree = std::nullopt,
                                              RolePolicy policy = RolePolicy::Hearth, const PskLookup* psks = nullptr);

/// "ok" or the error's text, for readable assertions:
///   CHECK(outcome(r) == to_string(Error::PolicyViolation));
template <class T>
[[nodiscard]] std::string outcome(const MlsResult<T>& r) {
  return r.has_value() ? std::string("ok") : to_string(r.error());
}

/// One accepted handshake message in the relay's order.
struct Delivered {
  MlsMessage message;
  int origin = -1;  // who sent it (a test's own client number): not handled by it again
  PublicUpdate update;
};

class DeliveryService {
 public:
  /// The relay's view of a room from a member's signed GroupInfo (with tree).
  [[nodiscard]] static MlsResult<DeliveryService> start(const GroupState& member);

  /// A proposal or commit (PublicMessage) from client `origin`: checked and
  /// applied by the relay's PublicGroup, then appended to the log. A commit
  /// for any epoch but the current one is refused (WrongEpoch): one commit
  /// per epoch, the first one wins.
  [[nodiscard]] MlsResult<PublicUpdate> submit(const MlsMessage& handshake, int origin);
  /// Keeps a Welcome for each KeyPackageRef it is for.
  void submit_welcome(const MlsMessage& welcome, std::span<const Digest> key_package_refs);
  /// The Welcome kept for `ref`, taken out (nullopt when none).
  [[nodiscard]] std::optional<MlsMessage> take_welcome(const Digest& ref);

  [[nodiscard]] const PublicGroup& view() const noexcept { return view_; }
  [[nodiscard]] const std::vector<Delivered>& log() const noexcept { return log_; }

 private:
  PublicGroup view_;
  std::vector<Delivered> log_;
  std::vector<std::pair<Digest, MlsMessage>> welcomes_;
};

/// The secrets of the epoch a Welcome starts, recomputed from the joiner's
/// side (its init key decrypts the GroupSecrets). Requires a Welcome without
/// PSKs.
struct EpochKeys {
  GroupContext context;
  EpochSecrets secrets;
  GroupSecrets group_secrets;
  GroupInfo group_info;
};
[[nodiscard]] MlsResult<EpochKeys> epoch_keys_from_welcome(const Welcome& welcome, const KeyPackageBundle& joiner);

/// Encodes and decodes a message (what crossing the wire does); a test
/// failure when it does not round-trip.
[[nodiscard]] MlsMessage over_the_wire(const MlsMessage& m);

/// The PublicMessage inside `m`. Precondition: it is one.
[[nodiscard]] const PublicMessage& public_message(const MlsMessage& m);

}  // namespace hearth::mls::testing
