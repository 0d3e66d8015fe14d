// SPDX-License-Identifier: Apache-2.0
// hearth-cli: register, log in, manage rooms, send and follow messages from
// scripts. One JSON object per line with --json.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <iterator>

#include "client/cli/commands.h"

namespace {

constexpr const char* kFooter = R"(Exit codes:
  0  ok
  1  local failure (profile database unreadable, newer schema, internal error)
  2  usage error (bad arguments, bad invite, profile not registered, unknown room)
  3  connection failure (cannot connect, TLS failure, relay key pin mismatch, connection lost)
  4  authentication failure (registration or login refused, a wrong passphrase, or
     a person's identity key is not the one this device pinned: see accept-key)
  5  the relay refused the request (its error code name is printed, e.g. NotFacilitator)
  6  timeout (no answer, or fewer messages than --count, within --timeout)

The profile is sealed under a passphrase: it is read from --passphrase-file,
else from the environment variable HEARTH_PASSPHRASE, else asked on the
terminal (twice for a new profile).

Each person's identity key is pinned the first time this device sees it.
Compare `safety-number --handle H` with theirs (in person or on a call), then
run `verify --handle H --digits '...'`.

Example:
  hearth-cli --profile ~/.hearth/alice register --invite 'hearth://relay:7443/?pin=...&token=...' --handle alice
  ROOM=$(hearth-cli --profile ~/.hearth/alice create-room)
  hearth-cli --profile ~/.hearth/alice add --room $ROOM --handle bob
  hearth-cli --profile ~/.hearth/alice send --room $ROOM 'hello bob'
  hearth-cli --profile ~/.hearth/bob tail --room $ROOM --count 1)";

}  // namespace

