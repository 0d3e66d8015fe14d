// SPDX-License-Identifier: Apache-2.0
// The real hearth-relay over TLS: start-up, framing, versions, authentication.
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "common/wire/auth.h"
#include "common/wire/codec.h"
#include "common/wire/framing.h"
#include "common/wire/invite.h"
#include "server/core/limits.h"
#include "tests/integration/relay/relay_fixture.h"
#include "tests/support/key_packages.h"

using namespace hearth;
using namespace hearth::test;
using wire::ErrorCode;

TEST_CASE("relay announces its port and pin, and keeps its certificate across restarts", "[relay][startup]") {
  RelayFixture f;
  REQUIRE(f.relay->port() != 0);
  REQUIRE(std::regex_match(f.relay->spki_hex(), std::regex("[0-9a-f]{64}")));
  const std::string pin = f.relay->spki_hex();
  struct stat st {};
  REQUIRE(::stat((f.tmp.path() / "data" / "tls" / "key.pem").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);

  auto r = run_process({relay_binary().string(), "invite", "--data-dir", (f.tmp.path() / "data").string(), "--count",
                        "3", "--public-host", "relay.example.org", "--public-port", "7443"});
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto invite = wire::parse_invite(line);
    REQUIRE(invite);
    REQUIRE(invite->host == "relay.example.org");
    REQUIRE(invite->port == 7443);
    REQUIRE(to_hex(invite->spki_pin) == pin);
    ++n;
  }
  REQUIRE(n == 3);
  // The invite command bounds its own input.
  const auto data = (f.tmp.path() / "data").string();
  REQUIRE(run_process({relay_binary().string(), "invite", "--data-dir", data, "--count", "0"}).exit_code == 2);
  REQUIRE(run_process({relay_binary().string(), "invite", "--data-dir", data, "--count", "10001"}).exit_code == 2);
  REQUIRE(run_process({relay_binary().string(), "invite", "--data-dir", data, "--ttl-hours", "0"}).exit_code == 2);

  REQUIRE(f.relay->terminate() == 0);
  f.restart();
  REQUIRE(f.relay->spki_hex() == pin);
}

TEST_CASE("relay refuses a corrupt database with a clear start-up error", "[relay][startup]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "data");
  {
    std::ofstream junk(tmp.path() / "data" / "relay.sqlite3");
    junk << std::string(8192, 'x');
  }
  auto r = run_process({relay_binary().string(), "--listen", "127.0.0.1:0", "--data-dir",
                        (tmp.path() / "data").string()});
  REQUIRE(r.exit_code != 0);
  REQUIRE(r.err.find("database") != std::string::npos);
}

TEST_CASE("relay refuses a bad config file and bad flags", "[relay][startup]") {
  TempDir tmp;
  {
    std::ofstream cfg(tmp.path() / "relay.toml");
    cfg << "listen = \n";
  }
  auto r = run_process({relay_binary().string(), "--config", (tmp.path() / "relay.toml").string()});
  REQUIRE(r.exit_code != 0);
  REQUIRE(r.err.find("config") != std::string::npos);
  auto r2 = run_process({relay_binary().string(), "--listen", "nonsense", "--data-dir", (tmp.path() / "d").string()});
  REQUIRE(r2.exit_code != 0);
}

TEST_CASE("Hello: the version is checked and must come first", "[relay][hello]") {
  RelayFixture f;
  SECTION("a supported version") {
    auto c = RelayClient::connect("127.0.0.1", f.relay->port());
    auto ok = c.hello();
    REQUIRE(ok.protocol_version == 1);
    REQUIRE(ok.max_frame_size == wire::kDefaultMaxFrameSize);
  }
  SECTION("an unknown version gets UnsupportedVersion, then the connection closes") {
    auto c = RelayClient::connect("127.0.0.1", f.relay->port());
    auto answer = c.request(wire::Hello{2, "future"});
    require_error(answer, ErrorCode::UnsupportedVersion);
    REQUIRE(c.wait_closed());
  }
  SECTION("anything before Hello is a protocol violation") {
    auto c = RelayClient::connect("127.0.0.1", f.relay->port());
    require_error(c.request(wire::Ping{1}), ErrorCode::ProtocolViolation);
    REQUIRE(c.wait_closed());
  }
  SECTION("Ping keeps working after Hello") {
    auto c = f.connect();
    REQUIRE(c.call<wire::Pong>(wire::Ping{42}).nonce == 42);
  }
}

