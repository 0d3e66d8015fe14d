// SPDX-License-Identifier: Apache-2.0
// The only place that touches the generated protobuf types.
#include "common/wire/codec.h"

#include <mutex>

#include <google/protobuf/stubs/logging.h>

#include "common/wire/framing.h"
#include "hearth/v1/hearth.pb.h"

namespace hearth::wire {

namespace pb = ::hearth::v1;

std::string to_string(DecodeError e) {
  switch (e) {
    case DecodeError::Unparseable: return "unparseable frame";
    case DecodeError::EmptyBody: return "frame without a known body";
    case DecodeError::BadField: return "invalid field";
  }
  return "unknown decode error";
}

namespace {

// ------------------------------------------------------------------ encoding

std::string str(BytesView b) { return to_string_bytes(b); }

pb::Role to_pb(Role r) {
  switch (r) {
    case Role::Member: return pb::ROLE_MEMBER;
    case Role::Facilitator: return pb::ROLE_FACILITATOR;
  }
  return pb::ROLE_UNSPECIFIED;
}

pb::EnvelopeKind to_pb(EnvelopeKind k) {
  switch (k) {
    case EnvelopeKind::Application: return pb::ENVELOPE_KIND_APPLICATION;
    case EnvelopeKind::Handshake: return pb::ENVELOPE_KIND_HANDSHAKE;
    case EnvelopeKind::Welcome: return pb::ENVELOPE_KIND_WELCOME;
    case EnvelopeKind::Reset: return pb::ENVELOPE_KIND_RESET;
    case EnvelopeKind::Report: return pb::ENVELOPE_KIND_REPORT;
  }
  return pb::ENVELOPE_KIND_UNSPECIFIED;
}

pb::ChangeProblem to_pb(ChangeProblem p) {
  switch (p) {
    case ChangeProblem::DoesNotVerify: return pb::CHANGE_PROBLEM_DOES_NOT_VERIFY;
    case ChangeProblem::CannotDecrypt: return pb::CHANGE_PROBLEM_CANNOT_DECRYPT;
    case ChangeProblem::Invalid: return pb::CHANGE_PROBLEM_INVALID;
  }
  return pb::CHANGE_PROBLEM_UNSPECIFIED;
}

template <class P>
void fill_welcomes(P& p, const std::vector<WelcomeFor>& welcomes) {
  for (const auto& w : welcomes) {
    auto* pw = p.add_welcomes();
    pw->set_account_id(str(w.account.v));
    pw->set_data(str(w.data));
  }
}

pb::RosterChange_Op to_pb(RosterOp op) {
  switch (op) {
    case RosterOp::Add: return pb::RosterChange_Op_OP_ADD;
    case RosterOp::Remove: return pb::RosterChange_Op_OP_REMOVE;
    case RosterOp::SetRole: return pb::RosterChange_Op_OP_SET_ROLE;
  }
  return pb::RosterChange_Op_OP_UNSPECIFIED;
}

void fill(pb::Cursor& p, const Cursor& c) {
  p.set_room_id(str(c.room.v));
  p.set_seq(c.seq.v);
}

void fill(pb::RosterChange& p, const RosterChange& c) {
  p.set_op(to_pb(c.op));
  p.set_account_id(str(c.account.v));
  p.set_role(to_pb(c.role));
}

void fill(pb::Error& p, const Error& e) {
  p.set_code(static_cast<pb::ErrorCode>(e.code));
  p.set_message(e.message);
  if (e.room) p.set_room_id(str(e.room->v));
}

void encode_body(pb::Frame& f, const Message& m) {
  std::visit(
      Overloaded{
          [&](const Hello& v) {
            auto* p = f.mutable_hello();
            p->set_protocol_version(v.protocol_version);
            p->set_client_name(v.client_name);
          },
          [&](const Register& v) {
            auto* p = f.mutable_register_();
            p->set_invite_token(v.invite_token);
            p->set_handle(v.handle);
            p->set_identity_key(str(v.identity_key));
            p->set_signature(str(v.signature));
          },
          [&](const LoginStart& v) { f.mutable_login_start()->set_account_id(str(v.account.v)); },
          [&](const LoginProof& v) { f.mutable_login_proof()->set_signature(str(v.signature)); },
          [&](const PublishKeys& v) {
            auto* p = f.mutable_publish_keys();
            for (const auto& kp : v.key_packages) p->add_key_packages(str(kp));
            if (v.last_resort) p->set_last_resort(str(*v.last_resort));
          },
          [&](const FetchKeyPackage& v) { f.mutable_fetch_key_package()->set_account_id(str(v.account.v)); },
          [&](const LookupAccount& v) { f.mutable_lookup_account()->set_handle(v.handle); },
          [&](const CreateRoom& v) {
            auto* p = f.mutable_create_room();
            p->set_room_id(str(v.room.v));
            p->set_group_info(str(v.group_info));
            p->set_lifetime_ms(v.lifetime_ms);
          },
          [&](const SubmitBundle& v) {
            auto* p = f.mutable_submit_bundle();
            p->set_room_id(str(v.room.v));
            p->set_epoch(v.epoch.v);
            p->set_envelope_id(str(v.envelope_id.v));
            p->set_handshake(str(v.handshake));
            fill_welcomes(*p, v.welcomes);
            for (const auto& c : v.roster_changes) fill(*p->add_roster_changes(), c);
          },
          [&](const CloseRoom& v) { f.mutable_close_room()->set_room_id(str(v.room.v)); },
          [&](const SendEnvelope& v) {
            auto* p = f.mutable_send_envelope();
            p->set_room_id(str(v.room.v));
            p->set_envelope_id(str(v.envelope_id.v));
            p->set_epoch(v.epoch.v);
            p->set_payload(str(v.payload));
          },
          [&](const Sync& v) {
            auto* p = f.mutable_sync();
            for (const auto& c : v.cursors) fill(*p->add_cursors(), c);
          },
          [&](const Ack& v) {
            auto* p = f.mutable_ack();
            for (const auto& c : v.cursors) fill(*p->add_cursors(), c);
          },
          [&](const GetRoster& v) { f.mutable_get_roster()->set_room_id(str(v.room.v)); },
          [&](const Ping& v) { f.mutable_ping()->set_nonce(v.nonce); },
          [&](const ResetRoom& v) {
            auto* p = f.mutable_reset_room();
            p->set_room_id(str(v.room.v));
            p->set_envelope_id(str(v.envelope_id.v));
            p->set_group_info(str(v.group_info));
            p->set_handshake(str(v.handshake));
            fill_welcomes(*p, v.welcomes);
          },
          [&](const ReportChange& v) {
            auto* p = f.mutable_report_change();
            p->set_room_id(str(v.room.v));
            p->set_envelope_id(str(v.envelope_id.v));
            p->set_commit_seq(v.commit_seq.v);
            p->set_problem(to_pb(v.problem));
          },
          [&](const SetRoomLifetime& v) {
            auto* p = f.mutable_set_room_lifetime();
            p->set_room_id(str(v.room.v));
            p->set_lifetime_ms(v.lifetime_ms);
          },
          [&](const Error& v) { fill(*f.mutable_error(), v); },
          [&](const HelloOk& v) {
            auto* p = f.mutable_hello_ok();
            p->set_protocol_version(v.protocol_version);
            p->set_max_frame_size(v.max_frame_size);
          },
          [&](const RegisterOk& v) { f.mutable_register_ok()->set_account_id(str(v.account.v)); },
          [&](const LoginChallenge& v) { f.mutable_login_challenge()->set_challenge(str(v.challenge)); },
          [&](const LoginOk& v) { f.mutable_login_ok()->set_handle(v.handle); },
          [&](const PublishKeysOk& v) { f.mutable_publish_keys_ok()->set_stock(v.stock); },
          [&](const KeyPackageOk& v) {
            auto* p = f.mutable_key_package_ok();
            p->set_account_id(str(v.account.v));
            p->set_identity_key(str(v.identity_key));
            p->set_key_package(str(v.key_package));
            p->set_last_resort(v.last_resort);
          },
          [&](const AccountInfo& v) {
            auto* p = f.mutable_account_info();
            p->set_account_id(str(v.account.v));
            p->set_handle(v.handle);
            p->set_identity_key(str(v.identity_key));
          },
          [&](const CreateRoomOk& v) {
            auto* p = f.mutable_create_room_ok();
            p->set_room_id(str(v.room.v));
            p->set_epoch(v.epoch.v);
          },
          [&](const BundleOk& v) {
            auto* p = f.mutable_bundle_ok();
            p->set_seq(v.seq.v);
            p->set_new_epoch(v.new_epoch.v);
          },
          [&](const CloseRoomOk& v) { f.mutable_close_room_ok()->set_room_id(str(v.room.v)); },
          [&](const SendOk& v) {
            auto* p = f.mutable_send_ok();
            p->set_room_id(str(v.room.v));
            p->set_seq(v.seq.v);
          },
          [&](const SyncOk& v) {
            auto* p = f.mutable_sync_ok();
            for (const auto& r : v.rooms) {
              auto* pr = p->add_rooms();
              pr->set_room_id(str(r.room.v));
              pr->set_head_seq(r.head.v);
              pr->set_epoch(r.epoch.v);
              pr->set_role(to_pb(r.role));
            }
            for (const auto& g : v.gaps) fill(*p->add_gaps(), g);
          },
          [&](const Roster& v) {
            auto* p = f.mutable_roster();
            p->set_room_id(str(v.room.v));
            p->set_epoch(v.epoch.v);
            for (const auto& member : v.members) {
              auto* pm = p->add_members();
              pm->set_account_id(str(member.account.v));
              pm->set_handle(member.handle);
              pm->set_role(to_pb(member.role));
            }
          },
          [&](const Pong& v) { f.mutable_pong()->set_nonce(v.nonce); },
          [&](const RoomLifetimeOk& v) {
            auto* p = f.mutable_room_lifetime_ok();
            p->set_room_id(str(v.room.v));
            p->set_lifetime_ms(v.lifetime_ms);
          },
          [&](const Deliver& v) {
            auto* p = f.mutable_deliver();
            p->set_room_id(str(v.room.v));
            p->set_seq(v.seq.v);
            p->set_kind(to_pb(v.kind));
            p->set_sender(str(v.sender.v));
            p->set_envelope_id(str(v.envelope_id.v));
            p->set_epoch(v.epoch.v);
            p->set_timestamp_ms(v.timestamp_ms);
            p->set_payload(str(v.payload));
            for (const auto& c : v.roster_changes) fill(*p->add_roster_changes(), c);
          },
          [&](const RoomClosed& v) { f.mutable_room_closed()->set_room_id(str(v.room.v)); },
      },
      m);
}

// ------------------------------------------------------------------ decoding

// Collects the first failed check of a message; later checks are skipped.
class Check {
 public:
  [[nodiscard]] bool ok() const { return !failure_; }
  [[nodiscard]] DecodeFailure failure() const { return *failure_; }

