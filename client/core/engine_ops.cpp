// SPDX-License-Identifier: Apache-2.0
// Requests on the live connection, membership bundles, and the outbox.
#include <algorithm>

#include "client/core/engine_impl.h"

namespace hearth::client {

namespace {

Bytes random_id(std::size_t n) { return crypto::random_bytes(n); }

bool transient(const ClientError& e) {
  if (e.code == ClientCode::Disconnected || e.code == ClientCode::Timeout || e.code == ClientCode::Stopped) return true;
  if (!e.relay) return false;
  switch (e.relay->code) {
    case wire::ErrorCode::RateLimited:
    case wire::ErrorCode::Internal:
    case wire::ErrorCode::ShuttingDown: return true;
    case wire::ErrorCode::Unspecified:
    case wire::ErrorCode::MalformedFrame:
    case wire::ErrorCode::FrameTooLarge:
    case wire::ErrorCode::UnsupportedVersion:
    case wire::ErrorCode::ProtocolViolation:
    case wire::ErrorCode::NotAuthenticated:
    case wire::ErrorCode::AuthFailed:
    case wire::ErrorCode::InviteInvalid:
    case wire::ErrorCode::HandleTaken:
    case wire::ErrorCode::InvalidArgument:
    case wire::ErrorCode::UnknownAccount:
    case wire::ErrorCode::UnknownRoom:
    case wire::ErrorCode::RoomExists:
    case wire::ErrorCode::NotMember:
    case wire::ErrorCode::NotFacilitator:
    case wire::ErrorCode::LastFacilitator:
    case wire::ErrorCode::EpochConflict:
    case wire::ErrorCode::StaleEpoch:
    case wire::ErrorCode::HistoryGap:
    case wire::ErrorCode::NoKeyPackage:
    case wire::ErrorCode::DuplicateId:
    case wire::ErrorCode::QuotaExceeded:
    case wire::ErrorCode::InvalidKeyPackage: return false;
  }
  return false;
}

}  // namespace

void Engine::Impl::send_request(wire::Message body, Done done) {
  if (!conn_ || !conn_->is_open() || stopping_) {
    done(fail(ClientError{stopping_ ? ClientCode::Stopped : ClientCode::Disconnected, "not connected to the relay"}));
    return;
  }
  const auto id = next_request_id_++;
  requests_[id] = PendingRequest{now_ms() + options_.request_timeout.count(), std::move(done)};
  conn_->send(wire::Frame{id, std::move(body)});
}

asio::awaitable<ClientResult<wire::Message>> Engine::Impl::request(wire::Message body) {
  if (!online_) co_return fail(ClientError{ClientCode::Disconnected, "not connected to the relay"});
  auto initiate = [this, body = std::move(body)](auto handler) mutable {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    send_request(std::move(body), [this, h](ClientResult<wire::Message> r) {
      // Resume the waiting coroutine from the event loop, never from
      // inside the frame handler that completed it.
      asio::post(io_, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
    });
  };
  auto result = co_await asio::async_initiate<decltype(asio::use_awaitable), void(ClientResult<wire::Message>)>(
      std::move(initiate), asio::use_awaitable);
  co_return result;
}

asio::awaitable<ClientResult<wire::AccountInfo>> Engine::Impl::lookup(std::string handle, Pins pins) {
  if (handle.empty() || handle.size() > wire::kMaxHandleSize) {
    co_return fail(ClientError{ClientCode::InvalidArgument, "a handle has 1 to " + std::to_string(wire::kMaxHandleSize) + " bytes"});
  }
  wire::Message msg = wire::LookupAccount{std::move(handle)};
  auto answer = co_await request(std::move(msg));
  auto info = expect<wire::AccountInfo>(std::move(answer), "AccountInfo");
  if (!info || pins == Pins::Skip) co_return info;
  if (auto pinned = check_identity(info->account, info->identity_key, info->handle); !pinned) {
    co_return fail(pinned.error());
  }
  co_return info;
}

ClientResult<EnvelopeId> Engine::Impl::queue_send(const RoomId& room, ContentBody body) {
  const Content content{new_content_id(rng_), now_ms(), std::move(body)};
  if (auto ok = check_content(content); !ok) {
    return fail(ClientError{ClientCode::InvalidArgument, "cannot send this: " + ok.error().detail});
  }
  auto r = store_->room(room);
  if (!r) return fail(ClientError{ClientCode::Store, "cannot read the room: " + r.error().detail});
  if (!*r || (*r)->status != RoomStatus::Active) {
    return fail(ClientError{ClientCode::InvalidArgument, "not a member of this room"});
  }
  if (auto g = group_of(room); !g) return fail(g.error());
  auto pending = store_->outbox();
  if (!pending) return fail(ClientError{ClientCode::Store, "cannot read the outbox: " + pending.error().detail});
  if (pending->size() >= kMaxOutboxSize) {
    return fail(ClientError{ClientCode::InvalidArgument,
                            "outbox full (" + std::to_string(kMaxOutboxSize) + " unsent messages)"});
  }
  // The plaintext outbox keeps the Content, so a StaleEpoch can be answered
  // by encrypting it again for the next epoch.
  PendingSend p{EnvelopeId{random_id(wire::kEnvelopeIdSize)}, room, encode_content(content), now_ms()};
  // Durable before it leaves: a crash after this line re-sends it on restart.
  if (auto w = store_->outbox_add(p); !w) {
    return fail(ClientError{ClientCode::Store, "cannot queue the message: " + w.error().detail});
  }
  if (online_) transmit(p);
  return p.envelope_id;
}

void Engine::Impl::resend_outbox() {
  if (!online_) return;
  auto pending = store_->outbox();
  if (!pending) {
    store_failed(pending.error(), "cannot read the outbox");
    return;
  }
  const auto now = now_ms();
  for (const auto& p : *pending) {
    if (in_flight_.contains(p.envelope_id)) continue;
    if (auto it = retry_at_.find(p.envelope_id); it != retry_at_.end()) {
      if (it->second > now) continue;
      retry_at_.erase(it);
    }
    transmit(p);
  }
}

void Engine::Impl::transmit(PendingSend p) {
  auto room = store_->room(p.room);
  if (!room) {
    store_failed(room.error(), "cannot read a room");
    return;
  }
  if (!*room || (*room)->status != RoomStatus::Active) {
    finish_send(p, fail(ClientError{ClientCode::InvalidArgument, "no longer a member of this room"}));
    return;
  }
  auto g = group_of(p.room);
  if (!g) {
    if (g.error().code == ClientCode::Store) return emit(ErrorEvent{g.error()});  // kept; retried on reconnect
    finish_send(p, fail(g.error()));
    return;
  }
  if ((*g)->removed()) {
    finish_send(p, fail(ClientError{ClientCode::InvalidArgument, "no longer a member of this room"}));
    return;
  }
  const std::uint64_t epoch = (*g)->epoch();
  // The epoch of our group the stored ciphertext is for; none when it is
  // of the room's group before a reset.
  auto sent_for = p.encrypted ? (*g)->epoch_of(p.encrypted->payload) : std::nullopt;
  if (auto stale = stale_since_.find(p.envelope_id); stale != stale_since_.end()) {
    if (sent_for && *sent_for >= epoch) {
      // Refused as stale, and the commit that moved the room on has not
      // reached us yet: wait for it, bounded.
      if (now_ms() - stale->second > options_.request_timeout.count()) {
        finish_send(p, fail(ClientError{ClientCode::Refused, "the room moved to a newer epoch that did not reach this device"}));
      } else {
        retry_at_[p.envelope_id] = now_ms() + kCatchUpPoll.count();
      }
      return;
    }
    stale_since_.erase(stale);
    p.encrypted.reset();
    sent_for.reset();
  }
  // The same bytes on every retry of one epoch (the relay answers a retry
  // with the original seq); new ones only for a newer epoch or group.
  if (!sent_for || *sent_for != epoch) {
    auto ciphertext = (*g)->encrypt(p.payload, rng_);
    if (!ciphertext) {
      forget_group(p.room);
      finish_send(p, fail(ClientError{ClientCode::Protocol, std::string("cannot encrypt: ") + mls::to_string(ciphertext.error())}));
      return;
    }
    EncryptedSend encrypted{Epoch{epoch}, std::move(*ciphertext)};
    // The ratchet step is saved before the ciphertext leaves (DESIGN.md §7).
    auto state = (*g)->save();
    auto w = store_->save_encrypted(p.envelope_id, encrypted, state);
    wipe_bytes(state);
    if (!w) {
      forget_group(p.room);
      store_failed(w.error(), "cannot save an encrypted message");
      return;
    }
    p.encrypted = std::move(encrypted);
  }
  in_flight_.insert(p.envelope_id);
  wire::SendEnvelope send{p.room, p.envelope_id, p.encrypted->epoch, p.encrypted->payload};
  send_request(std::move(send), [this, p](ClientResult<wire::Message> r) { on_send_answer(p, std::move(r)); });
}

void Engine::Impl::on_send_answer(const PendingSend& p, ClientResult<wire::Message> r) {
  in_flight_.erase(p.envelope_id);
  auto ok = expect<wire::SendOk>(std::move(r), "SendOk");
  if (ok) {
    finish_send(p, SendReceipt{p.envelope_id, ok->seq});
    return;
  }
  const auto& e = ok.error();
  if (e.code == ClientCode::Disconnected || e.code == ClientCode::Stopped) return;  // re-sent after reconnect
  if (transient(e)) {
    retry_at_[p.envelope_id] = now_ms() + kSendRetryDelayMs;
    return;
  }
  if (relay_code_is(e, wire::ErrorCode::StaleEpoch) && ++epoch_retries_[p.envelope_id] <= kMaxEpochRetries) {
    // Encrypted for an epoch the room has left: catch up (the commit comes
    // as a push), then encrypt the plaintext again for the new epoch.
    stale_since_.try_emplace(p.envelope_id, now_ms());
    retry_at_[p.envelope_id] = now_ms();
    resend_outbox();
    return;
  }
  finish_send(p, fail(e));
}

void Engine::Impl::finish_send(const PendingSend& p, ClientResult<SendReceipt> r) {
  if (r) {
    // Our own line belongs in the history; its echo from the relay is then a duplicate.
    const Epoch epoch = p.encrypted ? p.encrypted->epoch : Epoch{};
    const AccountId self = profile_ ? profile_->account : AccountId{};
    auto g = group_of(p.room);
    const StoredEnvelope own{p.room, r->seq, wire::EnvelopeKind::Application, self, p.envelope_id, epoch, now_ms(),
                             p.payload, g && (*g)->is_facilitator(self)};
    if (auto w = store_->store_sent(own); !w) store_failed(w.error(), "cannot store a sent message");
  }
  if (auto w = store_->outbox_remove(p.envelope_id); !w) store_failed(w.error(), "cannot update the outbox");
  epoch_retries_.erase(p.envelope_id);
  retry_at_.erase(p.envelope_id);
  stale_since_.erase(p.envelope_id);
  if (r) {
    note_sent(p.room);
    if (auto content = decode_content(p.payload)) {
      auto g = group_of(p.room);
      const AccountId self = profile_ ? profile_->account : AccountId{};
      // The one setting the relay applies itself: it learns it in the clear
      // once the members have it (a member's settings are refused by all).
      if (const auto* settings = std::get_if<ContentRoomSettings>(&content->body);
          settings != nullptr && g && (*g)->is_facilitator(self)) {
        send_room_lifetime(p.room, settings->relay_lifetime_ms);
      }
      (void)converse(p.room, Incoming{r->seq, self, g && (*g)->is_facilitator(self), now_ms(), std::move(*content)});
    }
    emit(MessageSent{p.room, p.envelope_id, r->seq});
  } else {
    emit(SendFailed{p.room, p.envelope_id, r.error()});
  }
  auto it = send_waiters_.find(p.envelope_id);
  if (it == send_waiters_.end()) return;
  for (auto& w : it->second) w.set_value(r);
  send_waiters_.erase(it);
}

}  // namespace hearth::client
