// SPDX-License-Identifier: Apache-2.0
// The engine's session logic against a scripted relay over MemoryTransport:
// ack batching, duplicate dropping, re-sending with the same envelope id,
// epoch refresh, login proof and final refusals. No sockets.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "client/core/ack_batcher.h"
#include "client/core/engine.h"
#include "client/core/memory_store.h"
#include "tests/unit/client/fake_relay.h"

using namespace hearth;
using namespace hearth::client;
using namespace std::chrono_literals;

namespace {

const RoomId kRoom{Bytes(32, 0x42)};
const AccountId kSelf{Bytes(16, 0x07)};
const AccountId kPeer{Bytes(16, 0x08)};

template <class T>
T get(std::future<T> f) {
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

wire::Deliver app(std::uint64_t seq, std::string_view text) {
  wire::Deliver d;
  d.room = kRoom;
  d.seq = Seq{seq};
  d.kind = wire::EnvelopeKind::Application;
  d.sender = kPeer;
  d.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(seq))};
  d.timestamp_ms = 1;
  d.payload = to_bytes(text);
  return d;
}

struct Setup {
  crypto::SigningKey key = crypto::ed25519_generate();
  test::FakeRelay relay{kSelf, Bytes(key.public_key.begin(), key.public_key.end()), kRoom};

  std::unique_ptr<Engine> engine(bool reconnect = true, Epoch local_epoch = Epoch{0}, const Clock* clock = nullptr) {
    auto store = std::make_unique<MemoryStore>();
    REQUIRE(store->save_profile(ProfileInfo{"fake", 1, Bytes(32, 1), kSelf, "dr-a"}));
    REQUIRE(store->save_identity_seed(crypto::ed25519_seed(key).view()));
    REQUIRE(store->put_room(RoomRecord{kRoom, local_epoch, wire::Role::Member, RoomStatus::Active, Seq{}}));
    EngineOptions o;
    o.reconnect = reconnect;
    o.transport = relay.factory();
    o.connect_timeout = 2s;
    o.request_timeout = 5s;
    o.clock = clock;
    return std::make_unique<Engine>(std::move(store), o);
  }
};

/// Drains events until `n` MessageReceived arrived (or 10 s); returns them all.
std::vector<Event> drain(Engine& e, const std::function<bool(const std::vector<Event>&)>& done,
                         std::chrono::milliseconds timeout = 10s) {
  std::vector<Event> seen;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(seen) && std::chrono::steady_clock::now() < deadline) {
    if (auto ev = e.events().wait_pop(20ms)) seen.push_back(std::move(*ev));
  }
  return seen;
}

template <class E>
std::size_t count(const std::vector<Event>& events) {
  std::size_t n = 0;
  for (const auto& e : events) {
    if (std::holds_alternative<E>(e)) ++n;
  }
  return n;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("engine session: a backlog is acknowledged in batches, not per envelope", "[client][session]") {
  Setup s;
  constexpr std::uint64_t kBacklog = 200;
  for (std::uint64_t i = 1; i <= kBacklog; ++i) s.relay.backlog.push_back(app(i, "m"));
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= kBacklog; });
  CHECK(count<MessageReceived>(events) == kBacklog);
  REQUIRE(eventually([&] { return s.relay.acked_cursor() == kBacklog; }));
  const auto acks = s.relay.acks();
  CHECK(acks.size() >= 1);
  CHECK(acks.size() <= kBacklog / kAckBatchSize + 2);
  for (const auto& a : acks) CHECK(a.cursors.size() == 1);  // one cursor per room per Ack
  e->stop();
}

TEST_CASE("engine session: a few live envelopes are acknowledged after kAckDelayMs", "[client][session]") {
  Setup s;
  ManualClock clock;
  auto e = s.engine(true, Epoch{0}, &clock);
  REQUIRE(get(e->start()));
  s.relay.push(app(1, "a"));
  s.relay.push(app(2, "b"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 2; });
  REQUIRE(count<MessageReceived>(events) == 2);
  clock.advance_ms(kAckDelayMs - 1);
  std::this_thread::sleep_for(300ms);  // several housekeeping ticks
  CHECK(s.relay.acks().empty());       // fewer than a batch, not yet due
  clock.advance_ms(1);
  REQUIRE(eventually([&] { return s.relay.acked_cursor() == 2; }));
  CHECK(s.relay.acks().size() == 1);
  e->stop();
}

