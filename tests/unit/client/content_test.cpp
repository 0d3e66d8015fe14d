// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "client/core/content.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::client;

namespace {

ContentId cid(std::uint8_t b, std::size_t size = kContentIdSize) { return ContentId{Bytes(size, b)}; }

Content content(ContentBody body) { return Content{cid(0x01), 1'700'000'000'123, std::move(body)}; }

ContentResult<Content> round_trip(const Content& c) { return decode_content(encode_content(c)); }

ContentCode code_of(const Content& c) {
  auto d = round_trip(c);
  REQUIRE_FALSE(d);
  return d.error().code;
}

// ---- hand-built protobuf wire bytes, independent of the generated code

void varint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

void tag(Bytes& out, std::uint32_t field, std::uint32_t wire_type) {
  varint(out, (std::uint64_t{field} << 3) | wire_type);
}

void field_bytes(Bytes& out, std::uint32_t field, BytesView payload) {
  tag(out, field, 2);
  varint(out, payload.size());
  append(out, payload);
}

void field_varint(Bytes& out, std::uint32_t field, std::uint64_t v) {
  tag(out, field, 0);
  varint(out, v);
}

// A valid id field (1) and timestamp field (2), as any Content starts.
Bytes header(std::int64_t timestamp_ms = 42) {
  Bytes out;
  field_bytes(out, 1, Bytes(kContentIdSize, 0x07));
  field_varint(out, 2, static_cast<std::uint64_t>(timestamp_ms));
  return out;
}

Bytes text_body(std::string_view text) {
  Bytes body;
  field_bytes(body, 1, as_bytes(text));
  return body;
}

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

std::string raw(std::initializer_list<unsigned> bytes) {
  std::string out;
  for (auto b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

}  // namespace

TEST_CASE("content: the bounds are frozen", "[client][content]") {
  CHECK(kMaxContentSize == 65536);
  CHECK(kContentIdSize == 16);
  CHECK(kMaxTextSize == 16384);
  CHECK(kMaxEmojiSize == 64);
  CHECK(kMaxDisplayNameSize == 128);
  CHECK(kMaxRoomNameSize == 128);
  CHECK(kMaxTopicSize == 1024);
  CHECK(kMaxAgreementSize == 32768);
  CHECK(kPaddingBlock == 256);
  CHECK(kFirstKindField == 10);
}

TEST_CASE("content: every kind survives a round trip", "[client][content]") {
  const std::vector<ContentBody> bodies{
      ContentText{"I lost a patient today.", std::nullopt},
      ContentText{"Same here, last week.", cid(0x22)},
      ContentText{"", std::nullopt},
      ContentEdit{cid(0x33), "I lost a patient today. Still thinking about it."},
      ContentReaction{cid(0x44), "\xe2\x9d\xa4\xef\xb8\x8f", false},
      ContentReaction{cid(0x44), "\xe2\x9d\xa4\xef\xb8\x8f", true},
      ContentRedaction{cid(0x55)},
      ContentRoomSettings{"Night shift", "Tuesdays 21:00", "What is said here stays here.", 3, 7 * 86'400'000ULL,
                          14 * 86'400'000ULL},
      ContentRoomSettings{},
      ContentMemberProfile{"Dr. M\xc3\xbcller"},
      ContentMemberProfile{""},
      ContentAgreementAccepted{3},
      ContentUnsupported{99},
      ContentUnsupported{kMaxFieldNumber},
      ContentUnsupported{0},
  };
  for (const auto& body : bodies) {
    const Content c = content(body);
    INFO(kind_name(c));
    REQUIRE(check_content(c));
    const Bytes bytes = encode_content(c);
    CHECK(bytes.size() <= kMaxContentSize);
    CHECK(encode_content(c) == bytes);  // deterministic
    auto d = decode_content(bytes);
    REQUIRE(d);
    CHECK(*d == c);
    CHECK(encode_content(*d) == bytes);
  }
}

TEST_CASE("content: negative and extreme timestamps survive", "[client][content]") {
  for (std::int64_t ts : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
                          std::numeric_limits<std::int64_t>::max()}) {
    Content c{cid(0x01), ts, ContentText{"x", std::nullopt}};
    auto d = round_trip(c);
    REQUIRE(d);
    CHECK(d->timestamp_ms == ts);
  }
}

TEST_CASE("content: an Unsupported value naming a known or impossible field encodes with no body",
          "[client][content]") {
  for (std::uint32_t n : {1U, 2U, 9U, 10U, 16U, kMaxFieldNumber + 1}) {
    INFO(n);
    auto d = round_trip(content(ContentUnsupported{n}));
    REQUIRE(d);
    CHECK(d->body == ContentBody{ContentUnsupported{0}});
  }
}

TEST_CASE("content: kind names are stable", "[client][content]") {
  CHECK(kind_name(content(ContentText{})) == "text");
  CHECK(kind_name(content(ContentEdit{})) == "edit");
  CHECK(kind_name(content(ContentReaction{})) == "reaction");
  CHECK(kind_name(content(ContentRedaction{})) == "redaction");
  CHECK(kind_name(content(ContentRoomSettings{})) == "room_settings");
  CHECK(kind_name(content(ContentMemberProfile{})) == "member_profile");
  CHECK(kind_name(content(ContentAgreementAccepted{})) == "agreement_accepted");
  CHECK(kind_name(content(ContentUnsupported{99})) == "unsupported");
  CHECK(kind_name(ContentBody{ContentUnsupported{}}) == "unsupported");
}

TEST_CASE("content: error codes have stable names", "[client][content]") {
  CHECK(to_string(ContentCode::Malformed) == "Malformed");
  CHECK(to_string(ContentCode::TooLarge) == "TooLarge");
  CHECK(to_string(ContentCode::InvalidField) == "InvalidField");
}

TEST_CASE("content: new ids are 16 bytes from the rng", "[client][content]") {
  test::SeededRng a(7);
  test::SeededRng b(7);
  const ContentId x = new_content_id(a);
  CHECK(x.v.size() == kContentIdSize);
  CHECK(x == new_content_id(b));
  CHECK(new_content_id(a) != x);
}

TEST_CASE("content: text bounds count bytes, at the limit and one past", "[client][content]") {
  const std::string at(kMaxTextSize, 'a');
  const std::string past(kMaxTextSize + 1, 'a');
  CHECK(round_trip(content(ContentText{at, std::nullopt})));
  CHECK(round_trip(content(ContentEdit{cid(0x02), at})));

  auto t = round_trip(content(ContentText{past, std::nullopt}));
  REQUIRE_FALSE(t);
  CHECK(t.error().code == ContentCode::InvalidField);
  CHECK(t.error().detail == "text.text");
  auto e = round_trip(content(ContentEdit{cid(0x02), past}));
  REQUIRE_FALSE(e);
  CHECK(e.error().code == ContentCode::InvalidField);
  CHECK(e.error().detail == "edit.text");

  // Four-byte characters: the bound is in UTF-8 bytes, not characters.
  const std::string emoji_at = repeat("\xf0\x9f\x98\x80", kMaxTextSize / 4);
  CHECK(round_trip(content(ContentText{emoji_at, std::nullopt})));
  CHECK(code_of(content(ContentText{emoji_at + "a", std::nullopt})) == ContentCode::InvalidField);
}

TEST_CASE("content: reaction emoji must be 1 to 64 bytes", "[client][content]") {
  CHECK(round_trip(content(ContentReaction{cid(0x02), std::string(kMaxEmojiSize, 'x'), false})));
  CHECK(round_trip(content(ContentReaction{cid(0x02), "x", false})));
  auto past = round_trip(content(ContentReaction{cid(0x02), std::string(kMaxEmojiSize + 1, 'x'), false}));
  REQUIRE_FALSE(past);
  CHECK(past.error().code == ContentCode::InvalidField);
  CHECK(past.error().detail == "reaction.emoji");
  CHECK(code_of(content(ContentReaction{cid(0x02), "", false})) == ContentCode::InvalidField);
}

TEST_CASE("content: display name, room name, topic and agreement at the limit and one past", "[client][content]") {
  struct Bound {
    std::size_t max;
    std::string field;
    ContentBody (*make)(std::string);
  };
  const std::vector<Bound> bounds{
      {kMaxDisplayNameSize, "member_profile.display_name",
       [](std::string s) { return ContentBody{ContentMemberProfile{std::move(s)}}; }},
      {kMaxRoomNameSize, "room_settings.name",
       [](std::string s) {
         ContentRoomSettings r;
         r.name = std::move(s);
         return ContentBody{r};
       }},
      {kMaxTopicSize, "room_settings.topic",
       [](std::string s) {
         ContentRoomSettings r;
         r.topic = std::move(s);
         return ContentBody{r};
       }},
      {kMaxAgreementSize, "room_settings.agreement_text",
       [](std::string s) {
         ContentRoomSettings r;
         r.agreement_text = std::move(s);
         return ContentBody{r};
       }},
  };
  for (const auto& b : bounds) {
    INFO(b.field);
    CHECK(round_trip(content(b.make(std::string(b.max, 'n')))));
    auto past = round_trip(content(b.make(std::string(b.max + 1, 'n'))));
    REQUIRE_FALSE(past);
    CHECK(past.error().code == ContentCode::InvalidField);
    CHECK(past.error().detail == b.field);
  }
}

TEST_CASE("content: the largest valid room settings fit in the content bound", "[client][content]") {
  const Content c = content(ContentRoomSettings{std::string(kMaxRoomNameSize, 'n'), std::string(kMaxTopicSize, 't'),
                                                std::string(kMaxAgreementSize, 'a'),
                                                std::numeric_limits<std::uint32_t>::max(),
                                                std::numeric_limits<std::uint64_t>::max(),
                                                std::numeric_limits<std::uint64_t>::max()});
  const Bytes bytes = encode_content(c);
  CHECK(bytes.size() <= kMaxContentSize);
  auto d = decode_content(bytes);
  REQUIRE(d);
  CHECK(*d == c);
}

TEST_CASE("content: input of exactly the content bound is parsed, one byte more is TooLarge", "[client][content]") {
  // A valid Text plus an ignorable metadata field (3) sized so the whole is
  // exactly kMaxContentSize bytes.
  auto build = [](std::size_t total) {
    Bytes out = header();
    field_bytes(out, 10, text_body("hi"));
    const std::size_t overhead = 1 + 3;  // tag of field 3, then a 3-byte length for a filler this big
    REQUIRE(total > out.size() + overhead);
    field_bytes(out, 3, Bytes(total - out.size() - overhead, 0xee));
    REQUIRE(out.size() == total);
    return out;
  };
  auto at = decode_content(build(kMaxContentSize));
  REQUIRE(at);
  CHECK(at->body == ContentBody{ContentText{"hi", std::nullopt}});

  auto past = decode_content(build(kMaxContentSize + 1));
  REQUIRE_FALSE(past);
  CHECK(past.error().code == ContentCode::TooLarge);

  // The size check comes before parsing: garbage over the bound is TooLarge too.
  auto garbage = decode_content(Bytes(kMaxContentSize + 1, 0xff));
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().code == ContentCode::TooLarge);
}

