// SPDX-License-Identifier: Apache-2.0
// The reader's rules over a room's decrypted messages: who may edit, react,
// redact and change settings, the agreement gate, and disappearing messages
// timed by the relay's clock.
#include <catch2/catch.hpp>

#include <string>

#include "client/core/conversation.h"

using namespace hearth;
using namespace hearth::client;

namespace {

AccountId account(std::uint8_t n) { return AccountId{Bytes(16, n)}; }
ContentId cid(std::uint32_t n) {
  Bytes b(kContentIdSize, 0);
  b[0] = static_cast<std::uint8_t>(n);
  b[1] = static_cast<std::uint8_t>(n >> 8);
  b[2] = static_cast<std::uint8_t>(n >> 16);
  return ContentId{b};
}

const AccountId kAlice = account(1);  // facilitator
const AccountId kBob = account(2);
const AccountId kCarol = account(3);

// Feeds a conversation in seq order, the relay's clock one second a message.
struct Room {
  Conversation c;
  std::uint64_t seq = 0;
  std::int64_t clock_ms = 1'000'000;

  Result<Applied, Refusal> send(const AccountId& from, std::uint32_t id, ContentBody body) {
    Incoming in;
    in.seq = Seq{++seq};
    in.sender = from;
    in.sender_is_facilitator = from == kAlice;
    clock_ms += 1'000;
    in.relay_ms = clock_ms;
    in.content = Content{cid(id), clock_ms - 5, std::move(body)};
    return c.apply(in, clock_ms);
  }
  Result<Applied, Refusal> text(const AccountId& from, std::uint32_t id, std::string t) {
    return send(from, id, ContentText{std::move(t), std::nullopt});
  }
};

ContentRoomSettings settings(std::string agreement, std::uint32_t version, std::uint64_t disappearing_ms = 0) {
  return ContentRoomSettings{"Night shift", "after the hard ones", std::move(agreement), version, disappearing_ms, 0};
}

}  // namespace

TEST_CASE("conversation: texts are entries in relay order, replies keep their reference", "[client][conversation]") {
  Room r;
  REQUIRE(r.text(kAlice, 1, "welcome"));
  auto reply = r.send(kBob, 2, ContentText{"thank you", cid(1)});
  REQUIRE(reply);
  CHECK(reply->effect == Effect::Added);
  REQUIRE(r.c.entries().size() == 2);
  CHECK(r.c.entries()[0].text == "welcome");
  CHECK(r.c.entries()[1].author == kBob);
  CHECK(r.c.entries()[1].reply_to == cid(1));
  CHECK(r.c.entries()[1].seq == Seq{2});
  CHECK_FALSE(r.c.entries()[1].expires_ms.has_value());
  // The same id again is refused, and changes nothing.
  CHECK(r.text(kCarol, 1, "hijack").error() == Refusal::DuplicateId);
  CHECK(r.c.find(cid(1))->text == "welcome");
  CHECK(r.c.find(cid(1))->author == kAlice);
}

TEST_CASE("conversation: only the author edits, never after a redaction", "[client][conversation]") {
  Room r;
  REQUIRE(r.text(kBob, 1, "I froze today"));
  CHECK(r.send(kCarol, 2, ContentEdit{cid(1), "changed by carol"}).error() == Refusal::NotAuthor);
  CHECK(r.send(kAlice, 3, ContentEdit{cid(1), "changed by a facilitator"}).error() == Refusal::NotAuthor);
  CHECK(r.send(kBob, 4, ContentEdit{cid(99), "nothing there"}).error() == Refusal::UnknownTarget);
  auto edited = r.send(kBob, 5, ContentEdit{cid(1), "I froze today, and it was ok"});
  REQUIRE(edited);
  CHECK(edited->effect == Effect::Edited);
  CHECK(edited->entry == cid(1));
  CHECK(r.c.find(cid(1))->text == "I froze today, and it was ok");
  CHECK(r.c.find(cid(1))->edited);
  REQUIRE(r.send(kBob, 6, ContentRedaction{cid(1)}));
  CHECK(r.send(kBob, 7, ContentEdit{cid(1), "back again"}).error() == Refusal::TargetRedacted);
  CHECK(r.c.find(cid(1))->text.empty());
}

TEST_CASE("conversation: a redaction by the author or a facilitator leaves a tombstone", "[client][conversation]") {
  Room r;
  REQUIRE(r.text(kBob, 1, "first"));
  REQUIRE(r.text(kCarol, 2, "second"));
  REQUIRE(r.send(kCarol, 3, ContentReaction{cid(1), "\xF0\x9F\x92\x99", false}));
  CHECK(r.send(kCarol, 4, ContentRedaction{cid(1)}).error() == Refusal::NotAuthor);
  CHECK(r.c.find(cid(1))->text == "first");

  REQUIRE(r.send(kBob, 5, ContentRedaction{cid(1)}));
  const auto* own = r.c.find(cid(1));
  REQUIRE(own != nullptr);
  CHECK(own->redacted);
  CHECK(own->redacted_by == kBob);
  CHECK(own->text.empty());
  CHECK(own->reactions.empty());

  REQUIRE(r.send(kAlice, 6, ContentRedaction{cid(2)}));
  CHECK(r.c.find(cid(2))->redacted_by == kAlice);
  CHECK(r.c.entries().size() == 2);  // tombstones stay in place
  CHECK(r.send(kBob, 7, ContentRedaction{cid(42)}).error() == Refusal::UnknownTarget);
}