TEST_CASE("framing limits close the connection after a typed error", "[relay][framing]") {
  RelayFixture f;
  SECTION("zero length") {
    auto c = f.connect();
    c.send_raw(Bytes{0, 0, 0, 0});
    auto r = c.receive();
    REQUIRE(r.status == ReceiveStatus::Frame);
    require_error(*r.frame, ErrorCode::MalformedFrame);
    REQUIRE(c.wait_closed());
  }
  SECTION("over the maximum") {
    auto c = f.connect();
    Bytes prefix;
    put_u32(prefix, wire::kDefaultMaxFrameSize + 1);
    c.send_raw(prefix);
    auto r = c.receive();
    REQUIRE(r.status == ReceiveStatus::Frame);
    require_error(*r.frame, ErrorCode::FrameTooLarge);
    REQUIRE(c.wait_closed());
  }
  SECTION("exactly the maximum is read (and then judged on its content)") {
    auto c = f.connect();
    Bytes frame;
    put_u32(frame, wire::kDefaultMaxFrameSize);
    frame.resize(frame.size() + wire::kDefaultMaxFrameSize, 0xff);
    c.send_raw(frame);
    auto r = c.receive();
    REQUIRE(r.status == ReceiveStatus::Frame);
    require_error(*r.frame, ErrorCode::MalformedFrame);
    REQUIRE(c.call<wire::Pong>(wire::Ping{5}).nonce == 5);
  }
}

TEST_CASE("malformed frames get MalformedFrame with their request id, too many close", "[relay][framing]") {
  RelayFixture f;
  auto c = f.connect();
  // Field 1 (request_id = 77), then garbage that is not a valid Frame.
  Bytes body{0x08, 77, 0xff, 0xff, 0xff};
  Bytes framed;
  put_u32(framed, static_cast<std::uint32_t>(body.size()));
  append(framed, body);
  c.send_raw(framed);
  auto r = c.receive();
  REQUIRE(r.status == ReceiveStatus::Frame);
  REQUIRE(r.frame->request_id == 77);
  require_error(*r.frame, ErrorCode::MalformedFrame);
  // The connection survives one bad frame ...
  REQUIRE(c.call<wire::Pong>(wire::Ping{1}).nonce == 1);
  // ... but not a stream of them (the relay allows kMaxBadFrames = 8).
  try {
    for (int i = 0; i < 12; ++i) c.send_raw(framed);
  } catch (const RelayClientError&) {
    // the relay may already have closed: writing then fails
  }
  REQUIRE(c.wait_closed());
  // A relay frame kind from a client is a protocol violation, not a crash.
  auto d = f.connect();
  require_error(d.request(wire::Pong{3}), ErrorCode::ProtocolViolation);
  REQUIRE(d.call<wire::Pong>(wire::Ping{2}).nonce == 2);
}