TEST_CASE("content: ids, targets and replies must be 16 bytes", "[client][content]") {
  for (std::size_t size : {std::size_t{0}, kContentIdSize - 1, kContentIdSize + 1}) {
    INFO(size);
    auto id = round_trip(Content{cid(0x01, size), 0, ContentText{"x", std::nullopt}});
    REQUIRE_FALSE(id);
    CHECK(id.error().code == ContentCode::InvalidField);
    CHECK(id.error().detail == "id");

    auto check_target = [&](ContentBody body, std::string_view field) {
      INFO(field);
      auto d = round_trip(content(std::move(body)));
      REQUIRE_FALSE(d);
      CHECK(d.error().code == ContentCode::InvalidField);
      CHECK(d.error().detail == field);
    };
    check_target(ContentEdit{cid(0x02, size), "x"}, "edit.target");
    check_target(ContentReaction{cid(0x02, size), "x", false}, "reaction.target");
    check_target(ContentRedaction{cid(0x02, size)}, "redaction.target");
  }
  // A reply reference may be absent (empty on the wire) but not any other size.
  for (std::size_t size : {kContentIdSize - 1, kContentIdSize + 1}) {
    INFO(size);
    auto d = round_trip(content(ContentText{"x", cid(0x02, size)}));
    REQUIRE_FALSE(d);
    CHECK(d.error().code == ContentCode::InvalidField);
    CHECK(d.error().detail == "text.reply_to");
  }
  // A value holding an empty reply id is refused by check_content; on the wire
  // it is indistinguishable from no reply.
  auto empty_reply = check_content(content(ContentText{"x", cid(0x02, 0)}));
  REQUIRE_FALSE(empty_reply);
  CHECK(empty_reply.error().detail == "text.reply_to");
  auto d = round_trip(content(ContentText{"x", cid(0x02, 0)}));
  REQUIRE(d);
  CHECK(std::get<ContentText>(d->body).reply_to == std::nullopt);
}

