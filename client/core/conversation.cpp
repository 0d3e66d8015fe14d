// SPDX-License-Identifier: Apache-2.0
#include "client/core/conversation.h"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace hearth::client {

std::string to_string(Refusal r) {
  switch (r) {
    case Refusal::DuplicateId: return "duplicate content id";
    case Refusal::UnknownTarget: return "no such message";
    case Refusal::NotAuthor: return "not the author";
    case Refusal::TargetRedacted: return "the message was redacted";
    case Refusal::NotFacilitator: return "only a facilitator changes the room settings";
    case Refusal::AgreementNotRaised: return "a changed agreement needs a higher version";
    case Refusal::AgreementUnknown: return "not the room's agreement version";
    case Refusal::TooManyReactions: return "too many reactions";
    case Refusal::Expired: return "disappeared before it arrived";
  }
  return "unknown refusal";
}

std::string to_string(Effect e) {
  switch (e) {
    case Effect::Added: return "added";
    case Effect::Edited: return "edited";
    case Effect::Reacted: return "reacted";
    case Effect::Redacted: return "redacted";
    case Effect::SettingsChanged: return "settings changed";
    case Effect::ProfileChanged: return "profile changed";
    case Effect::AgreementAccepted: return "agreement accepted";
  }
  return "unknown effect";
}

namespace {

/// relay_ms + timer, saturating (a hostile timer cannot wrap into the past).
std::int64_t expiry_of(std::int64_t relay_ms, std::uint64_t timer_ms) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  const auto timer = timer_ms > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(timer_ms);
  return relay_ms > kMax - timer ? kMax : relay_ms + timer;
}

}  // namespace

Result<Applied, Refusal> Conversation::apply(const Incoming& in, std::int64_t now_ms) {
  const Content& c = in.content;
  return std::visit(
      [&](const auto& body) -> Result<Applied, Refusal> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ContentText>) {
          auto added = add_entry(in, body.text, body.reply_to, std::nullopt);
          if (added && entries_.back().expires_ms && *entries_.back().expires_ms <= now_ms) {
            entries_.pop_back();
            index_.erase(c.id);
            return fail(Refusal::Expired);
          }
          return added;
        } else if constexpr (std::is_same_v<T, ContentUnsupported>) {
          return add_entry(in, {}, std::nullopt, body.field_number);
        } else if constexpr (std::is_same_v<T, ContentEdit>) {
          return edit(in, body);
        } else if constexpr (std::is_same_v<T, ContentReaction>) {
          return react(in, body);
        } else if constexpr (std::is_same_v<T, ContentRedaction>) {
          return redact(in, body);
        } else if constexpr (std::is_same_v<T, ContentRoomSettings>) {
          return set_settings(in, body);
        } else if constexpr (std::is_same_v<T, ContentMemberProfile>) {
          display_names_[in.sender] = body.display_name;
          return Applied{Effect::ProfileChanged, c.id};
        } else {
          static_assert(std::is_same_v<T, ContentAgreementAccepted>);
          return accept_agreement(in, body);
        }
      },
      c.body);
}

Result<Applied, Refusal> Conversation::add_entry(const Incoming& in, std::string text,
                                                 std::optional<ContentId> reply_to,
                                                 std::optional<std::uint32_t> unsupported) {
  if (index_.contains(in.content.id)) return fail(Refusal::DuplicateId);
  if (entries_.size() >= kMaxConversationEntries) {
    // The oldest tenth goes at once, so a full conversation does not pay a
    // reindex for every message.
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(kMaxConversationEntries / 10));
    reindex();
  }
  ConversationEntry e;
  e.id = in.content.id;
  e.author = in.sender;
  e.seq = in.seq;
  e.sent_ms = in.content.timestamp_ms;
  e.relay_ms = in.relay_ms;
  e.text = std::move(text);
  e.reply_to = std::move(reply_to);
  e.unsupported_field = unsupported;
  if (settings_.settings.disappearing_ms > 0) e.expires_ms = expiry_of(in.relay_ms, settings_.settings.disappearing_ms);
  index_.emplace(e.id, entries_.size());
  entries_.push_back(std::move(e));
  return Applied{Effect::Added, in.content.id};
}

Result<Applied, Refusal> Conversation::edit(const Incoming& in, const ContentEdit& e) {
  ConversationEntry* target = find_mut(e.target);
  if (target == nullptr || target->unsupported_field) return fail(Refusal::UnknownTarget);
  if (target->author != in.sender) return fail(Refusal::NotAuthor);
  if (target->redacted) return fail(Refusal::TargetRedacted);
  target->text = e.text;
  target->edited = true;
  return Applied{Effect::Edited, e.target};
}