  Bytes sized(const std::string& s, std::size_t min, std::size_t max, const char* field) {
    if (s.size() < min || s.size() > max) bad(field);
    return to_bytes(s);
  }
  Bytes any(const std::string& s) { return to_bytes(s); }
  AccountId account(const std::string& s, const char* field) {
    return AccountId{sized(s, kAccountIdSize, kAccountIdSize, field)};
  }
  RoomId room(const std::string& s, const char* field) {
    return RoomId{sized(s, kMinRoomIdSize, kMaxRoomIdSize, field)};
  }
  EnvelopeId envelope(const std::string& s, const char* field) {
    return EnvelopeId{sized(s, kEnvelopeIdSize, kEnvelopeIdSize, field)};
  }
  std::string text(const std::string& s, std::size_t max, const char* field) {
    if (s.size() > max) bad(field);
    return s;
  }
  void count(int n, const char* field) {
    if (n < 0 || static_cast<std::size_t>(n) > kMaxListItems) bad(field);
  }
  Role role(pb::Role r, const char* field) {
    switch (r) {
      case pb::ROLE_MEMBER: return Role::Member;
      case pb::ROLE_FACILITATOR: return Role::Facilitator;
      case pb::ROLE_UNSPECIFIED:
      case pb::Role_INT_MIN_SENTINEL_DO_NOT_USE_:
      case pb::Role_INT_MAX_SENTINEL_DO_NOT_USE_: break;
    }
    bad(field);
    return Role::Member;
  }
  EnvelopeKind kind(pb::EnvelopeKind k) {
    switch (k) {
      case pb::ENVELOPE_KIND_APPLICATION: return EnvelopeKind::Application;
      case pb::ENVELOPE_KIND_HANDSHAKE: return EnvelopeKind::Handshake;
      case pb::ENVELOPE_KIND_WELCOME: return EnvelopeKind::Welcome;
      case pb::ENVELOPE_KIND_RESET: return EnvelopeKind::Reset;
      case pb::ENVELOPE_KIND_REPORT: return EnvelopeKind::Report;
      case pb::ENVELOPE_KIND_UNSPECIFIED:
      case pb::EnvelopeKind_INT_MIN_SENTINEL_DO_NOT_USE_:
      case pb::EnvelopeKind_INT_MAX_SENTINEL_DO_NOT_USE_: break;
    }
    bad("kind");
    return EnvelopeKind::Application;
  }
  ChangeProblem problem(pb::ChangeProblem p) {
    switch (p) {
      case pb::CHANGE_PROBLEM_DOES_NOT_VERIFY: return ChangeProblem::DoesNotVerify;
      case pb::CHANGE_PROBLEM_CANNOT_DECRYPT: return ChangeProblem::CannotDecrypt;
      case pb::CHANGE_PROBLEM_INVALID: return ChangeProblem::Invalid;
      case pb::CHANGE_PROBLEM_UNSPECIFIED:
      case pb::ChangeProblem_INT_MIN_SENTINEL_DO_NOT_USE_:
      case pb::ChangeProblem_INT_MAX_SENTINEL_DO_NOT_USE_: break;
    }
    bad("problem");
    return ChangeProblem::Invalid;
  }
  template <class P>
  std::vector<WelcomeFor> welcomes(const P& p) {
    count(p.welcomes_size(), "welcomes");
    std::vector<WelcomeFor> out;
    if (!ok()) return out;
    for (const auto& w : p.welcomes()) out.push_back(WelcomeFor{account(w.account_id(), "welcomes.account_id"), any(w.data())});
    return out;
  }
  RosterOp op(pb::RosterChange_Op op) {
    switch (op) {
      case pb::RosterChange_Op_OP_ADD: return RosterOp::Add;
      case pb::RosterChange_Op_OP_REMOVE: return RosterOp::Remove;
      case pb::RosterChange_Op_OP_SET_ROLE: return RosterOp::SetRole;
      case pb::RosterChange_Op_OP_UNSPECIFIED:
      case pb::RosterChange_Op_RosterChange_Op_INT_MIN_SENTINEL_DO_NOT_USE_:
      case pb::RosterChange_Op_RosterChange_Op_INT_MAX_SENTINEL_DO_NOT_USE_: break;
    }
    bad("roster_changes.op");
    return RosterOp::Add;
  }
  ErrorCode error_code(int code) {
    if (code < 0 || code > static_cast<int>(ErrorCode::InvalidKeyPackage)) {
      // An error code from a newer relay is still an error; keep it readable.
      return ErrorCode::Unspecified;
    }
    return static_cast<ErrorCode>(code);
  }

