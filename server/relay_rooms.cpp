// SPDX-License-Identifier: Apache-2.0
// Rooms: creation, membership bundles, application envelopes, fan-out,
// rosters and closing.
#include <spdlog/spdlog.h>

#include "common/wire/codec.h"
#include "server/core/limits.h"
#include "server/core/retention.h"
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

IdentityLookup Relay::identity_lookup() const {
  return [this](const AccountId& a) -> std::optional<Bytes> {
    const AccountEntry* e = directory_.find(a);
    if (e == nullptr) return std::nullopt;
    return e->identity_key;
  };
}

mls::PublicGroup* Relay::require_view(Session& s, std::uint64_t rid, Room& room) {
  if (room.view) return &*room.view;
  reply_error(s, rid, ErrorCode::InvalidArgument,
              "the room has no MLS view (made before this relay version, or damaged): close it and create it again",
              room.state.id);
  return nullptr;
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
  const AccountEntry* creator = directory_.find(*account);
  if (creator == nullptr) {
    reply_error(s, rid, ErrorCode::UnknownAccount, "no such account");
    return;
  }
  auto view = open_room_view(m.room, m.group_info, *account, creator->identity_key, now_s());
  if (!view) {
    ++counters_.handshakes_refused;
    reply_rejection(s, rid, view.error(), m.room);
    return;
  }
  Room& room = rooms_.add(new_room(m.room, rooms_.next_row(), *account, m.lifetime_ms), Seq{0}, Epoch{0});
  room.view = std::move(*view);
  s.begin_request();
  db_->submit(
      [state = room.state, creator = *account, info = std::move(m.group_info), stored = room.view->serialize(),
       now = now_ms()](RelayStore& store) { return store.insert_room(state, creator, info, stored, now); },
      [this, self = s.shared_from_this(), rid, row = room.state.row, id = m.room] {
        self->end_request();
        Room* r = rooms_.find_row(row);
        if (self->closed()) return;
        if (r != nullptr && self->peer().live) rooms_.subscribe(*r, *self);
        reply(*self, rid, wire::CreateRoomOk{id, Epoch{0}});
      });
}

