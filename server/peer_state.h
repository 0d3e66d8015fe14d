// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the relay knows about one connection beyond its transport: protocol
// state, login, and the Sync in progress. Owned by the Session, read and
// written by the relay on the io thread.

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "common/types/bytes.h"
#include "common/types/ids.h"
#include "common/wire/messages.h"

namespace hearth::relay {

struct PendingLogin {
  AccountId account;
  Bytes challenge;
};

/// One room's part of a Sync: envelopes after `after` up to `upto`.
struct SyncItem {
  std::int64_t room_row = 0;
  Seq after;
  Seq upto;
};

struct SyncRun {
  std::uint64_t request_id = 0;
  std::vector<SyncItem> items;
  std::size_t at = 0;
  std::set<std::int64_t> covered;  // room rows this run has read
  std::vector<wire::Error> gaps;
  bool page_in_flight = false;
  bool waiting_for_drain = false;
};

struct PeerState {
  bool hello_done = false;
  std::optional<AccountId> account;
  std::optional<PendingLogin> login;
  bool auth_in_flight = false;   // a Register is waiting for the database
  std::uint32_t bad_frames = 0;
  std::uint32_t auth_failures = 0;
  std::optional<SyncRun> sync;   // a Sync in progress
  bool live = false;             // receives live Deliver pushes (after the first Sync)
  std::vector<std::int64_t> subscribed;  // rows of the rooms whose live list holds this session
};

}  // namespace hearth::relay
