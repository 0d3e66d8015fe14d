// SPDX-License-Identifier: Apache-2.0
#include "client/cli/commands.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <thread>

#include "client/cli/passphrase.h"
#include "client/core/engine.h"
#include "client/core/sqlite_store.h"

namespace hearth::cli {

namespace {

using client::ClientCode;
using client::ClientError;
using client::ClientResult;
using client::Engine;
using nlohmann::json;
using namespace std::chrono_literals;

std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int) { g_interrupted.store(true); }

/// Waits for an engine future, bounded by `timeout`.
template <class T>
ClientResult<T> wait(std::future<ClientResult<T>> f, std::chrono::milliseconds timeout) {
  if (f.wait_for(timeout) != std::future_status::ready) {
    return fail(ClientError{ClientCode::Timeout, "no answer within " + std::to_string(timeout.count() / 1000) + " s"});
  }
  return f.get();
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::optional<RoomId> parse_room(const std::string& hex) {
  auto bytes = from_hex(hex);
  if (!bytes || bytes->size() < wire::kMinRoomIdSize || bytes->size() > wire::kMaxRoomIdSize) return std::nullopt;
  return RoomId{std::move(*bytes)};
}

std::string role_name(wire::Role r) { return r == wire::Role::Facilitator ? "facilitator" : "member"; }

/// One engine session over the profile.
class Session {
 public:
  Session(const Globals& g, bool reconnect) : g_(g), out_(g.json) {
    client::EngineOptions o;
    o.client_name = "hearth-cli";
    o.reconnect = reconnect;
    o.connect_timeout = g.timeout;
    o.request_timeout = g.timeout;
    // A profile that does not exist yet takes the passphrase as new: ask twice.
    const bool is_new = !std::filesystem::exists(g.profile / client::kProfileDbName);
    auto passphrase = read_passphrase(g.passphrase_file, kPassphraseEnv, is_new,
                                      is_new ? "New passphrase for this profile: " : "Profile passphrase: ");
    if (!passphrase) {
      exit_ = out_.error(passphrase.error());
      return;
    }
    auto e = Engine::open_profile(g.profile, passphrase->view(), o);
    if (!e) {
      exit_ = out_.error(e.error());
      return;
    }
    engine_ = std::move(*e);
  }

  [[nodiscard]] bool ok() const { return engine_ != nullptr; }
  [[nodiscard]] Exit failed_exit() const { return exit_; }
  [[nodiscard]] Engine& engine() { return *engine_; }
  [[nodiscard]] const Output& out() const { return out_; }
  [[nodiscard]] const Globals& globals() const { return g_; }

  /// Connects, logs in and syncs.
  [[nodiscard]] std::optional<Exit> start() {
    auto r = wait(engine_->start(), g_.timeout);
    if (!r && r.error().code == ClientCode::Timeout) {
      // A reconnecting session keeps trying; if it never got online, say why
      // (a connection failure, not a slow answer).
      std::string reason;
      while (auto e = engine_->events().try_pop()) {
        if (const auto* c = std::get_if<client::ConnectionChanged>(&*e); c && c->state == client::ConnectionState::Offline) {
          reason = c->reason;
        }
      }
      if (!reason.empty()) return out_.error(ClientError{ClientCode::Connect, "could not get online: " + reason});
    }
    if (!r) return out_.error(r.error());
    return std::nullopt;
  }

  template <class T>
  ClientResult<T> wait_for(std::future<ClientResult<T>> f) {
    return wait(std::move(f), g_.timeout);
  }

  /// The handle for an account, from the room's roster (cached).
  std::string handle_of(const RoomId& room, const AccountId& account) {
    if (auto it = handles_.find(account); it != handles_.end()) return it->second;
    if (!fetched_.contains(room)) {
      fetched_.insert({room, true});
      if (auto roster = wait_for(engine_->roster(room))) {
        for (const auto& m : roster->members) handles_[m.account] = m.handle;
      }
      if (auto it = handles_.find(account); it != handles_.end()) return it->second;
    }
    return account.hex().substr(0, 8);
  }
  void forget_roster(const RoomId& room) { fetched_.erase(room); }

 private:
  const Globals& g_;
  Output out_;
  std::unique_ptr<Engine> engine_;
  Exit exit_ = Exit::Ok;
  std::map<AccountId, std::string> handles_;
  std::map<RoomId, bool> fetched_;
};

/// A Content as JSON fields ("kind" and what that kind carries) and as one
/// line of text for people.
std::pair<json, std::string> describe_content(const client::Content& c) {
  json j{{"kind", std::string(client::kind_name(c))}, {"id", c.id.hex()}};
  std::string line;
  std::visit(wire::Overloaded{
                 [&](const client::ContentText& t) {
                   j["text"] = t.text;
                   if (t.reply_to) j["reply_to"] = t.reply_to->hex();
                   line = t.text;
                 },
                 [&](const client::ContentEdit& e) {
                   j["target"] = e.target.hex();
                   j["text"] = e.text;
                   line = "(edited " + e.target.hex().substr(0, 8) + ") " + e.text;
                 },
                 [&](const client::ContentReaction& r) {
                   j["target"] = r.target.hex();
                   j["emoji"] = r.emoji;
                   j["remove"] = r.remove;
                   line = (r.remove ? "withdrew " : "reacted ") + r.emoji + " to " + r.target.hex().substr(0, 8);
                 },
                 [&](const client::ContentRedaction& r) {
                   j["target"] = r.target.hex();
                   line = "redacted " + r.target.hex().substr(0, 8);
                 },
                 [&](const client::ContentRoomSettings& r) {
                   j["name"] = r.name;
                   j["topic"] = r.topic;
                   j["agreement_version"] = r.agreement_version;
                   j["disappearing_ms"] = r.disappearing_ms;
                   j["relay_lifetime_ms"] = r.relay_lifetime_ms;
                   line = "changed the room settings";
                 },
                 [&](const client::ContentMemberProfile& p) {
                   j["display_name"] = p.display_name;
                   line = "is now called " + p.display_name;
                 },
                 [&](const client::ContentAgreementAccepted& a) {
                   j["version"] = a.version;
                   line = "accepted the agreement, version " + std::to_string(a.version);
                 },
                 [&](const client::ContentUnsupported&) { line = "(a message this version cannot show)"; },
             },
             c.body);
  return {std::move(j), std::move(line)};
}

json message_json(Session& s, const client::MessageReceived& m) {
  auto [j, line] = describe_content(m.content);
  j.update(json{{"type", "message"},
                {"room", m.room.hex()},
                {"seq", m.seq.v},
                {"sender", m.sender.hex()},
                {"handle", s.handle_of(m.room, m.sender)},
                {"timestamp_ms", m.timestamp_ms},
                {"line", line}});
  return j;
}

/// Prints one event (messages filtered by `room`). Returns true for a printed message.
bool print_event(Session& s, const client::Event& e, const std::optional<RoomId>& room) {
  const Output& out = s.out();
  return std::visit(
      wire::Overloaded{
          [&](const client::MessageReceived& m) {
            if (room && m.room != *room) return false;
            auto j = message_json(s, m);
            const std::string prefix = room ? "" : "[" + m.room.hex().substr(0, 8) + "] ";
            out.emit(j, prefix + j["handle"].get<std::string>() + ": " + j["line"].get<std::string>());
            return true;
          },
          [&](const client::DecryptionFailed& f) {
            if (room && f.room != *room) return false;
            out.emit(json{{"type", "decryption_failed"}, {"room", f.room.hex()}, {"seq", f.seq.v},
                          {"sender", f.sender.hex()}, {"reason", f.reason}},
                     "* a message (#" + std::to_string(f.seq.v) + ") could not be opened: " + f.reason);
            return false;
          },
          [&](const client::MessageSent& m) {
            out.emit(json{{"type", "sent"}, {"room", m.room.hex()}, {"seq", m.seq.v}, {"envelope_id", m.envelope_id.hex()}},
                     "* sent queued message as seq " + std::to_string(m.seq.v));
            return false;
          },
          [&](const client::SendFailed& m) {
            json j{{"type", "send_failed"}, {"room", m.room.hex()}, {"envelope_id", m.envelope_id.hex()},
                   {"error", client::to_string(m.error.code)}, {"message", m.error.detail}};
            if (m.error.relay) j["relay_code"] = wire::to_string(m.error.relay->code);
            out.emit(j, "* a queued message was refused: " + m.error.describe());
            return false;
          },
          [&](const client::RosterChanged& r) {
            if (room && r.room != *room) return false;
            s.forget_roster(r.room);
            json changes = json::array();
            std::string human;
            for (const auto& c : r.changes) {
              const char* op = c.op == wire::RosterOp::Add ? "add" : c.op == wire::RosterOp::Remove ? "remove" : "set_role";
              changes.push_back(json{{"op", op}, {"account", c.account.hex()}, {"role", role_name(c.role)}});
              human += std::string(human.empty() ? "" : ", ") + op + " " + s.handle_of(r.room, c.account);
            }
            out.emit(json{{"type", "roster_changed"}, {"room", r.room.hex()}, {"seq", r.seq.v}, {"by", r.by.hex()},
                          {"changes", changes}, {"epoch", r.epoch}},
                     "* roster changed: " + (human.empty() ? std::string("keys refreshed") : human));
            return false;
          },
          [&](const client::MessageRefused& r) {
            if (room && r.room != *room) return false;
            out.emit(json{{"type", "message_refused"}, {"room", r.room.hex()}, {"seq", r.seq.v}, {"sender", r.sender.hex()},
                          {"kind", r.kind}, {"reason", r.reason}},
                     "* a " + r.kind + " from " + s.handle_of(r.room, r.sender) + " (#" + std::to_string(r.seq.v) +
                         ") has no effect: " + r.reason);
            return false;
          },
          [&](const client::MessagesErased& r) {
            if (room && r.room != *room) return false;
            json seqs = json::array();
            for (const auto& q : r.seqs) seqs.push_back(q.v);
            out.emit(json{{"type", "messages_erased"}, {"room", r.room.hex()}, {"seqs", seqs}},
                     "* " + std::to_string(r.seqs.size()) + " message(s) erased from this device");
            return false;
          },
          [&](const client::LeaveRequested& r) {
            if (room && r.room != *room) return false;
            out.emit(json{{"type", "leave_requested"}, {"room", r.room.hex()}, {"seq", r.seq.v}, {"account", r.account.hex()}},
                     "* " + s.handle_of(r.room, r.account) + " asked to leave");
            return false;
          },
          [&](const client::RoomReset& r) {
            if (room && r.room != *room) return false;
            s.forget_roster(r.room);
            out.emit(json{{"type", "room_reset"}, {"room", r.room.hex()}, {"seq", r.seq.v}, {"by", r.by.hex()},
                          {"epoch", r.epoch}},
                     "* " + s.handle_of(r.room, r.by) + " reset the room: a fresh group with the same members");
            return false;
          },
          [&](const client::ChangeRejected& r) {
            if (room && r.room != *room) return false;
            out.emit(json{{"type", "change_rejected"}, {"room", r.room.hex()}, {"seq", r.seq.v},
                          {"member", r.member.hex()}, {"commit_seq", r.commit_seq.v},
                          {"problem", wire::to_string(r.problem)}},
                     "* " + s.handle_of(r.room, r.member) + " could not apply the change #" +
                         std::to_string(r.commit_seq.v) + " (it " + wire::to_string(r.problem) +
                         "); a facilitator can reset the room: hearth-cli reset --room " + r.room.hex());
            return false;
          },
          [&](const client::RoomJoined& r) {
            out.emit(json{{"type", "room_joined"}, {"room", r.room.hex()}, {"role", role_name(r.role)}},
                     "* joined room " + r.room.hex() + " as " + role_name(r.role));
            return false;
          },
          [&](const client::RoomLeft& r) {
            out.emit(json{{"type", "room_left"}, {"room", r.room.hex()}}, "* no longer in room " + r.room.hex());
            return false;
          },
          [&](const client::RoomClosedEvent& r) {
            out.emit(json{{"type", "room_closed"}, {"room", r.room.hex()}}, "* room closed: " + r.room.hex());
            return false;
          },
          [&](const client::ConnectionChanged& c) {
            if (out.json()) {
              out.emit(json{{"type", "connection"}, {"state", client::to_string(c.state)}, {"reason", c.reason}}, "");
            }
            return false;
          },
          [&](const client::Synced&) { return false; },
          [&](const client::IdentityKeyChanged& c) {
            out.emit(json{{"type", "identity_changed"}, {"account", c.account.hex()}, {"handle", c.handle}},
                     "* the identity key of " + c.handle +
                         " has changed: compare safety numbers before you trust it (safety-number, accept-key)");
            return false;
          },
          [&](const client::KeyPackagesPublished& k) {
            if (out.json()) {
              out.emit(json{{"type", "key_packages_published"}, {"stock", k.stock}, {"added", k.added},
                            {"last_resort", k.last_resort}},
                       "");
            }
            return false;
          },
          [&](const client::ErrorEvent& err) {
            json j{{"type", "error"}, {"error", client::to_string(err.error.code)}, {"message", err.error.detail}};
            if (err.error.relay) j["relay_code"] = wire::to_string(err.error.relay->code);
            out.emit(j, "* " + err.error.describe());
            return false;
          },
          [&](const client::EventsDropped& d) {
            out.emit(json{{"type", "events_dropped"}, {"count", d.count}},
                     "* " + std::to_string(d.count) + " events dropped (see history)");
            return false;
          },
      },
      e);
}

template <class T>
Exit finish(Session& s, const ClientResult<T>& r) {
  if (!r) return s.out().error(r.error());
  return Exit::Ok;
}

}  // namespace

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

Exit cmd_register(const Globals& g, const std::string& invite, const std::string& handle, bool system_ca) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto r = s.wait_for(s.engine().register_account(invite, handle, system_ca));
  if (!r) return s.out().error(r.error());
  // Registration also logs in and syncs; wait for that so the profile is complete.
  if (auto e = s.start()) return *e;
  // And for the first KeyPackages: until they are at the relay nobody can add us.
  auto keys = s.wait_for(s.engine().top_up_key_packages());
  if (!keys) return s.out().error(keys.error());
  s.out().emit(json{{"type", "registered"}, {"account", r->hex()}, {"handle", handle}, {"key_packages", keys->relay_stock}},
               "registered as " + handle + " (account " + r->hex() + ")");
  return Exit::Ok;
}

