// SPDX-License-Identifier: Apache-2.0
// Sync (backlog in pages, then live), Ack batching and retention.
//
//   Sync ──> unsubscribe from live lists; one SyncItem per room (from the
//            cursor sent, else the stored one, never before the join)
//        ──> read a page (DbWorker, FIFO: sees every write submitted before)
//        ──> push it as Deliver frames; next page once the outbox drained
//        ──> rooms joined meanwhile get their own items
//        ──> subscribe to every room, SyncOk. Writes submitted after the
//            last page arrive live, in order, after the backlog.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "server/core/retention.h"
#include "server/relay.h"

namespace hearth::relay {

using wire::ErrorCode;

namespace {

/// No upper bound for a member's items (the store binds seqs as int64).
constexpr Seq kNoUpperBound{static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())};

}  // namespace

void Relay::on_sync(Session& s, std::uint64_t rid, const wire::Sync& m) {
  const AccountId* account = require_login(s, rid);
  if (account == nullptr) return;
  if (s.peer().sync) {
    protocol_violation(s, rid, "a Sync is already running on this connection");
    return;
  }
  std::unordered_map<RoomId, Seq, BytesIdHash> requested;
  for (const auto& c : m.cursors) requested.insert_or_assign(c.room, c.seq);

  rooms_.unsubscribe_all(s);
  s.peer().live = false;
  SyncRun run;
  run.request_id = rid;
  for (Room* room : rooms_.rooms_of(*account)) {
    const MemberState& member = room->state.members.at(*account);
    auto it = requested.find(room->state.id);
    const Seq from = effective_cursor(member, it != requested.end() ? &it->second : nullptr);
    if (is_history_gap(from, room->state.deleted_through)) {
      count_error(ErrorCode::HistoryGap);
      run.gaps.push_back(wire::Error{ErrorCode::HistoryGap, "the cursor points into deleted history", room->state.id});
    }
    run.items.push_back(SyncItem{room->state.row, from, kNoUpperBound});
    run.covered.insert(room->state.row);
  }
  // Rooms the account was removed from: up to the handshake that removed it.
  for (const auto& [row, last] : departures_.of(*account)) {
    Room* room = rooms_.find_row(row);
    if (room == nullptr || run.covered.contains(row)) continue;
    auto it = requested.find(room->state.id);
    const Seq from = it != requested.end() ? it->second : Seq{last.v - 1};
    run.items.push_back(SyncItem{row, from, last});
    run.covered.insert(row);
  }
  s.peer().sync = std::move(run);
  next_sync_page(s);
}

void Relay::next_sync_page(Session& s) {
  auto& run = *s.peer().sync;
  if (run.page_in_flight || s.closed()) return;
  const AccountId account = *s.peer().account;
  while (run.at < run.items.size()) {
    const auto& item = run.items[run.at];
    Room* room = rooms_.find_row(item.room_row);
    Seq upto = item.upto;
    if (auto d = departures_.find(item.room_row, account)) upto = std::min(upto, *d);
    if (room == nullptr || item.after >= upto) {
      ++run.at;
      continue;
    }
    if (!s.below_low_water()) {
      run.waiting_for_drain = true;  // on_drained() continues
      return;
    }
    run.page_in_flight = true;
    s.begin_request();
    const auto row = item.room_row;
    const auto after = item.after;
    const std::size_t page_bytes = std::min<std::size_t>(kSyncPageBytes, config_.outbox_bytes / 4);
    db_->submit_value<std::vector<StoredEnvelope>>(
        [row, after, upto, account, page_bytes](RelayStore& store) {
          return store.read_envelopes(row, after, upto, account, kSyncPageEnvelopes, page_bytes);
        },
        [this, self = s.shared_from_this(), row](std::vector<StoredEnvelope> page) {
          self->end_request();
          if (self->closed() || !self->peer().sync) return;
          auto& r = *self->peer().sync;
          r.page_in_flight = false;
          Room* target = rooms_.find_row(row);
          if (page.empty() || target == nullptr) {
            ++r.at;
          } else {
            r.items[r.at].after = page.back().seq;
            for (auto& e : page) {
              self->enqueue(encode_deliver(target->state.id, std::move(e)));
              ++counters_.deliveries;
            }
          }
          if (!self->closed()) next_sync_page(*self);
        });
    return;
  }
  finish_sync(s);
}

void Relay::on_drained(Session& s) {
  auto& sync = s.peer().sync;
  if (sync && sync->waiting_for_drain) {
    sync->waiting_for_drain = false;
    next_sync_page(s);
  }
}

