// SPDX-License-Identifier: Apache-2.0
// Rooms as MLS groups, end to end: client engines against the real
// hearth-relay, and what the relay and the clients' files hold afterwards.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "client/core/sqlite_store.h"
#include "common/store/database.h"
#include "common/store/statement.h"
#include "tests/integration/client/world.h"

using namespace hearth;
using namespace hearth::client;
using namespace hearth::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> texts_in(const Seen& s, const RoomId& room) {
  std::vector<std::string> out;
  for (const auto& m : s.messages) {
    if (m.room != room) continue;
    if (const auto* t = std::get_if<ContentText>(&m.content.body)) out.push_back(t->text);
  }
  return out;
}

bool saw_text(const Seen& s, const RoomId& room, const std::string& text) {
  const auto all = texts_in(s, room);
  return std::find(all.begin(), all.end(), text) != all.end();
}

std::string safety_code(Client& c, const RoomId& room) {
  auto code = await(c->safety_code(room));
  INFO(why(code));
  REQUIRE(code);
  return *code;
}

std::uint64_t epoch_of(Client& c, const RoomId& room) {
  auto rooms = await(c->rooms());
  REQUIRE(rooms);
  for (const auto& r : *rooms) {
    if (r.room == room) return r.epoch.v;
  }
  FAIL("room not found");
  return 0;
}

/// Every file under `dir` (databases, their WAL and journal files, keys).
std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// "file: secret" for each secret found byte for byte in one of `files`, or in `extra` (named `extra_name`).
std::vector<std::string> leaks(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& secrets,
                               const std::string& extra = {}, const std::string& extra_name = {}) {
  std::vector<std::string> found;
  auto search = [&](const std::string& haystack, const std::string& name) {
    for (const auto& s : secrets) {
      if (haystack.find(s) != std::string::npos) found.push_back(name + ": " + s);
    }
  };
  for (const auto& f : files) search(read_file(f), f.string());
  if (!extra.empty()) search(extra, extra_name);
  return found;
}

}  // namespace

