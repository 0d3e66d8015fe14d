// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "server/core/limits.h"
#include "server/core/room_state.h"

using namespace hearth;
using namespace hearth::relay;
using wire::ErrorCode;
using wire::Role;
using wire::RosterOp;

namespace {

AccountId acct(std::uint8_t b) { return AccountId{Bytes(16, b)}; }
const RoomId kRoom{Bytes(16, 0xaa)};

/// A derived bundle: its epoch, roster and Welcome addressees.
struct Derived {
  Epoch epoch;
  std::vector<wire::RosterChange> roster;
  std::vector<AccountId> welcomed;
};
Derived bundle(Epoch e, std::vector<wire::RosterChange> changes, std::vector<AccountId> w = {}) {
  return Derived{e, std::move(changes), std::move(w)};
}
Result<BundleTransition, Rejection> plan(const RoomState& r, const AccountId& who, const Derived& b) {
  return plan_bundle(r, who, b.epoch, b.roster, b.welcomed);
}

wire::RosterChange add(const AccountId& a, Role r = Role::Member) { return {RosterOp::Add, a, r}; }
wire::RosterChange remove(const AccountId& a) { return {RosterOp::Remove, a, Role::Member}; }
wire::RosterChange set_role(const AccountId& a, Role r) { return {RosterOp::SetRole, a, r}; }

/// A room with facilitator 1 and member 2 at epoch 1, head 2.
RoomState two_member_room() {
  RoomState r = new_room(kRoom, 1, acct(1), 0);
  auto t = plan(r, acct(1), bundle(Epoch{0}, {add(acct(2))}, {acct(2)}));
  REQUIRE(t);
  return t->next;
}

}  // namespace

TEST_CASE("new_room: the creator is the only member and a facilitator", "[server][core][room]") {
  auto r = new_room(kRoom, 7, acct(1), 5000);
  REQUIRE(r.members.size() == 1);
  REQUIRE(r.members.at(acct(1)).role == Role::Facilitator);
  REQUIRE(r.members.at(acct(1)).joined_from.v == 1);
  REQUIRE(r.epoch.v == 0);
  REQUIRE(r.head.v == 0);
  REQUIRE(r.row == 7);
  REQUIRE(r.lifetime_ms == 5000);
}

TEST_CASE("plan_send: members only, current epoch only", "[server][core][room]") {
  auto r = two_member_room();
  REQUIRE(plan_send(r, acct(2), Epoch{1}).value().v == 3);
  REQUIRE(plan_send(r, acct(3), Epoch{1}).error().code == ErrorCode::NotMember);
  REQUIRE(plan_send(r, acct(2), Epoch{0}).error().code == ErrorCode::StaleEpoch);
  REQUIRE(plan_send(r, acct(2), Epoch{2}).error().code == ErrorCode::StaleEpoch);
}

TEST_CASE("plan_bundle: sequencing of handshake and Welcomes", "[server][core][room]") {
  auto r = new_room(kRoom, 1, acct(1), 0);
  r.head = Seq{10};
  auto t = plan(r, acct(1), bundle(Epoch{0}, {add(acct(2)), add(acct(3), Role::Facilitator)}, {acct(3), acct(2)}));
  REQUIRE(t);
  REQUIRE(t->handshake_seq.v == 11);
  REQUIRE(t->welcome_seqs == std::vector<Seq>{Seq{12}, Seq{13}});
  REQUIRE(t->next.head.v == 13);
  REQUIRE(t->next.epoch.v == 1);
  REQUIRE(t->added == std::vector<AccountId>{acct(2), acct(3)});
  REQUIRE(t->next.members.at(acct(2)).joined_from.v == 11);
  REQUIRE(t->next.members.at(acct(2)).cursor.v == 10);
  REQUIRE(t->next.members.at(acct(3)).role == Role::Facilitator);
  // The old state is untouched.
  REQUIRE(r.members.size() == 1);
  REQUIRE(r.epoch.v == 0);
}

TEST_CASE("plan_bundle: epoch conflict", "[server][core][room]") {
  auto r = two_member_room();
  REQUIRE(plan(r, acct(1), bundle(Epoch{0}, {add(acct(3))})).error().code ==
          ErrorCode::EpochConflict);
  REQUIRE(plan(r, acct(1), bundle(Epoch{2}, {add(acct(3))})).error().code ==
          ErrorCode::EpochConflict);
  REQUIRE(plan(r, acct(1), bundle(Epoch{1}, {add(acct(3))})));
}