Result<Applied, Refusal> Conversation::react(const Incoming& in, const ContentReaction& r) {
  ConversationEntry* target = find_mut(r.target);
  if (target == nullptr) return fail(Refusal::UnknownTarget);
  if (target->redacted) return fail(Refusal::TargetRedacted);
  auto it = target->reactions.find(r.emoji);
  if (r.remove) {
    if (it != target->reactions.end()) {
      it->second.erase(in.sender);
      if (it->second.empty()) target->reactions.erase(it);
    }
    return Applied{Effect::Reacted, r.target};
  }
  if (it == target->reactions.end()) {
    if (target->reactions.size() >= kMaxReactionsPerEntry) return fail(Refusal::TooManyReactions);
    it = target->reactions.emplace(r.emoji, std::set<AccountId>{}).first;
  }
  it->second.insert(in.sender);
  return Applied{Effect::Reacted, r.target};
}

Result<Applied, Refusal> Conversation::redact(const Incoming& in, const ContentRedaction& r) {
  ConversationEntry* target = find_mut(r.target);
  if (target == nullptr) return fail(Refusal::UnknownTarget);
  if (target->author != in.sender && !in.sender_is_facilitator) return fail(Refusal::NotAuthor);
  target->text.clear();
  target->text.shrink_to_fit();
  target->reactions.clear();
  target->redacted = true;
  target->redacted_by = in.sender;
  return Applied{Effect::Redacted, r.target};
}

Result<Applied, Refusal> Conversation::set_settings(const Incoming& in, const ContentRoomSettings& s) {
  if (!in.sender_is_facilitator) return fail(Refusal::NotFacilitator);
  const ContentRoomSettings& now = settings_.settings;
  if (s.agreement_version < now.agreement_version) return fail(Refusal::AgreementNotRaised);
  if (s.agreement_text != now.agreement_text && s.agreement_version == now.agreement_version) {
    return fail(Refusal::AgreementNotRaised);
  }
  settings_ = RoomSettingsState{s, in.sender, in.seq};
  // The facilitator who set an agreement has accepted it.
  if (!s.agreement_text.empty()) accepted_[in.sender] = std::max(accepted_[in.sender], s.agreement_version);
  return Applied{Effect::SettingsChanged, in.content.id};
}

Result<Applied, Refusal> Conversation::accept_agreement(const Incoming& in, const ContentAgreementAccepted& a) {
  const ContentRoomSettings& now = settings_.settings;
  if (now.agreement_text.empty() || a.version != now.agreement_version) return fail(Refusal::AgreementUnknown);
  std::uint32_t& mine = accepted_[in.sender];
  mine = std::max(mine, a.version);
  return Applied{Effect::AgreementAccepted, in.content.id};
}

std::vector<ContentId> Conversation::expire(std::int64_t now_ms) {
  std::vector<ContentId> gone;
  const auto due = [&](const ConversationEntry& e) { return e.expires_ms && *e.expires_ms <= now_ms; };
  for (const auto& e : entries_) {
    if (due(e)) gone.push_back(e.id);
  }
  if (gone.empty()) return gone;
  std::erase_if(entries_, due);
  reindex();
  return gone;
}

std::optional<std::int64_t> Conversation::next_expiry() const {
  std::optional<std::int64_t> next;
  for (const auto& e : entries_) {
    if (e.expires_ms && (!next || *e.expires_ms < *next)) next = e.expires_ms;
  }
  return next;
}

const ConversationEntry* Conversation::find(const ContentId& id) const {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

ConversationEntry* Conversation::find_mut(const ContentId& id) {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

void Conversation::reindex() {
  index_.clear();
  for (std::size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].id, i);
}

std::string Conversation::display_name(const AccountId& account) const {
  const auto it = display_names_.find(account);
  return it == display_names_.end() ? std::string{} : it->second;
}

std::uint32_t Conversation::accepted_version(const AccountId& account) const {
  const auto it = accepted_.find(account);
  return it == accepted_.end() ? 0 : it->second;
}

bool Conversation::needs_agreement(const AccountId& account) const {
  const ContentRoomSettings& now = settings_.settings;
  return !now.agreement_text.empty() && accepted_version(account) < now.agreement_version;
}

}  // namespace hearth::client