void Relay::finish_sync(Session& s) {
  auto& run = *s.peer().sync;
  const AccountId account = *s.peer().account;
  // Rooms joined or created while the backlog was read get their own items.
  bool more = false;
  for (Room* room : rooms_.rooms_of(account)) {
    if (run.covered.contains(room->state.row)) continue;
    const MemberState& member = room->state.members.at(account);
    run.items.push_back(SyncItem{room->state.row, effective_cursor(member, nullptr), kNoUpperBound});
    run.covered.insert(room->state.row);
    more = true;
  }
  if (more) {
    next_sync_page(s);
    return;
  }
  wire::SyncOk ok;
  for (Room* room : rooms_.rooms_of(account)) {
    rooms_.subscribe(*room, s);
    ok.rooms.push_back(wire::RoomSyncState{room->state.id, room->committed_head, room->committed_epoch,
                                           room->state.members.at(account).role});
  }
  // Departures this Sync delivered are done with.
  std::vector<std::int64_t> finished;
  for (const auto& [row, last] : departures_.of(account)) {
    if (run.covered.contains(row)) finished.push_back(row);
  }
  for (auto row : finished) departures_.erase(row, account);
  if (!finished.empty()) {
    db_->submit(
        [finished, account](RelayStore& store) -> store::StoreResult<void> {
          for (auto row : finished) {
            if (auto r = store.erase_departure(row, account); !r) return r;
          }
          return {};
        },
        [] {});
  }
  ok.gaps = std::move(run.gaps);
  const auto rid = run.request_id;
  s.peer().sync.reset();
  s.peer().live = true;
  reply(s, rid, std::move(ok));
}

void Relay::on_ack(Session& s, const wire::Ack& m) {
  if (!s.peer().account) {
    reply_error(s, 0, ErrorCode::NotAuthenticated, "log in first");
    return;
  }
  const AccountId& account = *s.peer().account;
  for (const auto& c : m.cursors) {
    Room* room = rooms_.find(c.room);
    if (room == nullptr) continue;
    if (advance_cursor(room->state, account, c.seq)) dirty_cursors_.emplace(room->state.row, account);
  }
}

void Relay::submit_cursor_chunk(std::function<void()> done) {
  std::vector<std::tuple<std::int64_t, AccountId, Seq>> batch;
  batch.reserve(std::min(dirty_cursors_.size(), kCursorFlushChunk));
  while (!dirty_cursors_.empty() && batch.size() < kCursorFlushChunk) {
    auto node = dirty_cursors_.extract(dirty_cursors_.begin());
    const auto& [row, account] = node.value();
    Room* room = rooms_.find_row(row);
    if (room == nullptr) continue;
    auto it = room->state.members.find(account);
    if (it != room->state.members.end()) batch.emplace_back(row, account, it->second.cursor);
  }
  db_->submit(
      [batch = std::move(batch)](RelayStore& store) -> store::StoreResult<void> {
        for (const auto& [row, account, seq] : batch) {
          if (auto r = store.save_cursor(row, account, seq); !r) return r;
        }
        return {};
      },
      std::move(done));
}

void Relay::flush_acks() {
  while (!dirty_cursors_.empty()) submit_cursor_chunk([] {});
}

void Relay::trickle_acks() {
  if (cursor_flush_in_flight_ || dirty_cursors_.empty() || stopping_) return;
  cursor_flush_in_flight_ = true;
  submit_cursor_chunk([this] {
    cursor_flush_in_flight_ = false;
    trickle_acks();
  });
}

asio::awaitable<void> Relay::ack_loop() {
  boost::system::error_code ec;
  while (!stopping_) {
    ack_timer_.expires_after(std::chrono::milliseconds(config_.ack_flush_interval_ms));
    co_await ack_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    trickle_acks();
  }
}

void Relay::run_retention() {
  if (retention_running_ || stopping_) return;
  flush_acks();  // FIFO: the cursors retention relies on are on disk first
  struct Item {
    RoomState room;  // without members: what delete_retained needs
    RetentionPlan plan;
  };
  auto items = std::make_shared<std::vector<Item>>();
  const auto now = now_ms();
  rooms_.for_each([&](Room& room) {
    RoomState light;
    light.id = room.state.id;
    light.row = room.state.row;
    light.head = room.state.head;
    light.deleted_through = room.state.deleted_through;
    items->push_back(Item{std::move(light), plan_retention(room.state, now, config_.retention_limit_ms())});
  });
  if (items->empty()) return;
  retention_running_ = true;
  db_->submit_value<std::vector<Seq>>(
      [items](RelayStore& store) -> store::StoreResult<std::vector<Seq>> {
        std::vector<Seq> out;
        for (const auto& item : *items) {
          auto r = store.delete_retained(item.room, item.plan.all_through, item.plan.application_before_ms);
          if (!r) return fail(std::move(r.error()));
          out.push_back(*r);
        }
        return out;
      },
      [this, items](std::vector<Seq> deleted) {
        retention_running_ = false;
        for (std::size_t i = 0; i < items->size(); ++i) {
          const auto& item = (*items)[i];
          Room* room = rooms_.find_row(item.room.row);
          if (room == nullptr) continue;
          room->state.deleted_through = std::max(room->state.deleted_through, deleted[i]);
          ids_.evict(item.room.row, item.plan.all_through, item.plan.application_before_ms);
        }
      });
}

asio::awaitable<void> Relay::retention_loop() {
  boost::system::error_code ec;
  while (!stopping_) {
    retention_timer_.expires_after(std::chrono::milliseconds(config_.retention_interval_ms));
    co_await retention_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    run_retention();
  }
}

}  // namespace hearth::relay
