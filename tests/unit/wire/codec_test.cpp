// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <set>

#include "common/wire/codec.h"
#include "common/wire/framing.h"

using namespace hearth;
using namespace hearth::wire;

namespace {
AccountId acct(std::uint8_t b) { return AccountId{Bytes(kAccountIdSize, b)}; }
RoomId room(std::uint8_t b) { return RoomId{Bytes(kMinRoomIdSize, b)}; }
EnvelopeId env(std::uint8_t b) { return EnvelopeId{Bytes(kEnvelopeIdSize, b)}; }

std::vector<Message> one_of_each() {
  std::vector<RosterChange> changes{{RosterOp::Add, acct(2), Role::Facilitator}, {RosterOp::Remove, acct(3), Role::Member}};
  return {
      Hello{1, "test/1"},
      Register{"tok", "alice", Bytes(32, 1), Bytes(64, 2)},
      LoginStart{acct(1)},
      LoginProof{Bytes(64, 3)},
      PublishKeys{{Bytes{1, 2}, Bytes{3}}, Bytes{9}},
      FetchKeyPackage{acct(4)},
      LookupAccount{"bob"},
      CreateRoom{room(5), Bytes{7, 7}, 3600000},
      SubmitBundle{room(5), Epoch{3}, env(6), Bytes{1, 2, 3}, {{acct(2), Bytes{4}}}, changes},
      CloseRoom{room(5)},
      SendEnvelope{room(5), env(7), Epoch{2}, Bytes(512, 0x5a)},
      Sync{{{room(5), Seq{10}}, {room(6), Seq{0}}}},
      Ack{{{room(5), Seq{11}}}},
      GetRoster{room(5)},
      Ping{42},
      ResetRoom{room(5), env(9), Bytes{8, 8}, Bytes{1, 2}, {{acct(2), Bytes{4}}, {acct(3), Bytes{5}}}},
      ReportChange{room(5), env(10), Seq{12}, ChangeProblem::CannotDecrypt},
      SetRoomLifetime{room(5), 86400000},
      Error{ErrorCode::HistoryGap, "history gap", room(5)},
      HelloOk{1, kDefaultMaxFrameSize},
      RegisterOk{acct(8)},
      LoginChallenge{Bytes(32, 9)},
      LoginOk{"alice"},
      PublishKeysOk{5},
      KeyPackageOk{acct(4), Bytes(32, 1), Bytes{1, 2}, true},
      AccountInfo{acct(4), "bob", Bytes(32, 1)},
      CreateRoomOk{room(5), Epoch{0}},
      BundleOk{Seq{12}, Epoch{4}},
      CloseRoomOk{room(5)},
      SendOk{room(5), Seq{13}},
      SyncOk{{{room(5), Seq{13}, Epoch{4}, Role::Facilitator}}, {Error{ErrorCode::HistoryGap, "gap", room(6)}}},
      Roster{room(5), Epoch{4}, {{acct(1), "alice", Role::Facilitator}, {acct(2), "bob", Role::Member}}},
      Pong{42},
      RoomLifetimeOk{room(5), 86400000},
      Deliver{room(5), Seq{15}, EnvelopeKind::Reset, acct(1), env(9), Epoch{1}, 1700000000001, Bytes{}, {}},
      Deliver{room(5), Seq{14}, EnvelopeKind::Handshake, acct(1), env(8), Epoch{4}, 1700000000000, Bytes{1}, changes},
      RoomClosed{room(5)},
  };
}
}  // namespace

TEST_CASE("every message kind round-trips", "[wire][codec]") {
  auto all = one_of_each();
  std::set<std::size_t> seen;
  for (auto& m : all) seen.insert(m.index());
  REQUIRE(seen.size() == std::variant_size_v<Message>);  // the list covers the registry

  std::uint64_t id = 1;
  for (auto& m : all) {
    Frame f{id++, m};
    auto bytes = encode(f);
    auto back = decode(bytes);
    INFO(kind_name(m));
    REQUIRE(back);
    REQUIRE(*back == f);

    auto framed = encode_with_length(f);
    REQUIRE(get_u32(framed) == bytes.size());
    REQUIRE(BytesView(framed).subspan(kLengthPrefixSize).size() == bytes.size());
  }
}

TEST_CASE("decode rejects garbage and empty bodies", "[wire][codec]") {
  Bytes garbage{0xff, 0xff, 0xff, 0xff, 0xff};
  REQUIRE(decode(garbage).error().code == DecodeError::Unparseable);
  // A Frame with only a request id has no body.
  Bytes only_id{0x08, 0x01};
  REQUIRE(decode(only_id).error().code == DecodeError::EmptyBody);
  // Truncating a valid frame must not decode to something else silently.
  auto bytes = encode(Frame{1, SendEnvelope{room(1), env(2), Epoch{0}, Bytes(40, 1)}});
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    auto r = decode(BytesView(bytes).first(n));
    if (r) {
      // Protobuf may parse a prefix; validation must then catch the short fields.
      FAIL("a truncated frame decoded at " << n);
    }
  }
}

