// SPDX-License-Identifier: Apache-2.0
// hearth-cli, as a script would use it, against the real relay.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "tests/integration/client/child_process.h"
#include "tests/integration/client/engine_support.h"
#include "tests/integration/client/relay_process.h"
#include "tests/support/paths.h"

using namespace hearth;
using namespace hearth::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kCliTimeout = 30s;

std::filesystem::path cli() { return binary_dir() / "client" / "cli" / "hearth-cli"; }

struct Cli {
  std::filesystem::path profile;
  std::string timeout_s = "15";
  RunResult operator()(std::vector<std::string> args) const {
    std::vector<std::string> full{"--profile", profile.string(), "--json", "--timeout", timeout_s};
    full.insert(full.end(), args.begin(), args.end());
    auto r = run(cli(), full, kCliTimeout);
    UNSCOPED_INFO("hearth-cli " << args.front() << " stderr: " << r.err);
    return r;
  }
};

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

}  // namespace

TEST_CASE("integration: two users chat with hearth-cli, exit codes say what failed", "[integration][cli]") {
  REQUIRE(std::filesystem::exists(cli()));
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "relay");
  RelayProcess relay(tmp.path() / "relay");
  const auto invites = relay.invites(3);
  const Cli alice{tmp.path() / "alice"};
  const Cli bob{tmp.path() / "bob"};

  auto reg_a = alice({"register", "--invite", invites[0], "--handle", "alice"});
  REQUIRE(reg_a.exit_code == 0);
  auto reg_json = json_lines(reg_a.out);
  REQUIRE_FALSE(reg_json.empty());
  CHECK(reg_json.back()["type"] == "registered");
  CHECK(reg_json.back()["account"].get<std::string>().size() == 32);
  REQUIRE(bob({"register", "--invite", invites[1], "--handle", "bob"}).exit_code == 0);

  // The same invite twice: refused by the relay as an authentication failure.
  const Cli eve{tmp.path() / "eve"};
  auto reused = eve({"register", "--invite", invites[0], "--handle", "eve"});
  CHECK(reused.exit_code == 4);
  CHECK(reused.err.find("InviteInvalid") != std::string::npos);

  auto created = alice({"create-room"});
  REQUIRE(created.exit_code == 0);
  const auto room = json_lines(created.out).back()["room"].get<std::string>();
  CHECK(room.size() == 64);

  // Bob is not a facilitator: exit 5 and the relay's code name.
  REQUIRE(alice({"add", "--room", room, "--handle", "bob"}).exit_code == 0);
  auto refused = bob({"add", "--room", room, "--handle", "alice"});
  CHECK(refused.exit_code == 5);
  CHECK(refused.err.find("NotFacilitator") != std::string::npos);

  REQUIRE(alice({"send", "--room", room, "hello bob"}).exit_code == 0);
  REQUIRE(alice({"send", "--room", room, "second line"}).exit_code == 0);

  auto tail = bob({"tail", "--room", room, "--count", "2"});
  REQUIRE(tail.exit_code == 0);
  std::vector<std::string> texts;
  for (const auto& j : json_lines(tail.out)) {
    if (j["type"] == "message") {
      texts.push_back(j["text"]);
      CHECK(j["handle"] == "alice");
    }
  }
  CHECK(texts == std::vector<std::string>{"hello bob", "second line"});

  // Already seen: a second tail times out waiting for a message (exit 6).
  const Cli impatient_bob{bob.profile, "2"};
  auto nothing = impatient_bob({"tail", "--room", room, "--count", "1"});
  CHECK(nothing.exit_code == 6);

  auto roster = alice({"roster", "--room", room});
  REQUIRE(roster.exit_code == 0);
  CHECK(json_lines(roster.out).size() == 2);

  auto rooms = bob({"rooms"});
  REQUIRE(rooms.exit_code == 0);
  auto room_lines = json_lines(rooms.out);
  REQUIRE(room_lines.size() == 1);
  CHECK(room_lines[0]["room"] == room);

  // Usage errors are exit 2, before anything connects.
  CHECK(alice({"send", "--room", "zz", "x"}).exit_code == 2);
  CHECK(run(cli(), {"send"}, kCliTimeout).exit_code == 2);
}

TEST_CASE("integration: hearth-cli refuses a wrong pin with exit 3 and both hashes", "[integration][cli]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "relay");
  RelayProcess relay(tmp.path() / "relay");
  auto invite = relay.invites(1).front();
  const auto pos = invite.find(relay.spki_hex());
  REQUIRE(pos != std::string::npos);
  invite[pos] = invite[pos] == '0' ? '1' : '0';
  const Cli mallory{tmp.path() / "mallory"};
  auto r = mallory({"register", "--invite", invite, "--handle", "mallory"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("PinMismatch") != std::string::npos);
  CHECK(r.err.find(relay.spki_hex()) != std::string::npos);
}

TEST_CASE("integration: hearth-cli keeps a message sent while the relay is down and sync sends it",
          "[integration][cli]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "relay");
  RelayProcess relay(tmp.path() / "relay");
  const auto invites = relay.invites(2);
  const Cli alice{tmp.path() / "alice"};
  const Cli bob{tmp.path() / "bob"};
  REQUIRE(alice({"register", "--invite", invites[0], "--handle", "alice"}).exit_code == 0);
  REQUIRE(bob({"register", "--invite", invites[1], "--handle", "bob"}).exit_code == 0);
  auto created = alice({"create-room"});
  REQUIRE(created.exit_code == 0);
  const auto room = json_lines(created.out).back()["room"].get<std::string>();
  REQUIRE(alice({"add", "--room", room, "--handle", "bob"}).exit_code == 0);
  // Bob has not synced since he was added: send learns about the room first.
  REQUIRE(bob({"send", "--room", room, "hi alice"}).exit_code == 0);

  relay.kill();
  const Cli hasty_alice{alice.profile, "2"};
  auto down = hasty_alice({"send", "--room", room, "written while the relay was down"});
  CHECK(down.exit_code == 3);
  relay.restart();

  auto synced = alice({"sync", "--room", room});
  REQUIRE(synced.exit_code == 0);
  bool saw_sent = false;
  bool saw_bob = false;
  for (const auto& j : json_lines(synced.out)) {
    if (j["type"] == "sent") saw_sent = true;
    if (j["type"] == "message" && j["text"] == "hi alice") saw_bob = true;
  }
  CHECK(saw_sent);
  CHECK(saw_bob);

  auto tail = bob({"tail", "--room", room, "--count", "1"});
  REQUIRE(tail.exit_code == 0);
  std::vector<std::string> texts;
  for (const auto& j : json_lines(tail.out)) {
    if (j["type"] == "message") texts.push_back(j["text"]);
  }
  CHECK(texts == std::vector<std::string>{"written while the relay was down"});
}
