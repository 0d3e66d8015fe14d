// SPDX-License-Identifier: Apache-2.0
// The engine without a relay: the outbox, input bounds, invites and the
// shutdown contract. Everything with a relay is in tests/integration/client.
#include <catch2/catch.hpp>

#include "client/core/engine.h"
#include "client/core/memory_store.h"
#include "client/core/sqlite_store.h"
#include "tests/support/profile.h"
#include "tests/support/temp_dir.h"

using namespace hearth;
using namespace hearth::client;
using namespace std::chrono_literals;

namespace {

const RoomId kRoom{Bytes(32, 0x42)};

template <class T>
T get(std::future<T>& f) {
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

template <class T>
T get(std::future<T>&& f) {
  return get(f);
}

/// Puts kRoom's group (a room of our own, epoch 0) into `s` for the
/// identity in it, so sends can be encrypted.
void seed_room(LocalStore& s) {
  auto seed = s.identity_seed();
  REQUIRE(seed);
  if (!*seed) {
    REQUIRE(s.save_identity_seed(Bytes(32, 5)));
    seed = s.identity_seed();
  }
  auto key = crypto::ed25519_from_seed(**seed);
  REQUIRE(key);
  crypto::SystemRng rng;
  auto group = RoomGroup::create(kRoom, AccountId{Bytes(16, 7)}, *key, 1'900'000'000, rng);
  REQUIRE(group);
  REQUIRE(s.put_group_state(kRoom, group->save()));
  REQUIRE(s.put_room(RoomRecord{kRoom, Epoch{0}, wire::Role::Facilitator, RoomStatus::Active, Seq{}}));
}

std::string text_in(BytesView payload) {
  auto c = decode_content(payload);
  REQUIRE(c);
  const auto* t = std::get_if<ContentText>(&c->body);
  REQUIRE(t);
  return t->text;
}

// A registered profile with one room, never connected (nothing listens on the
// relay address; the engine is not started unless a test says so).
std::unique_ptr<MemoryStore> registered_store() {
  auto s = std::make_unique<MemoryStore>();
  REQUIRE(s->save_profile(ProfileInfo{"127.0.0.1", 1, Bytes(32, 1), AccountId{Bytes(16, 7)}, "dr-a"}));
  REQUIRE(s->save_identity_seed(Bytes(32, 5)));
  seed_room(*s);
  return s;
}

EngineOptions one_shot() {
  EngineOptions o;
  o.reconnect = false;
  o.connect_timeout = 2'000ms;
  o.profile_kdf = test::kTestKdf;
  return o;
}

}  // namespace

TEST_CASE("engine: a send while offline waits in the outbox, stop fails the wait, not the message",
          "[client][engine]") {
  Engine engine(registered_store(), one_shot());
  auto sent = engine.send_text(kRoom, "hello");
  CHECK(sent.wait_for(200ms) == std::future_status::timeout);
  auto pending = get(engine.outbox());
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  CHECK((*pending)[0].room == kRoom);
  CHECK(text_in((*pending)[0].payload) == "hello");  // the plaintext, until it is sent
  CHECK((*pending)[0].envelope_id.v.size() == wire::kEnvelopeIdSize);
  engine.stop();
  auto r = get(sent);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::Stopped);
}

TEST_CASE("engine: the outbox survives an engine restart with the same envelope id", "[client][engine]") {
  test::TempDir dir;
  EnvelopeId first_id;
  {
    auto e = Engine::open_profile(dir.path(), test::kTestPassphrase, one_shot());
    REQUIRE(e);
    // Seed the profile through a store of its own before the engine uses it.
  }
  {
    auto s = SqliteStore::open(dir.path() / kProfileDbName, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->save_profile(ProfileInfo{"127.0.0.1", 1, Bytes(32, 1), AccountId{Bytes(16, 7)}, "dr-a"}));
    seed_room(**s);
  }
  {
    auto e = Engine::open_profile(dir.path(), test::kTestPassphrase, one_shot());
    REQUIRE(e);
    auto f = (*e)->send_text(kRoom, "survives");
    auto pending = get((*e)->outbox());
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    first_id = (*pending)[0].envelope_id;
    (*e)->stop();
  }
  auto e = Engine::open_profile(dir.path(), test::kTestPassphrase, one_shot());
  REQUIRE(e);
  auto pending = get((*e)->outbox());
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  CHECK((*pending)[0].envelope_id == first_id);
  CHECK(text_in((*pending)[0].payload) == "survives");
}

TEST_CASE("engine: sends are bounded: empty, too long, unknown room, full outbox", "[client][engine]") {
  Engine engine(registered_store(), one_shot());
  auto empty = get(engine.send_text(kRoom, ""));
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == ClientCode::InvalidArgument);

