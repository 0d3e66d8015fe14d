// SPDX-License-Identifier: Apache-2.0
#include "common/mls/framing.h"

#include <algorithm>

#include "common/mls/labeled_crypto.h"

namespace hearth::mls {
namespace {

constexpr std::string_view kTbsLabel = "FramedContentTBS";
constexpr std::size_t kReuseGuardSize = 4;

bool sender_has_context(SenderType t) {
  return t == SenderType::Member || t == SenderType::NewMemberCommit;
}

bool confirmation_tag_consistent(const AuthenticatedContent& c) {
  return c.auth.confirmation_tag.has_value() == (content_type(c.content.content) == ContentType::Commit);
}

void write_tbs(Writer& w, WireFormat wire_format, const FramedContent& content, const GroupContext& context) {
  w.u16(kProtocolVersionMls10);
  w.u16(static_cast<std::uint16_t>(wire_format));
  write(w, content);
  if (sender_has_context(content.sender.sender_type)) write(w, context);
}

Bytes tbm(const AuthenticatedContent& c, const GroupContext& context) {
  Writer w;  // AuthenticatedContentTBM
  write_tbs(w, c.wire_format, c.content, context);
  write(w, c.auth);
  return w.take();
}

Bytes private_content_aad(const PrivateMessage& m) {
  Writer w;
  w.opaque(m.group_id);
  w.u64(m.epoch);
  w.u8(static_cast<std::uint8_t>(m.content_type));
  w.opaque(m.authenticated_data);
  return w.take();
}

Bytes sender_data_aad(const PrivateMessage& m) {
  Writer w;
  w.opaque(m.group_id);
  w.u64(m.epoch);
  w.u8(static_cast<std::uint8_t>(m.content_type));
  return w.take();
}

RatchetType ratchet_for(ContentType t) {
  return t == ContentType::Application ? RatchetType::Application : RatchetType::Handshake;
}

std::array<std::uint8_t, kAeadNonceSize> guarded_nonce(const RatchetKey& key, BytesView reuse_guard) {
  auto nonce = key.nonce;
  for (std::size_t i = 0; i < kReuseGuardSize; ++i) nonce[i] ^= reuse_guard[i];
  return nonce;
}

MlsResult<void> check_group(BytesView group_id, std::uint64_t epoch, const GroupContext& context) {
  if (!std::equal(group_id.begin(), group_id.end(), context.group_id.begin(), context.group_id.end())) {
    return fail(Error::WrongGroup);
  }
  if (epoch != context.epoch) return fail(Error::WrongEpoch);
  return {};
}

MlsResult<void> verify_with_lookup(const AuthenticatedContent& c, const GroupContext& context,
                                   const SignerKeyLookup& signer_key) {
  auto key = signer_key(c.content.sender);
  if (!key) return fail(key.error());
  return verify_content_signature(c, context, *key);
}

}  // namespace

Bytes framed_content_tbs(WireFormat wire_format, const FramedContent& content, const GroupContext& context) {
  Writer w;
  write_tbs(w, wire_format, content, context);
  return w.take();
}

AuthenticatedContent sign_content(WireFormat wire_format, FramedContent content, const GroupContext& context,
                                  const crypto::SigningKey& key, std::optional<Bytes> confirmation_tag) {
  AuthenticatedContent out;
  out.wire_format = wire_format;
  out.auth.signature = sign_with_label(key, kTbsLabel, framed_content_tbs(wire_format, content, context));
  out.auth.confirmation_tag = std::move(confirmation_tag);
  out.content = std::move(content);
  return out;
}

MlsResult<void> verify_content_signature(const AuthenticatedContent& content, const GroupContext& context,
                                         BytesView public_key) {
  return verify_with_label(public_key, kTbsLabel, framed_content_tbs(content.wire_format, content.content, context),
                           content.auth.signature);
}

MlsResult<PublicMessage> protect_public(const AuthenticatedContent& content, BytesView membership_key,
                                        const GroupContext& context) {
  if (content.wire_format != WireFormat::PublicMessage ||
      content_type(content.content.content) == ContentType::Application) {
    return fail(Error::WrongWireFormat);
  }
  if (!confirmation_tag_consistent(content)) return fail(Error::InvalidValue);
  PublicMessage m;
  m.content = content.content;
  m.auth = content.auth;
  if (content.content.sender.sender_type == SenderType::Member) {
    const Digest tag = crypto::hmac_sha256(membership_key, tbm(content, context));
    m.membership_tag = Bytes(tag.begin(), tag.end());
  }
  return m;
}

MlsResult<AuthenticatedContent> unprotect_public(const PublicMessage& message, BytesView membership_key,
                                                 const GroupContext& context, const SignerKeyLookup& signer_key) {
  if (auto ok = check_group(message.content.group_id, message.content.epoch, context); !ok) return fail(ok.error());
  if (content_type(message.content.content) == ContentType::Application) return fail(Error::WrongWireFormat);
  AuthenticatedContent c{WireFormat::PublicMessage, message.content, message.auth};
  if (!confirmation_tag_consistent(c)) return fail(Error::InvalidValue);
  if (message.content.sender.sender_type == SenderType::Member) {
    if (!message.membership_tag) return fail(Error::InvalidMembershipTag);
    const Digest tag = crypto::hmac_sha256(membership_key, tbm(c, context));
    if (!crypto::equal_ct(tag, *message.membership_tag)) return fail(Error::InvalidMembershipTag);
  }
  if (auto ok = verify_with_lookup(c, context, signer_key); !ok) return fail(ok.error());
  return c;
}

MlsResult<PrivateMessage> protect_private(const AuthenticatedContent& content, SecretTree& tree,
                                          BytesView sender_data_secret, std::size_t padding_block, Rng& rng) {
  if (content.wire_format != WireFormat::PrivateMessage) return fail(Error::WrongWireFormat);
  if (content.content.sender.sender_type != SenderType::Member) return fail(Error::SenderOutOfRange);
  if (padding_block > kMaxPaddingBlock) return fail(Error::InvalidValue);
  if (!confirmation_tag_consistent(content)) return fail(Error::InvalidValue);
  const ContentType type = content_type(content.content.content);
  const LeafIndex sender{content.content.sender.index};

  PrivateMessage m;
  m.group_id = content.content.group_id;
  m.epoch = content.content.epoch;
  m.content_type = type;
  m.authenticated_data = content.content.authenticated_data;

  Writer plain;  // PrivateMessageContent
  write_content_body(plain, content.content.content);
  write(plain, content.auth);
  Bytes plaintext = plain.take();
  if (plaintext.size() + padding_block + kAeadTagSize > kMaxVectorSize) {
    crypto::wipe(plaintext.data(), plaintext.size());
    return fail(Error::VectorTooLong);
  }
  if (padding_block > 0) {
    const std::size_t rem = plaintext.size() % padding_block;
    if (rem != 0) plaintext.resize(plaintext.size() + padding_block - rem, 0);
  }

  auto key = tree.next_key(sender, ratchet_for(type));
  if (!key) return fail(key.error());
  std::array<std::uint8_t, kReuseGuardSize> reuse_guard{};
  rng.fill(reuse_guard);
  const auto nonce = guarded_nonce(*key, reuse_guard);
  auto ct = crypto::aead_seal(key->key.view(), nonce, private_content_aad(m), plaintext);
  crypto::wipe(plaintext.data(), plaintext.size());
  if (!ct) return fail(Error::CryptoFailed);
  m.ciphertext = std::move(*ct);

  Writer sender_data;  // SenderData
  sender_data.u32(sender.v);
  sender_data.u32(key->generation);
  sender_data.raw(reuse_guard);
  const SenderDataKey sd = sender_data_key(sender_data_secret, m.ciphertext);
  auto esd = crypto::aead_seal(sd.key.view(), sd.nonce, sender_data_aad(m), sender_data.bytes());
  if (!esd) return fail(Error::CryptoFailed);
  m.encrypted_sender_data = std::move(*esd);
  return m;
}

MlsResult<AuthenticatedContent> unprotect_private(const PrivateMessage& message, SecretTree& tree,
                                                  BytesView sender_data_secret, const GroupContext& context,
                                                  const SignerKeyLookup& signer_key) {
  if (auto ok = check_group(message.group_id, message.epoch, context); !ok) return fail(ok.error());

  const SenderDataKey sd = sender_data_key(sender_data_secret, message.ciphertext);
  auto sender_data = crypto::aead_open(sd.key.view(), sd.nonce, sender_data_aad(message),
                                       message.encrypted_sender_data);
  if (!sender_data) return fail(Error::DecryptFailed);
  Reader sr(*sender_data);
  const LeafIndex sender{sr.u32()};
  const std::uint32_t generation = sr.u32();
  const BytesView reuse_guard = sr.raw(kReuseGuardSize);
  if (auto done = sr.finish(); !done) return fail(done.error());
  if (sender.v >= tree.n_leaves()) return fail(Error::SenderOutOfRange);

  const RatchetType ratchet = ratchet_for(message.content_type);
  auto key = tree.key_for(sender, ratchet, generation);
  if (!key) return fail(key.error());
  const auto nonce = guarded_nonce(*key, reuse_guard);
  auto plaintext = crypto::aead_open(key->key.view(), nonce, private_content_aad(message), message.ciphertext);
  if (!plaintext) {
    tree.restore(sender, ratchet, std::move(*key));
    return fail(Error::DecryptFailed);
  }

  AuthenticatedContent c;
  c.wire_format = WireFormat::PrivateMessage;
  c.content.group_id = message.group_id;
  c.content.epoch = message.epoch;
  c.content.sender = Sender{SenderType::Member, sender.v};
  c.content.authenticated_data = message.authenticated_data;
  Reader pr(*plaintext);
  read_content_body(pr, message.content_type, c.content.content);
  read_auth(pr, message.content_type, c.auth);
  MlsResult<void> checked = pr.ok() ? MlsResult<void>{} : MlsResult<void>(fail(*pr.error()));
  if (checked) {
    const BytesView padding = pr.raw(pr.remaining());
    if (!std::all_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b == 0; })) {
      checked = fail(Error::InvalidPadding);
    }
  }
  if (checked) checked = verify_with_lookup(c, context, signer_key);
  crypto::wipe(plaintext->data(), plaintext->size());
  if (!checked) {
    // Authenticated by the AEAD but malformed or badly signed: the sender
    // holds the key, so the key is spent either way.
    return fail(checked.error());
  }
  return c;
}

}  // namespace hearth::mls
