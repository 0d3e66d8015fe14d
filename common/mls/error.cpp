// SPDX-License-Identifier: Apache-2.0
#include "common/mls/error.h"

namespace hearth::mls {

std::string to_string(Error e) {
  switch (e) {
    case Error::Truncated: return "truncated";
    case Error::TrailingBytes: return "trailing bytes";
    case Error::InvalidVarint: return "invalid variable-length integer";
    case Error::VectorTooLong: return "vector too long";
    case Error::InvalidValue: return "invalid value";
    case Error::UnsupportedCipherSuite: return "unsupported cipher suite";
    case Error::UnsupportedVersion: return "unsupported protocol version";
    case Error::CryptoFailed: return "crypto failed";
    case Error::DecryptFailed: return "decryption failed";
    case Error::InvalidSignature: return "invalid signature";
    case Error::InvalidMembershipTag: return "invalid membership tag";
    case Error::WrongGroup: return "wrong group";
    case Error::WrongEpoch: return "wrong epoch";
    case Error::WrongWireFormat: return "wrong wire format";
    case Error::SenderOutOfRange: return "sender out of range";
    case Error::GenerationExpired: return "generation expired";
    case Error::GenerationTooFarAhead: return "generation too far ahead";
    case Error::InvalidPadding: return "invalid padding";
    case Error::InvalidLeafNode: return "invalid leaf node";
    case Error::InvalidKeyPackage: return "invalid key package";
    case Error::LifetimeExpired: return "key package lifetime expired";
    case Error::InvalidTree: return "invalid ratchet tree";
    case Error::InvalidParentHash: return "invalid parent hash";
    case Error::TreeHashMismatch: return "tree hash mismatch";
    case Error::InvalidProposal: return "invalid proposal";
    case Error::UnknownProposal: return "unknown proposal reference";
    case Error::InvalidCommit: return "invalid commit";
    case Error::InvalidConfirmationTag: return "invalid confirmation tag";
    case Error::InvalidWelcome: return "invalid welcome";
    case Error::UnknownPsk: return "unknown pre-shared key";
    case Error::PolicyViolation: return "role policy violation";
    case Error::TooManyMembers: return "too many members";
    case Error::Unsupported: return "unsupported";
    case Error::Removed: return "removed from the group";
    case Error::ForeignIdentity: return "credential or signature key of another account";
  }
  return "unknown";
}

}  // namespace hearth::mls
