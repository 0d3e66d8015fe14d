// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

using Bytes = std::vector<std::uint8_t>;
using BytesView = std::span<const std::uint8_t>;

/// Views the characters of a string as bytes (no copy).
[[nodiscard]] BytesView as_bytes(std::string_view s) noexcept;
/// Copies bytes into a std::string (byte for byte; not a text conversion).
[[nodiscard]] std::string to_string_bytes(BytesView b);
[[nodiscard]] Bytes to_bytes(std::string_view s);

/// Lower-case hex of `b`.
[[nodiscard]] std::string to_hex(BytesView b);
/// Parses hex (either case). Returns nullopt on odd length or a non-hex digit.
[[nodiscard]] std::optional<Bytes> from_hex(std::string_view hex);

/// Appends `tail` to `out`.
void append(Bytes& out, BytesView tail);

/// Big-endian fixed-width integer helpers used by framing and transcripts.
void put_u16(Bytes& out, std::uint16_t v);
void put_u32(Bytes& out, std::uint32_t v);
void put_u64(Bytes& out, std::uint64_t v);
[[nodiscard]] std::uint32_t get_u32(BytesView in) noexcept;  // precondition: in.size() >= 4
[[nodiscard]] std::uint64_t get_u64(BytesView in) noexcept;  // precondition: in.size() >= 8

}  // namespace hearth