TEST_CASE("integration: five members chat, a removed member opens nothing sent after, no file holds a text",
          "[integration][client][mls]") {
  World w(5);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  auto& dave = w.clients[3];
  auto& erin = w.clients[4];
  const std::vector<std::string> lines{"alice: the code on bed four went on for an hour",
                                       "bob: I keep replaying the night shift in my head",
                                       "carol: I have not slept properly since the inquest",
                                       "dave: my registrar said I should have called sooner",
                                       "erin: I am scared to go back on the ward"};

  // Everyone writes; everyone else reads it, and all agree on the epoch.
  for (std::size_t i = 0; i < w.clients.size(); ++i) {
    auto sent = await(w.clients[i]->send_text(w.room, lines[i]));
    INFO(why(sent));
    REQUIRE(sent);
  }
  for (std::size_t i = 0; i < w.clients.size(); ++i) {
    auto& c = w.clients[i];
    REQUIRE(collect(*c, c.seen, [&](const Seen& s) { return texts_in(s, w.room).size() >= lines.size() - 1; }));
    for (std::size_t j = 0; j < lines.size(); ++j) CHECK(saw_text(c.seen, w.room, lines[j]) == (i != j));
  }
  const auto code_before = safety_code(alice, w.room);
  for (auto& c : w.clients) CHECK(safety_code(c, w.room) == code_before);

  // Settings and a display name travel as Content like any message.
  constexpr std::uint64_t kThreeDays = 3ull * 86'400'000;
  const ContentRoomSettings settings{"Night Shift Circle", "Tuesdays after handover",
                                     "What is said in the circle stays in the circle", 1, 0, kThreeDays};
  REQUIRE(await(alice->send(w.room, settings)));
  REQUIRE(await(bob->send(w.room, ContentMemberProfile{"Dr Brightwater"})));

  // Erin's keys as they are now, kept as someone holding on to them would.
  erin.close();
  const auto kept = w.tmp.path() / "erin-kept";
  std::filesystem::copy(erin.dir, kept, std::filesystem::copy_options::recursive);
  erin.open();
  REQUIRE(await(erin->start()));

  // Alice removes Erin while Bob writes: whatever Bob encrypted before he
  // learned of the removal goes out again for the new epoch.
  auto racing = bob->send_text(w.room, "bob: written while erin was being removed");
  auto removed = await(alice->remove_member(w.room, "erin"));
  INFO(why(removed));
  REQUIRE(removed);
  auto raced = await(std::move(racing));
  INFO(why(raced));
  REQUIRE(raced);
  REQUIRE(collect(*erin, erin.seen, [](const Seen& s) { return s.count_events<RoomLeft>() >= 1; }));
  const std::string after = "carol: now that erin has gone, one more thing";
  REQUIRE(await(carol->send_text(w.room, after)));
  REQUIRE(collect(*dave, dave.seen, [&](const Seen& s) {
    return saw_text(s, w.room, after) && saw_text(s, w.room, "bob: written while erin was being removed");
  }));
  collect_for(*erin, erin.seen, 500ms);
  CHECK_FALSE(saw_text(erin.seen, w.room, after));
  const auto code_after = safety_code(alice, w.room);
  CHECK(code_after != code_before);
  for (std::size_t i = 0; i < 4; ++i) CHECK(safety_code(w.clients[i], w.room) == code_after);
  const auto after_epoch = epoch_of(alice, w.room);

  for (auto& c : w.clients) c.close();
  const auto relay_logs = w.relay->logs();
  w.relay->kill();

  // The keys Erin kept open nothing the room sent after her removal.
  auto erins_store = SqliteStore::open(kept / kProfileDbName, kTestPassphrase, kTestKdf);
  REQUIRE(erins_store);
  auto seed = (*erins_store)->identity_seed();
  REQUIRE(seed);
  REQUIRE(*seed);
  auto erins_key = crypto::ed25519_from_seed(**seed);
  REQUIRE(erins_key);
  auto saved = (*erins_store)->group_state(w.room);
  REQUIRE(saved);
  REQUIRE(*saved);
  auto erins_group = RoomGroup::load(**saved, *erins_key);
  REQUIRE(erins_group);
  CHECK(erins_group->epoch() < after_epoch);
  auto relay_db = store::Database::open(w.relay->data_dir() / "relay.sqlite3", {store::OpenMode::ReadOnly, 5000, {}});
  REQUIRE(relay_db);
  // The one setting the relay learns in the clear: how long it keeps messages.
  auto lifetime = relay_db->prepare("SELECT lifetime_ms FROM rooms");
  REQUIRE(lifetime);
  auto row = lifetime->step();
  REQUIRE(row);
  REQUIRE(*row == store::Step::Row);
  CHECK(static_cast<std::uint64_t>(lifetime->column_int64(0)) == kThreeDays);
  auto rows = relay_db->prepare("SELECT epoch, payload FROM envelopes WHERE kind = 1 ORDER BY seq");
  REQUIRE(rows);
  std::size_t newer = 0;
  while (true) {
    auto step = rows->step();
    REQUIRE(step);
    if (*step == store::Step::Done) break;
    if (static_cast<std::uint64_t>(rows->column_int64(0)) <= erins_group->epoch()) continue;
    ++newer;
    auto opened = erins_group->decrypt(rows->column_blob(1));
    REQUIRE_FALSE(opened);
    CHECK(opened.error() == mls::Error::WrongEpoch);
  }
  // Carol's line, and Bob's raced one when the relay took it after the
  // removal (before it, it belongs to the epoch Erin was still in).
  CHECK(newer >= 1);

  // Byte for byte: no text, room name, topic, display name or agreement in
  // the relay's files or logs, nor in any client's files.
  std::vector<std::string> secrets = lines;
  secrets.insert(secrets.end(), {after, "bob: written while erin was being removed", settings.name, settings.topic,
                                 settings.agreement_text, "Dr Brightwater"});
  INFO("relay log bytes: " << relay_logs.size());
  CHECK(leaks(files_under(w.relay->data_dir()), secrets, relay_logs, "relay logs").empty());
  for (auto& c : w.clients) {
    const auto found = leaks(files_under(c.dir), secrets);
    INFO(c.dir.filename().string() << ": " << found.size() << " leaks, first: " << (found.empty() ? "" : found[0]));
    CHECK(found.empty());
  }
}