TEST_CASE("conversation: reactions are one per member and emoji, and can be withdrawn", "[client][conversation]") {
  Room r;
  REQUIRE(r.text(kBob, 1, "long night"));
  const std::string heart = "\xE2\x9D\xA4";
  REQUIRE(r.send(kAlice, 2, ContentReaction{cid(1), heart, false}));
  REQUIRE(r.send(kCarol, 3, ContentReaction{cid(1), heart, false}));
  REQUIRE(r.send(kCarol, 4, ContentReaction{cid(1), heart, false}));  // again: still one
  CHECK(r.c.find(cid(1))->reactions.at(heart) == std::set<AccountId>{kAlice, kCarol});
  REQUIRE(r.send(kCarol, 5, ContentReaction{cid(1), heart, true}));
  CHECK(r.c.find(cid(1))->reactions.at(heart) == std::set<AccountId>{kAlice});
  REQUIRE(r.send(kAlice, 6, ContentReaction{cid(1), heart, true}));
  CHECK(r.c.find(cid(1))->reactions.empty());
  CHECK(r.send(kAlice, 7, ContentReaction{cid(77), heart, false}).error() == Refusal::UnknownTarget);
}

TEST_CASE("conversation: reactions per entry are bounded by kMaxReactionsPerEntry", "[client][conversation]") {
  Room r;
  REQUIRE(r.text(kBob, 1, "x"));
  std::uint32_t id = 100;
  for (std::size_t i = 0; i < kMaxReactionsPerEntry; ++i) {
    REQUIRE(r.send(kCarol, id++, ContentReaction{cid(1), "e" + std::to_string(i), false}));
  }
  CHECK(r.send(kCarol, id++, ContentReaction{cid(1), "one-too-many", false}).error() == Refusal::TooManyReactions);
  // An emoji already there still takes more members.
  CHECK(r.send(kAlice, id++, ContentReaction{cid(1), "e0", false}));
  CHECK(r.c.find(cid(1))->reactions.size() == kMaxReactionsPerEntry);
}

TEST_CASE("conversation: room settings only from a facilitator, agreement changes raise the version",
          "[client][conversation]") {
  Room r;
  CHECK(r.send(kBob, 1, settings("Be kind.", 1)).error() == Refusal::NotFacilitator);
  CHECK_FALSE(r.c.settings().set_by.has_value());

  auto set = r.send(kAlice, 2, settings("What is said here stays here.", 1));
  REQUIRE(set);
  CHECK(set->effect == Effect::SettingsChanged);
  CHECK(r.c.settings().set_by == kAlice);
  CHECK(r.c.settings().settings.name == "Night shift");

  // Same version, other text: refused; lower version: refused.
  CHECK(r.send(kAlice, 3, settings("Something else.", 1)).error() == Refusal::AgreementNotRaised);
  CHECK(r.send(kAlice, 4, settings("What is said here stays here.", 0)).error() == Refusal::AgreementNotRaised);
  // Same agreement, new topic: fine.
  auto topic = settings("What is said here stays here.", 1);
  topic.topic = "grief";
  REQUIRE(r.send(kAlice, 5, topic));
  CHECK(r.c.settings().settings.topic == "grief");
  CHECK(r.c.settings().seq == Seq{5});
}

TEST_CASE("conversation: a member who has not accepted the current agreement must accept it first",
          "[client][conversation]") {
  Room r;
  CHECK_FALSE(r.c.needs_agreement(kBob));  // no agreement: nothing to accept
  CHECK(r.send(kBob, 1, ContentAgreementAccepted{1}).error() == Refusal::AgreementUnknown);

  REQUIRE(r.send(kAlice, 2, settings("Confidential.", 1)));
  CHECK_FALSE(r.c.needs_agreement(kAlice));  // its author has accepted it
  CHECK(r.c.needs_agreement(kBob));
  CHECK(r.send(kBob, 3, ContentAgreementAccepted{2}).error() == Refusal::AgreementUnknown);
  CHECK(r.c.needs_agreement(kBob));
  auto accepted = r.send(kBob, 4, ContentAgreementAccepted{1});
  REQUIRE(accepted);
  CHECK(accepted->effect == Effect::AgreementAccepted);
  CHECK_FALSE(r.c.needs_agreement(kBob));
  CHECK(r.c.accepted_version(kBob) == 1);

  // A new version: everyone but its author accepts again.
  REQUIRE(r.send(kAlice, 5, settings("Confidential. No screenshots.", 2)));
  CHECK(r.c.needs_agreement(kBob));
  CHECK_FALSE(r.c.needs_agreement(kAlice));
  CHECK(r.send(kBob, 6, ContentAgreementAccepted{1}).error() == Refusal::AgreementUnknown);
  REQUIRE(r.send(kBob, 7, ContentAgreementAccepted{2}));
  CHECK_FALSE(r.c.needs_agreement(kBob));
}