Exit cmd_login(const Globals& g) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  if (auto e = s.start()) return *e;
  auto p = s.wait_for(s.engine().profile());
  if (!p || !*p) return s.out().error(p ? ClientError{ClientCode::NotRegistered, "no profile"} : p.error());
  s.out().emit(json{{"type", "logged_in"}, {"account", (*p)->account.hex()}, {"handle", (*p)->handle}},
               "logged in as " + (*p)->handle + " (account " + (*p)->account.hex() + ")");
  return Exit::Ok;
}

Exit cmd_whoami(const Globals& g) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto p = s.wait_for(s.engine().profile());
  if (!p) return s.out().error(p.error());
  if (!*p || (*p)->account.empty()) return s.out().error(ClientError{ClientCode::NotRegistered, "this profile is not registered"});
  const auto& info = **p;
  const std::string relay = info.relay_host + ":" + std::to_string(info.relay_port);
  s.out().emit(json{{"type", "profile"}, {"account", info.account.hex()}, {"handle", info.handle}, {"relay", relay},
                    {"spki_pin", to_hex(info.spki_pin)}},
               info.handle + " (account " + info.account.hex() + ") on " + relay);
  return Exit::Ok;
}

Exit cmd_create_room(const Globals& g, std::uint64_t lifetime_ms) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  if (auto e = s.start()) return *e;
  auto r = s.wait_for(s.engine().create_room(lifetime_ms));
  if (!r) return s.out().error(r.error());
  s.out().emit(json{{"type", "room_created"}, {"room", r->hex()}}, r->hex());
  return Exit::Ok;
}

