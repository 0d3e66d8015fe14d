// SPDX-License-Identifier: Apache-2.0
// The engine's session logic against a scripted relay over MemoryTransport:
// ack batching, duplicate dropping, re-sending with the same envelope id,
// epoch refresh, login proof and final refusals. No sockets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "client/core/ack_batcher.h"
#include "client/core/engine.h"
#include "client/core/key_packages.h"
#include "client/core/memory_store.h"
#include "client/core/sqlite_store.h"
#include "tests/support/profile.h"
#include "tests/support/temp_dir.h"
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

constexpr std::uint64_t kNowS = 1'900'000'000;

Bytes key_bytes(const crypto::SigningKey& k) { return Bytes(k.public_key.begin(), k.public_key.end()); }

/// A Content with a text, as a sender encodes it before encrypting.
Bytes text_content(std::string_view text, Rng& rng) {
  return encode_content(Content{new_content_id(rng), 1, ContentText{std::string(text), std::nullopt}});
}

std::string text_of(const Content& c) {
  const auto* t = std::get_if<ContentText>(&c.body);
  return t != nullptr ? t->text : std::string("(not a text)");
}

/// The device (kSelf) and a peer (kPeer) in kRoom at epoch 1: the device
/// created the room and added the peer, who writes the messages the tests
/// deliver and the commits that move the room on.
struct Setup {
  crypto::SystemRng rng;
  crypto::SigningKey key = crypto::ed25519_generate();
  crypto::SigningKey peer_key = crypto::ed25519_generate();
  test::FakeRelay relay{kSelf, key_bytes(key), kRoom};
  std::optional<RoomGroup> peer;
  Bytes device_state;
  std::map<std::uint64_t, Bytes> sealed;  // seq -> ciphertext: a redelivery is the same bytes

  Setup() {
    auto group = RoomGroup::create(kRoom, kSelf, key, kNowS, rng);
    REQUIRE(group);
    auto made = make_key_package(kPeer, peer_key, false, kNowS, KeyPackagePolicy{}, rng);
    auto add = group->add({wire::KeyPackageOk{kPeer, key_bytes(peer_key), made.published, false}}, rng, kNowS);
    REQUIRE(add);
    device_state = add->next.save();
    auto joined = RoomGroup::join(add->welcomes.at(0).welcome, kPeer, peer_key, {made.stored}, kNowS);
    REQUIRE(joined);
    peer.emplace(std::move(joined->group));
    relay.epoch = 1;
  }

