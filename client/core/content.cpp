// SPDX-License-Identifier: Apache-2.0
// The only client code that touches the generated hearth.v1.Content type.
#include "client/core/content.h"

#include <utility>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>

#include "common/mls/framing.h"
#include "common/wire/messages.h"
#include "hearth/v1/content.pb.h"

namespace hearth::client {

namespace pb = ::hearth::v1;

static_assert(kPaddingBlock == mls::kDefaultPaddingBlock, "DESIGN.md §4 names one padding block");

// The largest Content check_content lets through must encode within
// kMaxContentSize, or a sender could produce bytes every reader refuses as
// TooLarge. Every field costs at most kFieldOverhead bytes besides its
// payload: a tag of at most 2 bytes (field numbers below 2048) and a varint
// length or value of at most 10 bytes.
namespace {
constexpr std::size_t kFieldOverhead = 12;
// id, timestamp, and the body's own tag and length
constexpr std::size_t kEnvelopeOverhead = (kFieldOverhead + kContentIdSize) + kFieldOverhead + kFieldOverhead;
static_assert(kEnvelopeOverhead + (kFieldOverhead + kMaxRoomNameSize) + (kFieldOverhead + kMaxTopicSize) +
                  (kFieldOverhead + kMaxAgreementSize) + 3 * kFieldOverhead <=
              kMaxContentSize);  // RoomSettings
static_assert(kEnvelopeOverhead + (kFieldOverhead + kMaxTextSize) + (kFieldOverhead + kContentIdSize) <=
              kMaxContentSize);  // Text and Edit
}  // namespace

std::string to_string(ContentCode c) {
  switch (c) {
    case ContentCode::Malformed: return "Malformed";
    case ContentCode::TooLarge: return "TooLarge";
    case ContentCode::InvalidField: return "InvalidField";
  }
  return "Unknown";
}

ContentId new_content_id(Rng& rng) {
  Bytes v(kContentIdSize);
  rng.fill(v);
  return ContentId{std::move(v)};
}

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    // The allowed range of the second byte depends on the first: it is what
    // excludes overlong forms (E0, F0), surrogates (ED) and code points above
    // U+10FFFF (F4). Later bytes are plain continuation bytes.
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      if (b0 == 0xe0) lo = 0xa0;
      if (b0 == 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      if (b0 == 0xf0) lo = 0x90;
      if (b0 == 0xf4) hi = 0x8f;
    } else {
      return false;  // a continuation byte in lead position, C0/C1 (always overlong), or F5..FF
    }
    if (n - i < len) return false;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

std::string_view kind_name(const ContentBody& body) noexcept {
  return std::visit(wire::Overloaded{
                        [](const ContentText&) { return std::string_view{"text"}; },
                        [](const ContentEdit&) { return std::string_view{"edit"}; },
                        [](const ContentReaction&) { return std::string_view{"reaction"}; },
                        [](const ContentRedaction&) { return std::string_view{"redaction"}; },
                        [](const ContentRoomSettings&) { return std::string_view{"room_settings"}; },
                        [](const ContentMemberProfile&) { return std::string_view{"member_profile"}; },
                        [](const ContentAgreementAccepted&) { return std::string_view{"agreement_accepted"}; },
                        [](const ContentUnsupported&) { return std::string_view{"unsupported"}; },
                    },
                    body);
}

std::string_view kind_name(const Content& c) noexcept { return kind_name(c.body); }

// ------------------------------------------------------------------ checks

namespace {

ContentError invalid(const char* field) { return ContentError{ContentCode::InvalidField, field}; }

std::optional<ContentError> check_id(const ContentId& id, const char* field) {
  if (id.v.size() != kContentIdSize) return invalid(field);
  return std::nullopt;
}

std::optional<ContentError> check_text(const std::string& s, std::size_t min, std::size_t max, const char* field) {
  if (s.size() < min || s.size() > max || !is_valid_utf8(s)) return invalid(field);
  return std::nullopt;
}

// The code points of valid UTF-8, one at a time.
template <class F>
void for_each_code_point(std::string_view s, F&& f) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const std::size_t len = b0 < 0x80 ? 1 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
    char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1fu) : len == 3 ? (b0 & 0x0fu) : (b0 & 0x07u);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fu);
    f(cp);
    i += len;
  }
}