TEST_CASE("plan_bundle: roster rules", "[server][core][room]") {
  auto r = two_member_room();
  auto code = [&](const AccountId& who, const Derived& b) {
    auto t = plan(r, who, b);
    REQUIRE_FALSE(t);
    return t.error().code;
  };
  SECTION("only members submit") { REQUIRE(code(acct(5), bundle(Epoch{1}, {})) == ErrorCode::NotMember); }
  SECTION("the derived roster is applied whoever committed it: the MLS role policy decided") {
    auto t = plan(r, acct(2), bundle(Epoch{1}, {add(acct(3))}, {acct(3)}));
    REQUIRE(t);
    REQUIRE(t->next.members.contains(acct(3)));
  }
  SECTION("a member's own removal (leave)") {
    auto t = plan(r, acct(2), bundle(Epoch{1}, {remove(acct(2))}));
    REQUIRE(t);
    REQUIRE(t->removed == std::vector<AccountId>{acct(2)});
    REQUIRE_FALSE(t->next.members.contains(acct(2)));
  }
  SECTION("a member may commit without roster changes (key update)") {
    REQUIRE(plan(r, acct(2), bundle(Epoch{1}, {})));
  }
  SECTION("added accounts are not members; removed ones are members") {
    REQUIRE(code(acct(1), bundle(Epoch{1}, {add(acct(2))})) == ErrorCode::InvalidArgument);
    REQUIRE(code(acct(1), bundle(Epoch{1}, {remove(acct(3))})) == ErrorCode::InvalidArgument);
    REQUIRE(code(acct(1), bundle(Epoch{1}, {set_role(acct(3), Role::Member)})) == ErrorCode::InvalidArgument);
  }
  SECTION("one account at most once per bundle") {
    REQUIRE(code(acct(1), bundle(Epoch{1}, {add(acct(3)), remove(acct(3))})) == ErrorCode::InvalidArgument);
  }
  SECTION("the room keeps a facilitator") {
    REQUIRE(code(acct(1), bundle(Epoch{1}, {remove(acct(1))})) == ErrorCode::LastFacilitator);
    REQUIRE(code(acct(1), bundle(Epoch{1}, {set_role(acct(1), Role::Member)})) == ErrorCode::LastFacilitator);
    // Handing over first makes leaving possible.
    REQUIRE(plan(r, acct(1), bundle(Epoch{1}, {set_role(acct(2), Role::Facilitator), remove(acct(1))})));
  }
  SECTION("Welcomes only to accounts being added, once each") {
    REQUIRE(code(acct(1), bundle(Epoch{1}, {add(acct(3))}, {acct(2)})) == ErrorCode::InvalidArgument);
    REQUIRE(code(acct(1), bundle(Epoch{1}, {add(acct(3))}, {acct(3), acct(3)})) == ErrorCode::InvalidArgument);
    REQUIRE(code(acct(1), bundle(Epoch{1}, {}, {acct(3)})) == ErrorCode::InvalidArgument);
  }
}

TEST_CASE("plan_bundle: a room holds at most kMaxRoomMembers", "[server][core][room]") {
  auto r = new_room(kRoom, 1, acct(1), 0);
  for (std::size_t i = 1; i < kMaxRoomMembers; ++i) {
    Bytes id(16, 0);
    id[0] = 1;
    id[14] = static_cast<std::uint8_t>(i >> 8);
    id[15] = static_cast<std::uint8_t>(i);
    r.members.emplace(AccountId{id}, MemberState{});
  }
  REQUIRE(r.members.size() == kMaxRoomMembers);
  auto t = plan(r, acct(1), bundle(Epoch{0}, {add(acct(0x50))}));
  REQUIRE_FALSE(t);
  REQUIRE(t.error().code == ErrorCode::QuotaExceeded);
}

TEST_CASE("cursors move forward only and never past head", "[server][core][room]") {
  auto r = two_member_room();  // head 2
  r.head = Seq{10};
  REQUIRE(advance_cursor(r, acct(2), Seq{5}));
  REQUIRE_FALSE(advance_cursor(r, acct(2), Seq{4}));
  REQUIRE(r.members.at(acct(2)).cursor.v == 5);
  REQUIRE(advance_cursor(r, acct(2), Seq{1000}));
  REQUIRE(r.members.at(acct(2)).cursor.v == 10);
  REQUIRE_FALSE(advance_cursor(r, acct(9), Seq{3}));
}

TEST_CASE("effective_cursor starts a joiner at the handshake that added it", "[server][core][room]") {
  MemberState joiner{Role::Member, Seq{11}, Seq{10}};
  REQUIRE(effective_cursor(joiner, nullptr).v == 10);
  const Seq low{3};
  REQUIRE(effective_cursor(joiner, &low).v == 10);
  const Seq high{20};
  REQUIRE(effective_cursor(joiner, &high).v == 20);
  joiner.cursor = Seq{15};
  REQUIRE(effective_cursor(joiner, nullptr).v == 15);
}