void Relay::on_send_envelope(Session& s, std::uint64_t rid, wire::SendEnvelope&& m) {
  auto send_ok = [id = m.room](const IdRecord& rec) -> wire::Message { return wire::SendOk{id, rec.seq}; };
  auto request = begin_envelope_request(s, rid, m.room, m.envelope_id, EnvelopeKind::Application, send_ok);
  if (!request) return;
  const AccountId* sender = request->sender;
  Room* room = request->room;
  const auto row = room->state.row;
  if (auto member = require_member(room->state, *sender); !member) {
    reply_rejection(s, rid, member.error(), m.room);
    return;
  }
  const mls::PublicGroup* view = require_view(s, rid, *room);
  if (view == nullptr) return;
  // Only the outer MLS header is read: the relay holds no key to open it.
  auto mls_epoch = check_application_message(view->context().group_id, m.epoch, m.payload);
  if (!mls_epoch) {
    reply_rejection(s, rid, mls_epoch.error(), m.room);
    return;
  }
  auto seq = plan_send(room->state, *sender, *mls_epoch);
  if (!seq) {
    reply_rejection(s, rid, seq.error(), m.room);
    return;
  }
  room->state.head = *seq;
  const auto now = now_ms();
  ids_.record(*sender, m.envelope_id, IdRecord{row, *seq, EnvelopeKind::Application, m.epoch, false}, now);
  StoredEnvelope e{*seq, EnvelopeKind::Application, *sender, std::move(m.envelope_id), m.epoch, now,
                   std::move(m.payload), {}, std::nullopt, false};
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

void Relay::submit_proposal(Session& s, std::uint64_t rid, Room& room, const AccountId& submitter,
                            wire::SubmitBundle&& m) {
  if (!m.welcomes.empty()) {
    reply_error(s, rid, ErrorCode::InvalidArgument, "a proposal carries no Welcome", m.room);
    return;
  }
  auto next = plan_proposal(*room.view, m.handshake, submitter, identity_lookup(), now_s());
  if (!next) {
    ++counters_.handshakes_refused;
    reply_rejection(s, rid, next.error(), m.room);
    return;
  }
  const auto seq = plan_send(room.state, submitter, room.state.epoch);
  if (!seq) {
    reply_rejection(s, rid, seq.error(), m.room);
    return;
  }
  const auto row = room.state.row;
  const Epoch epoch = room.state.epoch;
  const auto now = now_ms();
  room.state.head = *seq;
  room.view = std::move(*next);
  ids_.record(submitter, m.envelope_id, IdRecord{row, *seq, EnvelopeKind::Handshake, epoch, true}, now);
  auto job = std::make_shared<StoredEnvelope>(StoredEnvelope{*seq, EnvelopeKind::Handshake, submitter,
                                                             std::move(m.envelope_id), epoch, now,
                                                             std::move(m.handshake), {}, std::nullopt, true});
  s.begin_request();
  // The cached proposal lives in the view: stored with the envelope.
  db_->submit(
      [job, row, stored = room.view->serialize()](RelayStore& store) -> store::StoreResult<void> {
        if (auto r = store.insert_envelope(row, *job); !r) return r;
        return store.save_room_view(row, stored);
      },
      [this, self = s.shared_from_this(), rid, row, job, epoch] {
        self->end_request();
        ++counters_.envelopes_stored;
        if (!self->closed()) reply(*self, rid, wire::BundleOk{job->seq, epoch});
        Room* r = rooms_.find_row(row);
        if (r == nullptr) return;
        r->committed_head = std::max(r->committed_head, job->seq);
        fan_out(*r, encode_deliver(r->state.id, std::move(*job)));
      });
}

void Relay::on_submit_bundle(Session& s, std::uint64_t rid, wire::SubmitBundle&& m) {
  auto bundle_ok = [](const IdRecord& rec) -> wire::Message { return wire::BundleOk{rec.seq, rec.epoch_after()}; };
  auto request = begin_envelope_request(s, rid, m.room, m.envelope_id, EnvelopeKind::Handshake, bundle_ok);
  if (!request) return;
  const AccountId* submitter = request->sender;
  Room* room = request->room;
  const auto row = room->state.row;
  if (auto member = require_member(room->state, *submitter); !member) {
    reply_rejection(s, rid, member.error(), m.room);
    return;
  }
  mls::PublicGroup* view = require_view(s, rid, *room);
  if (view == nullptr) return;
  if (handshake_kind(m.handshake) == HandshakeKind::Proposal) {
    submit_proposal(s, rid, *room, *submitter, std::move(m));
    return;
  }
  // The MLS commit is the truth: the roster the relay applies and fans out
  // is derived from it; the client's roster_changes claim is not read.
  auto refuse = [&](const Rejection& why) {
    ++counters_.handshakes_refused;
    reply_rejection(s, rid, why, m.room);
  };
  if (auto shared = share_welcomes(m.welcomes); !shared) return refuse(shared.error());
  auto plan = plan_commit(*view, m.handshake, *submitter, m.welcomes, identity_lookup(), now_s());
  if (!plan) return refuse(plan.error());
  for (const auto& [account, ref] : plan->joiners) {
    if (!handed_out_.contains(account, ref)) {
      return refuse(Rejection{ErrorCode::InvalidArgument, "a joiner's KeyPackage was not handed out by this relay"});
    }
  }
  std::vector<AccountId> welcomed;
  for (const auto& w : m.welcomes) welcomed.push_back(w.account);
  const Epoch epoch{view->epoch()};
  auto t = plan_bundle(room->state, *submitter, epoch, plan->roster, welcomed);
  if (!t) return refuse(t.error());
  const auto now = now_ms();
  const Seq hs = t->handshake_seq;
  const Epoch new_epoch = t->next.epoch;

  // Envelopes: the handshake at S, each Welcome at S+1.. to its addressee.
  auto envelopes = std::make_shared<std::vector<StoredEnvelope>>();
  envelopes->push_back(StoredEnvelope{hs, EnvelopeKind::Handshake, *submitter, m.envelope_id, epoch, now,
                                      std::move(m.handshake), plan->roster, std::nullopt, false});
  for (std::size_t i = 0; i < m.welcomes.size(); ++i) {
    auto& w = m.welcomes[i];
    envelopes->push_back(StoredEnvelope{t->welcome_seqs[i], EnvelopeKind::Welcome, *submitter, m.envelope_id, epoch,
                                        now, std::move(w.data), {}, w.account, false});
  }

  // The authoritative state and view move now, together; the disk follows
  // in the group commit, in one transaction (a failed write stops the relay).
  room->state = std::move(t->next);
  room->view = std::move(plan->next);
  room->last_commit_seq = hs;
  for (const auto& [account, ref] : plan->joiners) handed_out_.consume(account, ref);
  for (const auto& a : t->added) {
    rooms_.joined(a, row);
    departures_.erase(row, a);
  }
  for (const auto& a : t->removed) {
    room->last_report.erase(a);
    rooms_.left(a, row);
    departures_.set(row, a, hs);
  }
  ids_.record(*submitter, m.envelope_id, IdRecord{row, hs, EnvelopeKind::Handshake, epoch, false}, now);

  s.begin_request();
  db_->submit(
      [envelopes, state = room->state, stored = room->view->serialize(), added = t->added, removed = t->removed,
       hs](RelayStore& store) -> store::StoreResult<void> {
        for (const auto& e : *envelopes) {
          if (auto r = store.insert_envelope(state.row, e); !r) return r;
        }
        if (auto r = store.save_room_members(state); !r) return r;
        if (auto r = store.save_room_view(state.row, stored); !r) return r;
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
        r->committed_epoch = new_epoch;  // commits complete in order
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
  Room* room = require_room(s, rid, m.room);
  if (room == nullptr) return;
  if (auto may = require_facilitator(room->state, *account, "closes a room"); !may) {
    reply_rejection(s, rid, may.error(), m.room);
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
  Room* room = require_room(s, rid, m.room);
  if (room == nullptr) return;
  if (auto member = require_member(room->state, *account); !member) {
    reply_rejection(s, rid, member.error(), m.room);
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

std::optional<Relay::EnvelopeRequest> Relay::begin_envelope_request(
    Session& s, std::uint64_t rid, const RoomId& room_id, const EnvelopeId& id, EnvelopeKind kind,
    const std::function<wire::Message(const IdRecord&)>& answer) {
  const AccountId* sender = require_login(s, rid);
  if (sender == nullptr) return std::nullopt;
  Room* room = require_room(s, rid, room_id);
  if (room == nullptr) return std::nullopt;
  switch (ids_.decide(*sender, id, room->state.row, kind)) {
    case IdDecision::Replay:
      after_commits(s, [this, rid, msg = answer(*ids_.find(*sender, id))](Session& self) { reply(self, rid, msg); });
      return std::nullopt;
    case IdDecision::Conflict:
      reply_error(s, rid, ErrorCode::DuplicateId, "the envelope id was used for something else");
      return std::nullopt;
    case IdDecision::New: break;
  }
  return EnvelopeRequest{sender, room};
}

Room* Relay::require_room(Session& s, std::uint64_t rid, const RoomId& id) {
  Room* room = rooms_.find(id);
  if (room == nullptr) reply_error(s, rid, ErrorCode::UnknownRoom, "no such room");
  return room;
}

void Relay::store_and_deliver(Session& s, std::uint64_t rid, Room& room,
                              std::shared_ptr<std::vector<StoredEnvelope>> envelopes, bool with_view,
                              wire::Message answer) {
  const Epoch epoch = room.state.epoch;  // what is on disk once this commits
  std::optional<Bytes> stored;
  if (with_view && room.view) stored = room.view->serialize();
  s.begin_request();
  db_->submit(
      [envelopes, state = room.state, stored = std::move(stored)](RelayStore& store) -> store::StoreResult<void> {
        for (const auto& e : *envelopes) {
          if (auto r = store.insert_envelope(state.row, e); !r) return r;
        }
        if (auto r = store.save_room_members(state); !r) return r;
        if (stored) return store.save_room_view(state.row, *stored);
        return {};
      },
      [this, self = s.shared_from_this(), rid, row = room.state.row, envelopes, epoch, answer = std::move(answer)] {
        self->end_request();
        counters_.envelopes_stored += envelopes->size();
        if (!self->closed()) reply(*self, rid, answer);
        Room* r = rooms_.find_row(row);
        if (r == nullptr) return;  // closed meanwhile
        r->committed_head = std::max(r->committed_head, envelopes->back().seq);
        r->committed_epoch = epoch;
        for (auto& e : *envelopes) {
          const auto addressee = e.addressee;
          auto frame = encode_deliver(r->state.id, std::move(e));
          fan_out(*r, frame, addressee ? &*addressee : nullptr);
        }
      });
}

void Relay::on_reset_room(Session& s, std::uint64_t rid, wire::ResetRoom&& m) {
  // A reset's record holds the new group's epoch.
  auto reset_ok = [](const IdRecord& rec) -> wire::Message { return wire::BundleOk{rec.seq, rec.epoch}; };
  auto request = begin_envelope_request(s, rid, m.room, m.envelope_id, EnvelopeKind::Reset, reset_ok);
  if (!request) return;
  const AccountId* submitter = request->sender;
  Room* room = request->room;
  const auto row = room->state.row;
  auto refuse = [&](const Rejection& why) {
    ++counters_.handshakes_refused;
    reply_rejection(s, rid, why, m.room);
  };
  if (auto may = require_facilitator(room->state, *submitter, "resets a room"); !may) return refuse(may.error());
  // A room without a view (older relay, damaged) is what a reset repairs.
  if (auto shared = share_welcomes(m.welcomes); !shared) return refuse(shared.error());
  const Bytes current = room->view ? room->view->context().group_id : room->state.id.v;
  auto plan = plan_reset(room->state.id, current, m.group_info, m.handshake, *submitter, m.welcomes,
                         identity_lookup(), now_s());
  if (!plan) return refuse(plan.error());
  for (const auto& [account, ref] : plan->joiners) {
    if (!handed_out_.contains(account, ref)) {
      return refuse(Rejection{ErrorCode::InvalidArgument, "a member's KeyPackage was not handed out by this relay"});
    }
  }
  std::vector<AccountId> welcomed;
  for (const auto& w : m.welcomes) welcomed.push_back(w.account);
  const Epoch epoch{plan->next.epoch()};
  auto t = plan_reset_state(room->state, *submitter, epoch, plan->roster, welcomed);
  if (!t) return refuse(t.error());

  const auto now = now_ms();
  auto envelopes = std::make_shared<std::vector<StoredEnvelope>>();
  envelopes->push_back(StoredEnvelope{t->reset_seq, EnvelopeKind::Reset, *submitter, m.envelope_id, epoch, now, {},
                                      plan->roster, std::nullopt, false});
  for (std::size_t i = 0; i < m.welcomes.size(); ++i) {
    auto& w = m.welcomes[i];
    envelopes->push_back(StoredEnvelope{t->welcome_seqs[i], EnvelopeKind::Welcome, *submitter, m.envelope_id, epoch,
                                        now, std::move(w.data), {}, w.account, false});
  }
  // The switch: from here on only the new group's envelopes are current.
  room->state = std::move(t->next);
  room->view = std::move(plan->next);
  room->last_commit_seq = t->reset_seq;
  for (const auto& [account, ref] : plan->joiners) handed_out_.consume(account, ref);
  ids_.record(*submitter, m.envelope_id, IdRecord{row, t->reset_seq, EnvelopeKind::Reset, epoch, false}, now);
  store_and_deliver(s, rid, *room, std::move(envelopes), true, wire::BundleOk{t->reset_seq, epoch});
}

void Relay::on_report_change(Session& s, std::uint64_t rid, wire::ReportChange&& m) {
  auto send_ok = [id = m.room](const IdRecord& rec) -> wire::Message { return wire::SendOk{id, rec.seq}; };
  auto request = begin_envelope_request(s, rid, m.room, m.envelope_id, EnvelopeKind::Report, send_ok);
  if (!request) return;
  const AccountId* reporter = request->sender;
  Room* room = request->room;
  const auto row = room->state.row;
  if (auto member = require_member(room->state, *reporter); !member) {
    reply_rejection(s, rid, member.error(), m.room);
    return;
  }
  if (m.commit_seq.v == 0 || m.commit_seq > room->last_commit_seq) {
    reply_error(s, rid, ErrorCode::InvalidArgument, "no such commit in this room", m.room);
    return;
  }
  auto& last = room->last_report[*reporter];
  if (m.commit_seq <= last) {
    reply_error(s, rid, ErrorCode::RateLimited, "one report per member and commit", m.room);
    return;
  }
  last = m.commit_seq;
  room->state.head = Seq{room->state.head.v + 1};
  const Seq seq = room->state.head;
  const auto now = now_ms();
  ids_.record(*reporter, m.envelope_id, IdRecord{row, seq, EnvelopeKind::Report, room->state.epoch, false}, now);
  auto envelopes = std::make_shared<std::vector<StoredEnvelope>>();
  envelopes->push_back(StoredEnvelope{seq, EnvelopeKind::Report, *reporter, std::move(m.envelope_id),
                                      room->state.epoch, now,
                                      wire::encode_change_report(wire::ChangeReport{m.commit_seq, m.problem}), {},
                                      std::nullopt, false});
  store_and_deliver(s, rid, *room, std::move(envelopes), false, wire::SendOk{m.room, seq});
}

void Relay::on_set_room_lifetime(Session& s, std::uint64_t rid, const wire::SetRoomLifetime& m) {
  const AccountId* account = require_login(s, rid);
  if (account == nullptr) return;
  Room* room = require_room(s, rid, m.room);
  if (room == nullptr) return;
  if (auto may = require_facilitator(room->state, *account, "sets how long the relay keeps a room"); !may) {
    reply_rejection(s, rid, may.error(), m.room);
    return;
  }
  room->state.lifetime_ms = m.lifetime_ms;
  const auto applied = effective_lifetime_ms(m.lifetime_ms, config_.retention_limit_ms());
  s.begin_request();
  db_->submit([state = room->state](RelayStore& store) { return store.save_room_members(state); },
              [this, self = s.shared_from_this(), rid, id = m.room, applied] {
                self->end_request();
                if (!self->closed()) reply(*self, rid, wire::RoomLifetimeOk{id, applied});
              });
}

}  // namespace hearth::relay