TEST_CASE("content: the UTF-8 check refuses overlong forms, surrogates and stray bytes", "[client][content]") {
  // Valid, including the edges around the excluded ranges.
  for (const std::string& s : {std::string{}, std::string("plain"), std::string(1, '\0'), raw({0x7f}),
                               raw({0xc2, 0x80}), raw({0xdf, 0xbf}), raw({0xe0, 0xa0, 0x80}),
                               raw({0xe2, 0x82, 0xac}), raw({0xed, 0x9f, 0xbf}), raw({0xee, 0x80, 0x80}),
                               raw({0xef, 0xbf, 0xbf}), raw({0xf0, 0x90, 0x80, 0x80}),
                               raw({0xf4, 0x8f, 0xbf, 0xbf})}) {
    INFO(to_hex(as_bytes(s)));
    CHECK(is_valid_utf8(s));
  }
  const std::vector<std::string> invalid{
      raw({0x80}),                    // continuation byte in lead position
      raw({0xbf}),                    //
      raw({0xc0, 0x80}),              // overlong NUL
      raw({0xc1, 0xbf}),              // overlong
      raw({0xe0, 0x80, 0x80}),        // overlong three-byte
      raw({0xe0, 0x9f, 0xbf}),        // overlong three-byte, top of range
      raw({0xf0, 0x80, 0x80, 0x80}),  // overlong four-byte
      raw({0xf0, 0x8f, 0xbf, 0xbf}),  // overlong four-byte, top of range
      raw({0xed, 0xa0, 0x80}),        // U+D800, a surrogate
      raw({0xed, 0xbf, 0xbf}),        // U+DFFF, a surrogate
      raw({0xf4, 0x90, 0x80, 0x80}),  // U+110000
      raw({0xf5, 0x80, 0x80, 0x80}),  // lead byte beyond U+10FFFF
      raw({0xff}),                    //
      raw({0xe2, 0x82}),              // truncated
      raw({0xf0, 0x9f, 0x98}),        // truncated
      raw({0xc3}),                    // truncated at the end
      raw({0xc3, 0x41}),              // bad continuation
      raw({0xe2, 0x28, 0xac}),        // bad second byte
      raw({0xe2, 0x82, 0x28}),        // bad third byte
      raw({0xf0, 0x9f, 0x98, 0x28}),  // bad fourth byte
  };
  for (const auto& s : invalid) {
    INFO(to_hex(as_bytes(s)));
    CHECK_FALSE(is_valid_utf8(s));
    CHECK_FALSE(is_valid_utf8("ok " + s + " ok"));
  }
}

