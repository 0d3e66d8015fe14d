// SPDX-License-Identifier: Apache-2.0
// Rooms: creation, membership bundles, application envelopes, fan-out,
// rosters and closing.
#include <spdlog/spdlog.h>

#include "common/wire/codec.h"
#include "server/core/limits.h"
#include "server/relay.h"

namespace hearth::relay {

using wire::EnvelopeKind;
using wire::ErrorCode;

std::shared_ptr<const Bytes> Relay::encode_deliver(const RoomId& room, StoredEnvelope&& e) {
  wire::Deliver d{room,
                  e.seq,
                  e.kind,
                  std::move(e.sender),
                  std::move(e.envelope_id),
                  e.epoch,
                  e.timestamp_ms,
                  std::move(e.payload),
                  std::move(e.roster_changes)};
  return std::make_shared<const Bytes>(wire::encode_with_length(wire::Frame{0, std::move(d)}));
}

void Relay::fan_out(Room& room, const std::shared_ptr<const Bytes>& frame, const AccountId* only) {
  // Delivering may close a slow session, which edits the live list: walk a snapshot.
  fanout_scratch_.assign(room.live.begin(), room.live.end());
  for (Session* s : fanout_scratch_) {
    if (s->closed()) continue;
    if (only != nullptr && (!s->peer().account || *s->peer().account != *only)) continue;
    s->enqueue(frame);
    ++counters_.deliveries;
  }
}

void Relay::on_create_room(Session& s, std::uint64_t rid, wire::CreateRoom&& m) {
  const AccountId* account = require_login(s, rid);
  if (account == nullptr) return;
  if (rooms_.find(m.room) != nullptr) {
    reply_error(s, rid, ErrorCode::RoomExists, "the room id is taken");
    return;
  }
  if (rooms_.room_count_of(*account) >= kMaxRoomsPerAccount) {
    reply_error(s, rid, ErrorCode::QuotaExceeded, "member of too many rooms");
    return;
  }
  Room& room = rooms_.add(new_room(m.room, rooms_.next_row(), *account, m.lifetime_ms), Seq{0}, Epoch{0});
  s.begin_request();
  db_->submit(
      [state = room.state, creator = *account, info = std::move(m.group_info), now = now_ms()](RelayStore& store) {
        return store.insert_room(state, creator, info, now);
      },
      [this, self = s.shared_from_this(), rid, row = room.state.row, id = m.room] {
        self->end_request();
        Room* r = rooms_.find_row(row);
        if (self->closed()) return;
        if (r != nullptr && self->peer().live) rooms_.subscribe(*r, *self);
        reply(*self, rid, wire::CreateRoomOk{id, Epoch{0}});
      });
}

void Relay::on_send_envelope(Session& s, std::uint64_t rid, wire::SendEnvelope&& m) {
  const AccountId* sender = require_login(s, rid);
  if (sender == nullptr) return;
  Room* room = rooms_.find(m.room);
  if (room == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownRoom, "no such room");
    return;
  }
  const auto row = room->state.row;
  switch (ids_.decide(*sender, m.envelope_id, row, EnvelopeKind::Application)) {
    case IdDecision::Replay: {
      const Seq seq = ids_.find(*sender, m.envelope_id)->seq;
      after_commits(s, [this, rid, id = m.room, seq](Session& self) { reply(self, rid, wire::SendOk{id, seq}); });
      return;
    }
    case IdDecision::Conflict:
      reply_error(s, rid, ErrorCode::DuplicateId, "the envelope id was used for something else");
      return;
    case IdDecision::New: break;
  }
  auto seq = plan_send(room->state, *sender, m.epoch);
  if (!seq) {
    reply_error(s, rid, seq.error().code, seq.error().reason, m.room);
    return;
  }
  room->state.head = *seq;
  const auto now = now_ms();
  ids_.record(*sender, m.envelope_id, IdRecord{row, *seq, EnvelopeKind::Application, m.epoch}, now);
  StoredEnvelope e{*seq, EnvelopeKind::Application, *sender, std::move(m.envelope_id), m.epoch, now,
                   std::move(m.payload), {}, std::nullopt};
  auto job = std::make_shared<StoredEnvelope>(std::move(e));
  s.begin_request();
  db_->submit([job, row](RelayStore& store) { return store.insert_envelope(row, *job); },
              [this, self = s.shared_from_this(), rid, row, job, id = std::move(m.room)] {
                self->end_request();
                ++counters_.envelopes_stored;
                const Seq committed = job->seq;
                if (!self->closed()) reply(*self, rid, wire::SendOk{id, committed});
                Room* r = rooms_.find_row(row);
                if (r == nullptr) return;  // closed meanwhile
                r->committed_head = std::max(r->committed_head, committed);
                fan_out(*r, encode_deliver(r->state.id, std::move(*job)));
              });
}

