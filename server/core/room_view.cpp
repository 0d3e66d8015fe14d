// SPDX-License-Identifier: Apache-2.0
#include "server/core/room_view.h"

#include <algorithm>
#include <set>

#include "common/mls/codec.h"
#include "common/mls/identity.h"
#include "common/mls/roles.h"

namespace hearth::relay {

namespace {

using wire::ErrorCode;
static_assert(mls::kAccountIdBytes == wire::kAccountIdSize);

Rejection invalid(std::string why) { return Rejection{ErrorCode::InvalidArgument, std::move(why)}; }

Rejection mls_refusal(const char* what, mls::Error e) {
  if (e == mls::Error::PolicyViolation) {
    return Rejection{ErrorCode::NotFacilitator, std::string(what) + ": the room's role policy forbids it"};
  }
  return invalid(std::string(what) + ": " + mls::to_string(e));
}

wire::Role role_in(const mls::Roles& roles, const AccountId& account) {
  return mls::lists_facilitator(roles, account) ? wire::Role::Facilitator : wire::Role::Member;
}

std::optional<mls::Member> member_at(const mls::PublicGroup& g, mls::LeafIndex leaf) {
  for (auto& m : g.members()) {
    if (m.leaf == leaf) return m;
  }
  return std::nullopt;
}

std::optional<AccountId> account_in(const mls::Credential& c) {
  auto a = mls::credential_account(c);
  if (!a) return std::nullopt;
  return std::move(*a);
}

// The sender of a handshake must be the submitter's own leaf: its account, its key.
bool sent_by(const mls::PublicGroup& view, const mls::PublicMessage& pub, const AccountId& submitter,
             const IdentityLookup& identity_of) {
  if (pub.content.sender.sender_type != mls::SenderType::Member) return false;
  const auto sender = member_at(view, mls::LeafIndex{pub.content.sender.index});
  const auto submitter_key = identity_of(submitter);
  return sender && submitter_key &&
         mls::check_account_leaf(*view.tree().leaf(sender->leaf), submitter.v, *submitter_key);
}

}  // namespace

Result<mls::PublicGroup, Rejection> open_room_view(const RoomId& room, BytesView group_info, const AccountId& creator,
                                                   BytesView creator_key, std::uint64_t now_s) {
  auto view = open_group_view(group_info, creator, creator_key, now_s);
  if (!view) return view;
  if (view->context().group_id != room.v) return fail(invalid("the group id is not the room id"));
  return view;
}

Result<mls::PublicGroup, Rejection> open_group_view(BytesView group_info, const AccountId& creator,
                                                    BytesView creator_key, std::uint64_t now_s) {
  if (group_info.size() > kMaxGroupInfoSize) return fail(invalid("the GroupInfo is too large"));
  auto message = mls::decode<mls::MlsMessage>(group_info);
  if (!message) return fail(mls_refusal("the GroupInfo does not parse", message.error()));
  const auto* info = std::get_if<mls::GroupInfo>(&message->body);
  if (info == nullptr) return fail(invalid("not a GroupInfo"));
  const auto ext = std::find_if(info->extensions.begin(), info->extensions.end(),
                                [](const mls::Extension& e) { return e.extension_type == mls::kExtRatchetTree; });
  if (ext == info->extensions.end()) return fail(invalid("the GroupInfo carries no ratchet tree"));
  auto tree = mls::decode<mls::RatchetTree>(ext->extension_data);
  if (!tree) return fail(mls_refusal("the ratchet tree does not parse", tree.error()));
  auto view = mls::PublicGroup::from_group_info(*info, *tree, mls::RolePolicy::Hearth, now_s);
  if (!view) return fail(mls_refusal("the GroupInfo does not verify", view.error()));
  if (view->epoch() != 0) return fail(invalid("a new room starts at epoch 0"));
  const auto members = view->members();
  if (members.size() != 1) return fail(invalid("a new room has its creator as only member"));
  if (!mls::check_account_leaf(*view->tree().leaf(members[0].leaf), creator.v, creator_key)) {
    return fail(invalid("the room's first member is not the creator"));
  }
  if (!mls::lists_facilitator(view->roles(), creator)) return fail(invalid("the creator is not the room's facilitator"));
  return std::move(*view);
}

Result<void, Rejection> share_welcomes(std::vector<wire::WelcomeFor>& welcomes) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < welcomes.size(); ++i) {
    if (welcomes[i].data.empty()) {
      if (i == 0) return fail(invalid("the first Welcome has no data to share"));
      total += welcomes[i - 1].data.size();
      if (total > kMaxWelcomeBytes) return fail(invalid("the Welcomes are too large"));
      welcomes[i].data = welcomes[i - 1].data;
    } else {
      total += welcomes[i].data.size();
      if (total > kMaxWelcomeBytes) return fail(invalid("the Welcomes are too large"));
    }
  }
  return {};
}

