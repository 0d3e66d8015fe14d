// SPDX-License-Identifier: Apache-2.0
#include "client/core/room_crypto.h"

#include <algorithm>

#include "common/wire/codec.h"

namespace hearth::client {

namespace {

DecryptionFailed failure(const wire::Deliver& d, std::string reason) {
  return DecryptionFailed{d.room, d.seq, d.sender, d.kind, std::move(reason)};
}

std::string why(const char* what, mls::Error e) { return std::string(what) + ": " + mls::to_string(e); }

wire::Role role_of(const RoomGroup& g, const AccountId& a) {
  return g.is_facilitator(a) ? wire::Role::Facilitator : wire::Role::Member;
}

void on_welcome(GroupEffects& fx, const wire::Deliver& d, const GroupSelf& self, std::uint64_t now_s) {
  auto joined = RoomGroup::join(d.payload, self.account, self.identity, self.key_packages, now_s);
  if (!joined) {
    fx.events.emplace_back(failure(d, why(fx.group ? "cannot switch to the room's group in this Welcome"
                                                    : "cannot join from this Welcome",
                                          joined.error())));
    return;
  }
  std::optional<AccountId> reset_by;
  if (fx.group && joined->group.group_id() == fx.group->group_id()) {
    // Re-added (our state had stopped at a commit we could not apply): the
    // Welcome's newer epoch replaces it. One for an epoch we hold or passed
    // changes nothing.
    if (joined->group.epoch() <= fx.group->epoch()) return;
  } else if (fx.group && !fx.group->removed()) {
    // A reset: the room's new group, which only one of the room's
    // facilitators may start. Its creator is on the first leaf and alone
    // held the new group's secrets when the Welcomes were made.
    const auto creator = joined->group.first_member();
    if (!creator || !fx.group->is_facilitator(creator->account) || !joined->group.is_facilitator(creator->account)) {
      fx.events.emplace_back(failure(d, "a new group for this room from someone who is not its facilitator"));
      return;
    }
    reset_by = creator->account;
  }
  const auto used = std::find_if(self.key_packages.begin(), self.key_packages.end(),
                                 [&](const StoredKeyPackage& p) { return p.ref == joined->key_package_ref; });
  if (used != self.key_packages.end() && !used->last_resort) fx.used_key_package = joined->key_package_ref;
  fx.write.payload = Bytes{};  // what it held for us is in the group state now
  fx.write.group_state = joined->group.save();
  for (const auto& m : joined->group.members()) {
    if (m.account != self.account) fx.seen_keys.emplace_back(m.account, m.identity_key);
  }
  if (reset_by) {
    fx.events.emplace_back(RoomReset{d.room, d.seq, *reset_by, joined->group.epoch()});
  } else {
    fx.events.emplace_back(RoomJoined{d.room, role_of(joined->group, self.account)});
  }
  fx.group = std::move(joined->group);
}

wire::ChangeProblem problem_of(mls::Error e) {
  if (e == mls::Error::InvalidSignature || e == mls::Error::InvalidMembershipTag ||
      e == mls::Error::InvalidConfirmationTag) {
    return wire::ChangeProblem::DoesNotVerify;
  }
  if (e == mls::Error::DecryptFailed || e == mls::Error::CryptoFailed) return wire::ChangeProblem::CannotDecrypt;
  return wire::ChangeProblem::Invalid;
}

void on_report(GroupEffects& fx, const wire::Deliver& d) {
  fx.write.payload = Bytes{};
  const auto report = wire::decode_change_report(d.payload);
  if (!report) {
    fx.events.emplace_back(failure(d, "a member's report on a change is unreadable"));
    return;
  }
  fx.events.emplace_back(ChangeRejected{d.room, d.seq, d.sender, report->commit_seq, report->problem});
}

void on_handshake(GroupEffects& fx, const wire::Deliver& d, const GroupSelf& self, std::uint64_t now_s) {
  // Before our Welcome (the commit that added us comes first), or a commit
  // of an epoch we are past (the one our Welcome already includes): nothing
  // to apply.
  if (!fx.group || d.epoch.v < fx.group->epoch()) return;
  if (d.epoch.v > fx.group->epoch()) {
    fx.events.emplace_back(failure(d, "a commit for an epoch this device has not reached: an earlier one is missing "
                                      "(a facilitator can add this device again)"));
    return;
  }
  auto change = fx.group->apply(d.payload, now_s);
  if (!change) {
    // The relay took it, so the room has moved on without us: tell the room.
    fx.rejected = problem_of(change.error());
    const bool ours = d.sender == self.account;
    fx.events.emplace_back(failure(
        d, ours ? "our own commit was accepted by the relay but not adopted here; this device must be re-added"
                : why("the room's change does not verify", change.error())));
    return;
  }
  // The committer is who signed it; the relay's word is only a routing hint.
  if (change->committer != d.sender) {
    fx.events.emplace_back(failure(d, "the relay names another sender than the one who signed the change"));
    return;
  }
  if (change->leave_proposal) {
    fx.leave_from = change->committer;
    fx.events.emplace_back(LeaveRequested{d.room, d.seq, change->committer});
  } else {
    fx.events.emplace_back(RosterChanged{d.room, d.seq, change->committer, change->roster, change->next.epoch()});
    for (const auto& c : change->roster) {
      if (c.op != wire::RosterOp::Add) continue;
      if (auto m = change->next.member(c.account)) fx.seen_keys.emplace_back(m->account, m->identity_key);
    }
  }
  if (change->removed_us) {
    fx.removed = true;
    fx.events.emplace_back(RoomLeft{d.room});
    fx.group.reset();
    return;
  }
  fx.write.group_state = change->next.save();
  fx.group = std::move(change->next);
}

void on_application(GroupEffects& fx, const wire::Deliver& d) {
  fx.write.payload = Bytes{};  // never the ciphertext: there is nothing to read in it later
  if (!fx.group) {
    fx.events.emplace_back(failure(d, "this device holds no keys for the room"));
    return;
  }
  auto opened = fx.group->decrypt(d.payload);
  if (!opened) {
    const auto e = opened.error();
    fx.events.emplace_back(failure(d, e == mls::Error::WrongEpoch
                                          ? "sent in an epoch this device holds no keys for"
                                          : why("the message does not open", e)));
    return;
  }
  // The ratchet step is taken: it is saved whatever the message turns out to be.
  fx.write.group_state = fx.group->save();
  // The sender is who signed it; the relay's word is only a routing hint.
  if (opened->sender != d.sender) {
    fx.events.emplace_back(failure(d, "the relay names another sender than the one who signed the message"));
    return;
  }
  auto content = decode_content(opened->content);
  if (!content) {
    fx.events.emplace_back(failure(d, "the message's content is unreadable: " + to_string(content.error().code) +
                                          " (" + content.error().detail + ")"));
    return;
  }
  fx.write.payload = std::move(opened->content);
  // The rules judge it by the roles of its own epoch, also when rebuilt later.
  fx.write.sender_facilitator = fx.group->is_facilitator(opened->sender);
  fx.events.emplace_back(
      MessageReceived{d.room, d.seq, opened->sender, d.envelope_id, d.timestamp_ms, std::move(*content)});
}

}  // namespace

GroupEffects process_group(std::optional<RoomGroup> group, const wire::Deliver& d, const GroupSelf& self,
                           std::uint64_t now_s) {
  GroupEffects fx;
  fx.group = std::move(group);
  switch (d.kind) {
    case wire::EnvelopeKind::Welcome: on_welcome(fx, d, self, now_s); break;
    case wire::EnvelopeKind::Handshake: on_handshake(fx, d, self, now_s); break;
    case wire::EnvelopeKind::Application: on_application(fx, d); break;
    case wire::EnvelopeKind::Report: on_report(fx, d); break;
    case wire::EnvelopeKind::Reset: fx.write.payload = Bytes{}; break;  // the switch comes with our Welcome
  }
  return fx;
}

}  // namespace hearth::client
