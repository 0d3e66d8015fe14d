// SPDX-License-Identifier: Apache-2.0
#include "server/relay.h"

#include <spdlog/spdlog.h>

#include "common/crypto/crypto.h"
#include "common/mls/identity.h"
#include "common/mls/labeled_crypto.h"
#include "common/wire/auth.h"
#include "common/wire/codec.h"
#include "server/core/limits.h"

namespace hearth::relay {

using wire::ErrorCode;

std::uint64_t Counters::errors_total() const noexcept {
  std::uint64_t total = 0;
  for (auto e : errors) total += e;
  return total;
}

Relay::Relay(asio::io_context& io, const Config& config, RelayStore store, LoadedState state, Clock& clock, Rng& rng,
             std::filesystem::path db_file)
    : io_(io),
      config_(config),
      clock_(clock),
      rng_(rng),
      ack_timer_(io),
      retention_timer_(io) {
  limits_.max_frame_size = config.max_frame_size;
  limits_.outbox_bytes = config.outbox_bytes;
  limits_.outbox_frames = config.outbox_frames;
  limits_.idle_timeout = std::chrono::milliseconds(std::uint64_t{config.idle_timeout_seconds} * 1000);
  limits_.handshake_timeout = std::chrono::milliseconds(std::uint64_t{config.handshake_timeout_seconds} * 1000);
  limits_.frame_rate = Rate{config.rate_frames_per_second, 1000};
  limits_.frame_burst = config.rate_burst;

  for (auto& a : state.accounts) directory_.add(a.id, AccountEntry{std::move(a.handle), std::move(a.identity_key)});
  for (auto& r : state.rooms) {
    const Seq head = r.head;
    const Epoch epoch = r.epoch;
    const auto row = r.row;
    Room& room = rooms_.add(std::move(r), head, epoch);
    room.last_commit_seq = head;  // not known after a restart: the head bounds it
    auto stored = state.views.find(row);
    if (stored == state.views.end()) continue;  // from before schema version 3
    auto view = mls::PublicGroup::load(stored->second, mls::RolePolicy::Hearth);
    // The group id is the room id until a reset gives the room a new group.
    if (view && view->epoch() == epoch.v) {
      room.view = std::move(*view);
    } else {
      // One damaged room must not stop the others: it keeps its history
      // for sync but takes nothing new. No ids in the log.
      ++counters_.views_unloadable;
    }
  }
  if (counters_.views_unloadable > 0) {
    spdlog::error("{} room view(s) in the database do not load; those rooms take no new envelopes",
                  counters_.views_unloadable);
  }
  for (const auto& d : state.departures) departures_.set(d.room_row, d.account, d.last_seq);
  for (const auto& id : state.ids)
    ids_.record(id.sender, id.envelope_id, IdRecord{id.room_row, id.seq, id.kind, id.epoch, id.proposal},
                id.timestamp_ms);

  db_ = std::make_unique<DbWorker>(
      std::move(store), io.get_executor(), [this](const std::string& what) { on_fatal(what); }, std::move(db_file),
      config.checkpoint_interval_ms);
}

Relay::~Relay() {
  if (db_) db_->stop();
}

void Relay::start() {
  auto log_end = [](const char* what) {
    return [what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::error("{} ended by an exception: {}", what, x.what());
      }
    };
  };
  asio::co_spawn(io_, ack_loop(), log_end("ack batching"));
  asio::co_spawn(io_, retention_loop(), log_end("retention"));
}

void Relay::accept(asio::ip::tcp::socket socket, asio::ssl::context& tls) {
  if (stopping_) return;
  auto session = std::make_shared<Session>(std::move(socket), tls, *this, limits_, ++next_session_id_);
  sessions_.emplace(session.get(), session);
  ++counters_.connections_opened;
  session->start();
}

void Relay::on_open(Session& s) { spdlog::debug("connection {} open", s.id()); }