TEST_CASE("registration needs a valid, unused invite and a signature bound to the connection", "[relay][auth]") {
  RelayFixture f;
  const auto tokens = f.relay->invites(3);
  SECTION("success logs the connection in") {
    auto c = f.connect();
    auto me = make_identity("alice");
    auto ok = c.register_account(tokens[0], me);
    REQUIRE(ok.account.v.size() == 16);
    auto room = f.create_room(c, me);
    REQUIRE(room.v.size() == 16);
  }
  SECTION("a used token is refused") {
    auto a = make_identity("alice");
    auto b = make_identity("bob");
    auto c1 = f.connect();
    c1.register_account(tokens[0], a);
    auto c2 = f.connect();
    REQUIRE_THROWS_AS(c2.register_account(tokens[0], b), RelayClientError);
    try {
      c2.register_account(tokens[0], b);
    } catch (const RelayClientError& e) {
      REQUIRE(e.error());
      REQUIRE(e.error()->code == ErrorCode::InviteInvalid);
    }
  }
  SECTION("an unknown token is refused") {
    auto c = f.connect();
    auto a = make_identity("alice");
    const Bytes key(a.key.public_key.begin(), a.key.public_key.end());
    const std::string token = "notarealtoken";
    auto sig = crypto::ed25519_sign(a.key, wire::register_transcript(token, a.handle, key, c.exporter()));
    require_error(c.request(wire::Register{token, a.handle, key, Bytes(sig.begin(), sig.end())}),
                  ErrorCode::InviteInvalid);
  }
  SECTION("a wrong signature is refused and does not use up the token") {
    auto c = f.connect();
    auto a = make_identity("alice");
    const Bytes key(a.key.public_key.begin(), a.key.public_key.end());
    auto other = make_identity("mallory");
    auto sig = crypto::ed25519_sign(other.key, wire::register_transcript(tokens[1], a.handle, key, c.exporter()));
    require_error(c.request(wire::Register{tokens[1], a.handle, key, Bytes(sig.begin(), sig.end())}),
                  ErrorCode::AuthFailed);
    c.register_account(tokens[1], a);
  }
  SECTION("a transcript signed for another connection is refused") {
    auto c = f.connect();
    auto other_conn = f.connect();
    auto a = make_identity("alice");
    const Bytes key(a.key.public_key.begin(), a.key.public_key.end());
    auto sig =
        crypto::ed25519_sign(a.key, wire::register_transcript(tokens[1], a.handle, key, other_conn.exporter()));
    require_error(c.request(wire::Register{tokens[1], a.handle, key, Bytes(sig.begin(), sig.end())}),
                  ErrorCode::AuthFailed);
  }
  SECTION("a taken handle and an invalid handle are refused") {
    auto a = make_identity("alice");
    auto c1 = f.connect();
    c1.register_account(tokens[0], a);
    auto a2 = make_identity("alice");
    auto c2 = f.connect();
    try {
      c2.register_account(tokens[1], a2);
      FAIL("a taken handle was accepted");
    } catch (const RelayClientError& e) {
      REQUIRE(e.error());
      REQUIRE(e.error()->code == ErrorCode::HandleTaken);
    }
    auto bad = make_identity("tab\there");
    try {
      c2.register_account(tokens[1], bad);
      FAIL("a handle with a control character was accepted");
    } catch (const RelayClientError& e) {
      REQUIRE(e.error());
      REQUIRE(e.error()->code == ErrorCode::InvalidArgument);
    }
  }
}