  /// The peer's message `text` as the relay delivers it at `seq`.
  wire::Deliver app(std::uint64_t seq, std::string_view text) {
    wire::Deliver d;
    d.room = kRoom;
    d.seq = Seq{seq};
    d.kind = wire::EnvelopeKind::Application;
    d.sender = kPeer;
    d.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(seq))};
    d.epoch = Epoch{peer->epoch()};
    d.timestamp_ms = 1;
    auto it = sealed.find(seq);
    if (it == sealed.end()) {
      auto ct = peer->encrypt(text_content(text, rng), rng);
      REQUIRE(ct);
      it = sealed.emplace(seq, std::move(*ct)).first;
    }
    d.payload = it->second;
    return d;
  }

  /// A commit by the peer (refreshing its keys) as the relay delivers it;
  /// the peer moves on to the next epoch when `adopt`.
  wire::Deliver peer_commit(std::uint64_t seq, bool adopt = true) {
    auto c = peer->refresh(rng, kNowS);
    REQUIRE(c);
    wire::Deliver d;
    d.room = kRoom;
    d.seq = Seq{seq};
    d.kind = wire::EnvelopeKind::Handshake;
    d.sender = kPeer;
    d.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(0x80 + seq))};
    d.epoch = Epoch{peer->epoch()};
    d.payload = c->commit;
    d.roster_changes = c->roster;
    if (adopt) peer.emplace(std::move(c->next));
    return d;
  }

  /// Writes the device's profile and its room into `store`.
  void seed(LocalStore& store) {
    REQUIRE(store.save_profile(ProfileInfo{"fake", 1, Bytes(32, 1), kSelf, "dr-a"}));
    REQUIRE(store.save_identity_seed(crypto::ed25519_seed(key).view()));
    REQUIRE(store.put_room(RoomRecord{kRoom, Epoch{1}, wire::Role::Facilitator, RoomStatus::Active, Seq{}}));
    REQUIRE(store.put_group_state(kRoom, device_state));
  }

  std::unique_ptr<Engine> engine(bool reconnect = true, const Clock* clock = nullptr, KeyRefreshPolicy refresh = {}) {
    auto store = std::make_unique<MemoryStore>();
    seed(*store);
    return engine_on(std::move(store), reconnect, clock, refresh);
  }

  /// An engine on a store of the test's (seeded already, or from before).
  std::unique_ptr<Engine> engine_on(std::unique_ptr<LocalStore> store, bool reconnect = true,
                                    const Clock* clock = nullptr, KeyRefreshPolicy refresh = {}) {
    EngineOptions o;
    o.reconnect = reconnect;
    o.transport = relay.factory();
    o.connect_timeout = 2s;
    o.request_timeout = 5s;
    o.clock = clock;
    o.key_refresh = refresh;
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
  for (std::uint64_t i = 1; i <= kBacklog; ++i) s.relay.backlog.push_back(s.app(i, "m"));
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
  auto e = s.engine(true, &clock);
  REQUIRE(get(e->start()));
  s.relay.push(s.app(1, "a"));
  s.relay.push(s.app(2, "b"));
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
  auto e = s.engine(true, &clock);
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
  auto e = s.engine(true, &clock);
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
  s.relay.backlog = {s.app(1, "one"), s.app(2, "two"), s.app(2, "two"), s.app(1, "one"), s.app(3, "three")};
  auto e = s.engine();
  REQUIRE(get(e->start()));
  s.relay.push(s.app(3, "three"));  // live duplicate of a backlog envelope
  s.relay.push(s.app(4, "four"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 4; });
  auto more = drain(*e, [](const auto&) { return false; }, 300ms);
  events.insert(events.end(), more.begin(), more.end());
  CHECK(count<MessageReceived>(events) == 4);
  auto history = get(e->history(kRoom, Seq{}, 100));
  REQUIRE(history);
  CHECK(history->size() == 4);
  e->stop();
}

TEST_CASE("engine session: the message that makes the engine load a conversation is taken once", "[client][session]") {
  // The first message of a run is stored, then the conversation is rebuilt
  // from the history (which holds it now), then the message is taken live.
  Setup s;
  s.relay.backlog = {s.app(1, "first of the run")};
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 1; });
  auto more = drain(*e, [](const auto&) { return false; }, 300ms);
  events.insert(events.end(), more.begin(), more.end());
  CHECK(count<MessageReceived>(events) == 1);
  CHECK(count<MessageRefused>(events) == 0);
  auto view = get(e->conversation(kRoom));
  REQUIRE(view);
  CHECK(view->entries.size() == 1);
  // Our own first send takes the same path: stored, then taken once.
  REQUIRE(get(e->send_text(kRoom, "and ours")));
  auto after = drain(*e, [](const auto&) { return false; }, 300ms);
  CHECK(count<MessageRefused>(after) == 0);
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

TEST_CASE("engine session: a send is an MLS message of the room's current epoch, padded", "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto sent = get(e->send_text(kRoom, "hi"));
  REQUIRE(sent);
  const auto sends = s.relay.sends();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].epoch.v == 1);
  // Not the text: the peer opens it, the relay only forwards it.
  CHECK(std::search(sends[0].payload.begin(), sends[0].payload.end(), std::begin("hi"), std::end("hi") - 1) ==
        sends[0].payload.end());
  auto opened = s.peer->decrypt(sends[0].payload);
  REQUIRE(opened);
  CHECK(opened->sender == kSelf);
  auto content = decode_content(opened->content);
  REQUIRE(content);
  CHECK(text_of(*content) == "hi");
  e->stop();
}

TEST_CASE("engine session: StaleEpoch waits for the commit, then encrypts the plaintext again", "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  s.relay.with_lock([](test::FakeRelay& r) { r.epoch = 2; });  // a commit we have not seen yet
  auto pending = e->send_text(kRoom, "hi");
  REQUIRE(eventually([&] { return s.relay.sends().size() == 1; }));
  std::this_thread::sleep_for(100ms);
  CHECK(s.relay.sends().size() == 1);  // nothing re-sent before the commit arrived
  s.relay.push(s.peer_commit(1));
  auto sent = get(std::move(pending));
  INFO((sent ? std::string() : sent.error().describe()));
  REQUIRE(sent);
  const auto sends = s.relay.sends();
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].epoch.v == 1);
  CHECK(sends[1].epoch.v == 2);
  CHECK(sends[0].envelope_id == sends[1].envelope_id);
  CHECK(sends[0].payload != sends[1].payload);
  // Only the new epoch's keys open it.
  auto opened = s.peer->decrypt(sends[1].payload);
  REQUIRE(opened);
  CHECK(text_of(decode_content(opened->content).value()) == "hi");
  e->stop();
}