TEST_CASE("engine session: a request without an answer times out after request_timeout", "[client][session]") {
  Setup s;
  s.relay.silent = true;
  ManualClock clock;
  auto e = s.engine(true, Epoch{0}, &clock);
  REQUIRE(get(e->start()));
  auto roster = e->roster(kRoom);
  CHECK(roster.wait_for(300ms) == std::future_status::timeout);
  clock.advance_ms(5'000);  // the options' request_timeout
  auto r = get(std::move(roster));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::Timeout);
  e->stop();
}

TEST_CASE("engine session: a silent relay is pinged after kPingIntervalMs and dropped after kIdleTimeoutMs",
          "[client][session]") {
  Setup s;
  s.relay.silent = true;
  ManualClock clock;
  auto e = s.engine(true, Epoch{0}, &clock);
  REQUIRE(get(e->start()));
  clock.advance_ms(kPingIntervalMs - 10);
  std::this_thread::sleep_for(300ms);
  CHECK(s.relay.pings() == 0);
  clock.advance_ms(20);
  REQUIRE(eventually([&] { return s.relay.pings() == 1; }));
  CHECK(s.relay.connects() == 1);
  clock.advance_ms(kIdleTimeoutMs - kPingIntervalMs);
  REQUIRE(eventually([&] { return s.relay.connects() == 2; }));  // dropped, reconnected, resumed
  e->stop();
}

TEST_CASE("engine session: redelivered envelopes reach the UI once", "[client][session]") {
  Setup s;
  s.relay.backlog = {app(1, "one"), app(2, "two"), app(2, "two"), app(1, "one"), app(3, "three")};
  auto e = s.engine();
  REQUIRE(get(e->start()));
  s.relay.push(app(3, "three"));  // live duplicate of a backlog envelope
  s.relay.push(app(4, "four"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 4; });
  auto more = drain(*e, [](const auto&) { return false; }, 300ms);
  events.insert(events.end(), more.begin(), more.end());
  CHECK(count<MessageReceived>(events) == 4);
  auto history = get(e->history(kRoom, Seq{}, 100));
  REQUIRE(history);
  CHECK(history->size() == 4);
  e->stop();
}

TEST_CASE("engine session: a send whose answer was lost is re-sent with the same envelope id",
          "[client][session]") {
  Setup s;
  s.relay.drop_first_send = true;
  auto e = s.engine(/*reconnect=*/true);
  REQUIRE(get(e->start()));
  auto sent = get(e->send_text(kRoom, "once"));
  REQUIRE(sent);
  const auto sends = s.relay.sends();
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].envelope_id == sends[1].envelope_id);
  CHECK(sends[1].envelope_id == sent->envelope_id);
  CHECK(s.relay.connects() == 2);
  CHECK(get(e->outbox())->empty());
  auto events = drain(*e, [](const auto& v) { return count<MessageSent>(v) >= 1; });
  CHECK(count<MessageSent>(events) == 1);
  e->stop();
}

TEST_CASE("engine session: sends use the epoch from SyncOk", "[client][session]") {
  Setup s;
  s.relay.epoch = 2;
  auto e = s.engine(true, Epoch{0});
  REQUIRE(get(e->start()));
  auto sent = get(e->send_text(kRoom, "hi"));
  REQUIRE(sent);
  const auto sends = s.relay.sends();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].epoch.v == 2);
  e->stop();
}

TEST_CASE("engine session: StaleEpoch refreshes the epoch and re-sends the same envelope", "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  s.relay.with_lock([](test::FakeRelay& r) { r.epoch = 3; });  // a membership change we have not seen yet
  auto sent = get(e->send_text(kRoom, "hi"));
  INFO((sent ? std::string() : sent.error().describe()));
  REQUIRE(sent);
  const auto sends = s.relay.sends();
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].epoch.v == 0);
  CHECK(sends[1].epoch.v == 3);
  CHECK(sends[0].envelope_id == sends[1].envelope_id);
  e->stop();
}

TEST_CASE("engine session: after kMaxEpochRetries stale epochs the send fails and leaves the outbox",
          "[client][session]") {
  Setup s;
  s.relay.always_stale = true;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto sent = get(e->send_text(kRoom, "never"));
  REQUIRE_FALSE(sent);
  REQUIRE(sent.error().relay);
  CHECK(sent.error().relay->code == wire::ErrorCode::StaleEpoch);
  CHECK(s.relay.sends().size() == static_cast<std::size_t>(kMaxEpochRetries) + 1);
  CHECK(get(e->outbox())->empty());
  auto events = drain(*e, [](const auto& v) { return count<SendFailed>(v) >= 1; });
  CHECK(count<SendFailed>(events) == 1);
  e->stop();
}

