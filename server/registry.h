// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay's in-memory view, kept in RAM for speed and rebuilt from SQLite
// at start: accounts (Directory) and rooms with their connected sessions
// (RoomRegistry). Thread affinity: the io thread only.
//
// A room's `state` is authoritative and runs ahead of the disk: requests are
// validated and sequenced against it at once, while their writes wait for
// the group commit. `committed_head` / `committed_epoch` are what the disk
// holds (what clients have been told). Live lists hold sessions that finished
// a Sync and get Deliver pushes as commits land.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/mls/public_group.h"
#include "common/types/ids.h"
#include "server/core/room_state.h"

namespace hearth::relay {

class Session;

struct AccountEntry {
  std::string handle;
  Bytes identity_key;
};

class Directory {
 public:
  void add(const AccountId& id, AccountEntry entry);
  [[nodiscard]] const AccountEntry* find(const AccountId& id) const;
  [[nodiscard]] const AccountId* find_handle(const std::string& handle) const;
  [[nodiscard]] bool contains(const AccountId& id) const { return find(id) != nullptr; }
  /// A handle is taken when an account has it or a registration is pending for it.
  [[nodiscard]] bool handle_taken(const std::string& handle) const;
  void reserve_handle(const std::string& handle) { reserved_.insert(handle); }
  void release_handle(const std::string& handle) { reserved_.erase(handle); }
  [[nodiscard]] std::size_t size() const noexcept { return by_id_.size(); }

 private:
  std::unordered_map<AccountId, AccountEntry, BytesIdHash> by_id_;
  std::unordered_map<std::string, AccountId> by_handle_;
  std::set<std::string> reserved_;
};

struct Room {
  RoomState state;
  Seq committed_head;
  Epoch committed_epoch;
  std::vector<Session*> live;
  /// The public MLS view of the room's group, moved with `state` (both run
  /// ahead of the disk, which follows in the same transaction). Absent for
  /// a room from before schema version 3, or whose stored view did not
  /// load: such a room takes no new envelopes.
  std::optional<mls::PublicGroup> view;
  /// The newest handshake envelope (commit or reset): members report only
  /// commits up to it, each member at most one per commit (ReportChange).
  Seq last_commit_seq;
  std::map<AccountId, Seq> last_report;
};

class RoomRegistry {
 public:
  [[nodiscard]] Room* find(const RoomId& id);
  [[nodiscard]] Room* find_row(std::int64_t row);
  /// Adds a room (its members become memberships). Precondition: id and row unused.
  Room& add(RoomState state, Seq committed_head, Epoch committed_epoch);
  /// Removes a room; returns its last state. Live sessions must have been unsubscribed.
  std::optional<RoomState> remove(std::int64_t row);
  [[nodiscard]] std::int64_t next_row() noexcept { return ++last_row_; }

  /// Rooms `account` is a member of (the authoritative state).
  [[nodiscard]] std::vector<Room*> rooms_of(const AccountId& account) const;
  [[nodiscard]] std::size_t room_count_of(const AccountId& account) const;
  /// Keeps the account -> rooms index in step after a membership change.
  void joined(const AccountId& account, std::int64_t row);
  void left(const AccountId& account, std::int64_t row);

  void subscribe(Room& room, Session& s);
  void unsubscribe(Room& room, Session& s);
  /// Unsubscribes the session from every room it is live in.
  void unsubscribe_all(Session& s);

  template <class F>
  void for_each(F&& f) {
    for (auto& [row, room] : by_row_) f(*room);
  }
  [[nodiscard]] std::size_t size() const noexcept { return by_row_.size(); }

 private:
  std::unordered_map<std::int64_t, std::unique_ptr<Room>> by_row_;
  std::unordered_map<RoomId, std::int64_t, BytesIdHash> by_id_;
  std::unordered_map<AccountId, std::set<std::int64_t>, BytesIdHash> memberships_;
  std::int64_t last_row_ = 0;
};

/// Who was removed from which room at which handshake: they still receive
/// the envelopes up to it. Keyed by (room row, account).
class Departures {
 public:
  void set(std::int64_t row, const AccountId& account, Seq last_seq);
  void erase(std::int64_t row, const AccountId& account);
  void erase_room(std::int64_t row);
  [[nodiscard]] std::vector<std::pair<std::int64_t, Seq>> of(const AccountId& account) const;
  [[nodiscard]] std::optional<Seq> find(std::int64_t row, const AccountId& account) const;

 private:
  std::unordered_map<AccountId, std::unordered_map<std::int64_t, Seq>, BytesIdHash> by_account_;
};

}  // namespace hearth::relay