void Relay::on_close(Session& s, CloseReason why) {
  ++counters_.connections_closed;
  switch (why) {
    case CloseReason::SlowReader: ++counters_.slow_reader_closes; break;
    case CloseReason::Idle: ++counters_.idle_closes; break;
    case CloseReason::Protocol: ++counters_.protocol_closes; break;
    case CloseReason::PeerClosed:
    case CloseReason::Shutdown:
    case CloseReason::Handshake: break;
  }
  spdlog::debug("connection {} closed: {}", s.id(), to_string(why));
  rooms_.unsubscribe_all(s);
  if (s.peer().account) {
    auto it = online_.find(*s.peer().account);
    if (it != online_.end()) {
      std::erase(it->second, &s);
      if (it->second.empty()) online_.erase(it);
    }
  }
  // The coroutines still hold the session; drop the relay's reference later
  // so no caller up the stack sees it destroyed.
  asio::post(io_, [this, p = &s] { sessions_.erase(p); });
}

void Relay::count_error(ErrorCode code) {
  const auto i = static_cast<std::size_t>(code);
  if (i < counters_.errors.size()) ++counters_.errors[i];
}

void Relay::log_counters() const {
  spdlog::info(
      "counters: connections {} opened / {} closed (slow readers {}, idle {}, protocol {}), frames {}, bad frames {}, "
      "envelopes stored {}, deliveries {}, handshakes refused {}, errors {}",
      counters_.connections_opened, counters_.connections_closed, counters_.slow_reader_closes, counters_.idle_closes,
      counters_.protocol_closes, counters_.frames_in, counters_.bad_frames, counters_.envelopes_stored,
      counters_.deliveries, counters_.handshakes_refused, counters_.errors_total());
}

void Relay::reply(Session& s, std::uint64_t request_id, wire::Message body) {
  s.send(wire::Frame{request_id, std::move(body)});
}

void Relay::reply_error(Session& s, std::uint64_t request_id, ErrorCode code, std::string message,
                        std::optional<RoomId> room) {
  count_error(code);
  s.send(wire::Frame{request_id, wire::Error{code, std::move(message), std::move(room)}});
}

void Relay::on_bad_frame(Session& s) {
  ++counters_.bad_frames;
  if (++s.peer().bad_frames > kMaxBadFrames)
    s.send_error_and_close(0, ErrorCode::ProtocolViolation, "too many invalid frames");
}

void Relay::protocol_violation(Session& s, std::uint64_t request_id, std::string message) {
  reply_error(s, request_id, ErrorCode::ProtocolViolation, std::move(message));
  on_bad_frame(s);
}

void Relay::auth_failed(Session& s, std::uint64_t request_id) {
  reply_error(s, request_id, ErrorCode::AuthFailed, "authentication failed");
  if (++s.peer().auth_failures >= kMaxAuthFailures)
    s.send_error_and_close(0, ErrorCode::AuthFailed, "too many failed authentication attempts");
}

const AccountId* Relay::require_login(Session& s, std::uint64_t request_id) {
  if (!s.peer().account) {
    reply_error(s, request_id, ErrorCode::NotAuthenticated, "log in first");
    return nullptr;
  }
  return &*s.peer().account;
}

void Relay::after_commits(Session& s, std::function<void(Session&)> done) {
  s.begin_request();
  db_->submit([](RelayStore&) -> store::StoreResult<void> { return {}; },
              [self = s.shared_from_this(), done = std::move(done)] {
                self->end_request();
                if (!self->closed()) done(*self);
              });
}

