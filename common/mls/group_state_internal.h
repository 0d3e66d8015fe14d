// SPDX-License-Identifier: Apache-2.0
#pragma once
// Internal to group_state*.cpp: the data of one member's state and the steps
// that a received commit and an own commit share.

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/mls/group_state.h"

namespace hearth::mls::state_detail {

/// The public part of an ended epoch that its late messages need: the
/// context their signatures cover and each member's signature key and
/// credential. Not the tree: at 200 members a tree is ~300 KB, this ~30 KB.
struct PastView {
  GroupContext context;
  std::vector<Member> members;  // sorted by leaf
  [[nodiscard]] static std::shared_ptr<const PastView> of(const PublicGroup& group);
  [[nodiscard]] const Member* member(LeafIndex leaf) const noexcept;
  [[nodiscard]] std::uint64_t epoch() const noexcept { return context.epoch; }
};

/// What is kept of an epoch after it ended: enough to open its late
/// application messages, and its resumption PSK.
struct PastEpoch {
  std::shared_ptr<const PastView> view;  // shared between clones
  SecretTree secret_tree;
  crypto::SecretBytes sender_data_secret;
  crypto::SecretBytes resumption_psk;
  [[nodiscard]] PastEpoch clone() const;
};

/// The private key of an Update this member proposed, until the epoch ends.
struct PendingUpdate {
  Digest ref{};
  crypto::Secret<crypto::kX25519KeySize> key;
};

struct Data {
  // The public half; shared between states until one of them changes it.
  std::shared_ptr<const PublicGroup> group;
  LeafIndex own;
  crypto::SigningKey signing_key;
  PrivateTree private_tree;
  // The current epoch's secrets; joiner, welcome, epoch and encryption
  // secrets are wiped once used (the secret tree holds what is left of the last).
  EpochSecrets secrets;
  std::optional<SecretTree> secret_tree;
  Bytes confirmation_tag;  // of the commit that started this epoch (GroupInfo)
  std::vector<PendingUpdate> pending_updates;
  std::deque<PastEpoch> past;  // newest first, at most kMaxPastEpochs
  bool removed = false;

  [[nodiscard]] Data clone() const;
  [[nodiscard]] const GroupContext& context() const noexcept { return group->context(); }
};

[[nodiscard]] EpochSecrets clone_secrets(const EpochSecrets& s);

/// psk_secret over `ids`: the group's own resumption PSKs first, then
/// `env.psks`; UnknownPsk for one nobody knows.
[[nodiscard]] MlsResult<crypto::SecretBytes> resolve_psk_secret(const Data& d, std::span<const PreSharedKeyId> ids,
                                                                const GroupEnv& env);

/// The events of adopting `commit` on top of `before`.
[[nodiscard]] std::vector<GroupEvent> commit_events(const PublicGroup& before, const PublicCommit& commit);

/// Installs an epoch's secrets: its secret tree from the encryption secret;
/// the secrets only the derivation needed are wiped.
[[nodiscard]] MlsResult<void> start_epoch_secrets(Data& d, EpochSecrets secrets);

/// Moves `d` to the epoch `commit` starts: the current epoch joins the past
/// ones, the public group advances, new secret tree, pending Updates dropped.
[[nodiscard]] MlsResult<void> adopt_commit(Data& d, PublicCommit commit, PrivateTree private_tree,
                                           EpochSecrets secrets, Bytes confirmation_tag);

/// A received commit (signature and membership already checked), processed
/// on `d`, a working copy.
[[nodiscard]] MlsResult<std::vector<GroupEvent>> process_commit(Data& d, const AuthenticatedContent& commit,
                                                                const GroupEnv& env);

}  // namespace hearth::mls::state_detail

namespace hearth::mls {
struct GroupState::Impl {
  state_detail::Data d;
};
}  // namespace hearth::mls
