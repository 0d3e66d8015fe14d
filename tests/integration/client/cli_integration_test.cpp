// SPDX-License-Identifier: Apache-2.0
// hearth-cli, as a script would use it, against the real relay.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/integration/client/child_process.h"
#include "tests/integration/client/engine_support.h"
#include "tests/integration/client/relay_process.h"
#include "tests/support/file_bytes.h"
#include "tests/support/paths.h"

using namespace hearth;
using namespace hearth::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kCliTimeout = 30s;

std::filesystem::path cli() { return binary_dir() / "client" / "cli" / "hearth-cli"; }

/// Each profile's passphrase sits in a file next to it, as a script keeps it.
std::filesystem::path passphrase_file_for(const std::filesystem::path& profile) {
  auto file = profile;
  file += ".passphrase";
  if (!std::filesystem::exists(file)) {
    std::ofstream(file) << "passphrase of " << profile.filename().string() << "\n";
  }
  return file;
}

struct Cli {
  std::filesystem::path profile;
  std::string timeout_s = "15";
  RunResult operator()(std::vector<std::string> args) const {
    std::vector<std::string> full{"--profile", profile.string(), "--passphrase-file",
                                  passphrase_file_for(profile).string(), "--json", "--timeout", timeout_s};
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

/// Two registered users, and a room the first facilitates with the second in it.
struct TwoInARoom {
  Cli alice;
  Cli bob;
  std::string room;
};

TwoInARoom two_in_a_room(const std::filesystem::path& dir, RelayProcess& relay, const std::string& alice_handle,
                         const std::string& bob_handle) {
  const auto invites = relay.invites(2);
  TwoInARoom t{Cli{dir / "alice"}, Cli{dir / "bob"}, {}};
  REQUIRE(t.alice({"register", "--invite", invites[0], "--handle", alice_handle}).exit_code == 0);
  REQUIRE(t.bob({"register", "--invite", invites[1], "--handle", bob_handle}).exit_code == 0);
  auto created = t.alice({"create-room"});
  REQUIRE(created.exit_code == 0);
  t.room = json_lines(created.out).back()["room"].get<std::string>();
  REQUIRE(t.alice({"add", "--room", t.room, "--handle", bob_handle}).exit_code == 0);
  return t;
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
  // Registered means addable: the first KeyPackages are at the relay.
  CHECK(reg_json.back()["key_packages"] == client::kKeyPackageTarget);
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

  // Bob is not a facilitator: exit 5, refused by his own client under the
  // role policy the relay applies too.
  REQUIRE(alice({"add", "--room", room, "--handle", "bob"}).exit_code == 0);
  auto refused = bob({"add", "--room", room, "--handle", "alice"});
  CHECK(refused.exit_code == 5);
  CHECK(refused.err.find("NotAllowed") != std::string::npos);

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

  // Both hold the same group: the same members, the same safety code.
  auto alice_code = alice({"safety-code", "--room", room});
  auto bob_code = bob({"safety-code", "--room", room});
  REQUIRE(alice_code.exit_code == 0);
  REQUIRE(bob_code.exit_code == 0);
  CHECK(json_lines(alice_code.out).back()["code"] == json_lines(bob_code.out).back()["code"]);
  auto members = bob({"members", "--room", room});
  REQUIRE(members.exit_code == 0);
  CHECK(json_lines(members.out).size() == 2);

  // Settings, a display name and an agreement acceptance travel as
  // messages; every reader checks who may send which (conversation.h).
  REQUIRE(alice({"settings", "--room", room, "--name", "Night Circle", "--topic", "after handover",
                 "--agreement-version", "1"})
              .exit_code == 0);
  auto kinds = bob({"tail", "--room", room, "--count", "1"});
  REQUIRE(kinds.exit_code == 0);
  CHECK(json_lines(kinds.out).back()["kind"] == "room_settings");
  CHECK(json_lines(kinds.out).back()["name"] == "Night Circle");
  REQUIRE(bob({"profile", "--room", room, "--display-name", "Dr B"}).exit_code == 0);
  REQUIRE(bob({"accept-agreement", "--room", room, "--version", "1"}).exit_code == 0);
  auto shown = alice({"tail", "--room", room, "--count", "2"});
  REQUIRE(shown.exit_code == 0);
  std::vector<nlohmann::json> shown_messages;
  for (const auto& j : json_lines(shown.out)) {
    if (j["type"] == "message") shown_messages.push_back(j);
  }
  REQUIRE(shown_messages.size() == 2);
  CHECK(shown_messages[0].value("display_name", "") == "Dr B");
  CHECK(shown_messages[1].value("kind", "") == "agreement_accepted");
  auto refreshed = bob({"refresh-keys", "--room", room});
  REQUIRE(refreshed.exit_code == 0);
  auto alice_after = alice({"sync", "--room", room});
  REQUIRE(alice_after.exit_code == 0);
  auto code_after = alice({"safety-code", "--room", room});
  REQUIRE(code_after.exit_code == 0);
  CHECK(json_lines(code_after.out).back()["code"] != json_lines(alice_code.out).back()["code"]);
  CHECK(json_lines(code_after.out).back()["code"] == json_lines(bob({"safety-code", "--room", room}).out).back()["code"]);

  // A member cannot reset the room (exit 5); its facilitator can, and both
  // end on the new group's same code.
  CHECK(bob({"reset", "--room", room}).exit_code == 5);
  auto reset = alice({"reset", "--room", room});
  REQUIRE(reset.exit_code == 0);
  CHECK(json_lines(reset.out).back()["type"] == "room_reset");
  auto bob_reset = bob({"sync", "--room", room});
  REQUIRE(bob_reset.exit_code == 0);
  bool told = false;
  for (const auto& j : json_lines(bob_reset.out)) told = told || j["type"] == "room_reset";
  CHECK(told);
  const auto code_reset = json_lines(alice({"safety-code", "--room", room}).out).back()["code"];
  CHECK(code_reset != json_lines(code_after.out).back()["code"]);
  CHECK(code_reset == json_lines(bob({"safety-code", "--room", room}).out).back()["code"]);
  REQUIRE(bob({"send", "--room", room, "after the reset"}).exit_code == 0);

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
  const auto [alice, bob, room] = two_in_a_room(tmp.path(), relay, "alice", "bob");
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

namespace {

/// Sets an environment variable for the children started in its scope.
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const std::string& value) : name(n) { ::setenv(n, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
};

}  // namespace

TEST_CASE("integration: hearth-cli profiles are sealed under their passphrase", "[integration][cli]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "relay");
  RelayProcess relay(tmp.path() / "relay");
  const auto [alice, bob, room] = two_in_a_room(tmp.path(), relay, "dr-alice-sealed", "dr-bob-sealed");
  const std::string text = "I still think about the patient in bed four";
  REQUIRE(alice({"send", "--room", room, text}).exit_code == 0);
  REQUIRE(bob({"tail", "--room", room, "--count", "1"}).exit_code == 0);

  for (const auto& who : {alice.profile, bob.profile}) {
    const Bytes db = test::file_bytes(who / "profile.db");
    REQUIRE_FALSE(db.empty());
    CHECK_FALSE(test::contains(db, text));
    CHECK_FALSE(test::contains(db, "dr-alice-sealed"));
    CHECK_FALSE(test::contains(db, "dr-bob-sealed"));
  }

  // A wrong passphrase: exit 4, the code named, and nothing else said.
  const auto wrong_file = tmp.path() / "wrong.passphrase";
  std::ofstream(wrong_file) << "not bob's passphrase\n";
  auto wrong = run(cli(), {"--profile", bob.profile.string(), "--passphrase-file", wrong_file.string(), "--json",
                           "--timeout", "15", "rooms"},
                   kCliTimeout);
  CHECK(wrong.exit_code == 4);
  CHECK(wrong.err.find("Passphrase") != std::string::npos);
  CHECK(wrong.out.find(room) == std::string::npos);

  // No file, no variable, no terminal: refused with the ways to give one.
  auto none = run(cli(), {"--profile", bob.profile.string(), "--json", "rooms"}, kCliTimeout);
  CHECK(none.exit_code == 4);
  CHECK(none.err.find("HEARTH_PASSPHRASE") != std::string::npos);

  // The passphrase from the environment, and a change of it.
  const auto old_passphrase = "passphrase of bob";
  const auto new_file = tmp.path() / "new.passphrase";
  std::ofstream(new_file) << "bob's new passphrase\n";
  {
    const ScopedEnv env("HEARTH_PASSPHRASE", old_passphrase);
    auto by_env = run(cli(), {"--profile", bob.profile.string(), "--json", "rooms"}, kCliTimeout);
    CHECK(by_env.exit_code == 0);
    CHECK(by_env.out.find(room) != std::string::npos);
    auto changed = run(cli(), {"--profile", bob.profile.string(), "--json", "change-passphrase",
                               "--new-passphrase-file", new_file.string()},
                       kCliTimeout);
    REQUIRE(changed.exit_code == 0);
    CHECK(json_lines(changed.out).back()["type"] == "passphrase_changed");
    auto old_refused = run(cli(), {"--profile", bob.profile.string(), "--json", "rooms"}, kCliTimeout);
    CHECK(old_refused.exit_code == 4);
  }
  // The history opens under the new passphrase.
  auto history = run(cli(), {"--profile", bob.profile.string(), "--passphrase-file", new_file.string(), "--json",
                             "history", "--room", room},
                     kCliTimeout);
  CHECK(history.exit_code == 0);
  CHECK(history.out.find(text) != std::string::npos);
}

TEST_CASE("integration: hearth-cli compares safety numbers and marks a person verified", "[integration][cli]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "relay");
  RelayProcess relay(tmp.path() / "relay");
  const auto [alice, bob, room] = two_in_a_room(tmp.path(), relay, "alice", "bob");
  auto a = alice({"safety-number", "--handle", "bob"});
  REQUIRE(a.exit_code == 0);
  auto b = bob({"safety-number", "--handle", "alice"});
  REQUIRE(b.exit_code == 0);
  const auto a_json = json_lines(a.out).back();
  const auto b_json = json_lines(b.out).back();
  const auto digits = a_json["digits"].get<std::string>();
  CHECK(digits == b_json["digits"].get<std::string>());
  CHECK(digits.size() == 71);
  CHECK(a_json["verified"] == false);

  auto mismatch = alice({"verify", "--handle", "bob", "--digits", "00000 00000"});
  CHECK(mismatch.exit_code == 2);
  auto verified = alice({"verify", "--handle", "bob", "--digits", digits});
  REQUIRE(verified.exit_code == 0);
  CHECK(json_lines(verified.out).back()["verified"] == true);
  CHECK(json_lines(alice({"safety-number", "--handle", "bob"}).out).back()["verified"] == true);
  CHECK(alice({"safety-number", "--handle", "nobody"}).exit_code == 5);
}