void Relay::on_frame(Session& s, wire::Frame&& frame) {
  ++counters_.frames_in;
  const auto rid = frame.request_id;
  if (stopping_) {
    reply_error(s, rid, ErrorCode::ShuttingDown, "the relay is stopping; reconnect later");
    return;
  }
  if (!s.peer().hello_done && !std::holds_alternative<wire::Hello>(frame.body)) {
    s.send_error_and_close(rid, ErrorCode::ProtocolViolation, "the first frame must be Hello");
    return;
  }
  std::visit(wire::Overloaded{
                 [&](wire::Hello& m) { on_hello(s, rid, m); },
                 [&](wire::Register& m) { on_register(s, rid, std::move(m)); },
                 [&](wire::LoginStart& m) { on_login_start(s, rid, m); },
                 [&](wire::LoginProof& m) { on_login_proof(s, rid, m); },
                 [&](wire::PublishKeys& m) { on_publish_keys(s, rid, std::move(m)); },
                 [&](wire::FetchKeyPackage& m) { on_fetch_key_package(s, rid, m); },
                 [&](wire::LookupAccount& m) { on_lookup_account(s, rid, m); },
                 [&](wire::CreateRoom& m) { on_create_room(s, rid, std::move(m)); },
                 [&](wire::SubmitBundle& m) { on_submit_bundle(s, rid, std::move(m)); },
                 [&](wire::CloseRoom& m) { on_close_room(s, rid, m); },
                 [&](wire::SendEnvelope& m) { on_send_envelope(s, rid, std::move(m)); },
                 [&](wire::Sync& m) { on_sync(s, rid, m); },
                 [&](wire::Ack& m) { on_ack(s, m); },
                 [&](wire::GetRoster& m) { on_get_roster(s, rid, m); },
                 [&](wire::Ping& m) { reply(s, rid, wire::Pong{m.nonce}); },
                 [&](wire::ResetRoom& m) { on_reset_room(s, rid, std::move(m)); },
                 [&](wire::ReportChange& m) { on_report_change(s, rid, std::move(m)); },
                 [&](wire::SetRoomLifetime& m) { on_set_room_lifetime(s, rid, m); },
                 // Relay-to-client kinds have no business arriving here.
                 [&](wire::Error&) { protocol_violation(s, rid, "Error is a relay frame"); },
                 [&](wire::HelloOk&) { protocol_violation(s, rid, "HelloOk is a relay frame"); },
                 [&](wire::RegisterOk&) { protocol_violation(s, rid, "RegisterOk is a relay frame"); },
                 [&](wire::LoginChallenge&) { protocol_violation(s, rid, "LoginChallenge is a relay frame"); },
                 [&](wire::LoginOk&) { protocol_violation(s, rid, "LoginOk is a relay frame"); },
                 [&](wire::PublishKeysOk&) { protocol_violation(s, rid, "PublishKeysOk is a relay frame"); },
                 [&](wire::KeyPackageOk&) { protocol_violation(s, rid, "KeyPackageOk is a relay frame"); },
                 [&](wire::AccountInfo&) { protocol_violation(s, rid, "AccountInfo is a relay frame"); },
                 [&](wire::CreateRoomOk&) { protocol_violation(s, rid, "CreateRoomOk is a relay frame"); },
                 [&](wire::BundleOk&) { protocol_violation(s, rid, "BundleOk is a relay frame"); },
                 [&](wire::CloseRoomOk&) { protocol_violation(s, rid, "CloseRoomOk is a relay frame"); },
                 [&](wire::SendOk&) { protocol_violation(s, rid, "SendOk is a relay frame"); },
                 [&](wire::SyncOk&) { protocol_violation(s, rid, "SyncOk is a relay frame"); },
                 [&](wire::Roster&) { protocol_violation(s, rid, "Roster is a relay frame"); },
                 [&](wire::RoomLifetimeOk&) { protocol_violation(s, rid, "RoomLifetimeOk is a relay frame"); },
                 [&](wire::Pong&) { protocol_violation(s, rid, "Pong is a relay frame"); },
                 [&](wire::Deliver&) { protocol_violation(s, rid, "Deliver is a relay frame"); },
                 [&](wire::RoomClosed&) { protocol_violation(s, rid, "RoomClosed is a relay frame"); },
             },
             frame.body);
}

