// SPDX-License-Identifier: Apache-2.0
#pragma once
// The hearth-cli commands. Each opens the profile, runs one engine session
// for as long as the command needs, and returns an exit code.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "client/cli/output.h"
#include "client/core/content.h"

namespace hearth::cli {

struct Globals {
  std::filesystem::path profile;
  bool json = false;
  std::chrono::milliseconds timeout{30'000};  // connect and each request
  bool timeout_given = false;
  /// Read the profile's passphrase from this file (else HEARTH_PASSPHRASE,
  /// else the terminal).
  std::optional<std::filesystem::path> passphrase_file;
};

[[nodiscard]] Exit cmd_register(const Globals& g, const std::string& invite, const std::string& handle, bool system_ca);
[[nodiscard]] Exit cmd_login(const Globals& g);
[[nodiscard]] Exit cmd_whoami(const Globals& g);
[[nodiscard]] Exit cmd_create_room(const Globals& g, std::uint64_t lifetime_ms);
[[nodiscard]] Exit cmd_add(const Globals& g, const std::string& room, const std::string& handle);
[[nodiscard]] Exit cmd_remove(const Globals& g, const std::string& room, const std::string& handle);
[[nodiscard]] Exit cmd_leave(const Globals& g, const std::string& room);
[[nodiscard]] Exit cmd_reset(const Globals& g, const std::string& room);
[[nodiscard]] Exit cmd_close_room(const Globals& g, const std::string& room);
[[nodiscard]] Exit cmd_send(const Globals& g, const std::string& room, const std::string& text);
/// Sends any Content kind (settings, profile, agreement, ...), as cmd_send does a text.
[[nodiscard]] Exit cmd_send_content(const Globals& g, const std::string& room, const client::ContentBody& body);
[[nodiscard]] Exit cmd_refresh_keys(const Globals& g, const std::string& room);
[[nodiscard]] Exit cmd_set_role(const Globals& g, const std::string& room, const std::string& handle, bool facilitator);
/// This epoch's safety code (offline).
[[nodiscard]] Exit cmd_safety_code(const Globals& g, const std::string& room);
/// The room's members as this device's group state holds them (offline).
[[nodiscard]] Exit cmd_members(const Globals& g, const std::string& room);
/// Follows rooms: prints messages (backlog first, then live) until
/// interrupted, `count` messages were printed, or `--timeout` passed.
[[nodiscard]] Exit cmd_tail(const Globals& g, const std::optional<std::string>& room, std::optional<std::size_t> count);
/// Fetches the backlog, prints it, re-sends the outbox, exits.
[[nodiscard]] Exit cmd_sync(const Globals& g, const std::optional<std::string>& room);
[[nodiscard]] Exit cmd_rooms(const Globals& g, bool offline);
[[nodiscard]] Exit cmd_roster(const Globals& g, const std::string& room);
/// Rewraps the profile key under a new passphrase (from `new_file`, else
/// HEARTH_NEW_PASSPHRASE, else the terminal). Offline.
[[nodiscard]] Exit cmd_change_passphrase(const Globals& g, const std::optional<std::filesystem::path>& new_file);
[[nodiscard]] Exit cmd_history(const Globals& g, const std::string& room, std::size_t limit);
/// Safety numbers: print ours with `handle`; confirm it (`digits` as read by
/// the other person); or accept the new key the relay names after a change.
enum class SafetyAction { Show, Verify, AcceptKey };
[[nodiscard]] Exit cmd_safety(const Globals& g, SafetyAction action, const std::string& handle,
                              const std::string& digits);

/// Installs SIGINT/SIGTERM handlers that ask a running tail to stop.
void install_signal_handlers();

}  // namespace hearth::cli