// Characters that can make a name or topic show as something it is not:
// control characters, and the bidirectional embeddings, overrides and
// isolates that reorder what follows them (Trojan Source, CVE-2021-42574).
bool is_deceptive(char32_t cp, bool newlines_allowed) {
  if (cp == U'\n') return !newlines_allowed;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true;
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/// A name or a topic: check_text, without what could disguise it.
std::optional<ContentError> check_label(const std::string& s, std::size_t max, bool newlines_allowed,
                                        const char* field) {
  if (auto e = check_text(s, 0, max, field)) return e;
  bool deceptive = false;
  for_each_code_point(s, [&](char32_t cp) { deceptive = deceptive || is_deceptive(cp, newlines_allowed); });
  if (deceptive) return invalid(field);
  return std::nullopt;
}

// The first failure among the checks, in order.
template <class... Rest>
std::optional<ContentError> first(std::optional<ContentError> a, Rest... rest) {
  if constexpr (sizeof...(rest) == 0) {
    return a;
  } else {
    if (a) return a;
    return first(std::move(rest)...);
  }
}

std::optional<ContentError> check_body(const ContentBody& body) {
  return std::visit(
      wire::Overloaded{
          [](const ContentText& v) {
            return first(check_text(v.text, 0, kMaxTextSize, "text.text"),
                         v.reply_to ? check_id(*v.reply_to, "text.reply_to") : std::nullopt);
          },
          [](const ContentEdit& v) {
            return first(check_id(v.target, "edit.target"), check_text(v.text, 0, kMaxTextSize, "edit.text"));
          },
          [](const ContentReaction& v) {
            return first(check_id(v.target, "reaction.target"),
                         check_text(v.emoji, 1, kMaxEmojiSize, "reaction.emoji"));
          },
          [](const ContentRedaction& v) { return check_id(v.target, "redaction.target"); },
          [](const ContentRoomSettings& v) {
            return first(check_label(v.name, kMaxRoomNameSize, false, "room_settings.name"),
                         check_label(v.topic, kMaxTopicSize, true, "room_settings.topic"),
                         check_text(v.agreement_text, 0, kMaxAgreementSize, "room_settings.agreement_text"));
          },
          [](const ContentMemberProfile& v) {
            return check_label(v.display_name, kMaxDisplayNameSize, false, "member_profile.display_name");
          },
          [](const ContentAgreementAccepted&) { return std::optional<ContentError>{}; },
          [](const ContentUnsupported&) { return std::optional<ContentError>{}; },
      },
      body);
}

}  // namespace

ContentResult<void> check_content(const Content& c) {
  if (auto e = first(check_id(c.id, "id"), check_body(c.body))) return fail(std::move(*e));
  return {};
}

// ------------------------------------------------------------------ encoding

namespace {

std::string str(BytesView b) { return to_string_bytes(b); }

// True when `n` may carry an unknown kind: in the kind range and not a field
// of Content (so an older reader cannot mistake it for a known kind).
bool is_unknown_kind_number(std::uint32_t n) {
  return n >= kFirstKindField && n <= kMaxFieldNumber &&
         pb::Content::descriptor()->FindFieldByNumber(static_cast<int>(n)) == nullptr;
}

void encode_body(pb::Content& m, const ContentBody& body) {
  std::visit(wire::Overloaded{
                 [&](const ContentText& v) {
                   auto* p = m.mutable_text();
                   p->set_text(v.text);
                   if (v.reply_to) p->set_reply_to(str(v.reply_to->v));
                 },
                 [&](const ContentEdit& v) {
                   auto* p = m.mutable_edit();
                   p->set_target(str(v.target.v));
                   p->set_text(v.text);
                 },
                 [&](const ContentReaction& v) {
                   auto* p = m.mutable_reaction();
                   p->set_target(str(v.target.v));
                   p->set_emoji(v.emoji);
                   p->set_remove(v.remove);
                 },
                 [&](const ContentRedaction& v) { m.mutable_redaction()->set_target(str(v.target.v)); },
                 [&](const ContentRoomSettings& v) {
                   auto* p = m.mutable_room_settings();
                   p->set_name(v.name);
                   p->set_topic(v.topic);
                   p->set_agreement_text(v.agreement_text);
                   p->set_agreement_version(v.agreement_version);
                   p->set_disappearing_ms(v.disappearing_ms);
                   p->set_relay_lifetime_ms(v.relay_lifetime_ms);
                 },
                 [&](const ContentMemberProfile& v) { m.mutable_member_profile()->set_display_name(v.display_name); },
                 [&](const ContentAgreementAccepted& v) { m.mutable_agreement_accepted()->set_version(v.version); },
                 [&](const ContentUnsupported& v) {
                   if (!is_unknown_kind_number(v.field_number)) return;
                   m.GetReflection()->MutableUnknownFields(&m)->AddLengthDelimited(static_cast<int>(v.field_number));
                 },
             },
             body);
}

}  // namespace