namespace {

Exit membership(const Globals& g, const std::string& room_hex, const char* what,
                const std::function<std::future<ClientResult<Seq>>(Engine&, RoomId)>& op) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  if (auto e = s.start()) return *e;
  auto r = s.wait_for(op(s.engine(), *room));
  if (!r) return s.out().error(r.error());
  s.out().emit(json{{"type", what}, {"room", room->hex()}, {"seq", r->v}}, std::string(what) + " (seq " + std::to_string(r->v) + ")");
  return Exit::Ok;
}

}  // namespace

Exit cmd_add(const Globals& g, const std::string& room, const std::string& handle) {
  return membership(g, room, "added", [&](Engine& e, RoomId r) { return e.add_member(std::move(r), handle); });
}

Exit cmd_remove(const Globals& g, const std::string& room, const std::string& handle) {
  return membership(g, room, "removed", [&](Engine& e, RoomId r) { return e.remove_member(std::move(r), handle); });
}

Exit cmd_leave(const Globals& g, const std::string& room) {
  return membership(g, room, "leave_requested", [](Engine& e, RoomId r) { return e.leave_room(std::move(r)); });
}

Exit cmd_reset(const Globals& g, const std::string& room) {
  return membership(g, room, "room_reset", [](Engine& e, RoomId r) { return e.reset_room(std::move(r)); });
}

