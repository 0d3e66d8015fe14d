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
  }
  return "unknown";
}

}  // namespace hearth::mls
