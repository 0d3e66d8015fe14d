// SPDX-License-Identifier: Apache-2.0
// Requests on the live connection, membership bundles, and the outbox.
#include <algorithm>

#include "client/core/engine_impl.h"

namespace hearth::client {

namespace {

Bytes random_id(std::size_t n) { return crypto::random_bytes(n); }

Bytes marker(std::string_view s) { return Bytes(s.begin(), s.end()); }

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

bool relay_code_is(const ClientError& e, wire::ErrorCode c) { return e.relay && e.relay->code == c; }

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

asio::awaitable<ClientResult<RoomId>> Engine::Impl::create_room(std::uint64_t lifetime_ms) {
  RoomId room{random_id(kRoomIdSize)};
  // GCC 12 destroys temporaries inside a co_await expression twice: every
  // awaited call in client/core takes named values only.
  wire::Message msg = wire::CreateRoom{room, marker(kOpaqueGroupInfo), lifetime_ms};
  auto answer = co_await request(std::move(msg));
  auto ok = expect<wire::CreateRoomOk>(std::move(answer), "CreateRoomOk");
  if (!ok) co_return fail(ok.error());
  if (auto w = store_->put_room(RoomRecord{room, ok->epoch, wire::Role::Facilitator, RoomStatus::Active, Seq{}}); !w) {
    co_return fail(ClientError{ClientCode::Store, "room created, but cannot store it: " + w.error().detail});
  }
  emit(RoomJoined{room, wire::Role::Facilitator});
  co_return room;
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

asio::awaitable<ClientResult<Seq>> Engine::Impl::submit_bundle(RoomId room, std::vector<wire::RosterChange> changes,
                                                              std::vector<wire::WelcomeFor> welcomes) {
  // One envelope id for every attempt: a retry after a lost answer returns
  // the original BundleOk instead of applying the change twice.
  const EnvelopeId id{random_id(wire::kEnvelopeIdSize)};
  ClientError last{ClientCode::Refused, "epoch kept changing"};
  for (int attempt = 0; attempt <= kMaxEpochRetries; ++attempt) {
    wire::Message get_roster = wire::GetRoster{room};
    auto roster_answer = co_await request(std::move(get_roster));
    auto roster = expect<wire::Roster>(std::move(roster_answer), "Roster");
    if (!roster) co_return fail(roster.error());
    wire::Message bundle = wire::SubmitBundle{room, roster->epoch, id, marker(kOpaqueHandshake), welcomes, changes};
    auto bundle_answer = co_await request(std::move(bundle));
    auto ok = expect<wire::BundleOk>(std::move(bundle_answer), "BundleOk");
    if (ok) {
      if (auto r = store_->room(room); r && *r && (*r)->epoch < ok->new_epoch) {
        RoomRecord next = **r;
        next.epoch = ok->new_epoch;
        if (auto w = store_->put_room(next); !w) store_failed(w.error(), "cannot store a room");
      }
      co_return ok->seq;
    }
    if (!relay_code_is(ok.error(), wire::ErrorCode::EpochConflict)) co_return fail(ok.error());
    last = ok.error();  // someone else changed the room first: build on the new epoch
  }
  co_return fail(last);
}

ClientResult<EnvelopeId> Engine::Impl::queue_send(const RoomId& room, std::string text) {
  if (text.empty()) return fail(ClientError{ClientCode::InvalidArgument, "empty message"});
  if (text.size() > kMaxMessageSize) {
    return fail(ClientError{ClientCode::InvalidArgument, "message longer than " + std::to_string(kMaxMessageSize) + " bytes"});
  }
  auto r = store_->room(room);
  if (!r) return fail(ClientError{ClientCode::Store, "cannot read the room: " + r.error().detail});
  if (!*r || (*r)->status != RoomStatus::Active) {
    return fail(ClientError{ClientCode::InvalidArgument, "not a member of this room"});
  }
  auto pending = store_->outbox();
  if (!pending) return fail(ClientError{ClientCode::Store, "cannot read the outbox: " + pending.error().detail});
  if (pending->size() >= kMaxOutboxSize) {
    return fail(ClientError{ClientCode::InvalidArgument,
                            "outbox full (" + std::to_string(kMaxOutboxSize) + " unsent messages)"});
  }
  PendingSend p{EnvelopeId{random_id(wire::kEnvelopeIdSize)}, room, Bytes(text.begin(), text.end()), now_ms()};
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

void Engine::Impl::transmit(const PendingSend& p) {
  auto room = store_->room(p.room);
  if (!room) {
    store_failed(room.error(), "cannot read a room");
    return;
  }
  if (!*room || (*room)->status != RoomStatus::Active) {
    finish_send(p, fail(ClientError{ClientCode::InvalidArgument, "no longer a member of this room"}));
    return;
  }
  in_flight_.insert(p.envelope_id);
  send_request(wire::SendEnvelope{p.room, p.envelope_id, (*room)->epoch, p.payload},
               [this, p](ClientResult<wire::Message> r) { on_send_answer(p, std::move(r)); });
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
    refresh_epoch_and_resend(p);
    return;
  }
  finish_send(p, fail(e));
}

void Engine::Impl::refresh_epoch_and_resend(const PendingSend& p) {
  in_flight_.insert(p.envelope_id);  // not re-sent by resend_outbox meanwhile
  send_request(wire::GetRoster{p.room}, [this, p](ClientResult<wire::Message> r) {
    in_flight_.erase(p.envelope_id);
    auto roster = expect<wire::Roster>(std::move(r), "Roster");
    if (!roster) {
      if (!transient(roster.error())) finish_send(p, fail(roster.error()));
      else retry_at_[p.envelope_id] = now_ms() + kSendRetryDelayMs;
      return;
    }
    if (auto room = store_->room(p.room); room && *room && (*room)->epoch < roster->epoch) {
      RoomRecord next = **room;
      next.epoch = roster->epoch;
      if (auto w = store_->put_room(next); !w) store_failed(w.error(), "cannot store a room");
    }
    transmit(p);
  });
}

void Engine::Impl::finish_send(const PendingSend& p, ClientResult<SendReceipt> r) {
  if (r) {
    // Our own line belongs in the history; its echo from the relay is then a duplicate.
    Epoch epoch{};
    if (auto room = store_->room(p.room); room && *room) epoch = (*room)->epoch;
    const StoredEnvelope own{p.room, r->seq, wire::EnvelopeKind::Application, profile_ ? profile_->account : AccountId{},
                             p.envelope_id, epoch, now_ms(), p.payload};
    if (auto w = store_->store_sent(own); !w) store_failed(w.error(), "cannot store a sent message");
  }
  if (auto w = store_->outbox_remove(p.envelope_id); !w) store_failed(w.error(), "cannot update the outbox");
  epoch_retries_.erase(p.envelope_id);
  retry_at_.erase(p.envelope_id);
  if (r) {
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