TEST_CASE("valid_handle: 1..64 printable characters", "[server][core][room]") {
  REQUIRE(valid_handle("alice"));
  REQUIRE(valid_handle("Dr. Müller"));
  REQUIRE(valid_handle(std::string(kMaxHandleChars, 'a')));
  REQUIRE_FALSE(valid_handle(std::string(kMaxHandleChars + 1, 'a')));
  REQUIRE_FALSE(valid_handle(""));
  REQUIRE_FALSE(valid_handle(" alice"));
  REQUIRE_FALSE(valid_handle("alice "));
  REQUIRE_FALSE(valid_handle("a\tb"));
  REQUIRE_FALSE(valid_handle("a\nb"));
  REQUIRE_FALSE(valid_handle("a\x7f"));
  REQUIRE_FALSE(valid_handle("a\xc2\x85"));  // U+0085, a C1 control
  REQUIRE_FALSE(valid_handle("a\xff"));      // not UTF-8
  REQUIRE_FALSE(valid_handle("a\xc3"));      // truncated sequence
}

TEST_CASE("plan_reset_state: the room's members, the new group's roles, the head moves on", "[server][core][room]") {
  RoomState r = two_member_room();
  auto three = plan(r, acct(1), bundle(Epoch{1}, {add(acct(3), Role::Facilitator)}, {acct(3)}));
  REQUIRE(three);
  r = three->next;  // facilitators 1 and 3, member 2, epoch 2, head 4
  REQUIRE(advance_cursor(r, acct(2), Seq{3}));

  auto t = plan_reset_state(r, acct(3), Epoch{1}, {add(acct(1)), add(acct(2), Role::Facilitator)}, {acct(2), acct(1)});
  REQUIRE(t);
  CHECK(t->reset_seq == Seq{5});
  CHECK(t->welcome_seqs == std::vector<Seq>{Seq{6}, Seq{7}});
  CHECK(t->next.head == Seq{7});
  CHECK(t->next.epoch == Epoch{1});
  CHECK(t->next.members.at(acct(3)).role == Role::Facilitator);
  CHECK(t->next.members.at(acct(2)).role == Role::Facilitator);
  CHECK(t->next.members.at(acct(1)).role == Role::Member);
  // Cursors and where each joined stay: history before the reset is theirs.
  CHECK(t->next.members.at(acct(2)).cursor == Seq{3});
  CHECK(t->next.members.at(acct(2)).joined_from == r.members.at(acct(2)).joined_from);
  CHECK(r.head == Seq{4});  // untouched

  auto code = [&](const AccountId& who, std::vector<wire::RosterChange> roster, std::vector<AccountId> welcomed) {
    auto bad = plan_reset_state(r, who, Epoch{1}, roster, welcomed);
    REQUIRE_FALSE(bad);
    return bad.error().code;
  };
  CHECK(code(acct(2), {add(acct(1)), add(acct(3))}, {acct(1), acct(3)}) == ErrorCode::NotFacilitator);
  CHECK(code(acct(9), {add(acct(1)), add(acct(2))}, {acct(1), acct(2)}) == ErrorCode::NotMember);
  // Someone left out, someone foreign, someone twice, a removal.
  CHECK(code(acct(3), {add(acct(1))}, {acct(1)}) == ErrorCode::InvalidArgument);
  CHECK(code(acct(3), {add(acct(1)), add(acct(2)), add(acct(9))}, {acct(1), acct(2), acct(9)}) ==
        ErrorCode::InvalidArgument);
  CHECK(code(acct(3), {add(acct(1)), add(acct(1))}, {acct(1)}) == ErrorCode::InvalidArgument);
  CHECK(code(acct(3), {add(acct(1)), remove(acct(2))}, {acct(1)}) == ErrorCode::InvalidArgument);
  // Welcomes: one per other member, none for the submitter.
  CHECK(code(acct(3), {add(acct(1)), add(acct(2))}, {acct(1)}) == ErrorCode::InvalidArgument);
  CHECK(code(acct(3), {add(acct(1)), add(acct(2))}, {acct(1), acct(2), acct(3)}) == ErrorCode::InvalidArgument);
  CHECK(code(acct(3), {add(acct(1)), add(acct(2))}, {acct(1), acct(1)}) == ErrorCode::InvalidArgument);
}

TEST_CASE("require_facilitator: members and facilitators", "[server][core][room]") {
  const RoomState r = two_member_room();
  CHECK(require_facilitator(r, acct(1), "closes a room"));
  auto member = require_facilitator(r, acct(2), "closes a room");
  REQUIRE_FALSE(member);
  CHECK(member.error().code == ErrorCode::NotFacilitator);
  CHECK(member.error().reason == "only a facilitator closes a room");
  auto stranger = require_facilitator(r, acct(7), "closes a room");
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().code == ErrorCode::NotMember);
}
