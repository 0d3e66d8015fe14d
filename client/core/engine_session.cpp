// SPDX-License-Identifier: Apache-2.0
// The session: connect, log in (or register), sync, read pushes and answers,
// acknowledge in batches, reconnect with backoff.
#include <algorithm>

#include "client/core/engine_impl.h"
#include "common/wire/auth.h"
#include "common/wire/framing.h"

namespace hearth::client {

namespace {

using boost::system::error_code;

bool is_fatal(ClientCode c) {
  switch (c) {
    case ClientCode::AuthFailed:
    case ClientCode::PinMismatch:
    case ClientCode::NotRegistered:
    case ClientCode::AlreadyRegistered:
    case ClientCode::InvalidInvite:
    case ClientCode::Store:
    case ClientCode::Passphrase:
    case ClientCode::Stopped: return true;
    case ClientCode::InvalidArgument:
    case ClientCode::IdentityChanged:
    case ClientCode::Connect:
    case ClientCode::Tls:
    case ClientCode::Protocol:
    case ClientCode::Refused:
    case ClientCode::Timeout:
    case ClientCode::NotAllowed:
    case ClientCode::Disconnected: return false;
  }
  return true;
}

ClientError unexpected(const wire::Message& m, const char* expected) {
  return ClientError{ClientCode::Protocol, std::string("expected ") + expected + ", the relay sent " + wire::kind_name(m)};
}

}  // namespace

void Engine::Impl::start_session() {
  if (session_running_ || stopping_) return;
  session_running_ = true;
  asio::co_spawn(io_, run_session(), [this](std::exception_ptr e) {
    session_running_ = false;
    if (!e) return;
    // A bug, not a peer's doing (peers' input is checked, never thrown on).
    const ClientError why{ClientCode::Protocol, "the session ended on an internal error"};
    end_session(why);
    fail_waiters(why);
  });
}

asio::awaitable<void> Engine::Impl::run_session() {
  while (!stopping_) {
    emit(ConnectionChanged{ConnectionState::Connecting, {}});
    const ClientError why = co_await connect_once();
    end_session(why);
    if (stopping_ || is_fatal(why.code) || !options_.reconnect) {
      fail_waiters(why);  // nobody is going to retry
      break;
    }
    const auto delay = backoff_.next_delay_ms(rng_);
    backoff_timer_.expires_after(std::chrono::milliseconds(delay));
    error_code ec;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  session_running_ = false;
}

void Engine::Impl::end_session(const ClientError& why) {
  if (conn_) conn_->close();
  conn_.reset();
  logged_in_ = false;
  online_ = false;
  in_flight_.clear();
  fail_requests(ClientError{ClientCode::Disconnected, why.describe()});
  emit(ConnectionChanged{ConnectionState::Offline, why.describe()});
}

void Engine::Impl::fail_waiters(const ClientError& why) {
  for (auto& w : start_waiters_) w.set_value(fail(why));
  start_waiters_.clear();
  if (registration_) {
    registration_->promise->set_value(fail(why));
    registration_.reset();
  }
}

void Engine::Impl::fail_requests(const ClientError& e) {
  auto pending = std::move(requests_);
  requests_.clear();
  for (auto& [id, r] : pending) r.done(fail(e));
}

asio::awaitable<ClientResult<wire::Message>> Engine::Impl::exchange(Transport& conn, wire::Message body) {
  const auto id = next_request_id_++;
  conn.send(wire::Frame{id, std::move(body)});
  while (true) {
    auto frame = co_await conn.read_frame();
    if (!frame) {
      if (conn.deadline_hit()) co_return fail(ClientError{ClientCode::Timeout, "the relay did not answer in time"});
      co_return fail(frame.error());
    }
    // Before login the relay sends nothing but answers (and maybe an Error push).
    if (frame->request_id != id && frame->request_id != 0) {
      co_return fail(ClientError{ClientCode::Protocol, "answer to an unknown request"});
    }
    if (const auto* e = std::get_if<wire::Error>(&frame->body)) co_return fail(from_relay(*e));
    if (frame->request_id == 0) co_return fail(unexpected(frame->body, "an answer"));
    co_return std::move(frame->body);
  }
}

asio::awaitable<ClientError> Engine::Impl::connect_once() {
  auto profile = load_profile();
  if (!profile) co_return profile.error();
  if (!registration_ && profile->account.empty()) {
    co_return ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"};
  }
  if (auto r = ensure_identity(false); !r) co_return r.error();

  std::shared_ptr<Transport> conn;
  try {
    conn = options_.transport(io_.get_executor(), TrustConfig{profile->spki_pin});
  } catch (const std::exception& e) {
    co_return ClientError{ClientCode::Tls, std::string("cannot set up TLS: ") + e.what()};
  }
  conn_ = conn;  // so stop() and drop_connection() can abort the attempt
  // GCC 12 destroys temporaries inside a co_await expression twice: awaited
  // calls take named values only.
  std::string host = profile->relay_host;
  auto connected = co_await conn->connect(std::move(host), profile->relay_port, options_.connect_timeout);
  if (!connected) co_return connected.error();
  // One watchdog over the whole start (hello and login), so a silent relay
  // cannot hold us.
  conn->arm_deadline(options_.connect_timeout);

  wire::Message hello_msg = wire::Hello{wire::kProtocolVersion, options_.client_name};
  auto hello = co_await exchange(*conn, std::move(hello_msg));
  if (!hello) {
    auto e = hello.error();
    if (e.relay && e.relay->code == wire::ErrorCode::UnsupportedVersion) e.code = ClientCode::Protocol;
    co_return e;
  }
  const auto* hello_ok = std::get_if<wire::HelloOk>(&*hello);
  if (hello_ok == nullptr) co_return unexpected(*hello, "HelloOk");
  std::uint32_t max_frame = hello_ok->max_frame_size == 0 ? wire::kDefaultMaxFrameSize : hello_ok->max_frame_size;
  if (max_frame < wire::kMinMaxFrameSize) co_return ClientError{ClientCode::Protocol, "relay frame limit too small"};
  conn->set_max_frame_size(max_frame);

  const auto& key = *identity_;
  if (registration_) {
    const auto transcript =
        wire::register_transcript(registration_->token, registration_->handle, key.public_key, conn->exporter());
    const auto sig = crypto::ed25519_sign(key, transcript);
    wire::Message reg = wire::Register{registration_->token, registration_->handle,
                                       Bytes(key.public_key.begin(), key.public_key.end()), Bytes(sig.begin(), sig.end())};
    auto answer = co_await exchange(*conn, std::move(reg));
    if (!answer) co_return answer.error();
    const auto* ok = std::get_if<wire::RegisterOk>(&*answer);
    if (ok == nullptr) co_return unexpected(*answer, "RegisterOk");
    profile_->account = ok->account;
    profile_->handle = registration_->handle;
    if (auto r = store_->save_profile(*profile_); !r) {
      co_return ClientError{ClientCode::Store, "registered, but cannot save the account id: " + r.error().detail};
    }
    registration_->promise->set_value(ok->account);
    registration_.reset();
  } else {
    wire::Message start = wire::LoginStart{profile->account};
    auto challenge = co_await exchange(*conn, std::move(start));
    if (!challenge) co_return challenge.error();
    const auto* c = std::get_if<wire::LoginChallenge>(&*challenge);
    if (c == nullptr) co_return unexpected(*challenge, "LoginChallenge");
    const auto transcript = wire::login_transcript(c->challenge, conn->exporter(), profile->account);
    const auto sig = crypto::ed25519_sign(key, transcript);
    wire::Message proof = wire::LoginProof{Bytes(sig.begin(), sig.end())};
    auto answer = co_await exchange(*conn, std::move(proof));
    if (!answer) co_return answer.error();
    if (std::get_if<wire::LoginOk>(&*answer) == nullptr) co_return unexpected(*answer, "LoginOk");
  }
  conn->disarm_deadline();
  logged_in_ = true;
  backoff_.reset();
  last_received_ms_ = now_ms();
  last_ping_ms_ = last_received_ms_;

  // Sync from our cursors; the backlog arrives as Deliver pushes, then SyncOk.
  auto rooms = store_->rooms();
  if (!rooms) co_return ClientError{ClientCode::Store, "cannot read rooms: " + rooms.error().detail};
  wire::Sync sync;
  for (const auto& r : *rooms) {
    if (r.status == RoomStatus::Active && sync.cursors.size() < wire::kMaxListItems) {
      sync.cursors.push_back(wire::Cursor{r.room, r.cursor});
    }
  }
  send_request(std::move(sync), [this](ClientResult<wire::Message> r) {
    if (!r) {
      if (r.error().code != ClientCode::Disconnected && r.error().code != ClientCode::Stopped) {
        emit(ErrorEvent{r.error()});
        if (conn_) conn_->close();
      }
      return;
    }
    if (const auto* ok = std::get_if<wire::SyncOk>(&*r)) {
      on_sync_ok(*ok);
    } else {
      emit(ErrorEvent{unexpected(*r, "SyncOk")});
      if (conn_) conn_->close();
    }
  });

  while (true) {
    auto frame = co_await conn->read_frame();
    if (!frame) co_return frame.error();
    last_received_ms_ = now_ms();
    handle_frame(std::move(*frame));
    if (!conn->is_open()) co_return ClientError{ClientCode::Disconnected, "connection closed"};
  }
}

void Engine::Impl::handle_frame(wire::Frame frame) {
  if (frame.request_id != 0) {
    auto it = requests_.find(frame.request_id);
    if (it == requests_.end()) return;  // the answer to a request that already timed out
    auto done = std::move(it->second.done);
    requests_.erase(it);
    if (const auto* e = std::get_if<wire::Error>(&frame.body)) {
      done(fail(from_relay(*e)));
    } else {
      done(std::move(frame.body));
    }
    return;
  }
  if (const auto* d = std::get_if<wire::Deliver>(&frame.body)) {
    on_deliver(*d);
  } else if (const auto* c = std::get_if<wire::RoomClosed>(&frame.body)) {
    on_room_closed(c->room);
  } else if (const auto* e = std::get_if<wire::Error>(&frame.body)) {
    emit(ErrorEvent{from_relay(*e)});
  } else {
    emit(ErrorEvent{unexpected(frame.body, "a push")});
    if (conn_) conn_->close();
  }
}

void Engine::Impl::on_sync_ok(const wire::SyncOk& ok) {
  for (const auto& state : ok.rooms) {
    auto existing = store_->room(state.room);
    if (!existing) {
      store_failed(existing.error(), "cannot read a room");
      continue;
    }
    RoomRecord r = existing->value_or(RoomRecord{state.room, state.epoch, state.role, RoomStatus::Active, Seq{}});
    if (r.epoch < state.epoch) r.epoch = state.epoch;
    r.role = state.role;
    const bool joined = !*existing || (*existing)->status != RoomStatus::Active;
    r.status = RoomStatus::Active;
    if (auto w = store_->put_room(r); !w) {
      store_failed(w.error(), "cannot store a room");
      continue;
    }
    if (joined) emit(RoomJoined{state.room, state.role});
  }
  for (const auto& gap : ok.gaps) {
    // What expired is gone for good; the commits a device needs are kept
    // while any member lacks them, so the room reads on. A state that
    // still stops (a commit missing too) is what re-adding repairs.
    ClientError e = from_relay(gap);
    e.detail = "some of this room's history expired at the relay before this device fetched it; if the room's "
               "messages no longer open here, ask a facilitator to remove and add you again";
    emit(ErrorEvent{std::move(e)});
  }
  flush_acks();
  online_ = true;
  emit(ConnectionChanged{ConnectionState::Online, {}});
  emit(Synced{ok.rooms.size()});
  for (auto& w : start_waiters_) w.set_value(ClientResult<void>{});
  start_waiters_.clear();
  resend_outbox();
  top_up_key_packages();
  check_key_refreshes();
  load_conversations();
}

void Engine::Impl::on_room_closed(const RoomId& room) {
  auto existing = store_->room(room);
  if (!existing) {
    store_failed(existing.error(), "cannot read a room");
    return;
  }
  if (!*existing || (*existing)->status == RoomStatus::Closed) return;
  RoomRecord r = **existing;
  r.status = RoomStatus::Closed;
  if (auto w = store_->put_room(r); !w) {
    store_failed(w.error(), "cannot store a room");
    return;
  }
  emit(RoomClosedEvent{room});
}

void Engine::Impl::flush_acks() {
  // Nothing but the login exchange may go out before login: an Ack left over
  // from the previous connection waits for this one's LoginOk.
  if (acks_.pending() == 0 || !logged_in_ || !conn_ || !conn_->is_open()) return;
  auto cursors = acks_.take();
  for (std::size_t i = 0; i < cursors.size(); i += wire::kMaxListItems) {
    const auto end = std::min(cursors.size(), i + wire::kMaxListItems);
    wire::Ack ack{{cursors.begin() + static_cast<std::ptrdiff_t>(i), cursors.begin() + static_cast<std::ptrdiff_t>(end)}};
    conn_->send(wire::Frame{0, std::move(ack)});
  }
}

asio::awaitable<void> Engine::Impl::tick_loop() {
  while (!stopping_) {
    tick_.expires_after(kTickInterval);
    error_code ec;
    co_await tick_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    const auto now = now_ms();
    std::vector<Done> expired;
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (it->second.deadline_ms <= now) {
        expired.push_back(std::move(it->second.done));
        it = requests_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& done : expired) done(fail(ClientError{ClientCode::Timeout, "the relay did not answer in time"}));
    if (acks_.due(now)) flush_acks();
    if (now >= next_expiry_check_ms_) {
      next_expiry_check_ms_ = now + kExpiryCheckMs;
      expire_messages();
    }
    if (!online_ || !conn_) continue;
    if (now - last_received_ms_ > kIdleTimeoutMs) {
      conn_->close();  // dead peer: the session reconnects and resumes
      continue;
    }
    if (now - last_received_ms_ > kPingIntervalMs && now - last_ping_ms_ > kPingIntervalMs) {
      last_ping_ms_ = now;
      send_request(wire::Ping{static_cast<std::uint64_t>(now)}, [](ClientResult<wire::Message>) {});
    }
    if (!retry_at_.empty()) resend_outbox();
    if (now >= next_key_check_ms_) top_up_key_packages();
    if (now >= next_refresh_check_ms_) check_key_refreshes();
  }
}

void Engine::Impl::shutdown() {
  stopping_ = true;
  const ClientError stopped{ClientCode::Stopped, "the engine is stopping"};
  fail_requests(stopped);
  fail_waiters(stopped);
  for (auto& [id, waiters] : send_waiters_) {
    for (auto& w : waiters) w.set_value(fail(stopped));  // the envelope stays in the outbox
  }
  send_waiters_.clear();
  if (conn_) conn_->close();
  tick_.cancel();
  backoff_timer_.cancel();
  work_.reset();
}

}  // namespace hearth::client