TEST_CASE("integration: a member offline across three epochs catches up and reads everything",
          "[integration][client][mls]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  carol.close();
  const auto start_epoch = epoch_of(alice, w.room);
  std::vector<std::string> lines;
  for (int k = 0; k < 3; ++k) {
    lines.push_back("epoch " + std::to_string(start_epoch + static_cast<std::uint64_t>(k)) + " from alice");
    REQUIRE(await(alice->send_text(w.room, lines.back())));
    auto refreshed = await(bob->refresh_keys(w.room));  // a commit with a path: the next epoch
    INFO(why(refreshed));
    REQUIRE(refreshed);
  }
  lines.push_back("and the last one");
  REQUIRE(await(alice->send_text(w.room, lines.back())));
  REQUIRE(collect(*alice, alice.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 3; }));
  CHECK(epoch_of(alice, w.room) == start_epoch + 3);

  carol.open();
  REQUIRE(await(carol->start()));
  REQUIRE(collect(*carol, carol.seen, [&](const Seen& s) { return texts_in(s, w.room).size() >= lines.size(); }));
  CHECK(texts_in(carol.seen, w.room) == lines);
  CHECK(carol.seen.count_events<DecryptionFailed>() == 0);
  CHECK(epoch_of(carol, w.room) == start_epoch + 3);
  CHECK(safety_code(carol, w.room) == safety_code(alice, w.room));
}

TEST_CASE("integration: two commits at the same moment: one wins, the other is rebuilt on top",
          "[integration][client][mls]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  const auto start_epoch = epoch_of(alice, w.room);
  for (int round = 0; round < 3; ++round) {
    auto a = alice->refresh_keys(w.room);
    auto b = bob->refresh_keys(w.room);
    auto ra = await(std::move(a));
    auto rb = await(std::move(b));
    INFO("round " << round << ": alice " << why(ra) << ", bob " << why(rb));
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(ra->v != rb->v);
  }
  const auto want = start_epoch + 6;
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 6; }));
  for (auto& c : w.clients) CHECK(epoch_of(c, w.room) == want);
  const auto code = safety_code(alice, w.room);
  for (auto& c : w.clients) CHECK(safety_code(c, w.room) == code);
  // And the room still reads.
  REQUIRE(await(carol->send_text(w.room, "still one room")));
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return saw_text(s, w.room, "still one room"); }));
}

TEST_CASE("integration: two facilitators remove at the same moment: one wins, the other retries on top",
          "[integration][client][mls]") {
  World w(5);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  auto promoted = await(alice->set_role(w.room, "bob", wire::Role::Facilitator));
  INFO(why(promoted));
  REQUIRE(promoted);
  REQUIRE(collect(*bob, bob.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 1; }));
  auto rooms = await(bob->rooms());
  REQUIRE(rooms);
  CHECK(rooms->at(0).role == wire::Role::Facilitator);
  const auto start_epoch = epoch_of(alice, w.room);

  auto a = alice->remove_member(w.room, "dave");
  auto b = bob->remove_member(w.room, "erin");
  auto ra = await(std::move(a));
  auto rb = await(std::move(b));
  INFO("alice " << why(ra) << ", bob " << why(rb));
  REQUIRE(ra);
  REQUIRE(rb);
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 3; }));
  for (std::size_t i = 0; i < 3; ++i) CHECK(epoch_of(w.clients[i], w.room) == start_epoch + 2);
  const auto code = safety_code(alice, w.room);
  CHECK(safety_code(bob, w.room) == code);
  CHECK(safety_code(carol, w.room) == code);
  auto members = await(carol->members(w.room));
  REQUIRE(members);
  CHECK(members->size() == 3);
  // A member cannot change roles: its client applies the policy the relay applies.
  auto refused = await(carol->set_role(w.room, "carol", wire::Role::Facilitator));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ClientCode::NotAllowed);
}

