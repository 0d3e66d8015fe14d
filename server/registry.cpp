// SPDX-License-Identifier: Apache-2.0
#include "server/registry.h"

#include <algorithm>

#include "server/session.h"

namespace hearth::relay {

void Directory::add(const AccountId& id, AccountEntry entry) {
  by_handle_.insert_or_assign(entry.handle, id);
  reserved_.erase(entry.handle);
  by_id_.insert_or_assign(id, std::move(entry));
}

const AccountEntry* Directory::find(const AccountId& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const AccountId* Directory::find_handle(const std::string& handle) const {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &it->second;
}

bool Directory::handle_taken(const std::string& handle) const {
  return by_handle_.contains(handle) || reserved_.contains(handle);
}

Room* RoomRegistry::find(const RoomId& id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : find_row(it->second);
}

Room* RoomRegistry::find_row(std::int64_t row) {
  auto it = by_row_.find(row);
  return it == by_row_.end() ? nullptr : it->second.get();
}

Room& RoomRegistry::add(RoomState state, Seq committed_head, Epoch committed_epoch) {
  const auto row = state.row;
  last_row_ = std::max(last_row_, row);
  for (const auto& [account, member] : state.members) memberships_[account].insert(row);
  by_id_.emplace(state.id, row);
  auto room = std::make_unique<Room>(Room{std::move(state), committed_head, committed_epoch, {}, std::nullopt, Seq{}, {}});
  auto& ref = *room;
  by_row_.emplace(row, std::move(room));
  return ref;
}

std::optional<RoomState> RoomRegistry::remove(std::int64_t row) {
  auto it = by_row_.find(row);
  if (it == by_row_.end()) return std::nullopt;
  RoomState state = std::move(it->second->state);
  for (const auto& [account, member] : state.members) left(account, row);
  by_id_.erase(state.id);
  by_row_.erase(it);
  return state;
}

std::vector<Room*> RoomRegistry::rooms_of(const AccountId& account) const {
  std::vector<Room*> out;
  auto it = memberships_.find(account);
  if (it == memberships_.end()) return out;
  for (auto row : it->second) {
    auto r = by_row_.find(row);
    if (r != by_row_.end()) out.push_back(r->second.get());
  }
  return out;
}

std::size_t RoomRegistry::room_count_of(const AccountId& account) const {
  auto it = memberships_.find(account);
  return it == memberships_.end() ? 0 : it->second.size();
}

void RoomRegistry::joined(const AccountId& account, std::int64_t row) { memberships_[account].insert(row); }

void RoomRegistry::left(const AccountId& account, std::int64_t row) {
  auto it = memberships_.find(account);
  if (it == memberships_.end()) return;
  it->second.erase(row);
  if (it->second.empty()) memberships_.erase(it);
}

void RoomRegistry::subscribe(Room& room, Session& s) {
  auto& subs = s.peer().subscribed;
  if (std::find(subs.begin(), subs.end(), room.state.row) != subs.end()) return;
  subs.push_back(room.state.row);
  room.live.push_back(&s);
}

void RoomRegistry::unsubscribe(Room& room, Session& s) {
  auto& subs = s.peer().subscribed;
  subs.erase(std::remove(subs.begin(), subs.end(), room.state.row), subs.end());
  room.live.erase(std::remove(room.live.begin(), room.live.end(), &s), room.live.end());
}

void RoomRegistry::unsubscribe_all(Session& s) {
  for (auto row : s.peer().subscribed) {
    if (Room* room = find_row(row)) room->live.erase(std::remove(room->live.begin(), room->live.end(), &s), room->live.end());
  }
  s.peer().subscribed.clear();
}

void Departures::set(std::int64_t row, const AccountId& account, Seq last_seq) {
  by_account_[account].insert_or_assign(row, last_seq);
}

void Departures::erase(std::int64_t row, const AccountId& account) {
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return;
  it->second.erase(row);
  if (it->second.empty()) by_account_.erase(it);
}

void Departures::erase_room(std::int64_t row) {
  for (auto it = by_account_.begin(); it != by_account_.end();) {
    it->second.erase(row);
    it = it->second.empty() ? by_account_.erase(it) : std::next(it);
  }
}

std::vector<std::pair<std::int64_t, Seq>> Departures::of(const AccountId& account) const {
  std::vector<std::pair<std::int64_t, Seq>> out;
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return out;
  out.assign(it->second.begin(), it->second.end());
  return out;
}

std::optional<Seq> Departures::find(std::int64_t row, const AccountId& account) const {
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return std::nullopt;
  auto r = it->second.find(row);
  if (r == it->second.end()) return std::nullopt;
  return r->second;
}

}  // namespace hearth::relay