TEST_CASE("login is challenge-response bound to the TLS connection", "[relay][auth]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  { auto reg = f.user(alice); }

  SECTION("the right key logs in") {
    auto c = f.connect();
    REQUIRE(c.login(alice).handle == "alice");
  }
  SECTION("requests before login get NotAuthenticated") {
    auto c = f.connect();
    require_error(c.request(wire::CreateRoom{new_room_id(), {}, 0}), ErrorCode::NotAuthenticated);
    require_error(c.request(wire::Sync{}), ErrorCode::NotAuthenticated);
    require_error(c.request(wire::LookupAccount{"alice"}), ErrorCode::NotAuthenticated);
  }
  SECTION("a wrong key is refused") {
    auto c = f.connect();
    auto ch = c.call<wire::LoginChallenge>(wire::LoginStart{alice.account});
    auto mallory = make_identity("mallory");
    auto sig = crypto::ed25519_sign(mallory.key, wire::login_transcript(ch.challenge, c.exporter(), alice.account));
    require_error(c.request(wire::LoginProof{Bytes(sig.begin(), sig.end())}), ErrorCode::AuthFailed);
  }
  SECTION("an unknown account is refused") {
    auto c = f.connect();
    Identity ghost = make_identity("ghost");
    ghost.account = AccountId{random_id()};
    auto ch = c.call<wire::LoginChallenge>(wire::LoginStart{ghost.account});
    auto sig = crypto::ed25519_sign(ghost.key, wire::login_transcript(ch.challenge, c.exporter(), ghost.account));
    require_error(c.request(wire::LoginProof{Bytes(sig.begin(), sig.end())}), ErrorCode::AuthFailed);
  }
  SECTION("a challenge is single-use: a replayed proof is refused") {
    auto c = f.connect();
    auto ch = c.call<wire::LoginChallenge>(wire::LoginStart{alice.account});
    require_error(c.request(wire::LoginProof{Bytes(64, 0)}), ErrorCode::AuthFailed);
    auto sig = crypto::ed25519_sign(alice.key, wire::login_transcript(ch.challenge, c.exporter(), alice.account));
    require_error(c.request(wire::LoginProof{Bytes(sig.begin(), sig.end())}), ErrorCode::AuthFailed);
  }
  SECTION("a proof without a challenge is refused") {
    auto c = f.connect();
    require_error(c.request(wire::LoginProof{Bytes(64, 1)}), ErrorCode::AuthFailed);
  }
  SECTION("a proof signed for another connection's exporter is refused") {
    auto victim = f.connect();
    auto attacker = f.connect();
    auto ch = attacker.call<wire::LoginChallenge>(wire::LoginStart{alice.account});
    // Alice's device signs for its own connection; the attacker relays it.
    auto sig = crypto::ed25519_sign(alice.key, wire::login_transcript(ch.challenge, victim.exporter(), alice.account));
    require_error(attacker.request(wire::LoginProof{Bytes(sig.begin(), sig.end())}), ErrorCode::AuthFailed);
  }
  SECTION("repeated failures close the connection") {
    auto c = f.connect();
    for (int i = 0; i < 5; ++i) {
      auto r = c.request(wire::LoginProof{Bytes(64, 2)});
      require_error(r, ErrorCode::AuthFailed);
    }
    REQUIRE(c.wait_closed());
  }
}

TEST_CASE("key directory: a KeyPackage that is not the uploader's own, valid now, is refused whole",
          "[relay][keys]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto mallory = make_identity("mallory");
  auto a = f.user(alice, 0);
  auto m = f.user(mallory, 0);
  const Bytes good = key_package_for(mallory.account, mallory.key);
  auto refused = [&](wire::PublishKeys p, std::string_view why) {
    auto r = m.request(std::move(p));
    require_error(r, ErrorCode::InvalidKeyPackage);
    CHECK(std::get<wire::Error>(r.body).message.find(why) != std::string::npos);
  };
  // Alice's own package, uploaded by Mallory: her key would end up in rooms
  // under Mallory's name (or Mallory's under hers).
  refused(wire::PublishKeys{{good, key_package_for(alice.account, alice.key)}, std::nullopt}, "key package 1");
  // Mallory's key, but a credential naming Alice.
  refused(wire::PublishKeys{{key_package_for(alice.account, mallory.key)}, std::nullopt}, "another account");
  // Mallory's account, but Alice's key.
  refused(wire::PublishKeys{{}, key_package_for(mallory.account, alice.key)}, "last-resort");
  // Not a KeyPackage at all, a tampered one, an oversized one.
  refused(wire::PublishKeys{{Bytes{1, 2, 3}}, std::nullopt}, "key package 0");
  Bytes tampered = good;
  tampered.back() ^= 1;
  refused(wire::PublishKeys{{tampered}, std::nullopt}, "signature");
  refused(wire::PublishKeys{{Bytes(mls::kMaxKeyPackageSize + 1, 1)}, std::nullopt}, "key package 0");
  // Expired, and not yet valid.
  const auto now = unix_now_s();
  refused(wire::PublishKeys{{key_package_for(mallory.account, mallory.key, now - 2 * 86400, 86400)}, std::nullopt},
          "lifetime");
  refused(wire::PublishKeys{{key_package_for(mallory.account, mallory.key, now + 7 * 86400)}, std::nullopt},
          "lifetime");
  // Nothing of the refused requests was stored, and the relay keeps serving.
  CHECK(m.call<wire::PublishKeysOk>(wire::PublishKeys{{}, std::nullopt}).stock == 0);
  require_error(a.request(wire::FetchKeyPackage{mallory.account}), ErrorCode::NoKeyPackage);
  CHECK(m.call<wire::PublishKeysOk>(wire::PublishKeys{{good}, std::nullopt}).stock == 1);
  CHECK(a.call<wire::KeyPackageOk>(wire::FetchKeyPackage{mallory.account}).key_package == good);
}