TEST_CASE("integration: a member leaves: another member commits it and the leaver reads nothing after",
          "[integration][client][mls]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  auto left = await(carol->leave_room(w.room));
  INFO(why(left));
  REQUIRE(left);
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<RoomLeft>() >= 1; }));
  REQUIRE(collect(*bob, bob.seen, [](const Seen& s) { return s.count_events<LeaveRequested>() >= 1; }));
  auto members = await(alice->members(w.room));
  REQUIRE(members);
  CHECK(members->size() == 2);
  REQUIRE(await(bob->send_text(w.room, "after carol left")));
  REQUIRE(collect(*alice, alice.seen, [&](const Seen& s) { return saw_text(s, w.room, "after carol left"); }));
  collect_for(*carol, carol.seen, 300ms);
  CHECK_FALSE(saw_text(carol.seen, w.room, "after carol left"));
  // The only facilitator cannot leave a room with others in it.
  auto refused = await(alice->leave_room(w.room));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ClientCode::InvalidArgument);
}

TEST_CASE("integration: a leave goes through while the member who would carry it out is away",
          "[integration][client][mls]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  alice.close();  // first in leaf order: she would commit it at once
  auto left = await(carol->leave_room(w.room));
  INFO(why(left));
  REQUIRE(left);
  // Bob, next in line, carries it out kLeaveFallbackDelay later.
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<RoomLeft>() >= 1; }, 30s));
  auto members = await(bob->members(w.room));
  REQUIRE(members);
  CHECK(members->size() == 2);
  alice.open();
  REQUIRE(await(alice->start()));
  REQUIRE(collect(*alice, alice.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 1; }));
  CHECK(safety_code(alice, w.room) == safety_code(bob, w.room));
  CHECK(alice.seen.count_events<DecryptionFailed>() == 0);
}

TEST_CASE("integration: a rebuilt conversation judges settings by the roles of their own epoch",
          "[integration][client][mls]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  REQUIRE(await(alice->send(w.room, ContentRoomSettings{"Circle", "", "", 0, 0, 0})));
  REQUIRE(await(bob->send(w.room, ContentRoomSettings{"Bob's room", "", "", 0, 0, 0})));  // no facilitator yet
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<MessageRefused>() >= 1; }));
  // Then the roles turn round: Bob facilitates, Alice no longer does.
  auto promoted = await(alice->set_role(w.room, "bob", wire::Role::Facilitator));
  INFO(why(promoted));
  REQUIRE(promoted);
  REQUIRE(collect(*bob, bob.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 1; }));
  auto demoted = await(bob->set_role(w.room, "alice", wire::Role::Member));
  INFO(why(demoted));
  REQUIRE(demoted);
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<RosterChanged>() >= 2; }));
  auto live = await(carol->conversation(w.room));
  REQUIRE(live);
  CHECK(live->settings.settings.name == "Circle");
  // Carol restarts: her conversation is rebuilt from the stored history,
  // and each settings message is judged as it was when it arrived.
  carol.close();
  carol.open();
  REQUIRE(await(carol->start()));
  auto rebuilt = await(carol->conversation(w.room));
  REQUIRE(rebuilt);
  CHECK(rebuilt->settings.settings.name == "Circle");
  CHECK(rebuilt->settings.set_by == alice->profile().get().value()->account);
}

