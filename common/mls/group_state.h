// SPDX-License-Identifier: Apache-2.0
#pragma once
// One member's MLS group state (RFC 9420 §8-§12), a value: create, join from
// a Welcome, propose, commit, handle handshake messages, protect and
// unprotect application messages, the epoch authenticator and the exporter.
//
//   create(group_id, own key package, signing key, extensions, rng)   epoch 0
//   commit(options, rng, env) -> PendingCommit{commit msg, welcome, next state}
//       the caller sends the bundle and adopts `next` once the relay accepts it;
//       its own commit coming back is not handled again (InvalidCommit)
//   propose_*(...) -> Transition{next state, events, message to send}
//   handle(msg, env) -> Transition{next state, events}    proposals, commits
//       (PublicMessage or PrivateMessage), and application messages too
//   protect(data) / unprotect(msg)                        application messages,
//       in place: the sender's ratchet advances; unprotect changes the state
//       only on success (and, as framing does, spends the key of a message
//       that decrypted but then failed its padding or signature check: only
//       a holder of that key can produce one)
//
// Every transition that returns a new state leaves `*this` untouched when it
// fails. Secrets of the last kMaxPastEpochs epochs are kept so messages sent
// just before a commit still open; older ones are deleted.
//
// Thread affinity: none; a GroupState is a move-only value (clone() copies).

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/mls/content.h"
#include "common/mls/error.h"
#include "common/mls/framing.h"
#include "common/mls/key_schedule.h"
#include "common/mls/leaf_node.h"
#include "common/mls/public_group.h"
#include "common/mls/secret_tree.h"
#include "common/mls/treekem.h"
#include "common/types/rng.h"

namespace hearth::mls {

/// How many epochs before the current one keep their message secrets.
inline constexpr std::size_t kMaxPastEpochs = 4;
/// The version GroupState::serialize() writes first; load() refuses others.
inline constexpr std::uint16_t kGroupStateFormat = 1;
/// Most PSKs a Welcome's GroupSecrets may name (InvalidWelcome above): as
/// many as one commit may carry proposals.
inline constexpr std::size_t kMaxWelcomePsks = kMaxProposalsPerEpoch;

/// Supplies the PSKs a commit or Welcome references (§8.4). The group's own
/// resumption PSKs of retained epochs are found without it.
class PskLookup {
 public:
  virtual ~PskLookup() = default;
  [[nodiscard]] virtual std::optional<crypto::SecretBytes> external(BytesView psk_id) const = 0;
  [[nodiscard]] virtual std::optional<crypto::SecretBytes> resumption(BytesView group_id,
                                                                       std::uint64_t epoch) const = 0;
};

/// What a transition may need from outside: time and PSKs.
struct GroupEnv {
  std::optional<std::uint64_t> now_s;  // Unix seconds; nullopt skips KeyPackage lifetimes
  const PskLookup* psks = nullptr;     // nullptr: only the group's own resumption PSKs
};

// ---- events ----
struct MemberAdded {
  LeafIndex leaf;
  Credential credential;
};
struct MemberRemoved {
  LeafIndex leaf;
  Credential credential;
};
struct MemberUpdated {
  LeafIndex leaf;
};
struct RolesChanged {
  Roles roles;
};
struct EpochChanged {
  std::uint64_t epoch = 0;
};
struct ProposalReceived {
  Digest ref{};
  ProposalType type = ProposalType::Add;
  LeafIndex sender;
};
/// This member was removed by the commit: the state is final (is_removed()).
struct SelfRemoved {};
struct ApplicationMessage {
  LeafIndex sender;
  Credential credential;
  std::uint64_t epoch = 0;
  Bytes data;
  Bytes authenticated_data;
};
using GroupEvent = std::variant<MemberAdded, MemberRemoved, MemberUpdated, RolesChanged, EpochChanged,
                                ProposalReceived, SelfRemoved, ApplicationMessage>;

struct CommitOptions {
  std::vector<Proposal> proposals;  // by value: Add, Remove, PreSharedKey, GroupContextExtensions
  // Also commit this epoch's cached proposals, by reference: all except those
  // that would make the list invalid, which are left out (our own Update,
  // a Remove of us, a second Update/Remove of a leaf, an invalid Add or
  // Update, a repeated PSK, a second GroupContextExtensions).
  bool commit_cached = true;
  bool force_path = false;          // refresh own keys even when no path is required
  bool ratchet_tree_in_welcome = true;  // else joiners get the tree some other way
  bool encrypt = false;             // PrivateMessage instead of PublicMessage (Hearth sends commits public)
  Bytes authenticated_data;
};


struct PendingCommit;
struct Transition;

class GroupState {
 public:
  GroupState(GroupState&&) noexcept;
  GroupState& operator=(GroupState&&) noexcept;
  ~GroupState();

