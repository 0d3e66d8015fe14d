// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one cipher suite Hearth implements (DESIGN.md §4):
// MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519.

#include <cstddef>
#include <cstdint>

#include "common/crypto/crypto.h"
#include "common/crypto/hpke.h"

namespace hearth::mls {

inline constexpr std::uint16_t kCipherSuite = 0x0003;
inline constexpr std::uint16_t kProtocolVersionMls10 = 0x0001;
inline constexpr std::size_t kHashSize = crypto::kSha256Size;       // KDF.Nh
inline constexpr std::size_t kAeadKeySize = crypto::kAeadKeySize;   // AEAD.Nk
inline constexpr std::size_t kAeadNonceSize = crypto::kAeadNonceSize;  // AEAD.Nn
inline constexpr std::size_t kAeadTagSize = crypto::kAeadTagSize;

[[nodiscard]] constexpr bool is_supported_cipher_suite(std::uint16_t suite) noexcept {
  return suite == kCipherSuite;
}

}  // namespace hearth::mls