TEST_CASE("engine session: after kMaxEpochRetries stale epochs the send fails and leaves the outbox",
          "[client][session]") {
  Setup s;
  s.relay.always_stale = true;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto pending = e->send_text(kRoom, "never");
  // Each refusal is answered once the next commit arrived, until the bound.
  std::uint64_t seq = 1;
  for (int i = 1; i <= kMaxEpochRetries; ++i) {
    REQUIRE(eventually([&] { return s.relay.sends().size() == static_cast<std::size_t>(i); }));
    s.relay.push(s.peer_commit(seq++));
  }
  auto sent = get(std::move(pending));
  REQUIRE_FALSE(sent);
  REQUIRE(sent.error().relay);
  CHECK(sent.error().relay->code == wire::ErrorCode::StaleEpoch);
  CHECK(s.relay.sends().size() == static_cast<std::size_t>(kMaxEpochRetries) + 1);
  CHECK(get(e->outbox())->empty());
  auto events = drain(*e, [](const auto& v) { return count<SendFailed>(v) >= 1; });
  CHECK(count<SendFailed>(events) == 1);
  e->stop();
}

TEST_CASE("engine session: a stale send whose commit never arrives fails after the request timeout",
          "[client][session]") {
  Setup s;
  s.relay.always_stale = true;
  ManualClock clock;
  auto e = s.engine(true, &clock);
  REQUIRE(get(e->start()));
  auto pending = e->send_text(kRoom, "stuck");
  REQUIRE(eventually([&] { return s.relay.sends().size() == 1; }));
  clock.advance_ms(4'000);
  std::this_thread::sleep_for(200ms);
  CHECK(get(e->outbox())->size() == 1);  // still waiting for the commit
  clock.advance_ms(1'100);               // past request_timeout (5 s)
  auto sent = get(std::move(pending));
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ClientCode::Refused);
  CHECK(s.relay.sends().size() == 1);
  e->stop();
}

TEST_CASE("engine session: RateLimited keeps the envelope and retries after kSendRetryDelayMs", "[client][session]") {
  Setup s;
  s.relay.rate_limit_sends = 1;
  ManualClock clock;
  auto e = s.engine(true, &clock);
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

TEST_CASE("engine session: a commit and Welcome adding us join the room, and the KeyPackage goes",
          "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  REQUIRE(eventually([&] { return !s.relay.key_packages().empty(); }));
  const auto published = s.relay.key_packages().front();
  // The peer creates a room of its own and adds us with one of our KeyPackages.
  const RoomId fresh{Bytes(20, 0x31)};
  auto theirs = RoomGroup::create(fresh, kPeer, s.peer_key, kNowS, s.rng);
  REQUIRE(theirs);
  auto add = theirs->add({wire::KeyPackageOk{kSelf, key_bytes(s.key), published, false}}, s.rng,
                         static_cast<std::uint64_t>(std::time(nullptr)));
  REQUIRE(add);
  wire::Deliver commit;
  commit.room = fresh;
  commit.seq = Seq{5};
  commit.kind = wire::EnvelopeKind::Handshake;
  commit.sender = kPeer;
  commit.envelope_id = EnvelopeId{Bytes(16, 0x77)};
  commit.epoch = Epoch{0};
  commit.payload = add->commit;
  wire::Deliver welcome = commit;
  welcome.seq = Seq{6};
  welcome.kind = wire::EnvelopeKind::Welcome;
  welcome.envelope_id = EnvelopeId{Bytes(16, 0x78)};
  welcome.payload = add->welcomes.at(0).welcome;
  s.relay.push(commit);
  s.relay.push(welcome);
  auto events = drain(*e, [](const auto& v) { return count<RoomJoined>(v) >= 1; });
  REQUIRE(count<RoomJoined>(events) == 1);
  CHECK(count<DecryptionFailed>(events) == 0);
  auto rooms = get(e->rooms());
  REQUIRE(rooms);
  bool found = false;
  for (const auto& r : *rooms) {
    if (r.room == fresh) {
      found = true;
      CHECK(r.epoch.v == 1);
      CHECK(r.cursor.v == 6);
      CHECK(r.role == wire::Role::Member);
    }
  }
  CHECK(found);
  auto members = get(e->members(fresh));
  REQUIRE(members);
  CHECK(members->size() == 2);
  // The same safety code on both sides of the new epoch.
  RoomGroup peers = std::move(add->next);
  CHECK(get(e->safety_code(fresh)).value() == peers.safety_code());
  // And the room reads: a message from the peer opens.
  auto ct = peers.encrypt(text_content("welcome", s.rng), s.rng);
  REQUIRE(ct);
  wire::Deliver hello = commit;
  hello.seq = Seq{7};
  hello.kind = wire::EnvelopeKind::Application;
  hello.envelope_id = EnvelopeId{Bytes(16, 0x79)};
  hello.epoch = Epoch{1};
  hello.payload = *ct;
  s.relay.push(hello);
  auto read = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 1; });
  REQUIRE(count<MessageReceived>(read) == 1);
  for (const auto& ev : read) {
    if (const auto* m = std::get_if<MessageReceived>(&ev)) CHECK(text_of(m->content) == "welcome");
  }
  e->stop();
}