int main(int argc, char** argv) {
  using hearth::cli::Exit;
  CLI::App app{"hearth-cli: the Hearth client for scripts and tests"};
  app.footer(kFooter);
  app.require_subcommand(1);

  hearth::cli::Globals g;
  std::string profile;
  double timeout_s = 30.0;
  app.add_option("--profile", profile, "Profile directory (created when missing)")->required();
  std::string passphrase_file;
  auto* passphrase_opt = app.add_option("--passphrase-file", passphrase_file,
                                        "Read the profile passphrase from the first line of this file");
  app.add_flag("--json", g.json, "One JSON object per line on stdout (errors as JSON on stderr)");
  auto* timeout_opt = app.add_option("--timeout", timeout_s,
                                     "Seconds to wait for the relay (default 30); for tail, how long to follow")
                          ->check(CLI::Range(0.1, 86400.0 * 365));

  std::string invite, handle, room, text;
  bool system_ca = false, offline = false;
  std::uint64_t lifetime_days = 0;
  std::size_t count = 0, limit = 100;

  auto* reg = app.add_subcommand("register", "Create the device key and register with an invite");
  reg->add_option("--invite", invite, "The invite string (hearth://HOST:PORT/?pin=...&token=...)")->required();
  reg->add_option("--handle", handle, "Your handle (login name; a pseudonym is fine)")->required();
  reg->add_flag("--system-ca", system_ca, "Verify the relay with the system CA store instead of the invite's pin");

  auto* login = app.add_subcommand("login", "Log in and sync (checks the profile works)");
  auto* whoami = app.add_subcommand("whoami", "Print the profile's account, handle and relay (offline)");

  auto* create = app.add_subcommand("create-room", "Create a room (you are its facilitator); prints its id in hex");
  create->add_option("--lifetime-days", lifetime_days, "How long the relay keeps messages (0 = relay default)")
      ->check(CLI::Range(0, 3650));

  auto* add = app.add_subcommand("add", "Add a member by handle (facilitators)");
  add->add_option("--room", room, "Room id (hex)")->required();
  add->add_option("--handle", handle, "Handle to add")->required();

  auto* remove = app.add_subcommand("remove", "Remove a member by handle (facilitators)");
  remove->add_option("--room", room, "Room id (hex)")->required();
  remove->add_option("--handle", handle, "Handle to remove")->required();

  auto* leave = app.add_subcommand("leave", "Leave a room");
  leave->add_option("--room", room, "Room id (hex)")->required();

  auto* reset = app.add_subcommand(
      "reset", "Move a stuck room to a fresh group with the same members (facilitators; history stays)");
  reset->add_option("--room", room, "Room id (hex)")->required();

  auto* close = app.add_subcommand("close-room", "Close a room: the relay deletes everything it holds for it");
  close->add_option("--room", room, "Room id (hex)")->required();

  auto* send = app.add_subcommand("send", "Send a UTF-8 text message (kept in the outbox until the relay stored it)");
  send->add_option("--room", room, "Room id (hex)")->required();
  send->add_option("text", text, "The message")->required();

  auto* tail = app.add_subcommand("tail", "Print messages as they arrive (backlog first) until interrupted");
  auto* tail_room = tail->add_option("--room", room, "Only this room (hex); default: all rooms");
  auto* tail_count = tail->add_option("--count", count, "Exit after this many messages")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));

  auto* sync = app.add_subcommand("sync", "Fetch and print the backlog, send the outbox, exit");
  auto* sync_room = sync->add_option("--room", room, "Only print this room (hex)");

  auto* rooms = app.add_subcommand("rooms", "List your rooms");
  rooms->add_flag("--offline", offline, "Do not connect; list what the profile knows");

  auto* roster = app.add_subcommand("roster", "List a room's members");
  roster->add_option("--room", room, "Room id (hex)")->required();

  auto* history = app.add_subcommand("history", "Print stored messages of a room (offline)");
  history->add_option("--room", room, "Room id (hex)")->required();
  history->add_option("--limit", limit, "At most this many")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));

  std::string role_name;
  auto* set_role = app.add_subcommand("set-role", "Make a member a facilitator, or a facilitator a member (facilitators)");
  set_role->add_option("--room", room, "Room id (hex)")->required();
  set_role->add_option("--handle", handle, "Their handle")->required();
  set_role->add_option("--role", role_name, "facilitator or member")->required()->check(CLI::IsMember({"facilitator", "member"}));
  auto* refresh = app.add_subcommand("refresh-keys", "Refresh your keys in a room now (a commit with a path)");
  refresh->add_option("--room", room, "Room id (hex)")->required();
  auto* code_cmd = app.add_subcommand("safety-code", "Print the room's safety code for this epoch (offline)");
  code_cmd->add_option("--room", room, "Room id (hex)")->required();
  auto* members = app.add_subcommand("members", "List the room's members as your keys hold them (offline)");
  members->add_option("--room", room, "Room id (hex)")->required();

  hearth::client::ContentRoomSettings settings_body;
  std::string agreement_file;
  std::uint64_t disappearing_s = 0;
  auto* settings = app.add_subcommand("settings",
                                      "Set the room's name, topic, agreement and timers (facilitators; replaces them whole)");
  settings->add_option("--room", room, "Room id (hex)")->required();
  settings->add_option("--name", settings_body.name, "The room's name (members see it; the relay never does)");
  settings->add_option("--topic", settings_body.topic, "The room's topic");
  settings->add_option("--agreement-file", agreement_file, "A UTF-8 file with the agreement members accept");
  settings->add_option("--agreement-version", settings_body.agreement_version,
                       "Raise it when the agreement changes: everyone accepts it again");
  settings->add_option("--disappearing-s", disappearing_s, "Messages disappear this many seconds after they arrive (0 = never)");
  settings->add_option("--lifetime-days", lifetime_days, "How long the relay keeps messages (0 = relay default)")
      ->check(CLI::Range(0, 3650));

  hearth::client::ContentMemberProfile profile_body;
  auto* profile_cmd = app.add_subcommand("profile", "Set your display name in a room (empty: your handle)");
  profile_cmd->add_option("--room", room, "Room id (hex)")->required();
  profile_cmd->add_option("--display-name", profile_body.display_name, "The name the room shows for you")->required();

  hearth::client::ContentAgreementAccepted accepted_body;
  auto* accept_agreement = app.add_subcommand("accept-agreement", "Accept the room's agreement (its current version)");
  accept_agreement->add_option("--room", room, "Room id (hex)")->required();
  accept_agreement->add_option("--version", accepted_body.version, "The agreement version you read")->required();

  std::string digits;
  auto* safety = app.add_subcommand("safety-number", "Print your safety number with a person, to compare with theirs");
  safety->add_option("--handle", handle, "Their handle")->required();
  auto* verify = app.add_subcommand("verify", "Mark a person verified once your safety numbers match");
  verify->add_option("--handle", handle, "Their handle")->required();
  verify->add_option("--digits", digits, "The 60 digits they read to you")->required();
  auto* accept_key = app.add_subcommand("accept-key",
                                        "Trust the new identity key the relay names for a person (after a change)");
  accept_key->add_option("--handle", handle, "Their handle")->required();

  std::string new_passphrase_file;
  auto* change = app.add_subcommand("change-passphrase", "Seal the profile under a new passphrase (offline)");
  auto* new_passphrase_opt = change->add_option(
      "--new-passphrase-file", new_passphrase_file,
      "Read the new passphrase from this file (else HEARTH_NEW_PASSPHRASE, else the terminal)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return static_cast<int>(Exit::Usage);
  }

  g.profile = profile;
  g.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000.0));
  g.timeout_given = timeout_opt->count() > 0;
  if (passphrase_opt->count() > 0) g.passphrase_file = passphrase_file;
  hearth::cli::install_signal_handlers();

  using namespace hearth::cli;
  Exit code = Exit::Usage;
  if (*reg) code = cmd_register(g, invite, handle, system_ca);
  else if (*login) code = cmd_login(g);
  else if (*whoami) code = cmd_whoami(g);
  else if (*create) code = cmd_create_room(g, lifetime_days * 24ULL * 3600ULL * 1000ULL);
  else if (*add) code = cmd_add(g, room, handle);
  else if (*remove) code = cmd_remove(g, room, handle);
  else if (*leave) code = cmd_leave(g, room);
  else if (*reset) code = cmd_reset(g, room);
  else if (*refresh) code = cmd_refresh_keys(g, room);
  else if (*set_role) code = cmd_set_role(g, room, handle, role_name == "facilitator");
  else if (*code_cmd) code = cmd_safety_code(g, room);
  else if (*members) code = cmd_members(g, room);
  else if (*settings) {
    if (!agreement_file.empty()) {
      std::ifstream in(agreement_file, std::ios::binary);
      if (!in) {
        std::cerr << "hearth-cli: cannot read " << agreement_file << std::endl;
        return static_cast<int>(Exit::Usage);
      }
      settings_body.agreement_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    settings_body.disappearing_ms = disappearing_s * 1000ULL;
    settings_body.relay_lifetime_ms = lifetime_days * 24ULL * 3600ULL * 1000ULL;
    code = cmd_send_content(g, room, settings_body);
  } else if (*profile_cmd) code = cmd_send_content(g, room, profile_body);
  else if (*accept_agreement) code = cmd_send_content(g, room, accepted_body);
  else if (*close) code = cmd_close_room(g, room);
  else if (*send) code = cmd_send(g, room, text);
  else if (*tail) {
    code = cmd_tail(g, tail_room->count() > 0 ? std::optional<std::string>(room) : std::nullopt,
                    tail_count->count() > 0 ? std::optional<std::size_t>(count) : std::nullopt);
  } else if (*sync) code = cmd_sync(g, sync_room->count() > 0 ? std::optional<std::string>(room) : std::nullopt);
  else if (*rooms) code = cmd_rooms(g, offline);
  else if (*roster) code = cmd_roster(g, room);
  else if (*history) code = cmd_history(g, room, limit);
  else if (*safety) code = cmd_safety(g, SafetyAction::Show, handle, {});
  else if (*verify) code = cmd_safety(g, SafetyAction::Verify, handle, digits);
  else if (*accept_key) code = cmd_safety(g, SafetyAction::AcceptKey, handle, {});
  else if (*change) {
    code = cmd_change_passphrase(g, new_passphrase_opt->count() > 0
                                        ? std::optional<std::filesystem::path>(new_passphrase_file)
                                        : std::nullopt);
  }
  return static_cast<int>(code);
}
