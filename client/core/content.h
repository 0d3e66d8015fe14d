// SPDX-License-Identifier: Apache-2.0
#pragma once
// hearth.v1.Content (DESIGN.md §5), the plaintext of one MLS application
// message, as plain values, and its codec. The bytes come from a peer after
// decryption, so decoding treats them as hostile: every size is bounded and
// every text is checked before anything else sees it.
//
//   send:    Content --check_content--> ok --encode_content--> bytes --> RoomGroup::encrypt
//   receive: RoomGroup decrypt --> bytes --decode_content--> Content (checked) or ContentError
//
// A kind this client does not know (sent by a newer client) decodes to
// ContentUnsupported, never to an error: the user interface shows it as
// "unsupported message" instead of dropping it.
//
// Pure functions, no state, no logging; safe to call from any thread.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/types/bytes.h"
#include "common/types/ids.h"
#include "common/types/result.h"
#include "common/types/rng.h"

namespace hearth::client {

// ---------------------------------------------------------------- bounds
// Text bounds count UTF-8 bytes, not characters.

/// Largest encoded Content accepted; larger input is refused before parsing.
inline constexpr std::size_t kMaxContentSize = 64 * 1024;
/// Every id (a Content's own, and the targets and replies that name one).
inline constexpr std::size_t kContentIdSize = 16;
/// The text of a message or of an edit.
inline constexpr std::size_t kMaxTextSize = 16 * 1024;
/// One reaction; long enough for any emoji ZWJ sequence with modifiers.
inline constexpr std::size_t kMaxEmojiSize = 64;
inline constexpr std::size_t kMaxDisplayNameSize = 128;
inline constexpr std::size_t kMaxRoomNameSize = 128;
inline constexpr std::size_t kMaxTopicSize = 1024;
inline constexpr std::size_t kMaxAgreementSize = 32 * 1024;

/// DESIGN.md §4: the plaintext of a chat message is padded to a multiple of this.
inline constexpr std::size_t kPaddingBlock = 256;

// ---------------------------------------------------------------- errors

enum class ContentCode {
  Malformed,     // not a parseable hearth.v1.Content, or a known field with the wrong wire type
  TooLarge,      // more than kMaxContentSize bytes
  InvalidField,  // parsed, but a field has the wrong size, is over its bound or is not UTF-8
};
[[nodiscard]] std::string to_string(ContentCode c);

/// `detail` names the field ("id", "text.reply_to", "room_settings.topic"); it
/// never holds any of the content.
using ContentError = Failure<ContentCode>;

template <class T>
using ContentResult = Result<T, ContentError>;

// ---------------------------------------------------------------- values

struct ContentIdTag {};
/// The id a client gives each Content it sends: kContentIdSize random bytes.
using ContentId = BytesId<ContentIdTag>;

/// A fresh random id from `rng`.
[[nodiscard]] ContentId new_content_id(Rng& rng);

struct ContentText {
  std::string text;                   // UTF-8, at most kMaxTextSize bytes
  std::optional<ContentId> reply_to;  // the Content this one answers
  friend bool operator==(const ContentText&, const ContentText&) = default;
};

struct ContentEdit {
  ContentId target;  // the Text being edited (same author; the reader checks)
  std::string text;  // UTF-8, at most kMaxTextSize bytes
  friend bool operator==(const ContentEdit&, const ContentEdit&) = default;
};

struct ContentReaction {
  ContentId target;
  std::string emoji;    // UTF-8, 1 to kMaxEmojiSize bytes
  bool remove = false;  // withdraws the sender's earlier reaction with this emoji
  friend bool operator==(const ContentReaction&, const ContentReaction&) = default;
};

/// By the author, or by a facilitator for anyone's Content; the reader checks which.
struct ContentRedaction {
  ContentId target;
  friend bool operator==(const ContentRedaction&, const ContentRedaction&) = default;
};

/// Replaces the room's settings whole; the reader checks the sender is a facilitator.
struct ContentRoomSettings {
  std::string name;            // UTF-8, at most kMaxRoomNameSize bytes
  std::string topic;           // UTF-8, at most kMaxTopicSize bytes
  std::string agreement_text;  // UTF-8, at most kMaxAgreementSize bytes
  std::uint32_t agreement_version = 0;
  std::uint64_t disappearing_ms = 0;    // 0 = messages do not disappear
  std::uint64_t relay_lifetime_ms = 0;  // 0 = the relay's default
  friend bool operator==(const ContentRoomSettings&, const ContentRoomSettings&) = default;
};

/// The sender's display name in this room.
struct ContentMemberProfile {
  std::string display_name;  // UTF-8, at most kMaxDisplayNameSize bytes; empty = show the handle
  friend bool operator==(const ContentMemberProfile&, const ContentMemberProfile&) = default;
};

struct ContentAgreementAccepted {
  std::uint32_t version = 0;
  friend bool operator==(const ContentAgreementAccepted&, const ContentAgreementAccepted&) = default;
};

/// A kind this client does not know. `field_number` is the protobuf field
/// number the sender used for it (10 or more), or 0 when the Content had no
/// body at all.
struct ContentUnsupported {
  std::uint32_t field_number = 0;
  friend bool operator==(const ContentUnsupported&, const ContentUnsupported&) = default;
};

using ContentBody = std::variant<ContentText, ContentEdit, ContentReaction, ContentRedaction, ContentRoomSettings,
                                 ContentMemberProfile, ContentAgreementAccepted, ContentUnsupported>;

struct Content {
  ContentId id;                   // kContentIdSize bytes
  std::int64_t timestamp_ms = 0;  // the sender's clock; shown, never trusted for ordering
  ContentBody body;
  friend bool operator==(const Content&, const Content&) = default;
};

/// The lowest protobuf field number of a kind in `Content.body`. Unknown
/// fields below it are metadata an older client may ignore.
inline constexpr std::uint32_t kFirstKindField = 10;
/// The largest field number protobuf allows.
inline constexpr std::uint32_t kMaxFieldNumber = (1U << 29) - 1;

// ---------------------------------------------------------------- codec

/// Checks what decode_content checks, on a value: the id and every target are
/// kContentIdSize bytes (reply_to too, when set), every text is valid UTF-8
/// within its bound, a reaction names an emoji. A ContentUnsupported body
/// passes (it is what a receiver keeps). A sender calls this before
/// encode_content; the first failure is returned as InvalidField.
[[nodiscard]] ContentResult<void> check_content(const Content& c);

/// The protobuf bytes of `c`. Deterministic: the same value always gives the
/// same bytes. Precondition: check_content(c) succeeds; otherwise the bytes
/// are ones decode_content refuses. Any Content that passes check_content
/// encodes to at most kMaxContentSize bytes.
///
/// A ContentUnsupported whose field_number is one this code does not know
/// (kFirstKindField..kMaxFieldNumber) is written as that field, empty, so it
/// decodes to the same value; any other ContentUnsupported is written with no
/// body and decodes to ContentUnsupported{0}.
[[nodiscard]] Bytes encode_content(const Content& c);

/// Parses and checks `bytes` (the decrypted application data).
///   TooLarge      more than kMaxContentSize bytes (refused before parsing)
///   Malformed     not a protobuf Content, or a field this code knows (of
///                 Content or of its kind) arrives with the wrong wire type
///   InvalidField  see check_content
/// No body, or a kind this code does not know, gives ContentUnsupported. A
/// Content carrying both a known kind and an unknown one (no conforming
/// sender does this) decodes to the known kind. Unknown fields inside a known
/// kind are ignored (additions by a newer client).
[[nodiscard]] ContentResult<Content> decode_content(BytesView bytes);

/// A stable lowercase name of the kind, for counters, the CLI and the user
/// interface: "text", "edit", "reaction", "redaction", "room_settings",
/// "member_profile", "agreement_accepted", "unsupported".
[[nodiscard]] std::string_view kind_name(const ContentBody& body) noexcept;
[[nodiscard]] std::string_view kind_name(const Content& c) noexcept;

/// True when `s` is well-formed UTF-8: no stray continuation bytes, no
/// truncated sequences, no overlong forms, no surrogates (U+D800..U+DFFF),
/// nothing above U+10FFFF. The empty string is valid.
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

/// The largest n that padded_size accepts.
inline constexpr std::size_t kMaxPaddableSize =
    std::numeric_limits<std::size_t>::max() / kPaddingBlock * kPaddingBlock;

/// The smallest multiple of kPaddingBlock that is >= n. 0 stays 0, and a
/// multiple stays as it is: the same rule mls::protect_private applies when it
/// zero-pads the plaintext it encrypts (which is never empty, since it holds
/// a signature). Precondition: n <= kMaxPaddableSize.
[[nodiscard]] constexpr std::size_t padded_size(std::size_t n) noexcept {
  const std::size_t rem = n % kPaddingBlock;
  return rem == 0 ? n : n + (kPaddingBlock - rem);
}

}  // namespace hearth::client