Bytes encode_content(const Content& c) {
  pb::Content m;
  m.set_id(str(c.id.v));
  m.set_timestamp_ms(c.timestamp_ms);
  encode_body(m, c.body);

  const std::size_t size = m.ByteSizeLong();
  Bytes out(size);
  if (size == 0) return out;
  {
    // Proto3 output of these messages (no maps) is already stable; the flag
    // makes the promise explicit should a map field ever be added.
    google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(size));
    google::protobuf::io::CodedOutputStream stream(&array);
    stream.SetSerializationDeterministic(true);
    m.SerializeWithCachedSizes(&stream);
  }  // the stream flushes into `out` when it goes out of scope
  return out;
}

// ------------------------------------------------------------------ decoding

namespace {

// Protobuf files a field whose number it knows but whose wire type is wrong
// (a length-delimited `text` sent as a varint) among the unknown fields and
// leaves the field empty. Accepting that would turn a corrupt Content into an
// empty but valid one, so it is refused instead.
bool has_mistyped_field(const google::protobuf::Message& m) {
  const auto& unknown = m.GetReflection()->GetUnknownFields(m);
  const auto* descriptor = m.GetDescriptor();
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (descriptor->FindFieldByNumber(unknown.field(i).number()) != nullptr) return true;
  }
  return false;
}

// The field number of the kind in an unknown body: the last unknown field in
// the kind range (a oneof keeps the last of several), or 0 when there is none.
std::uint32_t unknown_kind(const pb::Content& m) {
  const auto& unknown = m.GetReflection()->GetUnknownFields(m);
  std::uint32_t out = 0;
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto n = static_cast<std::uint32_t>(unknown.field(i).number());
    if (n >= kFirstKindField) out = n;
  }
  return out;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::optional<ContentId> optional_id(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return ContentId{bytes_of(s)};
}

// The one switch over the kinds, with no default: a kind added to the .proto
// without a case here is a compiler warning (an error in our builds).
ContentBody decode_body(const pb::Content& m) {
  switch (m.body_case()) {
    case pb::Content::kText: return ContentText{m.text().text(), optional_id(m.text().reply_to())};
    case pb::Content::kEdit: return ContentEdit{ContentId{bytes_of(m.edit().target())}, m.edit().text()};
    case pb::Content::kReaction: {
      const auto& p = m.reaction();
      return ContentReaction{ContentId{bytes_of(p.target())}, p.emoji(), p.remove()};
    }
    case pb::Content::kRedaction: return ContentRedaction{ContentId{bytes_of(m.redaction().target())}};
    case pb::Content::kRoomSettings: {
      const auto& p = m.room_settings();
      return ContentRoomSettings{p.name(),
                                 p.topic(),
                                 p.agreement_text(),
                                 p.agreement_version(),
                                 p.disappearing_ms(),
                                 p.relay_lifetime_ms()};
    }
    case pb::Content::kMemberProfile: return ContentMemberProfile{m.member_profile().display_name()};
    case pb::Content::kAgreementAccepted: return ContentAgreementAccepted{m.agreement_accepted().version()};
    case pb::Content::BODY_NOT_SET: return ContentUnsupported{unknown_kind(m)};
  }
  return ContentUnsupported{0};
}

}  // namespace

ContentResult<Content> decode_content(BytesView bytes) {
  if (bytes.size() > kMaxContentSize) return fail(ContentError{ContentCode::TooLarge, "content"});
  pb::Content m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail(ContentError{ContentCode::Malformed, "content"});
  }
  const auto* reflection = m.GetReflection();
  const auto* kind = reflection->GetOneofFieldDescriptor(m, pb::Content::descriptor()->oneof_decl(0));
  if (has_mistyped_field(m) || (kind != nullptr && has_mistyped_field(reflection->GetMessage(m, kind)))) {
    return fail(ContentError{ContentCode::Malformed, "content"});
  }
  Content out{ContentId{bytes_of(m.id())}, m.timestamp_ms(), decode_body(m)};
  if (auto ok = check_content(out); !ok) return fail(std::move(ok.error()));
  return out;
}

}  // namespace hearth::client
