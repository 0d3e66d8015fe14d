// SPDX-License-Identifier: Apache-2.0
#pragma once
// Length-prefixed framing: a 4-byte big-endian length, then that many bytes.
// The length is checked before anything is allocated.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/types/bytes.h"
#include "common/types/result.h"

namespace hearth::wire {

inline constexpr std::size_t kLengthPrefixSize = 4;
/// Default and negotiated maximum frame body size (DESIGN.md §2).
inline constexpr std::uint32_t kDefaultMaxFrameSize = 1u << 20;
/// The smallest maximum a relay may be configured with.
inline constexpr std::uint32_t kMinMaxFrameSize = 4096;

enum class FramingError : std::uint8_t {
  ZeroLength,  // a frame must have a body
  TooLarge,    // length prefix over the maximum
};
[[nodiscard]] std::string to_string(FramingError e);

/// Validates a length prefix. `prefix` must hold kLengthPrefixSize bytes.
[[nodiscard]] Result<std::uint32_t, FramingError> check_length(BytesView prefix, std::uint32_t max_size) noexcept;

/// Incremental decoder for a byte stream: feed what arrived, take whole
/// frame bodies out. After an error the reader stays failed (the stream is
/// out of sync and the connection must close). Not thread-safe.
class FrameReader {
 public:
  explicit FrameReader(std::uint32_t max_size = kDefaultMaxFrameSize) : max_size_(max_size) {}

  /// Appends received bytes.
  void feed(BytesView data);
  /// The next complete frame body, nullopt when more bytes are needed, or an
  /// error when the stream is invalid.
  [[nodiscard]] Result<std::optional<Bytes>, FramingError> next();
  /// Bytes buffered but not yet returned.
  [[nodiscard]] std::size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  std::uint32_t max_size_;
  Bytes buf_;
  std::size_t pos_ = 0;
  std::optional<FramingError> failed_;
};

}  // namespace hearth::wire