TEST_CASE("decode checks id sizes and enums", "[wire][codec]") {
  SECTION("short room id") {
    auto bytes = encode(Frame{1, SendEnvelope{RoomId{Bytes(3, 1)}, env(2), Epoch{0}, {}}});
    auto r = decode(bytes);
    REQUIRE(r.error().code == DecodeError::BadField);
    REQUIRE(r.error().detail == "room_id");
  }
  SECTION("long room id") {
    auto bytes = encode(Frame{1, CloseRoom{RoomId{Bytes(kMaxRoomIdSize + 1, 1)}}});
    REQUIRE(decode(bytes).error().code == DecodeError::BadField);
  }
  SECTION("account id of the wrong size") {
    auto bytes = encode(Frame{1, LoginStart{AccountId{Bytes(15, 1)}}});
    REQUIRE(decode(bytes).error().detail == "account_id");
  }
  SECTION("envelope id missing") {
    auto bytes = encode(Frame{1, SendEnvelope{room(1), EnvelopeId{}, Epoch{0}, {}}});
    REQUIRE(decode(bytes).error().detail == "envelope_id");
  }
  SECTION("signature of the wrong size") {
    auto bytes = encode(Frame{1, LoginProof{Bytes(63, 1)}});
    REQUIRE(decode(bytes).error().code == DecodeError::BadField);
  }
  SECTION("handle too long") {
    auto bytes = encode(Frame{1, LookupAccount{std::string(kMaxHandleSize + 1, 'x')}});
    REQUIRE(decode(bytes).error().detail == "handle");
  }
  SECTION("too many cursors") {
    Sync s;
    for (std::size_t i = 0; i <= kMaxListItems; ++i) s.cursors.push_back({room(1), Seq{i}});
    REQUIRE(decode(encode(Frame{1, s})).error().detail == "cursors");
    s.cursors.pop_back();
    REQUIRE(decode(encode(Frame{1, s})));
  }
}

TEST_CASE("error codes from a newer relay stay readable", "[wire][codec]") {
  for (int c = 0; c <= static_cast<int>(ErrorCode::InvalidKeyPackage); ++c) {
    REQUIRE(to_string(static_cast<ErrorCode>(c)) != "Unknown");
  }
  auto bytes = encode(Frame{1, Error{ErrorCode::RateLimited, "slow down", std::nullopt}});
  auto back = decode(bytes);
  REQUIRE(std::get<Error>(back->body).code == ErrorCode::RateLimited);
  REQUIRE_FALSE(std::get<Error>(back->body).room.has_value());
}

TEST_CASE("mutated frames decode or fail cleanly", "[wire][codec]") {
  // A deterministic mutation sweep: flip, drop and insert bytes of valid
  // frames. Each result must be a value or a typed error (run under ASan to
  // catch out-of-bounds reads).
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::size_t decoded = 0, failed = 0;
  for (auto& m : one_of_each()) {
    auto bytes = encode(Frame{7, m});
    for (int round = 0; round < 200; ++round) {
      Bytes mutated = bytes;
      auto pos = static_cast<std::size_t>(next() % mutated.size());
      switch (next() % 3) {
        case 0: mutated[pos] = static_cast<std::uint8_t>(next()); break;
        case 1: mutated.erase(mutated.begin() + static_cast<std::ptrdiff_t>(pos)); break;
        default: mutated.insert(mutated.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<std::uint8_t>(next())); break;
      }
      if (mutated.empty()) continue;
      auto r = decode(mutated);
      if (r) {
        ++decoded;
      } else {
        ++failed;
        REQUIRE_FALSE(to_string(r.error().code).empty());
      }
    }
  }
  REQUIRE(failed > 0);
  REQUIRE(decoded + failed > 1000);
}

TEST_CASE("a change report round-trips and refuses what is not one", "[wire][codec]") {
  const ChangeReport report{Seq{41}, ChangeProblem::DoesNotVerify};
  const auto bytes = encode_change_report(report);
  REQUIRE(bytes.size() <= kMaxChangeReportSize);
  REQUIRE(decode_change_report(bytes) == report);
  REQUIRE_FALSE(decode_change_report(Bytes{0xff, 0xff, 0xff}));
  REQUIRE_FALSE(decode_change_report(Bytes(kMaxChangeReportSize + 1, 0)));
  // No problem named: not a report a relay writes.
  REQUIRE_FALSE(decode_change_report(Bytes{0x08, 0x01}));  // commit_seq 1, problem unspecified
}