void Relay::on_submit_bundle(Session& s, std::uint64_t rid, wire::SubmitBundle&& m) {
  const AccountId* submitter = require_login(s, rid);
  if (submitter == nullptr) return;
  Room* room = rooms_.find(m.room);
  if (room == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownRoom, "no such room");
    return;
  }
  const auto row = room->state.row;
  switch (ids_.decide(*submitter, m.envelope_id, row, EnvelopeKind::Handshake)) {
    case IdDecision::Replay: {
      const IdRecord rec = *ids_.find(*submitter, m.envelope_id);
      after_commits(s, [this, rid, rec](Session& self) {
        reply(self, rid, wire::BundleOk{rec.seq, Epoch{rec.epoch.v + 1}});
      });
      return;
    }
    case IdDecision::Conflict:
      reply_error(s, rid, ErrorCode::DuplicateId, "the envelope id was used for something else");
      return;
    case IdDecision::New: break;
  }
  auto t = plan_bundle(room->state, *submitter, m,
                       [this](const AccountId& a) { return directory_.contains(a); });
  if (!t) {
    reply_error(s, rid, t.error().code, t.error().reason, m.room);
    return;
  }
  const auto now = now_ms();
  const Seq hs = t->handshake_seq;
  const Epoch new_epoch = t->next.epoch;

  // Envelopes: the handshake at S, each Welcome at S+1.. to its addressee.
  auto envelopes = std::make_shared<std::vector<StoredEnvelope>>();
  envelopes->push_back(StoredEnvelope{hs, EnvelopeKind::Handshake, *submitter, m.envelope_id, m.epoch, now,
                                      std::move(m.handshake), m.roster_changes, std::nullopt});
  for (std::size_t i = 0; i < m.welcomes.size(); ++i) {
    auto& w = m.welcomes[i];
    envelopes->push_back(StoredEnvelope{t->welcome_seqs[i], EnvelopeKind::Welcome, *submitter, m.envelope_id, m.epoch,
                                        now, std::move(w.data), {}, w.account});
  }

  // The authoritative state moves now; the disk follows in the group commit.
  room->state = std::move(t->next);
  for (const auto& a : t->added) {
    rooms_.joined(a, row);
    departures_.erase(row, a);
  }
  for (const auto& a : t->removed) {
    rooms_.left(a, row);
    departures_.set(row, a, hs);
  }
  ids_.record(*submitter, m.envelope_id, IdRecord{row, hs, EnvelopeKind::Handshake, m.epoch}, now);

  s.begin_request();
  db_->submit(
      [envelopes, state = room->state, added = t->added, removed = t->removed, hs](RelayStore& store)
          -> store::StoreResult<void> {
        for (const auto& e : *envelopes) {
          if (auto r = store.insert_envelope(state.row, e); !r) return r;
        }
        if (auto r = store.save_room_members(state); !r) return r;
        for (const auto& a : added) {
          if (auto r = store.erase_departure(state.row, a); !r) return r;
        }
        for (const auto& a : removed) {
          if (auto r = store.save_departure(DepartureRow{state.row, a, hs}); !r) return r;
        }
        return {};
      },
      [this, self = s.shared_from_this(), rid, row, envelopes, added = t->added, removed = t->removed, hs,
       new_epoch] {
        self->end_request();
        counters_.envelopes_stored += envelopes->size();
        if (!self->closed()) reply(*self, rid, wire::BundleOk{hs, new_epoch});
        Room* r = rooms_.find_row(row);
        if (r == nullptr) return;
        r->committed_head = std::max(r->committed_head, envelopes->back().seq);
        r->committed_epoch = std::max(r->committed_epoch, new_epoch);
        // Joiners that are live start receiving here: the handshake that
        // added them, then their Welcome, then everything after.
        for (const auto& a : added) {
          auto it = online_.find(a);
          if (it == online_.end()) continue;
          for (Session* joiner : it->second) {
            if (joiner->peer().live && !joiner->peer().sync) rooms_.subscribe(*r, *joiner);
          }
        }
        for (auto& e : *envelopes) {
          const auto addressee = e.addressee;
          auto frame = encode_deliver(r->state.id, std::move(e));
          fan_out(*r, frame, addressee ? &*addressee : nullptr);
        }
        // Removed members got the handshake that removed them, and nothing after.
        for (const auto& a : removed) {
          auto it = online_.find(a);
          if (it == online_.end()) continue;
          for (Session* gone : it->second) rooms_.unsubscribe(*r, *gone);
        }
      });
}