Exit cmd_set_role(const Globals& g, const std::string& room, const std::string& handle, bool facilitator) {
  const auto role = facilitator ? wire::Role::Facilitator : wire::Role::Member;
  return membership(g, room, "role_changed", [&](Engine& e, RoomId r) { return e.set_role(std::move(r), handle, role); });
}

Exit cmd_refresh_keys(const Globals& g, const std::string& room) {
  return membership(g, room, "keys_refreshed", [](Engine& e, RoomId r) { return e.refresh_keys(std::move(r)); });
}

Exit cmd_safety_code(const Globals& g, const std::string& room_hex) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  auto code = s.wait_for(s.engine().safety_code(*room));
  if (!code) return s.out().error(code.error());
  auto rooms = s.wait_for(s.engine().rooms());
  std::uint64_t epoch = 0;
  if (rooms) {
    for (const auto& r : *rooms) {
      if (r.room == *room) epoch = r.epoch.v;
    }
  }
  s.out().emit(json{{"type", "safety_code"}, {"room", room->hex()}, {"epoch", epoch}, {"code", *code}},
               "safety code of this room at epoch " + std::to_string(epoch) + ":\n  " + *code +
                   "\neveryone in the room on this epoch sees the same digits");
  return Exit::Ok;
}

Exit cmd_members(const Globals& g, const std::string& room_hex) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  auto members = s.wait_for(s.engine().members(*room));
  if (!members) return s.out().error(members.error());
  for (const auto& m : *members) {
    const char* role = m.facilitator ? "facilitator" : "member";
    s.out().emit(json{{"type", "member"}, {"room", room->hex()}, {"account", m.account.hex()}, {"leaf", m.leaf.v},
                      {"role", role}},
                 m.account.hex().substr(0, 8) + "  " + role);
  }
  return Exit::Ok;
}