TEST_CASE("engine session: RateLimited keeps the envelope and retries after kSendRetryDelayMs", "[client][session]") {
  Setup s;
  s.relay.rate_limit_sends = 1;
  ManualClock clock;
  auto e = s.engine(true, Epoch{0}, &clock);
  REQUIRE(get(e->start()));
  auto sent = e->send_text(kRoom, "patience");
  REQUIRE(eventually([&] { return s.relay.sends().size() == 1; }));
  clock.advance_ms(kSendRetryDelayMs - 1);
  std::this_thread::sleep_for(300ms);
  CHECK(s.relay.sends().size() == 1);
  CHECK(get(e->outbox())->size() == 1);
  clock.advance_ms(1);
  auto r = get(std::move(sent));
  REQUIRE(r);
  const auto sends = s.relay.sends();
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].envelope_id == sends[1].envelope_id);
  e->stop();
}

TEST_CASE("engine session: a refused login is final, with no reconnect loop", "[client][session]") {
  Setup s;
  s.relay.refuse_login = true;
  auto e = s.engine(/*reconnect=*/true);
  auto r = get(e->start());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::AuthFailed);
  REQUIRE(r.error().relay);
  CHECK(r.error().relay->code == wire::ErrorCode::AuthFailed);
  std::this_thread::sleep_for(500ms);
  CHECK(s.relay.connects() == 1);
  e->stop();
}

TEST_CASE("engine session: the login proof verifies over this connection's exporter", "[client][session]") {
  Setup s;
  auto e = s.engine();
  // The fake relay checks the signature against login_transcript(challenge,
  // exporter, account) with the device's public key; a wrong key fails.
  REQUIRE(get(e->start()));
  e->stop();
  Setup other;  // a relay that knows another key for the same account
  test::FakeRelay wrong_key{kSelf, Bytes(other.key.public_key.begin(), other.key.public_key.end()), kRoom};
  auto store = std::make_unique<MemoryStore>();
  REQUIRE(store->save_profile(ProfileInfo{"fake", 1, Bytes(32, 1), kSelf, "dr-a"}));
  REQUIRE(store->save_identity_seed(crypto::ed25519_seed(s.key).view()));
  EngineOptions o;
  o.reconnect = false;
  o.transport = wrong_key.factory();
  Engine e2(std::move(store), o);
  auto r = get(e2.start());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::AuthFailed);
}

TEST_CASE("engine session: a handshake adding us to a new room joins it at the next epoch", "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  const RoomId fresh{Bytes(20, 0x31)};
  wire::Deliver d;
  d.room = fresh;
  d.seq = Seq{5};
  d.kind = wire::EnvelopeKind::Handshake;
  d.sender = kPeer;
  d.envelope_id = EnvelopeId{Bytes(16, 0x77)};
  d.epoch = Epoch{4};
  d.payload = to_bytes("opaque");
  d.roster_changes = {wire::RosterChange{wire::RosterOp::Add, kSelf, wire::Role::Member}};
  s.relay.push(d);
  auto events = drain(*e, [](const auto& v) { return count<RoomJoined>(v) >= 1; });
  REQUIRE(count<RoomJoined>(events) == 1);
  CHECK(count<RosterChanged>(events) == 1);
  auto rooms = get(e->rooms());
  REQUIRE(rooms);
  bool found = false;
  for (const auto& r : *rooms) {
    if (r.room == fresh) {
      found = true;
      CHECK(r.epoch.v == 5);
      CHECK(r.cursor.v == 5);
    }
  }
  CHECK(found);
  e->stop();
}

TEST_CASE("engine session: our own envelope is history, not a received message, and its echo is acknowledged",
          "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto sent = get(e->send_text(kRoom, "mine"));
  REQUIRE(sent);
  auto history = get(e->history(kRoom, Seq{}, 10));
  REQUIRE(history);
  REQUIRE(history->size() == 1);
  CHECK(to_string_bytes((*history)[0].payload) == "mine");
  CHECK((*history)[0].sender == kSelf);
  wire::Deliver echo = app(sent->seq.v, "mine");
  echo.sender = kSelf;
  echo.envelope_id = sent->envelope_id;
  s.relay.push(echo);
  s.relay.push(app(sent->seq.v + 1, "theirs"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 1; });
  auto more = drain(*e, [](const auto&) { return false; }, 200ms);
  events.insert(events.end(), more.begin(), more.end());
  REQUIRE(count<MessageReceived>(events) == 1);
  for (const auto& ev : events) {
    if (const auto* m = std::get_if<MessageReceived>(&ev)) CHECK(to_string_bytes(m->payload) == "theirs");
  }
  REQUIRE(eventually([&] { return s.relay.acked_cursor() == sent->seq.v + 1; }));
  e->stop();
}

