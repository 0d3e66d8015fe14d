// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/connection.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench/relay/relay_process.h"
#include "common/wire/auth.h"
#include "common/wire/codec.h"
#include "common/wire/framing.h"

namespace hearth::bench {
namespace {

constexpr std::size_t kReadBuffer = 16 * 1024;  // grows while a wake-up yields more plaintext
constexpr auto kCallTimeout = std::chrono::seconds(30);
constexpr std::uint8_t kDelivered = 1;
constexpr std::uint8_t kOwn = 2;
constexpr std::uint64_t kApplication = 1;  // hearth.v1.ENVELOPE_KIND_APPLICATION
// The relay refills KeyPackage fetches at one a second after a burst
// (server/core/limits.h); asking twice a second keeps the wait short
// without a storm of refusals.
constexpr auto kFetchRetry = std::chrono::milliseconds(500);
// Members added per commit: the relay's fetch burst, so a room of up to
// about 20 is one commit and larger ones commit while the next batch waits.
constexpr std::size_t kAddsPerCommit = 20;

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
std::int64_t now_ns() noexcept { return steady_ns(std::chrono::steady_clock::now()); }

bool same(BytesView a, const Bytes& b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// SHA-256 of the peer certificate's DER SubjectPublicKeyInfo (the invite's pin).
std::optional<crypto::Digest> peer_spki_sha256(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return std::nullopt;
  const int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return std::nullopt;
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(key, &p) != len) return std::nullopt;
  return crypto::sha256(der);
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "hearth-bench: connection reader ended: %s\n", x.what());
  }
}

}  // namespace

Connection::Connection(asio::io_context& io, SSL_CTX* tls, Shared& shared, std::size_t index)
    : io_(io),
      shared_(shared),
      index_(index),
      tls_(io, tls),
      identity_(test::make_identity({})),
      answer_timer_(io),
      send_timer_(io) {}

asio::awaitable<void> Connection::open(tcp::endpoint relay, BytesView spki_pin, const std::string& token) {
  co_await tls_.connect(relay);
  SSL* ssl = tls_.native();
  if (!spki_pin.empty()) {
    auto digest = peer_spki_sha256(ssl);
    if (!digest || !same(spki_pin, Bytes(digest->begin(), digest->end())))
      throw BenchError("the relay's public key does not match the pin (SPKI SHA-256)");
  }
  Bytes exporter(wire::kTlsExporterSize);
  if (SSL_export_keying_material(ssl, exporter.data(), exporter.size(), wire::kTlsExporterLabel.data(),
                                 wire::kTlsExporterLabel.size(), nullptr, 0, 0) != 1)
    throw BenchError("SSL_export_keying_material failed");

  asio::co_spawn(io_, read_loop(), log_exception);

  wire::Message hello_msg = wire::Hello{wire::kProtocolVersion, "hearth-bench/0.1"};
  auto hello = co_await call(std::move(hello_msg), "Hello");
  const auto* hello_ok = std::get_if<wire::HelloOk>(&hello.body);
  if (hello_ok == nullptr) throw BenchError(std::string("Hello answered with ") + wire::kind_name(hello.body));
  if (hello_ok->max_frame_size >= wire::kMinMaxFrameSize) max_frame_ = hello_ok->max_frame_size;

  identity_.handle = "bench-" + to_hex(crypto::random_bytes(6)) + "-" + std::to_string(index_);
  const auto& key = identity_.key;
  const Bytes identity(key.public_key.begin(), key.public_key.end());
  const auto transcript = wire::register_transcript(token, identity_.handle, identity, exporter);
  const auto sig = crypto::ed25519_sign(key, transcript);
  wire::Message reg_msg = wire::Register{token, identity_.handle, identity, Bytes(sig.begin(), sig.end())};
  auto reg = co_await call(std::move(reg_msg), "Register");
  const auto* reg_ok = std::get_if<wire::RegisterOk>(&reg.body);
  if (reg_ok == nullptr) throw BenchError(std::string("Register answered with ") + wire::kind_name(reg.body));
  identity_.account = reg_ok->account;

  // A member the creator will add needs one KeyPackage at the relay.
  if (room_ == nullptr || room_->members.front() == this) co_return;
  wire::Message keys_msg = shared_.mls.new_key_packages(identity_, 1);
  auto keys = co_await call(std::move(keys_msg), "PublishKeys");
  if (!std::holds_alternative<wire::PublishKeysOk>(keys.body))
    throw BenchError(std::string("PublishKeys answered with ") + wire::kind_name(keys.body));
}

