// SPDX-License-Identifier: Apache-2.0
// Rooms as MLS groups (DESIGN.md §3-5): the group state each room's
// envelopes advance, membership changes as commit bundles, and what every
// delivered envelope does once this device has opened it.
//
//   create_room   RoomGroup::create -> CreateRoom{GroupInfo} -> store state
//   add/remove    build a commit on the held state -> SubmitBundle
//                   BundleOk         adopt the commit's state (or its echo did)
//                   EpochConflict    wait for the winning commit, build again
//   leave         a self-removal proposal; another member commits it
//   Deliver       Application: decrypt, check, store plaintext + state + cursor
//                 Handshake:   apply the commit (ours: adopt), or cache a leave
//                 Welcome:     join, delete the KeyPackage it used
#include <algorithm>

#include "client/core/engine_impl.h"

namespace hearth::client {

namespace {

std::uint64_t seconds(std::int64_t ms) { return static_cast<std::uint64_t>(std::max<std::int64_t>(ms, 0) / 1000); }

/// The bundle's Welcomes: each joiner's, the data once when they share it
/// (one commit's joiners do; the relay fills in the copies).
std::vector<wire::WelcomeFor> bundle_welcomes(const RoomCommit& commit) {
  std::vector<wire::WelcomeFor> out;
  const Bytes* previous = nullptr;
  for (const auto& w : commit.welcomes) {
    const bool same = previous != nullptr && *previous == w.welcome;
    out.push_back(wire::WelcomeFor{w.account, same ? Bytes{} : w.welcome});
    previous = &w.welcome;
  }
  return out;
}

ClientError mls_error(const char* what, mls::Error e) {
  const auto code = e == mls::Error::PolicyViolation  ? ClientCode::NotAllowed
                    : e == mls::Error::InvalidProposal ? ClientCode::InvalidArgument
                                                       : ClientCode::Protocol;
  return ClientError{code, std::string(what) + ": " + mls::to_string(e)};
}

/// True when `d` is at or below what is already stored for its room.
bool already_stored(const std::optional<RoomRecord>& before, const wire::Deliver& d) noexcept {
  return before && d.seq <= before->cursor;
}

}  // namespace

ClientResult<RoomGroup*> Engine::Impl::group_of(const RoomId& room) {
  if (auto it = groups_.find(room); it != groups_.end()) return &it->second;
  if (auto id = ensure_identity(false); !id) return fail(id.error());
  if (!profile_) {
    if (auto p = load_profile(); !p) return fail(p.error());
  }
  auto saved = store_->group_state(room);
  if (!saved) return fail(store_error(saved.error(), "cannot read a room's group state"));
  if (!*saved) return fail(ClientError{ClientCode::InvalidArgument, "this device holds no keys for this room"});
  auto group = RoomGroup::load(**saved, *identity_);
  wipe_bytes(**saved);
  if (!group) return fail(mls_error("the room's stored group state does not load", group.error()));
  return &groups_.insert_or_assign(room, std::move(*group)).first->second;
}

void Engine::Impl::forget_group(const RoomId& room) { groups_.erase(room); }

wire::Role Engine::Impl::own_role(const RoomGroup& g) const {
  return profile_ && g.is_facilitator(profile_->account) ? wire::Role::Facilitator : wire::Role::Member;
}

asio::awaitable<ClientResult<RoomId>> Engine::Impl::create_room(std::uint64_t lifetime_ms) {
  if (!profile_ || profile_->account.empty() || !identity_) {
    co_return fail(ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"});
  }
  RoomId room{crypto::random_bytes(kRoomIdSize)};
  auto group = RoomGroup::create(room, profile_->account, *identity_, seconds(now_ms()), rng_);
  if (!group) co_return fail(mls_error("cannot create the room's group", group.error()));
  // The state first: a crash after the relay made the room still leaves us its keys.
  auto saved = group->save();
  auto w = store_->put_group_state(room, saved);
  wipe_bytes(saved);
  if (!w) co_return fail(store_error(w.error(), "cannot store the new room's group state"));
  // GCC 12 destroys temporaries inside a co_await expression twice: every
  // awaited call in client/core takes named values only.
  wire::Message msg = wire::CreateRoom{room, group->group_info(), lifetime_ms};
  auto answer = co_await request(std::move(msg));
  auto ok = expect<wire::CreateRoomOk>(std::move(answer), "CreateRoomOk");
  if (!ok) {
    (void)store_->remove_group_state(room);
    co_return fail(ok.error());
  }
  if (auto r = store_->put_room(RoomRecord{room, Epoch{group->epoch()}, wire::Role::Facilitator, RoomStatus::Active, Seq{}});
      !r) {
    co_return fail(store_error(r.error(), "room created, but cannot store it"));
  }
  own_commit_adopted(room);  // fresh keys: the refresh clock starts
  groups_.insert_or_assign(room, std::move(*group));
  emit(RoomJoined{room, wire::Role::Facilitator});
  co_return room;
}

asio::awaitable<bool> Engine::Impl::wait_until(std::function<bool()> done) {
  // What we wait for (a push, another coroutine's answer) happens on this
  // same thread: poll, bounded by the request timeout.
  const auto deadline = now_ms() + options_.request_timeout.count();
  asio::steady_timer timer(io_);
  while (!done()) {
    if (!online_ || stopping_ || now_ms() >= deadline) co_return false;
    timer.expires_after(kCatchUpPoll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return true;
}

asio::awaitable<bool> Engine::Impl::wait_for_epoch_above(RoomId room, RoomId group, std::uint64_t epoch) {
  std::function<bool()> moved_on = [this, room, group, epoch] {
    auto g = group_of(room);
    return !g || (*g)->group_id() != group || (*g)->epoch() > epoch || (*g)->removed();
  };
  const bool done = co_await wait_until(std::move(moved_on));
  auto g = group_of(room);
  co_return done && g.has_value();
}

void Engine::Impl::adopt_own_commit(const RoomId& room, Seq seq) {
  auto it = own_commits_.find(room);
  if (it == own_commits_.end()) return;
  auto pending = std::move(it->second);
  own_commits_.erase(it);
  auto g = group_of(room);
  // Adopted already, or someone else's commit won (or a reset).
  if (!g || (*g)->epoch() != pending.epoch || (*g)->group_id() != pending.group) return;
  const auto epoch = pending.commit->next.epoch();
  if (!adopt(room, std::move(pending.commit->next))) return;
  emit(RosterChanged{room, seq, profile_->account, pending.commit->roster, epoch});
}

bool Engine::Impl::adopt(const RoomId& room, RoomGroup&& next) {
  auto saved = next.save();
  auto w = store_->put_group_state(room, saved);
  wipe_bytes(saved);
  if (!w) {
    store_failed(w.error(), "cannot store a room's group state");
    return false;
  }
  if (auto r = store_->room(room); r && *r) {
    RoomRecord rec = **r;
    rec.epoch = Epoch{next.epoch()};
    rec.role = own_role(next);
    rec.status = RoomStatus::Active;
    if (auto pr = store_->put_room(rec); !pr) store_failed(pr.error(), "cannot store a room");
  }
  groups_.insert_or_assign(room, std::move(next));
  own_commit_adopted(room);
  return true;
}

void Engine::Impl::own_commit_adopted(const RoomId& room) {
  if (auto w = store_->remove_pending_change(room); !w) store_failed(w.error(), "cannot delete an adopted change");
  // Every Hearth commit carries a path: our leaf's keys are fresh now.
  if (auto w = store_->put_key_refresh(room, KeyRefresh{now_ms(), 0}); !w) {
    store_failed(w.error(), "cannot record a key refresh");
  }
}

void Engine::Impl::note_sent(const RoomId& room) {
  auto record = store_->key_refresh(room);
  if (!record) return store_failed(record.error(), "cannot read a room's key refresh");
  if (record->refreshed_ms == 0) record->refreshed_ms = now_ms();
  ++record->sent;
  if (auto w = store_->put_key_refresh(room, *record); !w) return store_failed(w.error(), "cannot record a sent message");
  refresh_if_due(room, *record);
}

void Engine::Impl::refresh_if_due(const RoomId& room, KeyRefresh record) {
  const auto& policy = options_.key_refresh;
  const bool due = record.sent >= policy.messages || now_ms() - record.refreshed_ms >= policy.interval.count();
  if (!due || !online_ || refreshing_.contains(room) || own_commits_.contains(room) || own_resets_.contains(room)) {
    return;
  }
  refreshing_.insert(room);
  in_background(refresh_keys(room), "could not refresh our keys", "a key refresh failed unexpectedly",
                [this, room] { refreshing_.erase(room); });
}

void Engine::Impl::in_background(asio::awaitable<ClientResult<Seq>> change, std::string failed, std::string crashed,
                                 std::function<void()> done) {
  asio::co_spawn(io_, std::move(change),
                 [this, failed = std::move(failed), crashed = std::move(crashed), done = std::move(done)](
                     std::exception_ptr e, ClientResult<Seq> r) {
                   if (done) done();
                   if (e) return emit(ErrorEvent{ClientError{ClientCode::Protocol, crashed}});
                   if (!r && r.error().code != ClientCode::Disconnected && r.error().code != ClientCode::Stopped) {
                     emit(ErrorEvent{ClientError{r.error().code, failed + ": " + r.error().describe(), r.error().relay}});
                   }
                 });
}

void Engine::Impl::check_key_refreshes() {
  next_refresh_check_ms_ = now_ms() + kKeyPackageCheckInterval.count();
  auto rooms = store_->rooms();
  if (!rooms) return store_failed(rooms.error(), "cannot read rooms");
  for (const auto& r : *rooms) {
    if (r.status != RoomStatus::Active) continue;
    if (auto g = group_of(r.room); !g || (*g)->removed()) continue;
    auto record = store_->key_refresh(r.room);
    if (!record) return store_failed(record.error(), "cannot read a room's key refresh");
    if (record->refreshed_ms == 0) {
      // First look (a room from before this was recorded): the clock starts now.
      if (auto w = store_->put_key_refresh(r.room, KeyRefresh{now_ms(), record->sent}); !w) {
        return store_failed(w.error(), "cannot record a key refresh");
      }
      continue;
    }
    refresh_if_due(r.room, *record);
  }
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::submit_commit(RoomId room, BuildCommit build) {
  if (!profile_ || profile_->account.empty()) {
    co_return fail(ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"});
  }
  ClientError last{ClientCode::Refused, "the room's epoch kept changing"};
  for (int attempt = 0; attempt <= kMaxEpochRetries; ++attempt) {
    if (own_commits_.contains(room)) {
      // One change of ours at a time per room: this one builds on the other.
      std::function<bool()> settled = [this, room] { return !own_commits_.contains(room); };
      const bool free = co_await wait_until(std::move(settled));
      if (!free) co_return fail(ClientError{ClientCode::Timeout, "another change of this room is still on its way"});
    }
    auto g = group_of(room);
    if (!g) co_return fail(g.error());
    if ((*g)->removed()) co_return fail(ClientError{ClientCode::InvalidArgument, "no longer a member of this room"});
    auto built = build(**g);
    if (!built) co_return fail(built.error());
    const std::uint64_t epoch = (*g)->epoch();
    const RoomId group = (*g)->group_id();
    auto commit = std::make_shared<RoomCommit>(std::move(*built));
    if (options_.commit_fault) options_.commit_fault(commit->commit);
    // A rebuilt commit is other bytes, so it needs its own envelope id.
    const EnvelopeId id{crypto::random_bytes(wire::kEnvelopeIdSize)};
    if (auto kept = keep_pending(room, id, commit->next); !kept) co_return fail(kept.error());
    own_commits_.insert_or_assign(room, OwnCommit{group, epoch, commit, id});
    auto welcomes = bundle_welcomes(*commit);
    wire::Message bundle = wire::SubmitBundle{room, Epoch{epoch}, id, commit->commit, std::move(welcomes), commit->roster};
    auto answer = co_await request(std::move(bundle));
    auto ok = expect<wire::BundleOk>(std::move(answer), "BundleOk");
    if (ok) {
      adopt_own_commit(room, ok->seq);
      co_return ok->seq;
    }
    const auto& e = ok.error();
    // Lost on the way: the relay may hold it, and its echo then finds it in
    // own_commits_. A refusal means it is not in the room.
    if (e.code == ClientCode::Refused || e.code == ClientCode::AuthFailed) {
      if (auto it = own_commits_.find(room); it != own_commits_.end() && it->second.commit == commit) {
        own_commits_.erase(it);
        drop_pending(room);
      }
    }
    if (!relay_code_is(e, wire::ErrorCode::EpochConflict)) co_return fail(e);
    last = e;  // another commit won this epoch: process it, then build on top
    const bool caught_up = co_await wait_for_epoch_above(room, group, epoch);
    if (!caught_up) {
      co_return fail(ClientError{ClientCode::Refused, "another change won this epoch and it did not reach this device",
                                 e.relay});
    }
  }
  co_return fail(last);
}

ClientResult<void> Engine::Impl::require_facilitator(const RoomId& room, const char* change) {
  auto g = group_of(room);
  if (!g) return fail(g.error());
  if (!profile_ || !(*g)->is_facilitator(profile_->account)) {
    return fail(ClientError{ClientCode::NotAllowed, std::string("only a facilitator may ") + change});
  }
  return {};
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::add_member(RoomId room, std::string handle) {
  if (auto may = require_facilitator(room, "add members"); !may) co_return fail(may.error());
  auto info = co_await lookup(std::move(handle));
  if (!info) co_return fail(info.error());
  if (auto g = group_of(room); g && (*g)->member(info->account)) {
    co_return fail(ClientError{ClientCode::InvalidArgument, info->handle + " is already a member of this room"});
  }
  AccountId account = info->account;
  auto kp = co_await fetch_key_package(std::move(account));
  if (!kp) co_return fail(kp.error());
  const std::vector<wire::KeyPackageOk> packages{*kp};
  BuildCommit build = [this, packages](const RoomGroup& g) -> ClientResult<RoomCommit> {
    auto c = g.add(packages, rng_, seconds(now_ms()));
    if (!c) return fail(mls_error("cannot add this member", c.error()));
    return std::move(*c);
  };
  co_return co_await submit_commit(std::move(room), std::move(build));
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::remove_member(RoomId room, std::string handle) {
  if (auto may = require_facilitator(room, "remove members (anyone may leave)"); !may) co_return fail(may.error());
  auto info = co_await lookup(std::move(handle));
  if (!info) co_return fail(info.error());
  const std::vector<AccountId> accounts{info->account};
  BuildCommit build = [this, accounts](const RoomGroup& g) -> ClientResult<RoomCommit> {
    if (!g.member(accounts.front())) return fail(ClientError{ClientCode::InvalidArgument, "not a member of this room"});
    auto c = g.remove(accounts, rng_, seconds(now_ms()));
    if (!c) return fail(mls_error("cannot remove this member", c.error()));
    return std::move(*c);
  };
  co_return co_await submit_commit(std::move(room), std::move(build));
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::set_role(RoomId room, std::string handle, wire::Role role) {
  if (auto may = require_facilitator(room, "change roles"); !may) co_return fail(may.error());
  auto info = co_await lookup(std::move(handle));
  if (!info) co_return fail(info.error());
  const AccountId account = info->account;
  const bool facilitator = role == wire::Role::Facilitator;
  BuildCommit build = [this, account, facilitator](const RoomGroup& g) -> ClientResult<RoomCommit> {
    if (!g.member(account)) return fail(ClientError{ClientCode::InvalidArgument, "not a member of this room"});
    if (g.is_facilitator(account) == facilitator) {
      return fail(ClientError{ClientCode::InvalidArgument, "that member has this role already"});
    }
    auto c = g.set_role(account, facilitator, rng_, seconds(now_ms()));
    if (!c) return fail(mls_error("cannot change this member's role", c.error()));
    return std::move(*c);
  };
  co_return co_await submit_commit(std::move(room), std::move(build));
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::refresh_keys(RoomId room) {
  BuildCommit build = [this](const RoomGroup& g) -> ClientResult<RoomCommit> {
    auto c = g.refresh(rng_, seconds(now_ms()));
    if (!c) return fail(mls_error("cannot refresh our keys", c.error()));
    return std::move(*c);
  };
  co_return co_await submit_commit(std::move(room), std::move(build));
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::leave_room(RoomId room) {
  if (!profile_ || profile_->account.empty()) {
    co_return fail(ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"});
  }
  auto g = group_of(room);
  if (!g) co_return fail(g.error());
  const auto members = (*g)->members();
  const auto facilitators = std::count_if(members.begin(), members.end(), [](const RoomMember& m) { return m.facilitator; });
  if ((*g)->is_facilitator(profile_->account) && facilitators == 1 && members.size() > 1) {
    co_return fail(ClientError{ClientCode::InvalidArgument,
                               "the room's only facilitator cannot leave it; make someone else facilitator or close it"});
  }
  auto leave = (*g)->propose_leave();
  if (!leave) co_return fail(mls_error("cannot propose to leave", leave.error()));
  const std::uint64_t epoch = (*g)->epoch();
  std::vector<wire::RosterChange> changes{wire::RosterChange{wire::RosterOp::Remove, profile_->account, wire::Role::Member}};
  wire::Message bundle = wire::SubmitBundle{room, Epoch{epoch}, EnvelopeId{crypto::random_bytes(wire::kEnvelopeIdSize)},
                                            leave->proposal, {}, std::move(changes)};
  auto answer = co_await request(std::move(bundle));
  auto ok = expect<wire::BundleOk>(std::move(answer), "BundleOk");
  if (!ok) co_return fail(ok.error());
  // The commit that carries the leave out refers to the proposal: hold it,
  // unless the epoch moved on meanwhile (then the proposal is void anyway).
  if (auto now = group_of(room); now && (*now)->epoch() == epoch) {
    auto saved = leave->next.save();
    auto w = store_->put_group_state(room, saved);
    wipe_bytes(saved);
    if (!w) co_return fail(store_error(w.error(), "cannot store the room's group state"));
    groups_.insert_or_assign(room, std::move(leave->next));
  }
  co_return ok->seq;
}

// ---------------------------------------------------------------- deliveries

void Engine::Impl::on_deliver(const wire::Deliver& d) {
  auto before = store_->room(d.room);
  if (!before) {
    store_failed(before.error(), "cannot read a room");
    if (conn_) conn_->close();  // resume from the cursor later rather than lose this one
    return;
  }
  if (already_stored(*before, d)) {
    ++duplicates_dropped_;
    return;
  }
  RoomRecord after = before->value_or(RoomRecord{d.room, d.epoch, wire::Role::Member, RoomStatus::Active, Seq{}});
  if (after.cursor < d.seq) after.cursor = d.seq;
  // Our own reports read like anyone's: the room learns from them, so do we.
  const bool own = profile_ && d.sender == profile_->account && d.kind != wire::EnvelopeKind::Report;
  GroupEffects fx = own ? open_own(d) : open_theirs(d);
  if (fx.removed) {
    after.status = RoomStatus::Left;
  } else if (fx.group) {
    after.epoch = Epoch{fx.group->epoch()};
    after.role = own_role(*fx.group);
    if (d.kind == wire::EnvelopeKind::Welcome) after.status = RoomStatus::Active;
  }
  auto outcome = store_->store_delivery(d, after, fx.write);
  if (fx.write.group_state) wipe_bytes(*fx.write.group_state);
  if (!outcome || *outcome == DeliveryOutcome::Duplicate || !fx.write.group_state) {
    forget_group(d.room);  // the store's state is the one to go on from
  } else if (fx.group) {
    groups_.insert_or_assign(d.room, std::move(*fx.group));
  }
  if (!outcome) {
    store_failed(outcome.error(), "cannot store a delivery");
    if (conn_) conn_->close();
    return;
  }
  // Stored now or before (our own envelope): either way the cursor moved.
  acks_.stored(d.room, d.seq, now_ms());
  if (*outcome == DeliveryOutcome::Duplicate) {
    ++duplicates_dropped_;
  } else {
    finish_delivery(d, fx);
  }
  if (acks_.due(now_ms())) flush_acks();
}

GroupEffects Engine::Impl::open_theirs(const wire::Deliver& d) {
  std::optional<RoomGroup> group;
  if (auto g = group_of(d.room); g) {
    group = std::move(**g);
    forget_group(d.room);  // moved out; put back once stored
  }
  std::vector<StoredKeyPackage> ours;
  if (d.kind == wire::EnvelopeKind::Welcome) {
    auto stored = store_->key_packages();
    if (stored) ours = std::move(*stored);
  }
  const GroupSelf self{profile_->account, *identity_, ours};
  return process_group(std::move(group), d, self, seconds(now_ms()));
}

GroupEffects Engine::Impl::open_own(const wire::Deliver& d) {
  GroupEffects fx;
  if (d.kind == wire::EnvelopeKind::Application) {
    // MLS does not let its sender open a message again; the outbox holds
    // its plaintext until the SendOk (which stores it as well).
    if (auto pending = store_->outbox(); pending) {
      for (const auto& p : *pending) {
        if (p.envelope_id == d.envelope_id) fx.write.payload = p.payload;
      }
    }
    if (!fx.write.payload) fx.write.payload = Bytes{};  // stored by its SendOk, or sent before this device
    return fx;
  }
  if (d.kind != wire::EnvelopeKind::Handshake && d.kind != wire::EnvelopeKind::Reset) return fx;
  // Our commit's or reset's echo: adopt it here when the BundleOk is still
  // on its way. One adopted already, or our leave proposal's: stored only.
  const bool reset = d.kind == wire::EnvelopeKind::Reset;
  auto& sent = reset ? own_resets_ : own_commits_;
  auto it = sent.find(d.room);
  if (it == sent.end() || it->second.envelope_id != d.envelope_id) return adopt_stored_change(d);
  auto pending = std::move(it->second);
  sent.erase(it);
  RoomGroup& next = pending.commit->next;
  if (reset) {
    own_commits_.erase(d.room);  // built on the old group: it can no longer land
    return own_echo(std::move(next), RoomReset{d.room, d.seq, d.sender, next.epoch()});
  }
  auto g = group_of(d.room);
  if (!g || (*g)->epoch() != pending.epoch || (*g)->group_id() != pending.group) return fx;
  const RosterChanged changed{d.room, d.seq, d.sender, pending.commit->roster, next.epoch()};
  return own_echo(std::move(next), changed);
}

GroupEffects Engine::Impl::own_echo(RoomGroup&& next, Event event) {
  GroupEffects fx;
  fx.write.group_state = next.save();
  fx.events.push_back(std::move(event));
  fx.group.emplace(std::move(next));
  fx.own_commit = true;
  return fx;
}

ClientResult<void> Engine::Impl::keep_pending(const RoomId& room, const EnvelopeId& id, const RoomGroup& next) {
  PendingChange pending{id, next.save()};
  auto w = store_->put_pending_change(room, pending);
  wipe_bytes(pending.state);
  if (!w) return fail(store_error(w.error(), "cannot keep our change before it leaves"));
  return {};
}

void Engine::Impl::drop_pending(const RoomId& room) {
  if (auto w = store_->remove_pending_change(room); !w) store_failed(w.error(), "cannot delete a void change");
}

GroupEffects Engine::Impl::adopt_stored_change(const wire::Deliver& d) {
  // Our change, sent before a restart (or whose answer and memory were
  // lost): the state kept before it left is the one to go on from. Our
  // leave proposal's echo, or a change adopted already: stored only.
  GroupEffects fx;
  auto stored = store_->pending_change(d.room);
  if (!stored || !*stored || (*stored)->envelope_id != d.envelope_id) return fx;
  auto next = RoomGroup::load((*stored)->state, *identity_);
  wipe_bytes((*stored)->state);
  auto g = group_of(d.room);
  if (!next || !g) return fx;
  const bool reset = d.kind == wire::EnvelopeKind::Reset;
  const bool continues = reset ? next->group_id() != (*g)->group_id()
                               : next->group_id() == (*g)->group_id() && next->epoch() == (*g)->epoch() + 1;
  if (!continues) return fx;
  Event event = reset ? Event{RoomReset{d.room, d.seq, d.sender, next->epoch()}}
                      : Event{RosterChanged{d.room, d.seq, d.sender, roster_between(**g, *next), next->epoch()}};
  return own_echo(std::move(*next), std::move(event));
}

void Engine::Impl::finish_delivery(const wire::Deliver& d, GroupEffects& fx) {
  // Someone else's change moved the room: ours on its way can no longer land.
  const bool moved = std::any_of(fx.events.begin(), fx.events.end(), [](const Event& e) {
    return std::holds_alternative<RosterChanged>(e) || std::holds_alternative<RoomReset>(e) ||
           std::holds_alternative<RoomJoined>(e);
  });
  if (moved && !fx.own_commit) drop_pending(d.room);
  if (fx.own_commit) own_commit_adopted(d.room);
  if (d.kind == wire::EnvelopeKind::Welcome && fx.group) own_commit_adopted(d.room);  // joined with fresh keys
  if (fx.removed) {
    if (auto w = store_->remove_group_state(d.room); !w) store_failed(w.error(), "cannot delete a room's group state");
  }
  if (fx.used_key_package) {
    if (auto w = store_->remove_key_package(*fx.used_key_package); !w) {
      store_failed(w.error(), "cannot delete a used KeyPackage");
    }
  }
  for (auto& e : fx.events) {
    if (const auto* m = std::get_if<MessageReceived>(&e)) {
      auto g = group_of(d.room);
      const bool facilitator = g && (*g)->is_facilitator(m->sender);
      const auto refused = converse(d.room, Incoming{m->seq, m->sender, facilitator, m->timestamp_ms, m->content});
      if (refused == Refusal::Expired) continue;  // disappeared before it arrived: never shown
    }
    emit(std::move(e));
  }
  // Members' keys against our pins: first sight pins them, a changed key is
  // an IdentityKeyChanged event wherever they appear.
  for (const auto& [account, key] : fx.seen_keys) (void)check_identity(account, key, {});
  if (fx.leave_from) commit_leave_if_ours(d.room, *fx.leave_from);
  if (fx.rejected) report_change(d.room, d.seq, *fx.rejected);
  // A new group (a reset): what waits in the outbox is encrypted for it now.
  const bool switched = std::any_of(fx.events.begin(), fx.events.end(),
                                    [](const Event& e) { return std::holds_alternative<RoomReset>(e); });
  if (switched) {
    if (d.kind == wire::EnvelopeKind::Welcome) own_commit_adopted(d.room);
    resend_outbox();
  }
}

void Engine::Impl::report_change(const RoomId& room, Seq commit_seq, wire::ChangeProblem problem) {
  if (!online_) return;  // the room hears it from someone else, or the facilitator sees the failure
  wire::ReportChange report{room, EnvelopeId{crypto::random_bytes(wire::kEnvelopeIdSize)}, commit_seq, problem};
  send_request(std::move(report), [this](ClientResult<wire::Message> r) {
    auto ok = expect<wire::SendOk>(std::move(r), "SendOk");
    if (ok || ok.error().code == ClientCode::Disconnected || ok.error().code == ClientCode::Stopped) return;
    emit(ErrorEvent{ClientError{ok.error().code, "could not tell the room about a change we cannot apply: " +
                                                     ok.error().describe(),
                                ok.error().relay}});
  });
}

void Engine::Impl::send_room_lifetime(const RoomId& room, std::uint64_t lifetime_ms) {
  if (!online_) return;
  send_request(wire::SetRoomLifetime{room, lifetime_ms}, [this](ClientResult<wire::Message> r) {
    auto ok = expect<wire::RoomLifetimeOk>(std::move(r), "RoomLifetimeOk");
    if (ok) return;
    emit(ErrorEvent{ClientError{ok.error().code, "the relay did not take the room's new lifetime: " +
                                                     ok.error().describe(),
                                ok.error().relay}});
  });
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::reset_room(RoomId room) {
  if (!profile_ || profile_->account.empty() || !identity_) {
    co_return fail(ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"});
  }
  if (own_resets_.contains(room)) {
    co_return fail(ClientError{ClientCode::InvalidArgument, "a reset of this room is already on its way"});
  }
  // The relay's roster is who is in the room, also when our own state
  // stopped at a change we could not apply.
  wire::Message ask = wire::GetRoster{room};
  auto answer = co_await request(std::move(ask));
  auto roster = expect<wire::Roster>(std::move(answer), "Roster");
  if (!roster) co_return fail(roster.error());
  const AccountId self = profile_->account;
  std::vector<AccountId> facilitators;
  bool facilitating = false;
  for (const auto& m : roster->members) {
    if (m.account == self) facilitating = m.role == wire::Role::Facilitator;
    else if (m.role == wire::Role::Facilitator) facilitators.push_back(m.account);
  }
  if (!facilitating) co_return fail(ClientError{ClientCode::NotAllowed, "only a facilitator may reset a room"});
  std::vector<wire::KeyPackageOk> packages;
  asio::steady_timer pause(io_);
  for (const auto& m : roster->members) {
    if (m.account == self) continue;
    AccountId account = m.account;
    auto kp = co_await fetch_key_package(account);
    // A large room asks for more KeyPackages than the relay hands out at
    // once: wait for its rate to allow the next, a bounded number of times.
    for (int retry = 0; !kp && relay_code_is(kp.error(), wire::ErrorCode::RateLimited) && retry < kMaxFetchRetries;
         ++retry) {
      pause.expires_after(kFetchRetryDelay);
      boost::system::error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_ || !online_) break;
      kp = co_await fetch_key_package(account);
    }
    if (!kp) {
      co_return fail(ClientError{kp.error().code, "cannot add " + m.handle + " to the new group: " + kp.error().describe(),
                                 kp.error().relay});
    }
    packages.push_back(std::move(*kp));
  }
  const RoomId group{crypto::random_bytes(kRoomIdSize)};
  auto fresh = RoomGroup::create(group, self, *identity_, seconds(now_ms()), rng_, facilitators);
  if (!fresh) co_return fail(mls_error("cannot start the room's new group", fresh.error()));
  auto built = packages.empty() ? fresh->refresh(rng_, seconds(now_ms())) : fresh->add(packages, rng_, seconds(now_ms()));
  if (!built) co_return fail(mls_error("cannot add the members to the new group", built.error()));
  auto commit = std::make_shared<RoomCommit>(std::move(*built));
  const EnvelopeId id{crypto::random_bytes(wire::kEnvelopeIdSize)};
  if (auto kept = keep_pending(room, id, commit->next); !kept) co_return fail(kept.error());
  own_resets_.insert_or_assign(room, OwnCommit{group, 0, commit, id});
  auto welcomes = bundle_welcomes(*commit);
  wire::Message reset = wire::ResetRoom{room, id, fresh->group_info(), commit->commit, std::move(welcomes)};
  auto result = co_await request(std::move(reset));
  auto ok = expect<wire::BundleOk>(std::move(result), "BundleOk");
  if (!ok) {
    // Refused: not in the room. Lost on the way: its echo may still adopt it.
    if (ok.error().code == ClientCode::Refused || ok.error().code == ClientCode::AuthFailed ||
        ok.error().code == ClientCode::NotAllowed) {
      own_resets_.erase(room);
      drop_pending(room);
    }
    co_return fail(ok.error());
  }
  adopt_own_reset(room, ok->seq);
  co_return ok->seq;
}

void Engine::Impl::adopt_own_reset(const RoomId& room, Seq seq) {
  auto it = own_resets_.find(room);
  if (it == own_resets_.end()) return;  // its echo came first
  auto pending = std::move(it->second);
  own_resets_.erase(it);
  const auto epoch = pending.commit->next.epoch();
  if (!adopt(room, std::move(pending.commit->next))) return;
  own_commits_.erase(room);  // built on the old group: it can no longer land
  emit(RoomReset{room, seq, profile_->account, epoch});
  resend_outbox();
}

void Engine::Impl::commit_leave_if_ours(const RoomId& room, const AccountId& leaver) {
  // One member carries a leave out: the one on the lowest leaf but the
  // leaver's, at once. In case that one is away, the next in leaf order
  // follows kLeaveFallbackDelay later, and so on; whoever comes first wins
  // the epoch, and the others find the leaver gone and stop.
  auto g = group_of(room);
  if (!g || !profile_) return;
  std::vector<RoomMember> others;
  for (auto& m : (*g)->members()) {
    if (m.account != leaver) others.push_back(std::move(m));
  }
  std::sort(others.begin(), others.end(), [](const RoomMember& a, const RoomMember& b) { return a.leaf.v < b.leaf.v; });
  const auto self = std::find_if(others.begin(), others.end(),
                                 [&](const RoomMember& m) { return m.account == profile_->account; });
  if (self == others.end()) return;
  const auto rank = static_cast<std::size_t>(self - others.begin());
  in_background(carry_out_leave(room, (*g)->group_id(), (*g)->epoch(), leaver, kLeaveFallbackDelay * rank),
                "could not carry out a member's leave", "carrying out a member's leave failed unexpectedly");
}

asio::awaitable<ClientResult<Seq>> Engine::Impl::carry_out_leave(RoomId room, RoomId group, std::uint64_t epoch,
                                                                 AccountId leaver, std::chrono::milliseconds delay) {
  if (delay.count() > 0) {
    asio::steady_timer timer(io_);
    timer.expires_after(delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) co_return fail(ClientError{ClientCode::Stopped, "the engine is stopped"});
  }
  // Someone else's commit may have carried it out meanwhile (or the epoch
  // moved on without it, which voids the proposal): nothing left to do.
  auto still_pending = [group, epoch, leaver](const RoomGroup& g) {
    return g.group_id() == group && g.epoch() == epoch && g.member(leaver).has_value();
  };
  if (auto g = group_of(room); !g || !still_pending(**g)) co_return Seq{};
  BuildCommit build = [this, still_pending](const RoomGroup& g) -> ClientResult<RoomCommit> {
    if (!still_pending(g)) return fail(ClientError{ClientCode::Refused, "the leave was carried out by another member"});
    auto c = g.refresh(rng_, seconds(now_ms()));
    if (!c) return fail(mls_error("cannot carry out the leave", c.error()));
    return std::move(*c);
  };
  auto done = co_await submit_commit(std::move(room), std::move(build));
  if (!done && done.error().code == ClientCode::Refused && !done.error().relay) co_return Seq{};  // someone else did
  co_return done;
}

std::future<ClientResult<std::string>> Engine::safety_code(RoomId room) {
  Impl* impl = impl_.get();
  return impl->call<std::string>([impl, room = std::move(room)]() -> ClientResult<std::string> {
    auto g = impl->group_of(room);
    if (!g) return fail(g.error());
    return (*g)->safety_code();
  });
}

std::future<ClientResult<std::vector<RoomMember>>> Engine::members(RoomId room) {
  Impl* impl = impl_.get();
  return impl->call<std::vector<RoomMember>>([impl, room = std::move(room)]() -> ClientResult<std::vector<RoomMember>> {
    auto g = impl->group_of(room);
    if (!g) return fail(g.error());
    return (*g)->members();
  });
}

}  // namespace hearth::client