TEST_CASE("engine session: a forged commit and a misattributed message are events, the room keeps working",
          "[client][session]") {
  Setup s;
  auto e = s.engine();
  REQUIRE(get(e->start()));
  auto forged = s.peer_commit(1, /*adopt=*/false);
  forged.payload[forged.payload.size() / 2] ^= 0x01;

  s.relay.push(forged);
  auto misnamed = s.app(2, "who sent this");
  misnamed.sender = AccountId{Bytes(16, 0x09)};
  s.relay.push(misnamed);
  s.relay.push(s.app(3, "still here"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 1; });
  CHECK(count<DecryptionFailed>(events) == 2);
  REQUIRE(count<MessageReceived>(events) == 1);
  for (const auto& ev : events) {
    if (const auto* f = std::get_if<DecryptionFailed>(&ev)) CHECK_FALSE(f->reason.empty());
  }
  // Neither the forged commit nor the misattributed message left text behind.
  auto history = get(e->history(kRoom, Seq{}, 10));
  REQUIRE(history);
  for (const auto& env : *history) {
    if (env.seq.v == 2) CHECK(env.payload.empty());
  }
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
  CHECK(text_of(decode_content((*history)[0].payload).value()) == "mine");
  CHECK((*history)[0].sender == kSelf);
  wire::Deliver echo = s.app(sent->seq.v, "mine");  // bytes we cannot open: it is not read again
  echo.sender = kSelf;
  echo.envelope_id = sent->envelope_id;
  s.relay.push(echo);
  s.relay.push(s.app(sent->seq.v + 1, "theirs"));
  auto events = drain(*e, [](const auto& v) { return count<MessageReceived>(v) >= 1; });
  auto more = drain(*e, [](const auto&) { return false; }, 200ms);
  events.insert(events.end(), more.begin(), more.end());
  REQUIRE(count<MessageReceived>(events) == 1);
  for (const auto& ev : events) {
    if (const auto* m = std::get_if<MessageReceived>(&ev)) CHECK(text_of(m->content) == "theirs");
  }
  REQUIRE(eventually([&] { return s.relay.acked_cursor() == sent->seq.v + 1; }));
  e->stop();
}