TEST_CASE("content: invalid UTF-8 in any text field is refused", "[client][content]") {
  const std::string bad = "caf" + raw({0xc3});
  const std::string surrogate = raw({0xed, 0xa0, 0x80});
  auto room = [](std::string name, std::string topic, std::string agreement) {
    return ContentRoomSettings{std::move(name), std::move(topic), std::move(agreement), 1, 0, 0};
  };
  const std::vector<std::pair<ContentBody, std::string>> cases{
      {ContentText{bad, std::nullopt}, "text.text"},
      {ContentText{surrogate, std::nullopt}, "text.text"},
      {ContentEdit{cid(0x02), bad}, "edit.text"},
      {ContentReaction{cid(0x02), bad, false}, "reaction.emoji"},
      {room(bad, "", ""), "room_settings.name"},
      {room("", bad, ""), "room_settings.topic"},
      {room("", "", bad), "room_settings.agreement_text"},
      {ContentMemberProfile{bad}, "member_profile.display_name"},
  };
  for (const auto& [body, field] : cases) {
    INFO(field);
    const Content c = content(body);
    auto checked = check_content(c);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().detail == field);
    auto d = round_trip(c);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == ContentCode::InvalidField);
    CHECK(d.error().detail == field);
  }
}

TEST_CASE("content: an unknown kind decodes to Unsupported with its field number", "[client][content]") {
  Bytes bytes = header(1234);
  field_bytes(bytes, 99, to_bytes("a kind from a newer client"));
  auto d = decode_content(bytes);
  REQUIRE(d);
  CHECK(d->id == ContentId{Bytes(kContentIdSize, 0x07)});
  CHECK(d->timestamp_ms == 1234);
  CHECK(d->body == ContentBody{ContentUnsupported{99}});
  CHECK(kind_name(*d) == "unsupported");

  SECTION("whatever its wire type") {
    Bytes v = header();
    field_varint(v, 17, 5);
    auto dv = decode_content(v);
    REQUIRE(dv);
    CHECK(dv->body == ContentBody{ContentUnsupported{17}});
  }
  SECTION("up to the largest field number") {
    Bytes v = header();
    field_bytes(v, kMaxFieldNumber, {});
    auto dv = decode_content(v);
    REQUIRE(dv);
    CHECK(dv->body == ContentBody{ContentUnsupported{kMaxFieldNumber}});
  }
  SECTION("the last of several, as a oneof keeps the last") {
    Bytes v = header();
    field_bytes(v, 99, {});
    field_bytes(v, 120, {});
    auto dv = decode_content(v);
    REQUIRE(dv);
    CHECK(dv->body == ContentBody{ContentUnsupported{120}});
  }
  SECTION("a known kind next to an unknown one wins") {
    Bytes v = header();
    field_bytes(v, 99, {});
    field_bytes(v, 10, text_body("hello"));
    auto dv = decode_content(v);
    REQUIRE(dv);
    CHECK(dv->body == ContentBody{ContentText{"hello", std::nullopt}});
  }
}