Exit cmd_close_room(const Globals& g, const std::string& room_hex) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  if (auto e = s.start()) return *e;
  auto r = s.wait_for(s.engine().close_room(*room));
  if (!r) return s.out().error(r.error());
  s.out().emit(json{{"type", "room_closed"}, {"room", room->hex()}}, "closed " + room->hex());
  return Exit::Ok;
}

Exit cmd_send(const Globals& g, const std::string& room_hex, const std::string& text) {
  if (!valid_utf8(text)) return Output(g.json).usage("the message is not valid UTF-8");
  return cmd_send_content(g, room_hex, client::ContentText{text, std::nullopt});
}

Exit cmd_send_content(const Globals& g, const std::string& room_hex, const client::ContentBody& body) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  auto rooms = s.wait_for(s.engine().rooms());
  if (!rooms) return s.out().error(rooms.error());
  const bool known = std::any_of(rooms->begin(), rooms->end(), [&](const client::RoomRecord& r) {
    return r.room == *room && r.status == client::RoomStatus::Active;
  });
  ClientResult<client::SendReceipt> r;
  if (known) {
    // Into the outbox first (durably), then connect: if the relay cannot be
    // reached, the message is kept and the next sync or tail sends it.
    auto sending = s.engine().send(*room, body);
    // Requests run in order on the engine's thread: once this answers, the
    // send was queued or refused.
    (void)s.wait_for(s.engine().outbox());
    if (sending.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) {
      r = sending.get();  // refused before queuing (too long, outbox full, ...)
      if (!r) return s.out().error(r.error());
    } else {
      if (auto e = s.start()) {
        if (!s.out().json()) std::cerr << "hearth-cli: the message stays in the outbox; `sync` sends it" << std::endl;
        return *e;
      }
      r = s.wait_for(std::move(sending));
    }
  } else {
    // A room we were added to since the last sync: learn about it first.
    if (auto e = s.start()) return *e;
    r = s.wait_for(s.engine().send(*room, body));
  }
  if (!r) return s.out().error(r.error());
  s.out().emit(json{{"type", "sent"}, {"room", room->hex()}, {"seq", r->seq.v}, {"envelope_id", r->envelope_id.hex()}},
               "sent (seq " + std::to_string(r->seq.v) + ")");
  return Exit::Ok;
}

