// SPDX-License-Identifier: Apache-2.0
#pragma once
// A scripted in-process relay behind MemoryTransport, for engine tests
// without sockets. It speaks just enough of the protocol (hello, login with
// signature check, sync with a backlog, sends with idempotent envelope ids,
// rosters, acks) and records what the engine sent. Thread-safe: callbacks run
// on the engine's thread, assertions on the test thread.

#include <functional>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <vector>

#include "client/core/memory_transport.h"
#include "common/crypto/crypto.h"
#include "common/mls/identity.h"
#include "common/wire/auth.h"

namespace hearth::test {

class FakeRelay {
 public:
  FakeRelay(AccountId account, Bytes identity_key, RoomId room)
      : account_(std::move(account)), identity_key_(std::move(identity_key)), room_(std::move(room)) {}

  // ---- knobs (set before the engine connects) ----
  bool refuse_login = false;
  bool drop_first_send = false;  // close the connection instead of answering the first SendEnvelope
  bool drop_first_bundle = false;  // accept the first SubmitBundle, then close instead of answering
  std::uint64_t epoch = 0;       // the room's current epoch; sends on another epoch get StaleEpoch
  std::vector<wire::Deliver> backlog;  // pushed after Sync when above the device's cursor, duplicates included
  bool silent = false;  // after SyncOk, answer nothing (no Roster, no Pong): a hung relay
  bool always_stale = false;     // every SendEnvelope gets StaleEpoch
  int rate_limit_sends = 0;      // this many SendEnvelope get RateLimited first
  bool hold_login = false;       // do not answer LoginStart until release_login()
  bool refuse_key_packages = false;  // PublishKeys with packages gets InvalidKeyPackage

  /// Changes knobs while an engine is connected (under the relay's lock).
  void with_lock(const std::function<void(FakeRelay&)>& f) {
    std::lock_guard lock(mutex_);
    f(*this);
  }

  [[nodiscard]] client::TransportFactory factory() {
    return [this](client::asio::any_io_executor ex, const client::TrustConfig&) -> std::shared_ptr<client::Transport> {
      client::MemoryTransport::Peer peer;
      peer.on_connect = [this](client::MemoryTransport& t) -> std::optional<client::ClientError> {
        std::lock_guard lock(mutex_);
        ++connects_;
        live_ = std::static_pointer_cast<client::MemoryTransport>(t.shared_from_this());
        return std::nullopt;
      };
      peer.on_frame = [this](client::MemoryTransport& t, const wire::Frame& f) { handle(t, f); };
      peer.on_close = [](client::MemoryTransport&) {};
      return std::make_shared<client::MemoryTransport>(ex, std::move(peer), Bytes(32, 0xe5));
    };
  }

  /// Pushes a Deliver to the live connection (from any thread).
  void push(wire::Deliver d) {
    std::shared_ptr<client::MemoryTransport> t;
    {
      std::lock_guard lock(mutex_);
      t = live_.lock();
    }
    if (!t) return;
    client::asio::post(t->executor(), [t, d = std::move(d)] { t->deliver(wire::Frame{0, d}); });
  }