TEST_CASE("key directory: one-time packages once each, then the last resort", "[relay][keys]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice, 0);
  auto b = f.user(bob, 0);
  const Bytes kp1 = key_package_for(alice.account, alice.key);
  const Bytes kp2 = key_package_for(alice.account, alice.key);
  const Bytes last = key_package_for(alice.account, alice.key);
  CHECK(a.call<wire::PublishKeysOk>(wire::PublishKeys{{}, std::nullopt}).stock == 0);  // an empty request reports
  REQUIRE(a.call<wire::PublishKeysOk>(wire::PublishKeys{{kp1, kp2}, last}).stock == 2);
  CHECK(a.call<wire::PublishKeysOk>(wire::PublishKeys{{}, std::nullopt}).stock == 2);
  auto k1 = b.call<wire::KeyPackageOk>(wire::FetchKeyPackage{alice.account});
  auto k2 = b.call<wire::KeyPackageOk>(wire::FetchKeyPackage{alice.account});
  auto k3 = b.call<wire::KeyPackageOk>(wire::FetchKeyPackage{alice.account});
  REQUIRE(k1.key_package == kp1);
  REQUIRE_FALSE(k1.last_resort);
  REQUIRE(k2.key_package == kp2);
  REQUIRE(k3.key_package == last);
  REQUIRE(k3.last_resort);
  REQUIRE(k1.identity_key == Bytes(alice.key.public_key.begin(), alice.key.public_key.end()));
  // What a fetcher gets checks out against the account and key the relay names.
  CHECK(mls::check_account_key_package(k1.key_package, k1.account.v, k1.identity_key, unix_now_s()));
  require_error(a.request(wire::FetchKeyPackage{bob.account}), ErrorCode::NoKeyPackage);
  require_error(a.request(wire::FetchKeyPackage{AccountId{random_id()}}), ErrorCode::UnknownAccount);

  std::vector<Bytes> many(101, kp1);
  require_error(a.request(wire::PublishKeys{many, std::nullopt}), ErrorCode::QuotaExceeded);

  auto info = b.call<wire::AccountInfo>(wire::LookupAccount{"alice"});
  REQUIRE(info.account == alice.account);
  require_error(b.request(wire::LookupAccount{"nobody"}), ErrorCode::UnknownAccount);

  SECTION("uploads are rate limited per account, asking for the stock is not") {
    const Bytes kp = key_package_for(bob.account, bob.key);
    std::vector<Bytes> batch(relay::kMaxKeyPackageStock / 2, kp);
    bool limited = false;
    std::uint32_t accepted = 0;
    for (std::uint32_t i = 0; i < 2 * relay::kKeyPublishBurst / batch.size() + 2 && !limited; ++i) {
      auto r = b.request(wire::PublishKeys{batch, std::nullopt});
      if (auto* e = std::get_if<wire::Error>(&r.body)) {
        limited = e->code == ErrorCode::RateLimited;  // else QuotaExceeded: the stock is full, the upload counted
      } else {
        accepted += static_cast<std::uint32_t>(batch.size());
      }
    }
    CHECK(limited);
    CHECK(accepted <= relay::kKeyPublishBurst);
    for (int i = 0; i < 50; ++i) {
      CHECK(b.call<wire::PublishKeysOk>(wire::PublishKeys{{}, std::nullopt}).stock <= relay::kMaxKeyPackageStock);
    }
  }
  SECTION("fetches are rate limited per requester") {
    bool limited = false;
    for (int i = 0; i < 40 && !limited; ++i) {
      auto r = b.request(wire::FetchKeyPackage{alice.account});
      if (auto* e = std::get_if<wire::Error>(&r.body)) limited = e->code == ErrorCode::RateLimited;
    }
    REQUIRE(limited);
  }
}