TEST_CASE("conversation: display names are per sender and per room", "[client][conversation]") {
  Room r;
  CHECK(r.c.display_name(kBob).empty());
  auto p = r.send(kBob, 1, ContentMemberProfile{"Dr. B"});
  REQUIRE(p);
  CHECK(p->effect == Effect::ProfileChanged);
  CHECK(r.c.display_name(kBob) == "Dr. B");
  CHECK(r.c.display_name(kCarol).empty());
  REQUIRE(r.send(kBob, 2, ContentMemberProfile{""}));
  CHECK(r.c.display_name(kBob).empty());
}

TEST_CASE("conversation: a kind this client does not know is an entry shown as unsupported",
          "[client][conversation]") {
  Room r;
  auto u = r.send(kBob, 1, ContentUnsupported{42});
  REQUIRE(u);
  CHECK(u->effect == Effect::Added);
  REQUIRE(r.c.entries().size() == 1);
  CHECK(r.c.entries()[0].unsupported_field == 42u);
  CHECK(r.c.entries()[0].text.empty());
  // Not something to edit as if it were text.
  CHECK(r.send(kBob, 2, ContentEdit{cid(1), "text now"}).error() == Refusal::UnknownTarget);
}

TEST_CASE("conversation: disappearing messages take the timer in force when the relay stored them",
          "[client][conversation]") {
  Room r;
  REQUIRE(r.text(kBob, 1, "before the timer"));
  REQUIRE(r.send(kAlice, 2, settings("", 0, 60'000)));
  REQUIRE(r.text(kBob, 3, "within the minute"));
  const std::int64_t stored = r.c.find(cid(3))->relay_ms;
  CHECK(r.c.find(cid(3))->expires_ms == stored + 60'000);
  CHECK_FALSE(r.c.find(cid(1))->expires_ms.has_value());  // the timer does not reach back
  CHECK(r.c.next_expiry() == stored + 60'000);

  REQUIRE(r.send(kAlice, 4, settings("", 0, 0)));  // timer off again
  REQUIRE(r.text(kBob, 5, "kept"));
  CHECK(r.c.find(cid(3))->expires_ms == stored + 60'000);  // nor does turning it off

  CHECK(r.c.expire(stored + 59'999).empty());
  CHECK(r.c.expire(stored + 60'000) == std::vector<ContentId>{cid(3)});
  CHECK(r.c.find(cid(3)) == nullptr);
  CHECK(r.c.find(cid(1)) != nullptr);
  CHECK(r.c.find(cid(5)) != nullptr);
  CHECK_FALSE(r.c.next_expiry().has_value());
  // Gone means gone: it can no longer be reacted to.
  CHECK(r.send(kCarol, 6, ContentReaction{cid(3), "x", false}).error() == Refusal::UnknownTarget);
}

TEST_CASE("conversation: what disappeared while this device was offline is refused on arrival",
          "[client][conversation]") {
  Conversation c;
  Incoming set;
  set.seq = Seq{1};
  set.sender = kAlice;
  set.sender_is_facilitator = true;
  set.relay_ms = 1'000;
  set.content = Content{cid(1), 1'000, settings("", 0, 10'000)};
  REQUIRE(c.apply(set, 1'000));

  Incoming old;
  old.seq = Seq{2};
  old.sender = kBob;
  old.relay_ms = 2'000;
  old.content = Content{cid(2), 2'000, ContentText{"said yesterday", std::nullopt}};
  // The device comes back a day later: the message expired long ago.
  CHECK(c.apply(old, 86'400'000).error() == Refusal::Expired);
  CHECK(c.entries().empty());
  CHECK(c.find(cid(2)) == nullptr);

  // A hostile timer cannot wrap the expiry into the past.
  Incoming huge = set;
  huge.seq = Seq{3};
  huge.content = Content{cid(3), 3'000, settings("", 0, ~std::uint64_t{0})};
  REQUIRE(c.apply(huge, 3'000));
  old.seq = Seq{4};
  old.content.id = cid(4);
  REQUIRE(c.apply(old, 4'000));
  CHECK(c.find(cid(4))->expires_ms == std::numeric_limits<std::int64_t>::max());
  CHECK(c.expire(86'400'000).empty());
}

TEST_CASE("conversation: entries in memory are bounded by kMaxConversationEntries", "[client][conversation]") {
  Room r;
  for (std::uint32_t i = 0; i < kMaxConversationEntries; ++i) {
    REQUIRE(r.send(kBob, i, ContentText{"m", std::nullopt}));
  }
  CHECK(r.c.entries().size() == kMaxConversationEntries);
  REQUIRE(r.send(kBob, kMaxConversationEntries, ContentText{"one more", std::nullopt}));
  CHECK(r.c.entries().size() == kMaxConversationEntries - kMaxConversationEntries / 10 + 1);
  CHECK(r.c.find(cid(0)) == nullptr);
  CHECK(r.c.find(cid(kMaxConversationEntries))->text == "one more");
  CHECK(r.c.entries().front().id == cid(kMaxConversationEntries / 10));
}