Exit cmd_tail(const Globals& g, const std::optional<std::string>& room_hex, std::optional<std::size_t> count) {
  // A follower survives relay restarts: reconnect on.
  Session s(g, true);
  if (!s.ok()) return s.failed_exit();
  std::optional<RoomId> room;
  if (room_hex) {
    room = parse_room(*room_hex);
    if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  }
  if (count && *count == 0) return Exit::Ok;
  const auto started = std::chrono::steady_clock::now();
  if (auto e = s.start()) return *e;
  std::size_t printed = 0;
  while (!g_interrupted.load()) {
    if (g.timeout_given && std::chrono::steady_clock::now() - started >= g.timeout) {
      return count ? s.out().error(ClientError{ClientCode::Timeout, "fewer messages than --count before --timeout"})
                   : Exit::Ok;
    }
    auto e = s.engine().events().wait_pop(100ms);
    if (!e) continue;
    if (print_event(s, *e, room) && count && ++printed >= *count) return Exit::Ok;
    if (const auto* c = std::get_if<client::ConnectionChanged>(&*e); c && c->state == client::ConnectionState::Offline) {
      if (!s.out().json()) std::cerr << "hearth-cli: connection lost (" << c->reason << "), reconnecting" << std::endl;
    }
  }
  return Exit::Ok;
}

Exit cmd_sync(const Globals& g, const std::optional<std::string>& room_hex) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  std::optional<RoomId> room;
  if (room_hex) {
    room = parse_room(*room_hex);
    if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  }
  if (auto e = s.start()) return *e;
  const auto deadline = std::chrono::steady_clock::now() + s.globals().timeout;
  // The backlog's events are queued before start() completed; the outbox is
  // re-sent after the sync: wait until it is empty (or the timeout).
  while (true) {
    while (auto e = s.engine().events().try_pop()) (void)print_event(s, *e, room);
    auto pending = s.wait_for(s.engine().outbox());
    if (!pending) return s.out().error(pending.error());
    if (pending->empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return s.out().error(ClientError{ClientCode::Timeout, std::to_string(pending->size()) + " queued messages not yet sent"});
    }
    std::this_thread::sleep_for(50ms);
  }
  while (auto e = s.engine().events().try_pop()) (void)print_event(s, *e, room);
  return Exit::Ok;
}

Exit cmd_rooms(const Globals& g, bool offline) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  if (!offline) {
    if (auto e = s.start()) return *e;
  }
  auto rooms = s.wait_for(s.engine().rooms());
  if (!rooms) return s.out().error(rooms.error());
  for (const auto& r : *rooms) {
    s.out().emit(json{{"type", "room"}, {"room", r.room.hex()}, {"role", role_name(r.role)}, {"status", client::to_string(r.status)},
                      {"epoch", r.epoch.v}, {"cursor", r.cursor.v}},
                 r.room.hex() + "  " + role_name(r.role) + "  " + client::to_string(r.status) + "  seq " + std::to_string(r.cursor.v));
  }
  return Exit::Ok;
}