asio::awaitable<void> Connection::create_room(RoomState& room) {
  wire::Message create_msg = wire::CreateRoom{room.id, shared_.mls.new_group_info(identity_, room.id), 0};
  auto created = co_await call(std::move(create_msg), "CreateRoom");
  const auto* ok = std::get_if<wire::CreateRoomOk>(&created.body);
  if (ok == nullptr) throw BenchError(std::string("CreateRoom answered with ") + wire::kind_name(created.body));
  room.epoch = ok->epoch;
  for (std::size_t first = 1; first < room.members.size(); first += kAddsPerCommit) {
    const std::size_t end = std::min(first + kAddsPerCommit, room.members.size());
    std::vector<wire::KeyPackageOk> fetched;
    for (std::size_t i = first; i < end; ++i) {
      auto package = co_await fetch_key_package(room.members[i]->account());
      fetched.push_back(std::move(package));
    }
    co_await add_members(room, fetched);
  }
}

asio::awaitable<wire::KeyPackageOk> Connection::fetch_key_package(const AccountId& account) {
  for (;;) {
    wire::Message fetch_msg = wire::FetchKeyPackage{account};
    auto answer = co_await request(std::move(fetch_msg), "FetchKeyPackage");
    if (auto* ok = std::get_if<wire::KeyPackageOk>(&answer.body)) co_return std::move(*ok);
    const auto* e = std::get_if<wire::Error>(&answer.body);
    if (e == nullptr || e->code != wire::ErrorCode::RateLimited) {
      throw BenchError("FetchKeyPackage answered with " +
                       (e != nullptr ? wire::to_string(e->code) + " (" + e->message + ")" : wire::kind_name(answer.body)));
    }
    ++shared_.stats.key_package_retries;
    asio::steady_timer wait(io_);
    wait.expires_after(kFetchRetry);
    co_await wait.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> Connection::add_members(RoomState& room, std::vector<wire::KeyPackageOk>& fetched) {
  auto pending = shared_.mls.add_fetched(identity_, room.id, fetched);
  // Each joiner gets its own copy of the Welcome, which holds the whole
  // ratchet tree: a big room's batch can outgrow one frame.
  wire::Message bundle = pending.bundle;
  if (fetched.size() > 1 && wire::encode_with_length(wire::Frame{0, bundle}).size() > max_frame_) {
    const auto half = static_cast<std::ptrdiff_t>(fetched.size() / 2);
    std::vector<wire::KeyPackageOk> rest(std::make_move_iterator(fetched.begin() + half),
                                         std::make_move_iterator(fetched.end()));
    fetched.resize(static_cast<std::size_t>(half));
    co_await add_members(room, fetched);
    co_await add_members(room, rest);
    co_return;
  }
  auto answer = co_await call(std::move(bundle), "SubmitBundle");
  const auto* bundle_ok = std::get_if<wire::BundleOk>(&answer.body);
  if (bundle_ok == nullptr) throw BenchError(std::string("SubmitBundle answered with ") + wire::kind_name(answer.body));
  if (bundle_ok->new_epoch.v != room.epoch.v + 1)
    throw BenchError("SubmitBundle on epoch " + std::to_string(room.epoch.v) + " returned new epoch " +
                     std::to_string(bundle_ok->new_epoch.v));
  room.epoch = bundle_ok->new_epoch;
  room.head = std::max(room.head, bundle_ok->seq.v);
  shared_.mls.accepted(room.id, std::move(pending));
}

asio::awaitable<void> Connection::sync() {
  wire::Message sync_msg = wire::Sync{};
  auto answer = co_await call(std::move(sync_msg), "Sync");
  const auto* ok = std::get_if<wire::SyncOk>(&answer.body);
  if (ok == nullptr) throw BenchError(std::string("Sync answered with ") + wire::kind_name(answer.body));
  if (!ok->gaps.empty()) throw BenchError("SyncOk reported a history gap on a fresh room");
  if (room_ != nullptr) {
    auto it = std::find_if(ok->rooms.begin(), ok->rooms.end(),
                           [&](const wire::RoomSyncState& s) { return s.room == room_->id; });
    if (it == ok->rooms.end()) throw BenchError("SyncOk does not list the room this member was added to");
    if (it->epoch != room_->epoch)
      throw BenchError("SyncOk names epoch " + std::to_string(it->epoch.v) + ", the room's creator saw " +
                       std::to_string(room_->epoch.v));
    base_ = it->head.v;
    contiguous_ = base_;
    max_seen_ = base_;
    acked_ = 0;
    room_->head = std::max(room_->head, base_);
  }
  synced_ = true;
}

asio::awaitable<wire::Frame> Connection::call(wire::Message&& body, const char* what) {
  auto answer = co_await request(std::move(body), what);
  if (const auto* e = std::get_if<wire::Error>(&answer.body)) {
    throw BenchError(std::string(what) + " refused: " + wire::to_string(e->code) + " (" + e->message + ")");
  }
  co_return answer;
}

asio::awaitable<wire::Frame> Connection::request(wire::Message&& body, const char* what) {
  if (closed_) throw BenchError(std::string(what) + ": connection closed (" + close_reason_ + ")");
  const auto id = next_request_id_++;
  awaiting_id_ = id;
  answer_.reset();
  queue(wire::encode_with_length(wire::Frame{id, std::move(body)}));
  answer_timer_.expires_after(kCallTimeout);
  boost::system::error_code ec;
  co_await answer_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  awaiting_id_ = 0;
  if (!answer_) {
    if (closed_) throw BenchError(std::string(what) + ": connection closed (" + close_reason_ + ")");
    throw BenchError(std::string(what) + ": no answer within 30 s");
  }
  co_return std::move(*answer_);
}

asio::awaitable<void> Connection::read_loop() {
  in_.resize(kReadBuffer);
  for (;;) {
    std::string error = co_await tls_.read(in_, in_len_);
    if (!error.empty()) {
      fail(error);
      co_return;
    }
    std::size_t pos = 0;
    while (in_len_ - pos >= wire::kLengthPrefixSize) {
      auto len = wire::check_length(BytesView(in_.data() + pos, wire::kLengthPrefixSize), max_frame_);
      if (!len) {
        fail("framing: " + wire::to_string(len.error()));
        co_return;
      }
      const std::size_t total = wire::kLengthPrefixSize + *len;
      if (in_len_ - pos < total) break;
      on_frame(BytesView(in_.data() + pos + wire::kLengthPrefixSize, *len));
      if (closed_) co_return;
      pos += total;
    }
    if (pos > 0) {
      std::memmove(in_.data(), in_.data() + pos, in_len_ - pos);
      in_len_ -= pos;
    }
    if (tls_.has_output()) flush();  // e.g. a TLS 1.3 KeyUpdate answer
  }
}

void Connection::on_frame(BytesView body) {
  const auto now = now_ns();
  if (auto d = scan_deliver(body)) {
    on_deliver(*d, now);
    return;
  }
  ++shared_.stats.full_decodes;
  auto frame = wire::decode(body);
  if (!frame) {
    ++shared_.stats.errors["undecodable frame: " + wire::to_string(frame.error().code) + " " + frame.error().detail];
    fail("undecodable frame from the relay");
    return;
  }
  on_full_frame(std::move(*frame), now);
}

void Connection::on_full_frame(wire::Frame frame, std::int64_t now_ns_value) {
  if (frame.request_id != 0) {
    if (frame.request_id == awaiting_id_) {
      answer_ = std::move(frame);
      answer_timer_.cancel();
    } else if (in_flight_.count(frame.request_id) != 0) {
      on_send_answer(frame.request_id, frame.body, now_ns_value);
    } else {
      ++shared_.stats.errors[std::string("answer to no request: ") + wire::kind_name(frame.body)];
    }
    return;
  }
  std::visit(wire::Overloaded{
                 [&](const wire::Deliver& d) {
                   DeliverView v;
                   v.room = d.room.v;
                   v.seq = d.seq.v;
                   v.kind = static_cast<std::uint64_t>(d.kind);
                   v.sender = d.sender.v;
                   v.epoch = d.epoch.v;
                   v.payload = d.payload;
                   on_deliver(v, now_ns_value);
                 },
                 [&](const wire::Error& e) { ++shared_.stats.errors["pushed Error " + wire::to_string(e.code)]; },
                 [&](const auto& other) { ++shared_.stats.errors[std::string("unexpected push: ") + wire::kind_name(other)]; },
             },
             frame.body);
}

void Connection::on_deliver(const DeliverView& d, std::int64_t now_ns_value) {
  if (!synced_) return;  // the backlog before SyncOk is set-up history, not load
  auto& stats = shared_.stats;
  if (room_ == nullptr || !same(d.room, room_->id.v)) {
    ++stats.errors["Deliver for a room the member is not in"];
    return;
  }
  if (d.seq <= base_) {
    ++stats.duplicates;  // history from before this member's SyncOk, delivered again
    return;
  }
  const auto idx = static_cast<std::size_t>(d.seq - base_ - 1);
  if (idx < marks_.size() && (marks_[idx] & kDelivered) != 0) {
    ++stats.duplicates;
    return;
  }
  if (d.seq < max_seen_) ++stats.out_of_order;
  max_seen_ = std::max(max_seen_, d.seq);
  mark(d.seq, kDelivered);
  if (d.kind != kApplication) return;
  const bool own = same(d.sender, identity_.account.v);
  // A reader opens every message after its SyncOk, also outside the
  // window: its ratchet per sender must not fall behind.
  if (reader_ && !own) open_message(d, now_ns_value);
  if (!stats.recording) return;
  if (own) {
    ++stats.echoes;
    return;
  }
  ++stats.deliveries;
}

void Connection::open_message(const DeliverView& d, std::int64_t now_ns_value) {
  auto& stats = shared_.stats;
  Bytes plaintext;
  try {
    plaintext = shared_.mls.open(identity_, room_->id, d.payload);
  } catch (const std::exception& e) {
    ++stats.errors[std::string("a delivered message does not open: ") + e.what()];
    return;
  }
  if (!stats.recording) return;
  ++stats.opened;
  if (plaintext.size() >= sizeof(std::int64_t)) {
    std::int64_t sent = 0;
    std::memcpy(&sent, plaintext.data(), sizeof sent);
    stats.delivery_latency.record(now_ns_value - sent);
  }
}

void Connection::on_send_answer(std::uint64_t request_id, const wire::Message& body, std::int64_t now_ns_value) {
  auto it = in_flight_.find(request_id);
  const std::int64_t queued_at = it->second;
  in_flight_.erase(it);
  auto& stats = shared_.stats;
  if (const auto* ok = std::get_if<wire::SendOk>(&body)) {
    mark(ok->seq.v, kOwn);
    room_->head = std::max(room_->head, ok->seq.v);
    if (stats.recording) {
      ++stats.publishes;
      stats.ack_latency.record(now_ns_value - queued_at);
    }
  } else if (const auto* e = std::get_if<wire::Error>(&body)) {
    ++stats.errors["SendEnvelope refused: " + wire::to_string(e->code)];
    refill_later();
    return;
  } else {
    ++stats.errors[std::string("SendEnvelope answered with ") + wire::kind_name(body)];
  }
  if (!closed_loop_ || shared_.stopping || closed_) return;
  // The relay acknowledges a send before fanning it out, so the window
  // alone does not stop a closed loop from outrunning its slowest reader
  // (here: the bench's own thread) until the relay drops that connection
  // for its full outbox. Holding back measures what every member can take.
  if (room_lagging()) {
    if (stats.recording) ++stats.held_back;
    refill_later();
    return;
  }
  send_envelope(now_ns_value);
}

bool Connection::room_lagging() const noexcept {
  const std::uint64_t limit = shared_.options.max_lag;
  return std::any_of(room_->members.begin(), room_->members.end(),
                     [&](const Connection* m) { return m->alive() && m->seen_through() + limit < room_->head; });
}

void Connection::refill_later() {
  // A refused or held-back send is not retried at once: that would turn the
  // closed loop into a busy loop.
  if (!closed_loop_ || shared_.stopping || closed_) return;
  ++deferred_;
  arm_backoff();
}

void Connection::arm_backoff() {
  if (backoff_armed_) return;
  backoff_armed_ = true;
  send_timer_.expires_after(std::chrono::milliseconds(10));
  send_timer_.async_wait([this](const boost::system::error_code& ec) {
    backoff_armed_ = false;
    if (ec || closed_ || shared_.stopping) return;
    if (room_lagging()) {
      arm_backoff();
      return;
    }
    const std::size_t n = deferred_;
    deferred_ = 0;
    const auto now = now_ns();
    for (std::size_t i = 0; i < n; ++i) send_envelope(now);
  });
}

void Connection::mark(std::uint64_t seq, std::uint8_t bit) noexcept {
  if (seq <= base_) return;
  const auto idx = static_cast<std::size_t>(seq - base_ - 1);
  if (idx >= marks_.size()) marks_.resize(idx + 1, 0);
  marks_[idx] = static_cast<std::uint8_t>(marks_[idx] | bit);
  while (contiguous_ - base_ < marks_.size() && marks_[static_cast<std::size_t>(contiguous_ - base_)] != 0) ++contiguous_;
}

bool Connection::caught_up() const noexcept { return room_ == nullptr || contiguous_ >= room_->head; }

std::uint64_t Connection::missing() const noexcept {
  if (room_ == nullptr) return 0;
  std::uint64_t n = 0;
  for (std::uint64_t seq = contiguous_ + 1; seq <= room_->head; ++seq) {
    const auto idx = static_cast<std::size_t>(seq - base_ - 1);
    if (idx >= marks_.size() || marks_[idx] == 0) ++n;
  }
  return n;
}

void Connection::start_closed_loop(std::size_t window) {
  closed_loop_ = true;
  window_ = window;
  plaintext_.assign(shared_.options.payload, 0x5a);
  const auto now = now_ns();
  for (std::size_t i = 0; i < window_; ++i) send_envelope(now);
}

void Connection::start_open_loop(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase) {
  plaintext_.assign(shared_.options.payload, 0x5a);
  asio::co_spawn(io_, open_loop(interval, phase), log_exception);
}

asio::awaitable<void> Connection::open_loop(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase) {
  // Open loop: envelopes are due on a fixed schedule whatever the relay
  // answers; one that is late goes out at once and its latency is measured
  // from when it was due, so a slow relay cannot hide its queueing.
  auto next = std::chrono::steady_clock::now() + phase;
  while (!shared_.stopping && !closed_) {
    send_timer_.expires_at(next);
    boost::system::error_code ec;
    co_await send_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    const auto now = std::chrono::steady_clock::now();
    while (next <= now && !shared_.stopping && !closed_) {
      send_envelope(steady_ns(next));
      next += interval;
    }
  }
}

void Connection::send_envelope(std::int64_t stamp_ns) {
  if (closed_ || room_ == nullptr) return;
  // The timestamp travels inside the encryption, as a client's content does.
  std::memcpy(plaintext_.data(), &stamp_ns, sizeof stamp_ns);
  Bytes payload;
  try {
    payload = shared_.mls.encrypt(identity_, room_->id, plaintext_);
  } catch (const std::exception& e) {
    fail(std::string("MLS protect: ") + e.what());
    return;
  }
  shared_.stats.envelope_bytes = payload.size();
  const auto id = next_request_id_++;
  wire::SendEnvelope env{room_->id, EnvelopeId{crypto::random_bytes(wire::kEnvelopeIdSize)}, room_->epoch,
                         std::move(payload)};
  queue(wire::encode_with_length(wire::Frame{id, std::move(env)}));
  in_flight_.emplace(id, now_ns());
}

void Connection::ack_if_moved() {
  if (!synced_ || closed_ || room_ == nullptr || contiguous_ <= acked_) return;
  acked_ = contiguous_;
  queue(wire::encode_with_length(wire::Frame{0, wire::Ack{{wire::Cursor{room_->id, Seq{acked_}}}}}));
}

void Connection::queue(const Bytes& frame) {
  if (closed_) return;
  out_.insert(out_.end(), frame.begin(), frame.end());
  if (writing_ || flush_posted_) return;
  // Defer to the end of this event-loop turn so that everything queued in
  // it (e.g. refills for a batch of SendOk) leaves in one TLS write.
  flush_posted_ = true;
  asio::post(io_, [this] {
    flush_posted_ = false;
    flush();
  });
}

void Connection::flush() {
  if (writing_ || closed_) return;
  if (!out_.empty()) {
    if (!tls_.encrypt(out_, writing_buf_)) {
      fail("TLS encrypt failed: " + openssl_error());
      return;
    }
    out_.clear();
  }
  tls_.take_output(writing_buf_);
  if (writing_buf_.empty()) return;
  writing_ = true;
  asio::async_write(tls_.socket(), asio::buffer(writing_buf_), [this](const boost::system::error_code& ec, std::size_t) {
    writing_ = false;
    writing_buf_.clear();
    if (ec) {
      fail(ec.message());
      return;
    }
    flush();
  });
}

void Connection::fail(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = why;
  if (!closing_) {
    ++shared_.stats.dropped_connections;
    ++shared_.stats.errors["connection lost: " + why];
  }
  tls_.close();
  answer_timer_.cancel();
  send_timer_.cancel();
}

void Connection::close() noexcept {
  closing_ = true;
  try {
    fail("closed by the bench");
  } catch (const std::exception&) {
    closed_ = true;  // only the error bookkeeping can throw (allocation); the socket is what matters
  }
}

}  // namespace hearth::bench
