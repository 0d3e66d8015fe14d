// SPDX-License-Identifier: Apache-2.0
#pragma once
// Message protection (RFC 9420 §6): signing and membership tags for
// PublicMessage; sender-data and content encryption, reuse guard and padding
// for PrivateMessage.
//
//   protect_private:   sign FramedContentTBS -> PrivateMessageContent || zero padding
//                      -> AEAD with the sender's ratchet key (nonce ^ reuse guard)
//                      -> SenderData AEAD with a key sampled from that ciphertext
//   unprotect_private: the reverse; the signature is checked against the key
//                      that `signer_key` returns for the decrypted sender.
//
// Secret-tree keys are consumed only by successful unprotection: a key taken
// for a message that then fails to decrypt goes back into the window.

#include <cstddef>
#include <functional>
#include <optional>

#include "common/crypto/crypto.h"
#include "common/mls/content.h"
#include "common/mls/group_context.h"
#include "common/mls/secret_tree.h"
#include "common/types/rng.h"

namespace hearth::mls {

/// DESIGN.md §4: chat messages are padded to a multiple of 256 bytes.
inline constexpr std::size_t kDefaultPaddingBlock = 256;
/// Largest padding block a caller may ask for.
inline constexpr std::size_t kMaxPaddingBlock = 4096;

/// The signature public key of a sender, as the group's tree knows it.
/// Returns SenderOutOfRange (or another error) for an unknown sender.
using SignerKeyLookup = std::function<MlsResult<Bytes>(const Sender&)>;

/// FramedContentTBS, the signed bytes of a message.
[[nodiscard]] Bytes framed_content_tbs(WireFormat wire_format, const FramedContent& content,
                                       const GroupContext& context);
/// Signs `content` for `wire_format`; a commit needs its `confirmation_tag`.
[[nodiscard]] AuthenticatedContent sign_content(WireFormat wire_format, FramedContent content,
                                                const GroupContext& context, const crypto::SigningKey& key,
                                                std::optional<Bytes> confirmation_tag);
/// InvalidSignature if the signature does not verify under `public_key`.
[[nodiscard]] MlsResult<void> verify_content_signature(const AuthenticatedContent& content,
                                                       const GroupContext& context, BytesView public_key);

/// PublicMessage from signed content; a member sender gets a membership tag.
/// WrongWireFormat for application data (which must be private).
[[nodiscard]] MlsResult<PublicMessage> protect_public(const AuthenticatedContent& content,
                                                      BytesView membership_key, const GroupContext& context);
/// Checks group, epoch, membership tag (member senders) and signature.
[[nodiscard]] MlsResult<AuthenticatedContent> unprotect_public(const PublicMessage& message,
                                                               BytesView membership_key,
                                                               const GroupContext& context,
                                                               const SignerKeyLookup& signer_key);

/// PrivateMessage from signed member content. `padding_block` 0 means no
/// padding; otherwise the plaintext is padded to a multiple of it (at most
/// kMaxPaddingBlock, InvalidValue above). SenderOutOfRange for a non-member
/// sender; VectorTooLong when the padded content would exceed kMaxVectorSize
/// (the receiving decoder's bound).
[[nodiscard]] MlsResult<PrivateMessage> protect_private(const AuthenticatedContent& content, SecretTree& tree,
                                                        BytesView sender_data_secret, std::size_t padding_block,
                                                        Rng& rng);
/// Decrypts, checks group and epoch, padding and signature. The key used is
/// deleted from `tree` only on success.
[[nodiscard]] MlsResult<AuthenticatedContent> unprotect_private(const PrivateMessage& message, SecretTree& tree,
                                                                BytesView sender_data_secret,
                                                                const GroupContext& context,
                                                                const SignerKeyLookup& signer_key);

}  // namespace hearth::mls
