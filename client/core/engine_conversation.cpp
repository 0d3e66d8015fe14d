// SPDX-License-Identifier: Apache-2.0
// Each room's conversation (conversation.h) held by the engine: rebuilt from
// the stored history on first use, fed every message this device opens or
// sends, and enforced on the store: a redacted or disappeared message's
// plaintext (and that of its edits) is erased from the file.
#include <algorithm>

#include "client/core/engine_impl.h"

namespace hearth::client {

namespace {

/// How many stored envelopes a rebuild reads at a time.
constexpr std::size_t kRebuildPage = 1000;

}  // namespace

ClientResult<Engine::Impl::HeldConversation*> Engine::Impl::conversation_of(const RoomId& room,
                                                                           std::optional<Seq> arriving) {
  if (auto it = conversations_.find(room); it != conversations_.end()) return &it->second;
  HeldConversation held;
  std::optional<RoomGroup*> group;
  if (auto g = group_of(room); g) group = *g;
  Seq after{};
  while (true) {
    auto page = store_->envelopes(room, after, kRebuildPage);
    if (!page) return fail(store_error(page.error(), "cannot read a room's history"));
    for (const auto& env : *page) {
      after = env.seq;
      if (env.seq == arriving) continue;  // stored already, taken by the caller next
      if (env.kind != wire::EnvelopeKind::Application || env.payload.empty()) continue;
      auto content = decode_content(env.payload);
      if (!content) continue;  // reported when it arrived
      // The sender's role when it was opened; today's for what was stored
      // before that was kept.
      const bool facilitator = env.sender_facilitator.value_or(group && (*group)->is_facilitator(env.sender));
      const Incoming in{env.seq, env.sender, facilitator, env.timestamp_ms, std::move(*content)};
      (void)take(room, held, in, /*live=*/false);
    }
    if (page->size() < kRebuildPage) break;
  }
  return &conversations_.insert_or_assign(room, std::move(held)).first->second;
}

std::optional<Refusal> Engine::Impl::take(const RoomId& room, HeldConversation& held, const Incoming& in, bool live) {
  auto applied = held.conversation.apply(in, now_ms());
  std::vector<Seq> erase;
  if (!applied) {
    // Too late to be read: its text need not stay.
    if (applied.error() == Refusal::Expired) erase.push_back(in.seq);
  } else if (applied->effect == Effect::Edited) {
    held.text_seqs[applied->entry].push_back(in.seq);
  } else if (applied->effect == Effect::Added) {
    held.text_seqs[applied->entry].push_back(in.seq);
  } else if (applied->effect == Effect::Redacted) {
    // The tombstone stays; the text and its edits go.
    if (auto it = held.text_seqs.find(applied->entry); it != held.text_seqs.end()) {
      erase = std::move(it->second);
      held.text_seqs.erase(it);
    }
  }
  if (!erase.empty()) {
    if (auto w = store_->erase_payloads(room, erase); !w) store_failed(w.error(), "cannot erase a message's text");
    if (live) emit(MessagesErased{room, erase});
  }
  if (!applied) return applied.error();
  return std::nullopt;
}

std::optional<Refusal> Engine::Impl::converse(const RoomId& room, const Incoming& in) {
  auto held = conversation_of(room, in.seq);
  if (!held) {
    emit(ErrorEvent{held.error()});
    return std::nullopt;
  }
  auto refused = take(room, **held, in, /*live=*/true);
  if (refused && *refused != Refusal::Expired) {
    emit(MessageRefused{room, in.seq, in.sender, std::string(kind_name(in.content)), to_string(*refused)});
  }
  return refused;
}

void Engine::Impl::expire_messages() {
  const auto now = now_ms();
  for (auto& [room, held] : conversations_) {
    const auto next = held.conversation.next_expiry();
    if (!next || *next > now) continue;
    std::vector<Seq> erase;
    for (const auto& id : held.conversation.expire(now)) {
      if (auto it = held.text_seqs.find(id); it != held.text_seqs.end()) {
        erase.insert(erase.end(), it->second.begin(), it->second.end());
        held.text_seqs.erase(it);
      }
    }
    if (erase.empty()) continue;
    std::sort(erase.begin(), erase.end());
    if (auto w = store_->erase_payloads(room, erase); !w) {
      store_failed(w.error(), "cannot erase disappeared messages");
      continue;
    }
    emit(MessagesErased{room, std::move(erase)});
  }
}

void Engine::Impl::load_conversations() {
  auto rooms = store_->rooms();
  if (!rooms) return store_failed(rooms.error(), "cannot read rooms");
  for (const auto& r : *rooms) {
    // What disappeared while this device was off goes now.
    if (auto held = conversation_of(r.room); !held) emit(ErrorEvent{held.error()});
  }
  expire_messages();
}

std::future<ClientResult<RoomView>> Engine::conversation(RoomId room) {
  Impl* impl = impl_.get();
  return impl->call<RoomView>([impl, room = std::move(room)]() -> ClientResult<RoomView> {
    auto held = impl->conversation_of(room);
    if (!held) return fail(held.error());
    impl->expire_messages();
    const Conversation& c = (*held)->conversation;
    RoomView view;
    view.settings = c.settings();
    const AccountId self = impl->profile_ ? impl->profile_->account : AccountId{};
    view.needs_agreement = c.needs_agreement(self);
    // A member who has not accepted the agreement sees it, not the conversation.
    if (!view.needs_agreement) view.entries = c.entries();
    for (const auto& e : view.entries) {
      if (const auto name = c.display_name(e.author); !name.empty()) view.display_names[e.author] = name;
    }
    return view;
  });
}

}  // namespace hearth::client