Exit cmd_roster(const Globals& g, const std::string& room_hex) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  if (auto e = s.start()) return *e;
  auto r = s.wait_for(s.engine().roster(*room));
  if (!r) return s.out().error(r.error());
  for (const auto& m : r->members) {
    s.out().emit(json{{"type", "member"}, {"room", room->hex()}, {"account", m.account.hex()}, {"handle", m.handle},
                      {"role", role_name(m.role)}},
                 m.handle + "  " + role_name(m.role) + "  " + m.account.hex());
  }
  return Exit::Ok;
}

Exit cmd_safety(const Globals& g, SafetyAction action, const std::string& handle, const std::string& digits) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  if (auto e = s.start()) return *e;
  auto r = action == SafetyAction::Verify      ? s.wait_for(s.engine().verify_safety_number(handle, digits))
           : action == SafetyAction::AcceptKey ? s.wait_for(s.engine().accept_identity_key(handle))
                                               : s.wait_for(s.engine().safety_number(handle));
  if (!r) return s.out().error(r.error());
  s.out().emit(json{{"type", "safety_number"}, {"account", r->account.hex()}, {"handle", r->handle},
                    {"digits", r->digits}, {"verified", r->verified}},
               "safety number with " + r->handle + ":\n  " + r->digits + "\n" +
                   (r->verified ? "verified" : "not verified: compare it with " + r->handle + ", then run verify"));
  return Exit::Ok;
}

Exit cmd_history(const Globals& g, const std::string& room_hex, std::size_t limit) {
  Session s(g, false);
  if (!s.ok()) return s.failed_exit();
  auto room = parse_room(room_hex);
  if (!room) return s.out().usage("--room takes 32 to 128 hex digits");
  auto r = s.wait_for(s.engine().history(*room, Seq{}, limit));
  if (!r) return s.out().error(r.error());
  for (const auto& env : *r) {
    if (env.kind != wire::EnvelopeKind::Application) continue;
    // The stored payload is the decrypted Content; empty when this device
    // could not open the message or it was erased.
    auto content = client::decode_content(env.payload);
    json j;
    std::string line = "(not readable on this device)";
    if (!env.payload.empty() && content) std::tie(j, line) = describe_content(*content);
    j.update(json{{"type", "message"}, {"room", room->hex()}, {"seq", env.seq.v}, {"sender", env.sender.hex()},
                  {"timestamp_ms", env.timestamp_ms}, {"line", line}});
    s.out().emit(j, "#" + std::to_string(env.seq.v) + " " + env.sender.hex().substr(0, 8) + ": " + line);
  }
  return Exit::Ok;
}

Exit cmd_change_passphrase(const Globals& g, const std::optional<std::filesystem::path>& new_file) {
  const Output out(g.json);
  const auto file = g.profile / client::kProfileDbName;
  if (!std::filesystem::exists(file)) return out.usage("no profile at " + g.profile.string());
  auto old_pass = read_passphrase(g.passphrase_file, kPassphraseEnv, false, "Current passphrase: ");
  if (!old_pass) return out.error(old_pass.error());
  auto store = client::SqliteStore::open(file, old_pass->view());
  if (!store) {
    const auto code = store.error().code;
    const bool pass = code == store::StoreCode::WrongPassphrase || code == store::StoreCode::InvalidPassphrase;
    return out.error(ClientError{pass ? ClientCode::Passphrase : ClientCode::Store, store.error().detail});
  }
  auto new_pass = read_passphrase(new_file, kNewPassphraseEnv, true, "New passphrase: ");
  if (!new_pass) return out.error(new_pass.error());
  if (auto r = (*store)->change_passphrase(new_pass->view()); !r) {
    const bool pass = r.error().code == store::StoreCode::InvalidPassphrase;
    return out.error(ClientError{pass ? ClientCode::Passphrase : ClientCode::Store, r.error().detail});
  }
  out.emit(json{{"type", "passphrase_changed"}}, "passphrase changed");
  return Exit::Ok;
}

}  // namespace hearth::cli