void Relay::on_hello(Session& s, std::uint64_t rid, const wire::Hello& m) {
  if (s.peer().hello_done) {
    protocol_violation(s, rid, "Hello was already sent");
    return;
  }
  if (m.protocol_version != wire::kProtocolVersion) {
    s.send_error_and_close(rid, ErrorCode::UnsupportedVersion,
                           "this relay speaks protocol version " + std::to_string(wire::kProtocolVersion));
    return;
  }
  s.peer().hello_done = true;
  reply(s, rid, wire::HelloOk{wire::kProtocolVersion, config_.max_frame_size});
}

namespace {

[[nodiscard]] bool valid_token(const std::string& token) {
  if (token.empty() || token.size() > wire::kMaxInviteTokenSize) return false;
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void Relay::on_register(Session& s, std::uint64_t rid, wire::Register&& m) {
  auto& peer = s.peer();
  if (peer.account || peer.auth_in_flight) {
    protocol_violation(s, rid, "already logged in or registering");
    return;
  }
  if (!valid_handle(m.handle)) {
    reply_error(s, rid, ErrorCode::InvalidArgument, "a handle is 1 to 64 printable characters");
    return;
  }
  if (!valid_token(m.invite_token)) {
    reply_error(s, rid, ErrorCode::InviteInvalid, "the invite is unknown, used or expired");
    return;
  }
  const Bytes transcript = wire::register_transcript(m.invite_token, m.handle, m.identity_key, s.exporter());
  if (!crypto::ed25519_verify(m.identity_key, transcript, m.signature)) {
    auth_failed(s, rid);
    return;
  }
  if (directory_.handle_taken(m.handle)) {
    reply_error(s, rid, ErrorCode::HandleTaken, "the handle is taken");
    return;
  }
  AccountId id{Bytes(wire::kAccountIdSize)};
  do {
    rng_.fill(id.v);
  } while (directory_.contains(id));
  directory_.reserve_handle(m.handle);
  peer.auth_in_flight = true;
  s.begin_request();
  AccountRow row{id, m.handle, m.identity_key};
  const auto now = now_ms();
  db_->submit_value<InviteCheck>(
      [row, token = std::move(m.invite_token), now](RelayStore& store) -> store::StoreResult<InviteCheck> {
        auto check = store.consume_invite(token, now, row.id);
        if (!check || *check != InviteCheck::Consumed) return check;
        if (auto r = store.insert_account(row, now); !r) return fail(std::move(r.error()));
        return InviteCheck::Consumed;
      },
      [this, self = s.shared_from_this(), row, rid](InviteCheck check) {
        self->end_request();
        self->peer().auth_in_flight = false;
        if (check != InviteCheck::Consumed) {
          directory_.release_handle(row.handle);
          reply_error(*self, rid, ErrorCode::InviteInvalid, "the invite is unknown, used or expired");
          return;
        }
        directory_.add(row.id, AccountEntry{row.handle, row.identity_key});
        if (self->closed()) return;
        logged_in(*self, row.id);
        reply(*self, rid, wire::RegisterOk{row.id});
      });
}

void Relay::on_login_start(Session& s, std::uint64_t rid, const wire::LoginStart& m) {
  if (s.peer().account || s.peer().auth_in_flight) {
    protocol_violation(s, rid, "already logged in or registering");
    return;
  }
  // A challenge goes out for any account id, so LoginStart does not tell
  // which accounts exist; the proof fails for unknown ones.
  Bytes challenge(wire::kChallengeSize);
  rng_.fill(challenge);
  s.peer().login = PendingLogin{m.account, challenge};
  reply(s, rid, wire::LoginChallenge{std::move(challenge)});
}

void Relay::on_login_proof(Session& s, std::uint64_t rid, const wire::LoginProof& m) {
  auto& peer = s.peer();
  if (peer.account || peer.auth_in_flight) {
    protocol_violation(s, rid, "already logged in or registering");
    return;
  }
  if (!peer.login) {
    auth_failed(s, rid);
    return;
  }
  const PendingLogin login = std::move(*peer.login);
  peer.login.reset();  // single use, whatever the outcome
  const AccountEntry* entry = directory_.find(login.account);
  if (entry == nullptr) {
    auth_failed(s, rid);
    return;
  }
  const Bytes transcript = wire::login_transcript(login.challenge, s.exporter(), login.account);
  if (!crypto::ed25519_verify(entry->identity_key, transcript, m.signature)) {
    auth_failed(s, rid);
    return;
  }
  logged_in(s, login.account);
  reply(s, rid, wire::LoginOk{entry->handle});
}

void Relay::logged_in(Session& s, const AccountId& account) {
  s.peer().account = account;
  online_[account].push_back(&s);
}

void Relay::on_publish_keys(Session& s, std::uint64_t rid, wire::PublishKeys&& m) {
  const AccountId* account = require_login(s, rid);
  if (account == nullptr) return;
  if (m.key_packages.size() > kMaxKeyPackageStock) {
    reply_error(s, rid, ErrorCode::QuotaExceeded, "too many key packages");
    return;
  }
  const auto uploads = static_cast<std::uint32_t>(m.key_packages.size() + (m.last_resort ? 1u : 0u));
  auto bucket =
      publish_buckets_.try_emplace(*account, Rate{kKeyPublishPerMinute, 60'000}, kKeyPublishBurst, now_ms());
  if (uploads > 0 && !bucket.first->second.try_take(now_ms(), uploads)) {
    reply_error(s, rid, ErrorCode::RateLimited, "too many key package uploads");
    return;
  }
  const AccountEntry* entry = directory_.find(*account);
  if (entry == nullptr) {
    reply_error(s, rid, ErrorCode::Internal, "the logged-in account is not in the directory");
    return;
  }
  // Each package must be this account's, valid now: the relay is what keeps
  // a device from handing out packages that would put someone else's key,
  // or no valid key at all, into a room.
  const auto now = now_s();
  auto check = [&](const Bytes& data, const std::string& which) -> std::optional<PublishedKeyPackage> {
    auto kp = mls::check_account_key_package(data, account->v, entry->identity_key, now);
    if (!kp) {
      reply_error(s, rid, ErrorCode::InvalidKeyPackage, which + ": " + mls::to_string(kp.error()));
      return std::nullopt;
    }
    return PublishedKeyPackage{data, kp->not_after};
  };
  std::vector<PublishedKeyPackage> packages;
  packages.reserve(m.key_packages.size());
  for (std::size_t i = 0; i < m.key_packages.size(); ++i) {
    auto p = check(m.key_packages[i], "key package " + std::to_string(i));
    if (!p) return;
    packages.push_back(std::move(*p));
  }
  std::optional<PublishedKeyPackage> last_resort;
  if (m.last_resort) {
    last_resort = check(*m.last_resort, "the last-resort key package");
    if (!last_resort) return;
  }
  s.begin_request();
  db_->submit_value<std::optional<std::uint32_t>>(
      [account = *account, packages = std::move(packages), last_resort = std::move(last_resort),
       now](RelayStore& store) {
        return store.add_key_packages(account, packages, last_resort, kMaxKeyPackageStock, now);
      },
      [this, self = s.shared_from_this(), rid](std::optional<std::uint32_t> stock) {
        self->end_request();
        if (self->closed()) return;
        if (!stock) {
          reply_error(*self, rid, ErrorCode::QuotaExceeded,
                      "at most " + std::to_string(kMaxKeyPackageStock) + " key packages are kept");
          return;
        }
        reply(*self, rid, wire::PublishKeysOk{*stock});
      });
}

void Relay::on_fetch_key_package(Session& s, std::uint64_t rid, const wire::FetchKeyPackage& m) {
  const AccountId* requester = require_login(s, rid);
  if (requester == nullptr) return;
  auto bucket = fetch_buckets_.try_emplace(*requester, Rate{kKeyFetchPerMinute, 60'000}, kKeyFetchBurst, now_ms());
  if (!bucket.first->second.try_take(now_ms())) {
    reply_error(s, rid, ErrorCode::RateLimited, "too many key package fetches");
    return;
  }
  const AccountEntry* target = directory_.find(m.account);
  if (target == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownAccount, "no such account");
    return;
  }
  s.begin_request();
  db_->submit_value<std::optional<KeyPackageTaken>>(
      [account = m.account, now = now_s()](RelayStore& store) {
        return store.take_key_package(account, now);
      },
      [this, self = s.shared_from_this(), rid, account = m.account,
       key = target->identity_key](std::optional<KeyPackageTaken> taken) {
        self->end_request();
        if (self->closed()) return;
        if (!taken) {
          reply_error(*self, rid, ErrorCode::NoKeyPackage, "the account has no key package");
          return;
        }
        // Only packages handed out here may later be added (room_view's joiners).
        handed_out_.record(account, mls::make_key_package_ref(taken->key_package));
        reply(*self, rid, wire::KeyPackageOk{account, key, std::move(taken->key_package), taken->last_resort});
      });
}

void Relay::on_lookup_account(Session& s, std::uint64_t rid, const wire::LookupAccount& m) {
  if (require_login(s, rid) == nullptr) return;
  const AccountId* id = directory_.find_handle(m.handle);
  const AccountEntry* entry = id != nullptr ? directory_.find(*id) : nullptr;
  if (entry == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownAccount, "no such handle");
    return;
  }
  reply(s, rid, wire::AccountInfo{*id, entry->handle, entry->identity_key});
}

void Relay::on_fatal(const std::string& what) {
  if (failed_) return;
  failed_ = true;
  spdlog::critical("{}; stopping (nothing unwritten was acknowledged)", what);
  stopping_ = true;
  std::vector<SessionPtr> all;
  for (auto& [p, session] : sessions_) all.push_back(session);
  for (auto& session : all) session->close(CloseReason::Shutdown);
  ack_timer_.cancel();
  retention_timer_.cancel();
  if (on_fatal_) on_fatal_();
}

void Relay::shutdown(std::function<void()> finished) {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("stopping: finishing acknowledged writes");
  ack_timer_.cancel();
  retention_timer_.cancel();
  flush_acks();
  // The no-op job commits after every job submitted before it, so its
  // completion means every acknowledged write is on disk and answered.
  db_->submit([](RelayStore&) -> store::StoreResult<void> { return {}; },
              [this, finished = std::move(finished)]() mutable {
                asio::co_spawn(io_, finish_shutdown(std::move(finished)), [](std::exception_ptr e) {
                  if (!e) return;
                  try {
                    std::rethrow_exception(e);
                  } catch (const std::exception& x) {
                    spdlog::error("shutdown ended by an exception: {}", x.what());
                  }
                });
              });
}

asio::awaitable<void> Relay::finish_shutdown(std::function<void()> finished) {
  // Everything acknowledged is on disk; give the answers a bounded time to
  // reach their peers, then close.
  const auto deadline = std::chrono::steady_clock::now() + kShutdownFlushTimeout;
  asio::steady_timer timer(io_);
  boost::system::error_code ec;
  auto flushed = [this] {
    for (auto& [p, session] : sessions_) {
      if (!session->closed() && !session->outbox_empty()) return false;
    }
    return true;
  };
  while (!flushed() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  std::vector<SessionPtr> all;
  for (auto& [p, session] : sessions_) all.push_back(session);
  for (auto& session : all) session->close(CloseReason::Shutdown);
  db_->stop();
  log_counters();
  finished();
}

}  // namespace hearth::relay