void Relay::on_close_room(Session& s, std::uint64_t rid, const wire::CloseRoom& m) {
  const AccountId* account = require_login(s, rid);
  if (account == nullptr) return;
  Room* room = rooms_.find(m.room);
  if (room == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownRoom, "no such room");
    return;
  }
  auto member = require_member(room->state, *account);
  if (!member) {
    reply_error(s, rid, member.error().code, member.error().reason, m.room);
    return;
  }
  if ((*member)->role != wire::Role::Facilitator) {
    reply_error(s, rid, ErrorCode::NotFacilitator, "only a facilitator closes a room", m.room);
    return;
  }
  const auto row = room->state.row;
  std::vector<AccountId> members;
  for (const auto& [a, ms] : room->state.members) members.push_back(a);
  fanout_scratch_.assign(room->live.begin(), room->live.end());
  for (Session* live : fanout_scratch_) rooms_.unsubscribe(*room, *live);
  rooms_.remove(row);
  departures_.erase_room(row);
  ids_.erase_room(row);
  for (auto it = dirty_cursors_.begin(); it != dirty_cursors_.end();)
    it = it->first == row ? dirty_cursors_.erase(it) : std::next(it);
  s.begin_request();
  db_->submit([row](RelayStore& store) { return store.delete_room(row); },
              [this, self = s.shared_from_this(), rid, id = m.room, members] {
                self->end_request();
                if (!self->closed()) reply(*self, rid, wire::CloseRoomOk{id});
                auto frame = std::make_shared<const Bytes>(wire::encode_with_length(wire::Frame{0, wire::RoomClosed{id}}));
                for (const auto& a : members) {
                  auto it = online_.find(a);
                  if (it == online_.end()) continue;
                  for (Session* peer : it->second) peer->enqueue(frame);
                }
              });
}

void Relay::on_get_roster(Session& s, std::uint64_t rid, const wire::GetRoster& m) {
  const AccountId* account = require_login(s, rid);
  if (account == nullptr) return;
  Room* room = rooms_.find(m.room);
  if (room == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownRoom, "no such room");
    return;
  }
  if (auto member = require_member(room->state, *account); !member) {
    reply_error(s, rid, member.error().code, member.error().reason, m.room);
    return;
  }
  wire::Roster roster{room->state.id, room->state.epoch, {}};
  for (const auto& [a, ms] : room->state.members) {
    const AccountEntry* entry = directory_.find(a);
    roster.members.push_back(wire::Member{a, entry != nullptr ? entry->handle : std::string{}, ms.role});
  }
  // Answer once the membership it shows is on disk.
  after_commits(s, [this, rid, roster = std::move(roster)](Session& self) { reply(self, rid, roster); });
}

}  // namespace hearth::relay