  std::vector<Cursor> cursors(const google::protobuf::RepeatedPtrField<pb::Cursor>& in) {
    count(in.size(), "cursors");
    std::vector<Cursor> out;
    if (!ok()) return out;
    out.reserve(static_cast<std::size_t>(in.size()));
    for (const auto& c : in) out.push_back(Cursor{room(c.room_id(), "cursors.room_id"), Seq{c.seq()}});
    return out;
  }
  std::vector<RosterChange> changes(const google::protobuf::RepeatedPtrField<pb::RosterChange>& in) {
    count(in.size(), "roster_changes");
    std::vector<RosterChange> out;
    if (!ok()) return out;
    out.reserve(static_cast<std::size_t>(in.size()));
    for (const auto& c : in) {
      RosterChange rc{op(c.op()), account(c.account_id(), "roster_changes.account_id"), Role::Member};
      if (rc.op != RosterOp::Remove) rc.role = role(c.role(), "roster_changes.role");
      out.push_back(std::move(rc));
    }
    return out;
  }
  Error error(const pb::Error& e) {
    Error out{error_code(e.code()), text(e.message(), kMaxErrorTextSize, "error.message"), std::nullopt};
    if (!e.room_id().empty()) out.room = room(e.room_id(), "error.room_id");
    return out;
  }