TEST_CASE("engine session: acks left from a dropped connection wait for the next login", "[client][session]") {
  Setup s;
  ManualClock clock;
  auto e = s.engine(true, &clock);
  REQUIRE(get(e->start()));
  // Live envelopes, fewer than a batch and before the delay: not acked yet.
  s.relay.push(s.app(1, "a"));
  s.relay.push(s.app(2, "b"));
  s.relay.push(s.app(3, "c"));
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

TEST_CASE("engine keys: after kKeyRefreshMessages sends our keys are refreshed with a commit the room applies",
          "[client][session]") {
  Setup s;
  auto e = s.engine(true, nullptr, KeyRefreshPolicy{kKeyRefreshInterval, 3});
  REQUIRE(get(e->start()));
  for (int i = 0; i < 2; ++i) REQUIRE(get(e->send_text(kRoom, "m" + std::to_string(i))));
  std::this_thread::sleep_for(200ms);
  CHECK(s.relay.bundles().empty());  // not yet
  REQUIRE(get(e->send_text(kRoom, "third")));
  REQUIRE(eventually([&] { return s.relay.bundles().size() == 1; }));
  const auto bundle = s.relay.bundles()[0];
  CHECK(bundle.epoch.v == 1);
  CHECK(bundle.welcomes.empty());
  // A commit with a path the peer accepts: the room moves on together.
  auto change = s.peer->apply(bundle.handshake, kNowS);
  REQUIRE(change);
  CHECK(change->committer == kSelf);
  CHECK(change->roster.empty());
  REQUIRE(eventually([&] { return get(e->rooms())->at(0).epoch.v == 2; }));
  CHECK(get(e->safety_code(kRoom)).value() == change->next.safety_code());
  // The count starts again.
  REQUIRE(get(e->send_text(kRoom, "after")));
  std::this_thread::sleep_for(200ms);
  CHECK(s.relay.bundles().size() == 1);
  e->stop();
}

TEST_CASE("engine keys: a room whose keys are older than the refresh interval gets a commit", "[client][session]") {
  Setup s;
  ManualClock clock;
  clock.set_ms(1'000'000);
  auto e = s.engine(true, &clock, KeyRefreshPolicy{std::chrono::hours(2), kKeyRefreshMessages});
  REQUIRE(get(e->start()));
  std::this_thread::sleep_for(200ms);
  CHECK(s.relay.bundles().empty());  // the clock starts at the first look
  clock.advance_ms(2 * 3'600'000);
  REQUIRE(eventually([&] { return s.relay.bundles().size() == 1; }));
  auto change = s.peer->apply(s.relay.bundles()[0].handshake, kNowS);
  REQUIRE(change);
  CHECK(change->committer == kSelf);
  e->stop();
}

TEST_CASE("engine session: our commit the relay took just before a crash is adopted from its echo after restart",
          "[client][session]") {
  Setup t;
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  auto open_store = [&]() -> std::unique_ptr<LocalStore> {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    return std::move(*s);
  };
  {
    auto store = open_store();
    t.seed(*store);
    t.relay.drop_first_bundle = true;
    auto e = t.engine_on(std::move(store), false);
    REQUIRE(get(e->start()));
    auto refreshed = get(e->refresh_keys(kRoom));
    REQUIRE_FALSE(refreshed);  // the answer never came
    CHECK(refreshed.error().code == ClientCode::Disconnected);
    e->stop();
  }
  const auto bundles = t.relay.bundles();
  REQUIRE(bundles.size() == 1);
  // The relay took it: the room is at epoch 2, and the peer went along.
  auto applied = t.peer->apply(bundles[0].handshake, kNowS);
  REQUIRE(applied);
  t.peer.emplace(std::move(applied->next));
  wire::Deliver echo;
  echo.room = kRoom;
  echo.seq = Seq{5};
  echo.kind = wire::EnvelopeKind::Handshake;
  echo.sender = kSelf;
  echo.envelope_id = bundles[0].envelope_id;
  echo.epoch = Epoch{1};
  echo.payload = bundles[0].handshake;
  t.relay.backlog = {echo, t.app(6, "at epoch 2")};

  auto e = t.engine_on(open_store(), false);
  REQUIRE(get(e->start()));
  auto seen = drain(*e, [](const std::vector<Event>& v) {
    return std::any_of(v.begin(), v.end(), [](const Event& ev) { return std::holds_alternative<MessageReceived>(ev); });
  });
  const auto received = std::find_if(seen.begin(), seen.end(),
                                     [](const Event& ev) { return std::holds_alternative<MessageReceived>(ev); });
  REQUIRE(received != seen.end());
  CHECK(text_of(std::get<MessageReceived>(*received).content) == "at epoch 2");
  CHECK(std::none_of(seen.begin(), seen.end(), [](const Event& ev) { return std::holds_alternative<DecryptionFailed>(ev); }));
  auto code = get(e->safety_code(kRoom));
  REQUIRE(code);
  CHECK(*code == t.peer->safety_code());
  e->stop();
  // Adopted: nothing of it is left waiting in the profile.
  CHECK_FALSE(open_store()->pending_change(kRoom).value());
}