TEST_CASE("engine session: acks left from a dropped connection wait for the next login", "[client][session]") {
  Setup s;
  ManualClock clock;
  auto e = s.engine(true, Epoch{0}, &clock);
  REQUIRE(get(e->start()));
  // Live envelopes, fewer than a batch and before the delay: not acked yet.
  s.relay.push(app(1, "a"));
  s.relay.push(app(2, "b"));
  s.relay.push(app(3, "c"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 3; });
  REQUIRE(count<MessageReceived>(events) == 3);
  CHECK(s.relay.acks().empty());
  s.relay.with_lock([](test::FakeRelay& r) { r.hold_login = true; });
  e->drop_connection();
  REQUIRE(eventually([&] { return s.relay.connects() == 2; }));
  clock.advance_ms(kAckDelayMs);      // the leftover Ack is due now...
  std::this_thread::sleep_for(300ms);  // ...over several ticks, while login waits
  CHECK(s.relay.pre_login_frames() == 0);
  s.relay.release_login();
  REQUIRE(eventually([&] { return s.relay.acked_cursor() == 3; }));
  CHECK(s.relay.pre_login_frames() == 0);
  e->stop();
}

TEST_CASE("engine keys: after sync the relay holds a full stock of our KeyPackages and a last resort",
          "[client][engine][keys]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto stock = get(e->top_up_key_packages());  // joins the top-up that followed the sync
  REQUIRE(stock);
  CHECK(stock->relay_stock == kKeyPackageTarget);
  const auto published = s.relay.key_packages();
  REQUIRE(published.size() == kKeyPackageTarget);
  REQUIRE(s.relay.last_resort());
  const Bytes pub(s.key.public_key.begin(), s.key.public_key.end());
  std::set<Bytes> refs;
  for (const auto& kp : published) {
    auto checked = mls::check_account_key_package(kp, kSelf.v, pub, std::nullopt);
    REQUIRE(checked);
    refs.insert(Bytes(checked->ref.begin(), checked->ref.end()));
  }
  CHECK(refs.size() == kKeyPackageTarget);
  // A second top-up with the stock full publishes nothing.
  auto again = get(e->top_up_key_packages());
  REQUIRE(again);
  CHECK(again->added == 0);
  CHECK_FALSE(again->last_resort);
  CHECK(s.relay.key_packages() == published);
}

TEST_CASE("engine keys: a stock below the low-water mark is refilled, a refusal is an error event",
          "[client][engine][keys]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  REQUIRE(get(e->top_up_key_packages()));
  const auto last_resort = s.relay.last_resort();
  // Others added us: at the low-water mark nothing happens, below it a refill.
  for (std::uint32_t i = 0; i < kKeyPackageTarget - kKeyPackageLowWater; ++i) s.relay.take_key_package();
  auto at_mark = get(e->top_up_key_packages());
  REQUIRE(at_mark);
  CHECK(at_mark->added == 0);
  s.relay.take_key_package();
  auto refill = get(e->top_up_key_packages());
  REQUIRE(refill);
  CHECK(refill->added == kKeyPackageTarget - kKeyPackageLowWater + 1);
  CHECK(refill->relay_stock == kKeyPackageTarget);
  CHECK(s.relay.key_packages().size() == kKeyPackageTarget);
  CHECK(s.relay.last_resort() == last_resort);  // still far from expiry: kept

  s.relay.with_lock([](test::FakeRelay& r) { r.refuse_key_packages = true; });
  for (std::uint32_t i = 0; i < kKeyPackageTarget; ++i) s.relay.take_key_package();
  auto refused = get(e->top_up_key_packages());
  REQUIRE_FALSE(refused);
  REQUIRE(refused.error().relay);
  CHECK(refused.error().relay->code == wire::ErrorCode::InvalidKeyPackage);
  std::vector<Event> events;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool saw_error = false;
  while (!saw_error && std::chrono::steady_clock::now() < deadline) {
    if (auto ev = e->events().wait_pop(20ms)) {
      if (const auto* err = std::get_if<ErrorEvent>(&*ev)) {
        saw_error = err->error.relay && err->error.relay->code == wire::ErrorCode::InvalidKeyPackage;
      }
    }
  }
  CHECK(saw_error);
  // The engine keeps serving: a send still goes through.
  CHECK(get(e->send_text(kRoom, "still here")));
}