  /// Answers a held LoginStart.
  void release_login() {
    std::lock_guard lock(mutex_);
    hold_login = false;
    auto t = held_.lock();
    if (!t) return;
    client::asio::post(t->executor(), [this, t, id = held_id_] {
      std::lock_guard inner(mutex_);
      challenge_ = crypto::random_bytes(wire::kChallengeSize);
      answer(*t, id, wire::LoginChallenge{challenge_});
    });
  }
  /// Frames other than Hello/Login* that arrived before LoginOk (refused).
  [[nodiscard]] int pre_login_frames() const {
    std::lock_guard lock(mutex_);
    return pre_login_frames_;
  }
  [[nodiscard]] int connects() const {
    std::lock_guard lock(mutex_);
    return connects_;
  }
  [[nodiscard]] std::vector<wire::Ack> acks() const {
    std::lock_guard lock(mutex_);
    return acks_;
  }
  [[nodiscard]] int pings() const {
    std::lock_guard lock(mutex_);
    return pings_;
  }
  /// One-time KeyPackages published and checked (as the real relay checks them, lifetimes aside).
  [[nodiscard]] std::vector<Bytes> key_packages() const {
    std::lock_guard lock(mutex_);
    return key_packages_;
  }
  [[nodiscard]] std::optional<Bytes> last_resort() const {
    std::lock_guard lock(mutex_);
    return last_resort_;
  }
  /// Hands out (removes) the oldest one-time package, as a FetchKeyPackage by someone else would.
  void take_key_package() {
    std::lock_guard lock(mutex_);
    if (!key_packages_.empty()) key_packages_.erase(key_packages_.begin());
  }
  /// Bundles the engine submitted (accepted on the current epoch, which then moves on).
  [[nodiscard]] std::vector<wire::SubmitBundle> bundles() const {
    std::lock_guard lock(mutex_);
    return bundles_;
  }
  [[nodiscard]] std::vector<wire::SendEnvelope> sends() const {
    std::lock_guard lock(mutex_);
    return sends_;
  }
  [[nodiscard]] std::uint64_t acked_cursor() const {
    std::lock_guard lock(mutex_);
    std::uint64_t best = 0;
    for (const auto& a : acks_) {
      for (const auto& c : a.cursors) {
        if (c.room == room_) best = std::max(best, c.seq.v);
      }
    }
    return best;
  }

 private:
  void answer(client::MemoryTransport& t, std::uint64_t id, wire::Message m) { t.deliver(wire::Frame{id, std::move(m)}); }
  void error(client::MemoryTransport& t, std::uint64_t id, wire::ErrorCode code) {
    answer(t, id, wire::Error{code, "fake relay says no", std::nullopt});
  }