Result<CommitPlan, Rejection> plan_commit(const mls::PublicGroup& view, BytesView handshake, const AccountId& submitter,
                                          const std::vector<wire::WelcomeFor>& welcomes,
                                          const IdentityLookup& identity_of, std::uint64_t now_s) {
  if (handshake.size() > kMaxCommitSize) return fail(invalid("the commit is too large"));
  auto message = mls::decode<mls::MlsMessage>(handshake);
  if (!message) return fail(mls_refusal("the commit does not parse", message.error()));
  const auto* pub = std::get_if<mls::PublicMessage>(&message->body);
  if (pub == nullptr || mls::content_type(pub->content.content) != mls::ContentType::Commit) {
    return fail(invalid("a membership change must be a commit in a PublicMessage"));
  }
  // The room's group before a reset: the committer builds again on the new one.
  if (pub->content.group_id != view.context().group_id) {
    return fail(Rejection{ErrorCode::EpochConflict, "the commit is for another group than the room's current one"});
  }
  if (pub->content.epoch != view.epoch()) {
    return fail(Rejection{ErrorCode::EpochConflict, "the commit is not built on the room's current epoch"});
  }
  if (pub->content.sender.sender_type != mls::SenderType::Member) return fail(invalid("the committer is not a member"));
  if (!sent_by(view, *pub, submitter, identity_of)) return fail(invalid("the commit claims another member's leaf"));

  CommitPlan plan{view, {}, {}};
  auto update = plan.next.handle(*pub, now_s);
  if (!update) return fail(mls_refusal("the commit is refused", update.error()));

  const auto& roles_after = plan.next.roles();
  std::set<AccountId> touched;
  for (const auto& added : update->added) {
    const auto m = member_at(plan.next, added.leaf);
    const auto account = m ? account_in(m->credential) : std::nullopt;
    if (!account) return fail(invalid("an added member's credential names no account"));
    const auto key = identity_of(*account);
    if (!key) return fail(Rejection{ErrorCode::UnknownAccount, "an added member is not an account"});
    if (!mls::check_account_leaf(*plan.next.tree().leaf(added.leaf), account->v, *key)) {
      return fail(invalid("an added member's KeyPackage is not that account's"));
    }
    plan.roster.push_back(wire::RosterChange{wire::RosterOp::Add, *account, role_in(roles_after, *account)});
    plan.joiners.emplace_back(*account, added.key_package_ref);
    touched.insert(*account);
  }
  for (const auto& [leaf, credential] : update->removed) {
    const auto account = account_in(credential);
    if (!account) return fail(invalid("a removed member's credential names no account"));
    plan.roster.push_back(wire::RosterChange{wire::RosterOp::Remove, *account, wire::Role::Member});
    touched.insert(*account);
  }
  for (const auto& m : plan.next.members()) {
    const auto account = account_in(m.credential);
    if (!account || touched.contains(*account)) continue;
    const auto before = role_in(view.roles(), *account);
    const auto after = role_in(roles_after, *account);
    if (before != after) plan.roster.push_back(wire::RosterChange{wire::RosterOp::SetRole, *account, after});
  }

  // Welcomes: one per joiner, each naming (at least) that joiner's KeyPackage.
  std::set<AccountId> welcomed;
  for (const auto& w : welcomes) {
    const auto joiner = std::find_if(plan.joiners.begin(), plan.joiners.end(),
                                     [&](const auto& j) { return j.first == w.account; });
    if (joiner == plan.joiners.end()) return fail(invalid("a Welcome for an account the commit does not add"));
    if (!welcomed.insert(w.account).second) return fail(invalid("two Welcomes for one account"));
    if (w.data.size() > kMaxCommitSize) return fail(invalid("a Welcome is too large"));
    auto wm = mls::decode<mls::MlsMessage>(w.data);
    const auto* welcome = wm ? std::get_if<mls::Welcome>(&wm->body) : nullptr;
    if (welcome == nullptr) return fail(invalid("a Welcome does not parse"));
    const bool for_joiner = std::any_of(welcome->secrets.begin(), welcome->secrets.end(), [&](const auto& s) {
      return std::ranges::equal(s.new_member, joiner->second);
    });
    if (!for_joiner) return fail(invalid("a Welcome is not for the KeyPackage its account was added with"));
  }
  if (welcomed.size() != plan.joiners.size()) return fail(invalid("an added member has no Welcome"));
  return plan;
}

