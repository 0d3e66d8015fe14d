// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one error type of common/mls: everything a peer can cause.

#include <string>

#include "common/types/result.h"

namespace hearth::mls {

enum class Error {
  Truncated,               // input ended inside a value
  TrailingBytes,           // bytes left after a complete value
  InvalidVarint,           // reserved prefix 0b11 or a non-minimal encoding
  VectorTooLong,           // a length prefix above kMaxVectorSize
  InvalidValue,            // an unknown enum value, an optional flag other than 0/1
  UnsupportedCipherSuite,  // anything but 0x0003
  UnsupportedVersion,      // a protocol version other than mls10
  CryptoFailed,            // a key of the wrong size, a weak shared secret
  DecryptFailed,           // AEAD or HPKE authentication failed
  InvalidSignature,        // a signature does not verify
  InvalidMembershipTag,    // PublicMessage membership tag mismatch
  WrongGroup,              // message for another group
  WrongEpoch,              // message for another epoch
  WrongWireFormat,         // e.g. an application message as PublicMessage
  SenderOutOfRange,        // leaf index outside the tree
  GenerationExpired,       // key already used and deleted, or fell out of the window
  GenerationTooFarAhead,   // beyond kMaxForwardRatchetDistance
  InvalidPadding,          // non-zero padding in a PrivateMessageContent
  // ---- part 2: trees, proposals, commits, Welcome ----
  InvalidLeafNode,         // §7.3: source, capabilities, lifetime, duplicate key
  InvalidKeyPackage,       // §10.1: version, suite, signature, init key
  LifetimeExpired,         // a KeyPackage leaf outside its lifetime
  InvalidTree,             // malformed or inconsistent ratchet tree (§7.9, §12.4.3.1)
  InvalidParentHash,       // a parent-hash chain that does not verify
  TreeHashMismatch,        // a tree whose hash differs from the GroupContext's
  InvalidProposal,         // a §12.2 rule broken
  UnknownProposal,         // a proposal reference not in this epoch's cache
  InvalidCommit,           // missing path where required, path of the wrong length, own commit
  InvalidConfirmationTag,  // a commit or GroupInfo confirmation tag mismatch
  InvalidWelcome,          // no secrets for our KeyPackage, inconsistent GroupInfo
  UnknownPsk,              // a PSK the supplier does not know
  PolicyViolation,         // the Hearth role policy forbids the change
  TooManyMembers,          // above kMaxGroupLeaves
  Unsupported,             // ReInit, ExternalInit, external senders, other credentials
  Removed,                 // this member was removed: the state can no longer send or read
  // ---- Hearth identity ----
  ForeignIdentity,         // a credential not naming its account, or a signature key not the account's
};
[[nodiscard]] std::string to_string(Error e);

template <class T>
using MlsResult = Result<T, Error>;

}  // namespace hearth::mls