 private:
  void bad(const char* field) {
    if (!failure_) failure_ = DecodeFailure{DecodeError::BadField, field};
  }
  std::optional<DecodeFailure> failure_;
};

Result<Message, DecodeFailure> decode_body(const pb::Frame& f) {
  Check c;
  Message m;
  switch (f.body_case()) {
    case pb::Frame::kHello:
      m = Hello{f.hello().protocol_version(), c.text(f.hello().client_name(), kMaxClientNameSize, "client_name")};
      break;
    case pb::Frame::kRegister: {
      const auto& p = f.register_();
      m = Register{c.text(p.invite_token(), kMaxInviteTokenSize, "invite_token"),
                   c.text(p.handle(), kMaxHandleSize, "handle"), c.sized(p.identity_key(), 32, 32, "identity_key"),
                   c.sized(p.signature(), 64, 64, "signature")};
      break;
    }
    case pb::Frame::kLoginStart: m = LoginStart{c.account(f.login_start().account_id(), "account_id")}; break;
    case pb::Frame::kLoginProof: m = LoginProof{c.sized(f.login_proof().signature(), 64, 64, "signature")}; break;
    case pb::Frame::kPublishKeys: {
      const auto& p = f.publish_keys();
      c.count(p.key_packages_size(), "key_packages");
      PublishKeys v;
      if (c.ok()) {
        for (const auto& kp : p.key_packages()) v.key_packages.push_back(c.sized(kp, 1, kDefaultMaxFrameSize, "key_packages"));
      }
      if (!p.last_resort().empty()) v.last_resort = c.any(p.last_resort());
      m = std::move(v);
      break;
    }
    case pb::Frame::kFetchKeyPackage:
      m = FetchKeyPackage{c.account(f.fetch_key_package().account_id(), "account_id")};
      break;
    case pb::Frame::kLookupAccount:
      m = LookupAccount{c.text(f.lookup_account().handle(), kMaxHandleSize, "handle")};
      break;
    case pb::Frame::kCreateRoom: {
      const auto& p = f.create_room();
      m = CreateRoom{c.room(p.room_id(), "room_id"), c.any(p.group_info()), p.lifetime_ms()};
      break;
    }
    case pb::Frame::kSubmitBundle: {
      const auto& p = f.submit_bundle();
      m = SubmitBundle{c.room(p.room_id(), "room_id"), Epoch{p.epoch()}, c.envelope(p.envelope_id(), "envelope_id"),
                       c.any(p.handshake()), c.welcomes(p), c.changes(p.roster_changes())};
      break;
    }
    case pb::Frame::kResetRoom: {
      const auto& p = f.reset_room();
      m = ResetRoom{c.room(p.room_id(), "room_id"), c.envelope(p.envelope_id(), "envelope_id"), c.any(p.group_info()),
                    c.any(p.handshake()), c.welcomes(p)};
      break;
    }
    case pb::Frame::kReportChange: {
      const auto& p = f.report_change();
      m = ReportChange{c.room(p.room_id(), "room_id"), c.envelope(p.envelope_id(), "envelope_id"), Seq{p.commit_seq()},
                       c.problem(p.problem())};
      break;
    }
    case pb::Frame::kSetRoomLifetime:
      m = SetRoomLifetime{c.room(f.set_room_lifetime().room_id(), "room_id"), f.set_room_lifetime().lifetime_ms()};
      break;
    case pb::Frame::kRoomLifetimeOk:
      m = RoomLifetimeOk{c.room(f.room_lifetime_ok().room_id(), "room_id"), f.room_lifetime_ok().lifetime_ms()};
      break;
    case pb::Frame::kCloseRoom: m = CloseRoom{c.room(f.close_room().room_id(), "room_id")}; break;
    case pb::Frame::kSendEnvelope: {
      const auto& p = f.send_envelope();
      m = SendEnvelope{c.room(p.room_id(), "room_id"), c.envelope(p.envelope_id(), "envelope_id"), Epoch{p.epoch()},
                       c.any(p.payload())};
      break;
    }
    case pb::Frame::kSync: m = Sync{c.cursors(f.sync().cursors())}; break;
    case pb::Frame::kAck: m = Ack{c.cursors(f.ack().cursors())}; break;
    case pb::Frame::kGetRoster: m = GetRoster{c.room(f.get_roster().room_id(), "room_id")}; break;
    case pb::Frame::kPing: m = Ping{f.ping().nonce()}; break;
    case pb::Frame::kError: m = c.error(f.error()); break;
    case pb::Frame::kHelloOk:
      m = HelloOk{f.hello_ok().protocol_version(), f.hello_ok().max_frame_size()};
      break;
    case pb::Frame::kRegisterOk: m = RegisterOk{c.account(f.register_ok().account_id(), "account_id")}; break;
    case pb::Frame::kLoginChallenge:
      m = LoginChallenge{c.sized(f.login_challenge().challenge(), kChallengeSize, kChallengeSize, "challenge")};
      break;
    case pb::Frame::kLoginOk: m = LoginOk{c.text(f.login_ok().handle(), kMaxHandleSize, "handle")}; break;
    case pb::Frame::kPublishKeysOk: m = PublishKeysOk{f.publish_keys_ok().stock()}; break;
    case pb::Frame::kKeyPackageOk: {
      const auto& p = f.key_package_ok();
      m = KeyPackageOk{c.account(p.account_id(), "account_id"), c.sized(p.identity_key(), 32, 32, "identity_key"),
                       c.any(p.key_package()), p.last_resort()};
      break;
    }
    case pb::Frame::kAccountInfo: {
      const auto& p = f.account_info();
      m = AccountInfo{c.account(p.account_id(), "account_id"), c.text(p.handle(), kMaxHandleSize, "handle"),
                      c.sized(p.identity_key(), 32, 32, "identity_key")};
      break;
    }
    case pb::Frame::kCreateRoomOk:
      m = CreateRoomOk{c.room(f.create_room_ok().room_id(), "room_id"), Epoch{f.create_room_ok().epoch()}};
      break;
    case pb::Frame::kBundleOk: m = BundleOk{Seq{f.bundle_ok().seq()}, Epoch{f.bundle_ok().new_epoch()}}; break;
    case pb::Frame::kCloseRoomOk: m = CloseRoomOk{c.room(f.close_room_ok().room_id(), "room_id")}; break;
    case pb::Frame::kSendOk: m = SendOk{c.room(f.send_ok().room_id(), "room_id"), Seq{f.send_ok().seq()}}; break;
    case pb::Frame::kSyncOk: {
      const auto& p = f.sync_ok();
      SyncOk v;
      c.count(p.rooms_size(), "rooms");
      c.count(p.gaps_size(), "gaps");
      if (c.ok()) {
        for (const auto& r : p.rooms())
          v.rooms.push_back(RoomSyncState{c.room(r.room_id(), "rooms.room_id"), Seq{r.head_seq()}, Epoch{r.epoch()},
                                          c.role(r.role(), "rooms.role")});
        for (const auto& g : p.gaps()) v.gaps.push_back(c.error(g));
      }
      m = std::move(v);
      break;
    }
    case pb::Frame::kRoster: {
      const auto& p = f.roster();
      Roster v{c.room(p.room_id(), "room_id"), Epoch{p.epoch()}, {}};
      c.count(p.members_size(), "members");
      if (c.ok()) {
        for (const auto& mem : p.members())
          v.members.push_back(Member{c.account(mem.account_id(), "members.account_id"),
                                     c.text(mem.handle(), kMaxHandleSize, "members.handle"),
                                     c.role(mem.role(), "members.role")});
      }
      m = std::move(v);
      break;
    }
    case pb::Frame::kPong: m = Pong{f.pong().nonce()}; break;
    case pb::Frame::kDeliver: {
      const auto& p = f.deliver();
      m = Deliver{c.room(p.room_id(), "room_id"),
                  Seq{p.seq()},
                  c.kind(p.kind()),
                  c.account(p.sender(), "sender"),
                  c.envelope(p.envelope_id(), "envelope_id"),
                  Epoch{p.epoch()},
                  p.timestamp_ms(),
                  c.any(p.payload()),
                  c.changes(p.roster_changes())};
      break;
    }
    case pb::Frame::kRoomClosed: m = RoomClosed{c.room(f.room_closed().room_id(), "room_id")}; break;
    case pb::Frame::BODY_NOT_SET: return fail(DecodeFailure{DecodeError::EmptyBody, "body"});
  }
  if (!c.ok()) return fail(c.failure());
  return m;
}

}  // namespace

Bytes encode_change_report(const ChangeReport& report) {
  pb::ChangeReport p;
  p.set_commit_seq(report.commit_seq.v);
  p.set_problem(to_pb(report.problem));
  return to_bytes(p.SerializeAsString());
}

std::optional<ChangeReport> decode_change_report(BytesView payload) {
  pb::ChangeReport p;
  if (payload.size() > kMaxChangeReportSize ||
      !p.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return std::nullopt;
  }
  Check c;
  ChangeReport out{Seq{p.commit_seq()}, c.problem(p.problem())};
  if (!c.ok()) return std::nullopt;
  return out;
}

Bytes encode(const Frame& frame) {
  pb::Frame f;
  f.set_request_id(frame.request_id);
  encode_body(f, frame.body);
  Bytes out(f.ByteSizeLong());
  f.SerializeWithCachedSizesToArray(out.data());
  return out;
}

Bytes encode_with_length(const Frame& frame) {
  pb::Frame f;
  f.set_request_id(frame.request_id);
  encode_body(f, frame.body);
  auto size = f.ByteSizeLong();
  Bytes out;
  out.reserve(kLengthPrefixSize + size);
  put_u32(out, static_cast<std::uint32_t>(size));
  out.resize(kLengthPrefixSize + size);
  f.SerializeWithCachedSizesToArray(out.data() + kLengthPrefixSize);
  return out;
}

Result<Frame, DecodeFailure> decode(BytesView body) {
  // Protobuf logs every invalid UTF-8 string it parses to stderr. Hostile
  // input would turn that into a log flood; the failure is returned as a
  // typed error and counted by the caller instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] { google::protobuf::SetLogHandler(nullptr); });
  pb::Frame f;
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !f.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return fail(DecodeFailure{DecodeError::Unparseable, "frame"});
  }
  auto m = decode_body(f);
  if (!m) return fail(m.error());
  return Frame{f.request_id(), std::move(*m)};
}

}  // namespace hearth::wire