TEST_CASE("content: no body, or only unknown metadata, decodes to Unsupported 0", "[client][content]") {
  auto bare = decode_content(header());
  REQUIRE(bare);
  CHECK(bare->body == ContentBody{ContentUnsupported{0}});

  Bytes meta = header();
  field_bytes(meta, 3, to_bytes("metadata from a newer client"));
  field_varint(meta, 9, 1);
  auto m = decode_content(meta);
  REQUIRE(m);
  CHECK(m->body == ContentBody{ContentUnsupported{0}});
}

TEST_CASE("content: unknown fields inside a known kind or beside it are ignored", "[client][content]") {
  Bytes body = text_body("hello");
  field_bytes(body, 7, to_bytes("a Text field from a newer client"));
  Bytes bytes = header();
  field_varint(bytes, 4, 1);
  field_bytes(bytes, 10, body);
  auto d = decode_content(bytes);
  REQUIRE(d);
  CHECK(d->body == ContentBody{ContentText{"hello", std::nullopt}});
}

TEST_CASE("content: malformed bytes are Malformed", "[client][content]") {
  auto malformed = [](const Bytes& b) {
    auto d = decode_content(b);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == ContentCode::Malformed);
  };
  SECTION("a length prefix beyond the end") {
    malformed(Bytes{0x0a, 0x10, 0x01, 0x02});
    Bytes b = header();
    tag(b, 10, 2);
    varint(b, 1000);
    append(b, text_body("short"));
    malformed(b);
  }
  SECTION("a length prefix too large for any input") {
    Bytes b{0x0a};
    varint(b, 0xffffffffffULL);
    malformed(b);
  }
  SECTION("field number 0") { malformed(Bytes{0x00, 0x01}); }
  SECTION("an unterminated varint") { malformed(Bytes{0x10, 0xff, 0xff}); }
  SECTION("a varint of more than ten bytes") {
    Bytes b{0x10};
    for (int i = 0; i < 11; ++i) b.push_back(0xff);
    b.push_back(0x01);
    malformed(b);
  }
  SECTION("an end-group tag with no start") { malformed(Bytes{0x0c}); }
  SECTION("a reserved wire type") { malformed(Bytes{0x0e, 0x00}); }
  SECTION("a known kind with the wrong wire type") {
    Bytes b = header();
    field_varint(b, 10, 1);
    malformed(b);
  }
  SECTION("a field of a known kind with the wrong wire type") {
    Bytes body;
    field_varint(body, 1, 5);  // Text.text as a varint
    Bytes b = header();
    field_bytes(b, 10, body);
    malformed(b);
  }
  SECTION("the id with the wrong wire type") {
    Bytes b;
    field_varint(b, 1, 16);
    field_bytes(b, 10, text_body("x"));
    malformed(b);
  }
  SECTION("a kind whose body does not parse") {
    Bytes b = header();
    field_bytes(b, 10, Bytes{0x0a, 0x7f});
    malformed(b);
  }
}