TEST_CASE("integration: the agreement gates the conversation, redactions and disappearing texts leave every device",
          "[integration][client][mls]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  REQUIRE(await(bob->send_text(w.room, "bob: before there was an agreement")));
  REQUIRE(collect(*alice, alice.seen, [&](const Seen& s) { return texts_in(s, w.room).size() >= 1; }));

  // Alice sets an agreement: until Bob accepts it, he sees it and not the conversation.
  const ContentRoomSettings agreed{"Circle", "", "Nothing said here leaves the room", 1, 0, 0};
  REQUIRE(await(alice->send(w.room, agreed)));
  REQUIRE(collect(*bob, bob.seen, [](const Seen& s) { return s.messages.size() >= 1; }));
  auto gated = await(bob->conversation(w.room));
  REQUIRE(gated);
  CHECK(gated->needs_agreement);
  CHECK(gated->entries.empty());
  CHECK(gated->settings.settings.agreement_text == agreed.agreement_text);
  CHECK(gated->settings.set_by == alice->profile().get().value()->account);
  auto alices_view = await(alice->conversation(w.room));
  REQUIRE(alices_view);
  CHECK_FALSE(alices_view->needs_agreement);  // its setter accepted it
  REQUIRE(await(bob->send(w.room, ContentAgreementAccepted{1})));
  auto open = await(bob->conversation(w.room));
  REQUIRE(open);
  CHECK_FALSE(open->needs_agreement);
  REQUIRE(open->entries.size() == 1);
  CHECK(open->entries[0].text == "bob: before there was an agreement");

  // Bob's own settings are refused by every reader: he is no facilitator.
  REQUIRE(await(bob->send(w.room, ContentRoomSettings{"Bob's room", "", "", 0, 0, 0})));
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<MessageRefused>() >= 1; }));

  // A facilitator redacts Bob's line: its text leaves every device's store.
  const auto target = open->entries[0].id;
  REQUIRE(await(alice->send(w.room, ContentRedaction{target})));
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<MessagesErased>() >= 1; }));
  auto carols_view = await(carol->conversation(w.room));
  REQUIRE(carols_view);
  REQUIRE(carols_view->needs_agreement);  // Carol has not accepted yet either
  REQUIRE(await(carol->send(w.room, ContentAgreementAccepted{1})));
  carols_view = await(carol->conversation(w.room));
  REQUIRE(carols_view);
  REQUIRE(carols_view->entries.size() == 1);
  CHECK(carols_view->entries[0].redacted);
  CHECK(carols_view->entries[0].text.empty());

  // Disappearing after one second: gone from every device, also one that was off.
  const ContentRoomSettings fleeting{"Circle", "", agreed.agreement_text, 1, 1'000, 0};
  REQUIRE(await(alice->send(w.room, fleeting)));
  carol.close();
  const std::string passing = "bob: this should not outlive the second";
  REQUIRE(await(bob->send_text(w.room, passing)));
  REQUIRE(collect(*alice, alice.seen, [&](const Seen& s) { return saw_text(s, w.room, passing); }));
  std::this_thread::sleep_for(1'500ms);
  carol.open();
  REQUIRE(await(carol->start()));
  REQUIRE(collect(*alice, alice.seen, [](const Seen& s) { return s.count_events<MessagesErased>() >= 1; }));
  // Carol's came while she was off: erased the moment it arrived (after the redaction's).
  REQUIRE(collect(*carol, carol.seen, [](const Seen& s) { return s.count_events<MessagesErased>() >= 2; }));
  CHECK_FALSE(saw_text(carol.seen, w.room, passing));
  for (auto* c : {&alice, &bob, &carol}) {
    auto view = await((*c)->conversation(w.room));
    REQUIRE(view);
    for (const auto& e : view->entries) CHECK(e.text != passing);
  }
  for (auto& c : w.clients) c.close();
  for (auto& c : w.clients) {
    const auto found = leaks(files_under(c.dir), {passing, "bob: before there was an agreement"});
    INFO(c.dir.filename().string() << ": " << (found.empty() ? "" : found[0]));
    CHECK(found.empty());
  }
}

namespace {

/// Flips the last byte of a commit's confirmation tag (RFC 9420 §6.1: the
/// PublicMessage ends with the 32-byte confirmation tag and the 32-byte
/// membership tag, each behind a one-byte length). The signature does not
/// cover either, so the relay, which holds no epoch secrets, accepts it;
/// every member's membership-tag check fails.
void break_confirmation_tag(Bytes& commit) {
  REQUIRE(commit.size() > 66);
  commit[commit.size() - 34] ^= 0x01;
}

}  // namespace

TEST_CASE("integration: a corrupted commit the relay accepted is reported, and a reset brings everyone back",
          "[integration][client][mls]") {
  World w(4);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  auto& dave = w.clients[3];
  REQUIRE(await(bob->send_text(w.room, "before the broken change")));
  REQUIRE(collect(*dave, dave.seen, [&](const Seen& s) { return saw_text(s, w.room, "before the broken change"); }));

  // Dave's client goes wrong: its next commit does not verify for anyone else.
  dave.close();
  dave.commit_fault = break_confirmation_tag;
  dave.open();
  REQUIRE(await(dave->start()));
  const auto stuck_epoch = epoch_of(alice, w.room);
  auto broken = await(dave->refresh_keys(w.room));
  INFO(why(broken));
  REQUIRE(broken);  // the relay took it

  // Each of the others rejects it, reports it, and everyone hears of it.
  for (auto* c : {&alice, &bob, &carol}) {
    REQUIRE(collect(**c, c->seen, [](const Seen& s) { return s.count_events<ChangeRejected>() >= 3; }));
    CHECK(epoch_of(*c, w.room) == stuck_epoch);
  }
  for (const auto& e : alice.seen.all) {
    if (const auto* r = std::get_if<ChangeRejected>(&e)) {
      CHECK(r->commit_seq == *broken);
      CHECK(r->problem == wire::ChangeProblem::DoesNotVerify);
    }
  }

  // Bob writes while the room is stuck: the relay wants the new epoch he
  // cannot reach, so the message waits in his outbox.
  auto waiting = bob->send_text(w.room, "written while the room was stuck");
  // A member cannot reset; the facilitator can.
  auto refused = await(carol->reset_room(w.room));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ClientCode::NotAllowed);
  auto reset = await(alice->reset_room(w.room));
  INFO(why(reset));
  REQUIRE(reset);
  CHECK(reset->v > broken->v);

  for (auto* c : {&bob, &carol, &dave}) {
    REQUIRE(collect(**c, c->seen, [](const Seen& s) { return s.count_events<RoomReset>() >= 1; }));
  }
  auto sent = await(std::move(waiting));
  INFO(why(sent));
  REQUIRE(sent);
  const auto code = safety_code(alice, w.room);
  for (auto& c : w.clients) {
    CHECK(epoch_of(c, w.room) == 1);
    CHECK(safety_code(c, w.room) == code);
    auto members = await(c->members(w.room));
    REQUIRE(members);
    CHECK(members->size() == 4);
  }
  // Roles carry over: Alice facilitates the new group, the others do not.
  auto alice_profile = await(alice->profile());
  REQUIRE(alice_profile);
  REQUIRE(*alice_profile);
  auto members = await(bob->members(w.room));
  REQUIRE(members);
  for (const auto& m : *members) CHECK(m.facilitator == (m.account == (*alice_profile)->account));

  // The room works again, for everyone, also across a relay restart; the
  // history from before the reset stays on each device.
  dave.close();
  dave.commit_fault = nullptr;
  dave.open();
  REQUIRE(await(dave->start()));
  REQUIRE(await(carol->send_text(w.room, "after the reset")));
  w.relay->restart();
  REQUIRE(await(dave->send_text(w.room, "after the restart too")));
  for (auto& c : w.clients) {
    REQUIRE(collect(*c, c.seen, [&](const Seen& s) {
      return (saw_text(s, w.room, "after the reset") || &c == &carol) &&
             (saw_text(s, w.room, "after the restart too") || &c == &dave);
    }));
    // Stored on every device, also those the events of which a restart cut short.
    auto history = await(c->history(w.room, Seq{0}, 1000));
    REQUIRE(history);
    auto stored = [&](const std::string& text) {
      return std::any_of(history->begin(), history->end(), [&](const StoredEnvelope& m) {
        auto content = decode_content(m.payload);
        const auto* t = content ? std::get_if<ContentText>(&content->body) : nullptr;
        return t != nullptr && t->text == text;
      });
    };
    CHECK(stored("before the broken change"));
    CHECK(stored("written while the room was stuck"));
  }
  CHECK(bob.seen.count_events<DecryptionFailed>() == 1);  // the broken commit, nothing else
  CHECK(carol.seen.count_events<DecryptionFailed>() == 1);
}

TEST_CASE("integration: a reset of a room larger than the relay's KeyPackage burst waits for its rate",
          "[integration][client][mls][slow]") {
  // 22 members: the reset fetches 21 KeyPackages right after the 21 the
  // adds took, past the relay's burst of 20 (then one a second).
  std::vector<std::string> handles;
  for (int i = 0; i < 22; ++i) handles.push_back("member" + std::to_string(i));
  World w(22, handles);
  auto& facilitator = w.clients[0];
  auto reset = await(facilitator->reset_room(w.room), std::chrono::seconds(120));
  INFO(why(reset));
  REQUIRE(reset);
  const auto code = safety_code(facilitator, w.room);
  for (std::size_t i = 1; i < w.clients.size(); ++i) {
    auto& c = w.clients[i];
    REQUIRE(collect(*c, c.seen, [](const Seen& s) { return s.count_events<RoomReset>() >= 1; }));
    CHECK(safety_code(c, w.room) == code);
  }
}