  /// A new one-member group at epoch 0. `own` is a KeyPackageBundle whose
  /// leaf becomes leaf 0 and whose encryption key the member keeps;
  /// `extensions` become the GroupContext extensions (Hearth passes the roles
  /// extension naming the creator). InvalidLeafNode when the leaf does not
  /// support them or `signing_key` is not the leaf's. The epoch-0 secret is
  /// fresh from `rng` (§11).
  [[nodiscard]] static MlsResult<GroupState> create(Bytes group_id, const KeyPackageBundle& own,
                                                    crypto::SigningKey signing_key, std::vector<Extension> extensions,
                                                    RolePolicy policy, Rng& rng);
  /// Joins from a Welcome (§12.4.3.1) with the KeyPackage it was made for.
  /// `tree` is needed when the Welcome's GroupInfo has no ratchet_tree
  /// extension (InvalidWelcome when neither is there). Checks the GroupInfo
  /// signature, the tree, the confirmation tag and our own leaf. The
  /// lifetimes of leaves already in the tree are not checked (a member who
  /// never commits keeps its KeyPackage leaf past its expiry); `env.now_s`
  /// is unused here.
  [[nodiscard]] static MlsResult<GroupState> join(const Welcome& welcome, const KeyPackageBundle& own,
                                                  crypto::SigningKey signing_key,
                                                  const std::optional<RatchetTree>& tree, RolePolicy policy,
                                                  const GroupEnv& env);

  [[nodiscard]] GroupState clone() const;

  // ---- the sealed local store (group_state_codec.cpp) ----
  /// The whole state for the sealed local store, secrets included, except
  /// the signing key (the caller keeps it and passes it back to load()).
  /// A versioned, self-delimiting encoding (kGroupStateFormat).
  ///
  /// A snapshot is as fresh as the state it was taken of: persist one after
  /// every protect() (before its message leaves), every successful
  /// unprotect() and every adopted transition, and load only the newest, or
  /// a restart could use a generation twice. The buffer holds secrets: the
  /// caller seals it and wipes it (crypto::wipe); the copies made while
  /// building it are wiped. The layout is in group_state_codec.cpp.
  [[nodiscard]] Bytes serialize() const;
  /// The state serialize() wrote. `signing_key` must be the own leaf's
  /// (InvalidLeafNode otherwise). Errors: the codec's (Truncated,
  /// TrailingBytes, InvalidValue for an unknown format version, ...),
  /// InvalidTree / InvalidValue for inconsistent content; never a crash or
  /// an unbounded allocation on hostile bytes.
  ///
  /// Checked: every count against its bound (kMaxPastEpochs, kMaxGroupLeaves,
  /// kMaxProposalsPerEpoch, kOutOfOrderWindow), secrets of their sizes, the
  /// tree against the context's tree hash (TreeHashMismatch), the private
  /// keys against the tree and the confirmation tag against the
  /// confirmation key (InvalidTree, InvalidConfirmationTag). Not re-checked:
  /// leaf signatures and parent hashes, verified when the tree was received.
  [[nodiscard]] static MlsResult<GroupState> load(BytesView encoded, crypto::SigningKey signing_key,
                                                  RolePolicy policy);

  // ---- reading ----
  [[nodiscard]] const GroupContext& context() const noexcept;
  [[nodiscard]] std::uint64_t epoch() const noexcept;
  [[nodiscard]] BytesView group_id() const noexcept;
  [[nodiscard]] LeafIndex own_leaf() const noexcept;
  [[nodiscard]] const PublicGroup& public_group() const noexcept;
  [[nodiscard]] const PublicTree& tree() const noexcept;
  [[nodiscard]] const Roles& roles() const noexcept;
  [[nodiscard]] std::vector<Member> members() const;
  [[nodiscard]] bool is_removed() const noexcept;
  /// The epoch authenticator: the per-epoch safety code members compare.
  [[nodiscard]] BytesView epoch_authenticator() const noexcept;
  /// MLS-Exporter(label, context, length) of the current epoch (Removed
  /// once this member was removed).
  [[nodiscard]] MlsResult<crypto::SecretBytes> export_secret(BytesView label, BytesView context,
                                                             std::size_t length) const;
  /// A signed GroupInfo of the current epoch (with the ratchet_tree
  /// extension when `with_tree`), for the relay's public view.
  [[nodiscard]] GroupInfo group_info(bool with_tree) const;
  /// This epoch's resumption PSK (and that of retained past epochs).
  [[nodiscard]] std::optional<crypto::SecretBytes> resumption_psk(std::uint64_t epoch) const;