TEST_CASE("content: every truncation of a valid content is refused or decodes, never crashes", "[client][content]") {
  const Bytes full = encode_content(content(ContentRoomSettings{"Night shift", "Tuesdays", "Be kind.", 2, 1, 2}));
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO(n);
    auto d = decode_content(BytesView(full).first(n));
    if (d) {
      CHECK(check_content(*d));
    } else {
      CHECK((d.error().code == ContentCode::Malformed || d.error().code == ContentCode::InvalidField));
    }
  }
  // Cut inside the id: the length prefix runs past the end.
  auto cut = decode_content(BytesView(full).first(10));
  REQUIRE_FALSE(cut);
  CHECK(cut.error().code == ContentCode::Malformed);
}

TEST_CASE("content: random garbage never crashes and never yields an unchecked value", "[client][content]") {
  test::SeededRng rng(0xc0ffee);
  const Bytes valid = encode_content(content(ContentText{"seed text", cid(0x09)}));
  for (int round = 0; round < 3000; ++round) {
    Bytes b;
    if (round % 2 == 0) {
      b.resize(rng.below(300));
      rng.fill(b);
    } else {  // flip a few bytes of a valid content, so parsing gets further
      b = valid;
      for (int k = 0; k < 3; ++k) b[rng.below(b.size())] = static_cast<std::uint8_t>(rng.next());
    }
    auto d = decode_content(b);
    if (d) CHECK(check_content(*d));
  }
}

TEST_CASE("content: padded size rounds up to the padding block", "[client][content]") {
  static_assert(padded_size(0) == 0);
  CHECK(padded_size(0) == 0);
  CHECK(padded_size(1) == 256);
  CHECK(padded_size(255) == 256);
  CHECK(padded_size(256) == 256);
  CHECK(padded_size(257) == 512);
  CHECK(padded_size(512) == 512);
  CHECK(padded_size(kMaxContentSize) == kMaxContentSize);
  CHECK(padded_size(kMaxPaddableSize) == kMaxPaddableSize);
  CHECK(padded_size(kMaxPaddableSize - 1) == kMaxPaddableSize);
  CHECK(kMaxPaddableSize % kPaddingBlock == 0);
}

TEST_CASE("content: names and topics refuse controls and bidi overrides that disguise them", "[client][content]") {
  auto profile = [](std::string name) { return content(ContentMemberProfile{std::move(name)}); };
  auto settings = [](std::string name, std::string topic) {
    return content(ContentRoomSettings{std::move(name), std::move(topic), "", 0, 0, 0});
  };
  // Real names in any script, right-to-left ones included, are fine.
  CHECK(round_trip(profile("Dr. Zoë Ødegård")));
  CHECK_FALSE(round_trip(profile("\xd7\x93\xd7")));  // cut inside a character: not UTF-8
  CHECK(round_trip(profile("\xd7\x93\xd7\xa8 \xd7\x9c\xd7\x95\xd7\x99"))); // Hebrew
  CHECK(round_trip(settings("Night shift", "after handover\nTuesdays")));   // a topic may wrap
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, C0 and C1 controls.
  for (const std::string bad : {"Dr \xe2\x80\xae" "eciffO", "a\xe2\x81\xa6" "b", "tab\there", "line\nbreak",
                                "bell\x07", "c1\xc2\x85", "del\x7f"}) {
    INFO(bad);
    auto p = round_trip(profile(bad));
    REQUIRE_FALSE(p);
    CHECK(p.error().detail == "member_profile.display_name");
    auto s = round_trip(settings(bad, ""));
    REQUIRE_FALSE(s);
    CHECK(s.error().detail == "room_settings.name");
  }
  auto topic = round_trip(settings("ok", "see \xe2\x80\xae" "here"));
  REQUIRE_FALSE(topic);
  CHECK(topic.error().detail == "room_settings.topic");
  // Message texts may hold anything UTF-8: they are shown as text, not as names.
  CHECK(round_trip(content(ContentText{"tab\tand \xe2\x80\xae", std::nullopt})));
}
