// SPDX-License-Identifier: Apache-2.0
#pragma once
// Message framing structs (RFC 9420 §6): Sender, FramedContent, the auth
// data, PublicMessage, PrivateMessage, AuthenticatedContent and MLSMessage.

#include <cstdint>
#include <optional>
#include <variant>

#include "common/mls/codec.h"
#include "common/mls/wire.h"

namespace hearth::mls {

enum class WireFormat : std::uint16_t {
  PublicMessage = 1,
  PrivateMessage = 2,
  Welcome = 3,
  GroupInfo = 4,
  KeyPackage = 5,
};
enum class ContentType : std::uint8_t { Application = 1, Proposal = 2, Commit = 3 };
enum class SenderType : std::uint8_t { Member = 1, External = 2, NewMemberProposal = 3, NewMemberCommit = 4 };

struct Sender {
  SenderType sender_type = SenderType::Member;
  std::uint32_t index = 0;  // leaf_index (Member) or sender_index (External)
  bool operator==(const Sender&) const = default;
};

struct ApplicationData {
  Bytes data;
  bool operator==(const ApplicationData&) const = default;
};
/// The content of a FramedContent or PrivateMessageContent; the variant's
/// alternatives are in ContentType order.
using Content = std::variant<ApplicationData, Proposal, Commit>;
[[nodiscard]] ContentType content_type(const Content& c) noexcept;

struct FramedContent {
  Bytes group_id;
  std::uint64_t epoch = 0;
  Sender sender;
  Bytes authenticated_data;
  Content content;
  bool operator==(const FramedContent&) const = default;
};

struct FramedContentAuthData {
  Bytes signature;
  std::optional<Bytes> confirmation_tag;  // present exactly for commits
  bool operator==(const FramedContentAuthData&) const = default;
};

struct PublicMessage {
  FramedContent content;
  FramedContentAuthData auth;
  std::optional<Bytes> membership_tag;  // present exactly for member senders
  bool operator==(const PublicMessage&) const = default;
};

struct PrivateMessage {
  Bytes group_id;
  std::uint64_t epoch = 0;
  ContentType content_type = ContentType::Application;
  Bytes authenticated_data;
  Bytes encrypted_sender_data;
  Bytes ciphertext;
  bool operator==(const PrivateMessage&) const = default;
};

struct AuthenticatedContent {
  WireFormat wire_format = WireFormat::PublicMessage;
  FramedContent content;
  FramedContentAuthData auth;
  bool operator==(const AuthenticatedContent&) const = default;
};

struct MlsMessage {
  std::uint16_t version = kProtocolVersionMls10;
  std::variant<PublicMessage, PrivateMessage, Welcome, GroupInfo, KeyPackage> body;
  [[nodiscard]] WireFormat wire_format() const noexcept;
  bool operator==(const MlsMessage&) const = default;
};

void write(Writer& w, const Sender& v);
void read(Reader& r, Sender& v);
void write(Writer& w, const ApplicationData& v);
void read(Reader& r, ApplicationData& v);
/// The content body alone (no type byte), as in PrivateMessageContent.
void write_content_body(Writer& w, const Content& v);
void read_content_body(Reader& r, ContentType type, Content& v);
void write(Writer& w, const FramedContent& v);
void read(Reader& r, FramedContent& v);
/// The auth data's shape depends on the content type.
void write(Writer& w, const FramedContentAuthData& v);
void read_auth(Reader& r, ContentType type, FramedContentAuthData& v);
void write(Writer& w, const PublicMessage& v);
void read(Reader& r, PublicMessage& v);
void write(Writer& w, const PrivateMessage& v);
void read(Reader& r, PrivateMessage& v);
void write(Writer& w, const AuthenticatedContent& v);
void read(Reader& r, AuthenticatedContent& v);
/// MLSMessage: InvalidValue for an unknown wire format, UnsupportedVersion
/// for a version other than mls10.
void write(Writer& w, const MlsMessage& v);
void read(Reader& r, MlsMessage& v);

}  // namespace hearth::mls