  // ---- proposals (PublicMessage; the proposal is cached in the new state) ----
  [[nodiscard]] MlsResult<Transition> propose_add(const KeyPackage& kp, const GroupEnv& env) const;
  [[nodiscard]] MlsResult<Transition> propose_remove(LeafIndex leaf) const;
  /// An Update with a fresh leaf; its private key is kept until the
  /// proposal is committed (then used) or the epoch ends (then dropped).
  [[nodiscard]] MlsResult<Transition> propose_update(Rng& rng) const;
  [[nodiscard]] MlsResult<Transition> propose_extensions(std::vector<Extension> extensions) const;

  // ---- commits ----
  /// Resolves the proposals (cached ones per `options`, then the given
  /// ones), validates them, builds and encrypts a path when one is required
  /// or forced, signs, and runs the commit through the same
  /// PublicGroup::apply_commit the receivers and the relay run, so it fails
  /// here with their error rather than being refused by them. The Welcome
  /// (for Adds) carries the path secret each joiner needs and, if asked, the
  /// ratchet tree. An encrypted commit takes its handshake key from a copy
  /// of this epoch's secret tree (this call is const): a second encrypted
  /// commit made from the same state reuses that generation, and only the
  /// random reuse guard keeps the nonces apart. Hearth sends commits as
  /// PublicMessage.
  [[nodiscard]] MlsResult<PendingCommit> commit(const CommitOptions& options, Rng& rng, const GroupEnv& env) const;
  /// Shorthands for commit(): Adds, Removes, and a path-only commit that
  /// refreshes this member's keys.
  [[nodiscard]] MlsResult<PendingCommit> add(const std::vector<KeyPackage>& key_packages, Rng& rng,
                                             const GroupEnv& env) const;
  [[nodiscard]] MlsResult<PendingCommit> remove(const std::vector<LeafIndex>& leaves, Rng& rng,
                                                const GroupEnv& env) const;
  [[nodiscard]] MlsResult<PendingCommit> update(Rng& rng, const GroupEnv& env) const;

  // ---- receiving ----
  /// A proposal, commit or application message (PublicMessage or
  /// PrivateMessage). Commits for the current epoch move to the next one;
  /// application messages of retained past epochs still open.
  /// Errors besides framing's: Removed (this member was removed),
  /// InvalidCommit (our own commit echoed, before or after adopting it),
  /// Unsupported (a non-member sender), PublicGroup's add_proposal and
  /// apply_commit errors, DecryptFailed / InvalidTree (the path),
  /// UnknownPsk, InvalidConfirmationTag. A commit that removes us gives
  /// SelfRemoved and a final state.
  [[nodiscard]] MlsResult<Transition> handle(const MlsMessage& message, const GroupEnv& env) const;

  // ---- application messages (in place) ----
  /// A PrivateMessage of the current epoch, padded to `padding_block`
  /// (DESIGN.md §4: 256). Removed when this member was removed.
  [[nodiscard]] MlsResult<MlsMessage> protect(BytesView data, BytesView authenticated_data, Rng& rng,
                                              std::size_t padding_block = kDefaultPaddingBlock);
  /// Opens an application PrivateMessage of the current or a retained past
  /// epoch; WrongEpoch for any other, WrongWireFormat for a handshake.
  [[nodiscard]] MlsResult<ApplicationMessage> unprotect(const MlsMessage& message);

  /// A lower bound of the bytes this state holds, from encoded sizes; the
  /// heap it takes is 2-4 times more (hearth-mls-bench measures both).
  [[nodiscard]] std::size_t memory_estimate() const;

 private:
  struct Impl;
  explicit GroupState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct Transition {
  GroupState next;
  std::vector<GroupEvent> events;
  /// What to send: the proposal message of propose_*(); nullopt for handle().
  std::optional<MlsMessage> message;
};

struct PendingCommit {
  MlsMessage commit;
  std::optional<MlsMessage> welcome;
  std::vector<Digest> welcome_key_package_refs;  // whom the Welcome is for, in its order
  GroupState next;                               // adopt once the relay accepts the commit
  std::vector<GroupEvent> events;                // what adopting it changes
};

}  // namespace hearth::mls