  auto too_long = get(engine.send_text(kRoom, std::string(kMaxTextSize + 1, 'x')));
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == ClientCode::InvalidArgument);
  // Exactly at the bound is accepted (queued).
  auto at_bound = engine.send_text(kRoom, std::string(kMaxTextSize, 'x'));
  CHECK(at_bound.wait_for(100ms) == std::future_status::timeout);

  auto unknown = get(engine.send_text(RoomId{Bytes(32, 0x99)}, "hi"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ClientCode::InvalidArgument);

  std::vector<std::future<ClientResult<SendReceipt>>> queued;
  for (std::size_t i = 1; i < kMaxOutboxSize; ++i) queued.push_back(engine.send_text(kRoom, "m"));
  auto pending = get(engine.outbox());
  REQUIRE(pending);
  CHECK(pending->size() == kMaxOutboxSize);
  auto full = get(engine.send_text(kRoom, "one too many"));
  REQUIRE_FALSE(full);
  CHECK(full.error().code == ClientCode::InvalidArgument);
  CHECK(full.error().detail.find("outbox full") != std::string::npos);
  engine.stop();
}

TEST_CASE("engine: registration checks the invite and the handle before connecting", "[client][engine]") {
  Engine engine(std::make_unique<MemoryStore>(), one_shot());
  auto bad_invite = get(engine.register_account("https://not-an-invite", "dr-a"));
  REQUIRE_FALSE(bad_invite);
  CHECK(bad_invite.error().code == ClientCode::InvalidInvite);

  const std::string invite = "hearth://127.0.0.1:1/?pin=" + std::string(64, 'a') + "&token=tok";
  auto no_handle = get(engine.register_account(invite, ""));
  REQUIRE_FALSE(no_handle);
  CHECK(no_handle.error().code == ClientCode::InvalidArgument);
  auto long_handle = get(engine.register_account(invite, std::string(wire::kMaxHandleSize + 1, 'h')));
  REQUIRE_FALSE(long_handle);
  CHECK(long_handle.error().code == ClientCode::InvalidArgument);
}

TEST_CASE("engine: registering a registered profile is refused", "[client][engine]") {
  Engine engine(registered_store(), one_shot());
  auto r = get(engine.register_account("hearth://127.0.0.1:1/?pin=" + std::string(64, 'a') + "&token=tok", "dr-b"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::AlreadyRegistered);
}

TEST_CASE("engine: start without registration is NotRegistered, unreachable relay is a Connect error",
          "[client][engine]") {
  {
    Engine engine(std::make_unique<MemoryStore>(), one_shot());
    auto r = get(engine.start());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ClientCode::NotRegistered);
  }
  Engine engine(registered_store(), one_shot());  // relay at 127.0.0.1:1: nothing listens
  auto r = get(engine.start());
  REQUIRE_FALSE(r);
  INFO(r.error().describe());
  CHECK((r.error().code == ClientCode::Connect || r.error().code == ClientCode::Timeout));
  bool saw_offline = false;
  while (auto e = engine.events().try_pop()) {
    if (const auto* c = std::get_if<ConnectionChanged>(&*e); c && c->state == ConnectionState::Offline) {
      saw_offline = true;
      CHECK_FALSE(c->reason.empty());
    }
  }
  CHECK(saw_offline);
}

TEST_CASE("engine: requests need a connection, every call after stop is Stopped", "[client][engine]") {
  Engine engine(registered_store(), one_shot());
  auto roster = get(engine.roster(kRoom));
  REQUIRE_FALSE(roster);
  CHECK(roster.error().code == ClientCode::Disconnected);
  engine.stop();
  engine.stop();  // idempotent
  auto after = get(engine.rooms());
  REQUIRE_FALSE(after);
  CHECK(after.error().code == ClientCode::Stopped);
  auto send = get(engine.send_text(kRoom, "late"));
  REQUIRE_FALSE(send);
  CHECK(send.error().code == ClientCode::Stopped);
}

TEST_CASE("engine: profile and rooms read the local store", "[client][engine]") {
  Engine engine(registered_store(), one_shot());
  auto p = get(engine.profile());
  REQUIRE(p);
  REQUIRE(*p);
  CHECK((*p)->handle == "dr-a");
  auto rooms = get(engine.rooms());
  REQUIRE(rooms);
  REQUIRE(rooms->size() == 1);
  CHECK((*rooms)[0].room == kRoom);
  auto history = get(engine.history(kRoom, Seq{}, 10));
  REQUIRE(history);
  CHECK(history->empty());
}