  void handle(client::MemoryTransport& t, const wire::Frame& f) {
    std::lock_guard lock(mutex_);
    const auto id = f.request_id;
    const bool login_frame = std::holds_alternative<wire::Hello>(f.body) ||
                             std::holds_alternative<wire::LoginStart>(f.body) ||
                             std::holds_alternative<wire::LoginProof>(f.body);
    if (!login_frame && !logged_in_.contains(&t)) {
      ++pre_login_frames_;
      return error(t, id, wire::ErrorCode::NotAuthenticated);
    }
    if (std::get_if<wire::Hello>(&f.body)) {
      answer(t, id, wire::HelloOk{wire::kProtocolVersion, 0});
    } else if (const auto* ls = std::get_if<wire::LoginStart>(&f.body)) {
      if (ls->account != account_) return error(t, id, wire::ErrorCode::AuthFailed);
      if (hold_login) {
        held_ = std::static_pointer_cast<client::MemoryTransport>(t.shared_from_this());
        held_id_ = id;
        return;
      }
      challenge_ = crypto::random_bytes(wire::kChallengeSize);
      answer(t, id, wire::LoginChallenge{challenge_});
    } else if (const auto* lp = std::get_if<wire::LoginProof>(&f.body)) {
      const auto transcript = wire::login_transcript(challenge_, t.exporter(), account_);
      if (refuse_login || !crypto::ed25519_verify(identity_key_, transcript, lp->signature)) {
        return error(t, id, wire::ErrorCode::AuthFailed);
      }
      logged_in_.insert(&t);
      answer(t, id, wire::LoginOk{"dr-a"});
    } else if (const auto* sync = std::get_if<wire::Sync>(&f.body)) {
      std::uint64_t cursor = 0;
      for (const auto& c : sync->cursors) {
        if (c.room == room_) cursor = c.seq.v;
      }
      std::uint64_t head = 0;
      for (const auto& d : backlog) {
        head = std::max(head, d.seq.v);
        if (d.seq.v > cursor) t.deliver(wire::Frame{0, d});
      }
      answer(t, id, wire::SyncOk{{wire::RoomSyncState{room_, Seq{std::max(head, next_seq_ - 1)}, Epoch{epoch}, wire::Role::Member}}, {}});
    } else if (const auto* send = std::get_if<wire::SendEnvelope>(&f.body)) {
      sends_.push_back(*send);
      if (drop_first_send) {
        drop_first_send = false;
        t.close();  // the envelope is stored, the answer is lost
        seq_of_[send->envelope_id] = next_seq_++;
        return;
      }
      if (rate_limit_sends > 0) {
        --rate_limit_sends;
        return error(t, id, wire::ErrorCode::RateLimited);
      }
      if (always_stale || send->epoch.v != epoch) return error(t, id, wire::ErrorCode::StaleEpoch);
      auto it = seq_of_.find(send->envelope_id);
      if (it == seq_of_.end()) it = seq_of_.emplace(send->envelope_id, next_seq_++).first;
      answer(t, id, wire::SendOk{send->room, Seq{it->second}});
    } else if (const auto* bundle = std::get_if<wire::SubmitBundle>(&f.body)) {
      bundles_.push_back(*bundle);
      if (bundle->epoch.v != epoch) return error(t, id, wire::ErrorCode::EpochConflict);
      ++epoch;
      if (drop_first_bundle) {
        drop_first_bundle = false;
        ++next_seq_;
        t.close();  // the commit is in the room, the answer is lost
        return;
      }
      answer(t, id, wire::BundleOk{Seq{next_seq_++}, Epoch{epoch}});
    } else if (std::get_if<wire::GetRoster>(&f.body)) {
      if (silent) return;
      answer(t, id, wire::Roster{room_, Epoch{epoch}, {wire::Member{account_, "dr-a", wire::Role::Member}}});
    } else if (const auto* pk = std::get_if<wire::PublishKeys>(&f.body)) {
      if (silent) return;
      const bool publishes = !pk->key_packages.empty() || pk->last_resort;
      if (publishes && refuse_key_packages) return error(t, id, wire::ErrorCode::InvalidKeyPackage);
      std::vector<Bytes> all = pk->key_packages;
      if (pk->last_resort) all.push_back(*pk->last_resort);
      for (const auto& kp : all) {
        if (!mls::check_account_key_package(kp, account_.v, identity_key_, std::nullopt)) {
          return error(t, id, wire::ErrorCode::InvalidKeyPackage);
        }
      }
      key_packages_.insert(key_packages_.end(), pk->key_packages.begin(), pk->key_packages.end());
      if (pk->last_resort) last_resort_ = pk->last_resort;
      answer(t, id, wire::PublishKeysOk{static_cast<std::uint32_t>(key_packages_.size())});
    } else if (const auto* ack = std::get_if<wire::Ack>(&f.body)) {
      acks_.push_back(*ack);
    } else if (const auto* ping = std::get_if<wire::Ping>(&f.body)) {
      ++pings_;
      if (silent) return;
      answer(t, id, wire::Pong{ping->nonce});
    } else {
      error(t, id, wire::ErrorCode::ProtocolViolation);
    }
  }

  AccountId account_;
  Bytes identity_key_;
  RoomId room_;
  mutable std::mutex mutex_;
  std::weak_ptr<client::MemoryTransport> live_;
  Bytes challenge_;
  int connects_ = 0;
  int pre_login_frames_ = 0;
  std::set<const client::MemoryTransport*> logged_in_;  // compared only, never dereferenced
  std::weak_ptr<client::MemoryTransport> held_;
  std::uint64_t held_id_ = 0;
  int pings_ = 0;
  std::uint64_t next_seq_ = 1000;  // the engine's own sends, far from the backlog's seqs
  std::map<EnvelopeId, std::uint64_t> seq_of_;
  std::vector<wire::Ack> acks_;
  std::vector<wire::SendEnvelope> sends_;
  std::vector<wire::SubmitBundle> bundles_;
  std::vector<Bytes> key_packages_;
  std::optional<Bytes> last_resort_;
};

}  // namespace hearth::test
