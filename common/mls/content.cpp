// SPDX-License-Identifier: Apache-2.0
#include "common/mls/content.h"

namespace hearth::mls {

ContentType content_type(const Content& c) noexcept { return static_cast<ContentType>(c.index() + 1); }

WireFormat MlsMessage::wire_format() const noexcept { return static_cast<WireFormat>(body.index() + 1); }

void write(Writer& w, const Sender& v) {
  w.u8(static_cast<std::uint8_t>(v.sender_type));
  switch (v.sender_type) {
    case SenderType::Member:
    case SenderType::External: w.u32(v.index); break;
    case SenderType::NewMemberProposal:
    case SenderType::NewMemberCommit: break;
  }
}

void read(Reader& r, Sender& v) {
  switch (r.u8()) {
    case 1:
      v.sender_type = SenderType::Member;
      v.index = r.u32();
      break;
    case 2:
      v.sender_type = SenderType::External;
      v.index = r.u32();
      break;
    case 3: v.sender_type = SenderType::NewMemberProposal; break;
    case 4: v.sender_type = SenderType::NewMemberCommit; break;
    default: r.set_error(Error::InvalidValue); break;
  }
}

void write(Writer& w, const ApplicationData& v) { w.opaque(v.data); }
void read(Reader& r, ApplicationData& v) { v.data = r.opaque_bytes(); }

void write_content_body(Writer& w, const Content& v) {
  std::visit([&](const auto& body) { write(w, body); }, v);
}

namespace {
template <class T>
void read_alternative(Reader& r, Content& v) {
  T body{};
  read(r, body);
  v = std::move(body);
}

bool read_content_type(Reader& r, ContentType& type) {
  const std::uint8_t t = r.u8();
  if (t < 1 || t > 3) {
    r.set_error(Error::InvalidValue);
    return false;
  }
  type = static_cast<ContentType>(t);
  return r.ok();
}
}  // namespace

void read_content_body(Reader& r, ContentType type, Content& v) {
  switch (type) {
    case ContentType::Application: read_alternative<ApplicationData>(r, v); break;
    case ContentType::Proposal: read_alternative<Proposal>(r, v); break;
    case ContentType::Commit: read_alternative<Commit>(r, v); break;
  }
}

void write(Writer& w, const FramedContent& v) {
  w.opaque(v.group_id);
  w.u64(v.epoch);
  write(w, v.sender);
  w.opaque(v.authenticated_data);
  w.u8(static_cast<std::uint8_t>(content_type(v.content)));
  write_content_body(w, v.content);
}

void read(Reader& r, FramedContent& v) {
  v.group_id = r.opaque_bytes();
  v.epoch = r.u64();
  read(r, v.sender);
  v.authenticated_data = r.opaque_bytes();
  ContentType type{};
  if (!read_content_type(r, type)) return;
  read_content_body(r, type, v.content);
}

void write(Writer& w, const FramedContentAuthData& v) {
  w.opaque(v.signature);
  if (v.confirmation_tag) w.opaque(*v.confirmation_tag);
}

void read_auth(Reader& r, ContentType type, FramedContentAuthData& v) {
  v.signature = r.opaque_bytes();
  if (type == ContentType::Commit) {
    v.confirmation_tag = r.opaque_bytes();
  } else {
    v.confirmation_tag.reset();
  }
}

void write(Writer& w, const PublicMessage& v) {
  write(w, v.content);
  write(w, v.auth);
  if (v.membership_tag) w.opaque(*v.membership_tag);
}

void read(Reader& r, PublicMessage& v) {
  read(r, v.content);
  read_auth(r, content_type(v.content.content), v.auth);
  if (v.content.sender.sender_type == SenderType::Member) {
    v.membership_tag = r.opaque_bytes();
  } else {
    v.membership_tag.reset();
  }
}

void write(Writer& w, const PrivateMessage& v) {
  w.opaque(v.group_id);
  w.u64(v.epoch);
  w.u8(static_cast<std::uint8_t>(v.content_type));
  w.opaque(v.authenticated_data);
  w.opaque(v.encrypted_sender_data);
  w.opaque(v.ciphertext);
}

void read(Reader& r, PrivateMessage& v) {
  v.group_id = r.opaque_bytes();
  v.epoch = r.u64();
  if (!read_content_type(r, v.content_type)) return;
  v.authenticated_data = r.opaque_bytes();
  v.encrypted_sender_data = r.opaque_bytes();
  v.ciphertext = r.opaque_bytes();
}

void write(Writer& w, const AuthenticatedContent& v) {
  w.u16(static_cast<std::uint16_t>(v.wire_format));
  write(w, v.content);
  write(w, v.auth);
}

void read(Reader& r, AuthenticatedContent& v) {
  const std::uint16_t wf = r.u16();
  if (wf != 1 && wf != 2) {
    r.set_error(Error::InvalidValue);
    return;
  }
  v.wire_format = static_cast<WireFormat>(wf);
  read(r, v.content);
  read_auth(r, content_type(v.content.content), v.auth);
}

void write(Writer& w, const MlsMessage& v) {
  w.u16(v.version);
  w.u16(static_cast<std::uint16_t>(v.wire_format()));
  std::visit([&](const auto& body) { write(w, body); }, v.body);
}

namespace {
template <class T>
void read_message(Reader& r, MlsMessage& v) {
  T body{};
  read(r, body);
  v.body = std::move(body);
}
}  // namespace

void read(Reader& r, MlsMessage& v) {
  v.version = r.u16();
  if (r.ok() && v.version != kProtocolVersionMls10) {
    r.set_error(Error::UnsupportedVersion);
    return;
  }
  switch (r.u16()) {
    case 1: read_message<PublicMessage>(r, v); break;
    case 2: read_message<PrivateMessage>(r, v); break;
    case 3: read_message<Welcome>(r, v); break;
    case 4: read_message<GroupInfo>(r, v); break;
    case 5: read_message<KeyPackage>(r, v); break;
    default: r.set_error(Error::InvalidValue); break;
  }
}

}  // namespace hearth::mls