Result<CommitPlan, Rejection> plan_reset(const RoomId& room, BytesView current_group, BytesView group_info,
                                         BytesView handshake, const AccountId& submitter,
                                         const std::vector<wire::WelcomeFor>& welcomes,
                                         const IdentityLookup& identity_of, std::uint64_t now_s) {
  const auto key = identity_of(submitter);
  if (!key) return fail(Rejection{ErrorCode::UnknownAccount, "no such account"});
  auto fresh = open_group_view(group_info, submitter, *key, now_s);
  if (!fresh) return fail(fresh.error());
  const auto& id = fresh->context().group_id;
  if (std::ranges::equal(id, current_group) || id == room.v) {
    return fail(invalid("a reset starts a group with a new group id"));
  }
  return plan_commit(*fresh, handshake, submitter, welcomes, identity_of, now_s);
}

HandshakeKind handshake_kind(BytesView handshake) {
  if (handshake.size() > kMaxCommitSize) return HandshakeKind::Other;
  auto message = mls::decode<mls::MlsMessage>(handshake);
  const auto* pub = message ? std::get_if<mls::PublicMessage>(&message->body) : nullptr;
  if (pub == nullptr) return HandshakeKind::Other;
  switch (mls::content_type(pub->content.content)) {
    case mls::ContentType::Commit: return HandshakeKind::Commit;
    case mls::ContentType::Proposal: return HandshakeKind::Proposal;
    case mls::ContentType::Application: return HandshakeKind::Other;
  }
  return HandshakeKind::Other;
}

Result<mls::PublicGroup, Rejection> plan_proposal(const mls::PublicGroup& view, BytesView handshake,
                                                  const AccountId& submitter, const IdentityLookup& identity_of,
                                                  std::uint64_t now_s) {
  if (handshake.size() > kMaxProposalSize) return fail(invalid("the proposal is too large"));
  auto message = mls::decode<mls::MlsMessage>(handshake);
  if (!message) return fail(mls_refusal("the proposal does not parse", message.error()));
  const auto* pub = std::get_if<mls::PublicMessage>(&message->body);
  const auto* proposal = pub != nullptr ? std::get_if<mls::Proposal>(&pub->content.content) : nullptr;
  if (proposal == nullptr) return fail(invalid("a standalone proposal must be a PublicMessage proposal"));
  if (pub->content.group_id != view.context().group_id) {
    return fail(Rejection{ErrorCode::StaleEpoch, "the proposal is for another group than the room's current one"});
  }
  if (pub->content.epoch != view.epoch()) {
    return fail(Rejection{ErrorCode::StaleEpoch, "the proposal is not for the room's current epoch"});
  }
  if (!sent_by(view, *pub, submitter, identity_of)) return fail(invalid("the proposal claims another member's leaf"));
  const auto* remove = std::get_if<mls::Remove>(&proposal->body);
  if (remove == nullptr || remove->removed != pub->content.sender.index) {
    return fail(invalid("the relay takes only a member's own removal as a standalone proposal"));
  }
  // The last facilitator's leaving could never be committed (the room keeps
  // a facilitator) and would sit in every member's commits until then.
  const auto leaver = member_at(view, mls::LeafIndex{pub->content.sender.index});
  const auto& roles = view.roles();
  const auto is_facilitator = [&](const mls::Member& m) {
    const auto account = account_in(m.credential);
    return account && mls::lists_facilitator(roles, *account);
  };
  const auto members = view.members();
  const auto facilitators = std::count_if(members.begin(), members.end(), is_facilitator);
  if (leaver && is_facilitator(*leaver) && facilitators == 1) {
    return fail(Rejection{ErrorCode::LastFacilitator, "the room's last facilitator cannot leave"});
  }
  mls::PublicGroup next = view;
  auto update = next.handle(*pub, now_s);
  if (!update) return fail(mls_refusal("the proposal is refused", update.error()));
  return next;
}

Result<Epoch, Rejection> check_application_message(BytesView group, Epoch stated, BytesView payload) {
  if (payload.size() > kMaxApplicationMessageSize) return fail(invalid("the message is too large"));
  auto message = mls::decode<mls::MlsMessage>(payload);
  if (!message) return fail(mls_refusal("the message does not parse", message.error()));
  const auto* priv = std::get_if<mls::PrivateMessage>(&message->body);
  if (priv == nullptr) return fail(invalid("an application message must be an MLS PrivateMessage"));
  if (priv->content_type != mls::ContentType::Application) {
    return fail(invalid("a handshake travels in a bundle, not as an application message"));
  }
  if (priv->epoch != stated.v) return fail(invalid("the envelope's epoch is not the message's"));
  if (!std::ranges::equal(priv->group_id, group)) {
    return fail(Rejection{ErrorCode::StaleEpoch, "the message is not for the room's current group"});
  }
  return Epoch{priv->epoch};
}

}  // namespace hearth::relay
