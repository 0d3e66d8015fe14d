// SPDX-License-Identifier: Apache-2.0
#include "common/wire/framing.h"

namespace hearth::wire {

std::string to_string(FramingError e) {
  switch (e) {
    case FramingError::ZeroLength: return "zero-length frame";
    case FramingError::TooLarge: return "frame over the size limit";
  }
  return "unknown framing error";
}

Result<std::uint32_t, FramingError> check_length(BytesView prefix, std::uint32_t max_size) noexcept {
  std::uint32_t n = get_u32(prefix);
  if (n == 0) return fail(FramingError::ZeroLength);
  if (n > max_size) return fail(FramingError::TooLarge);
  return n;
}

void FrameReader::feed(BytesView data) {
  if (failed_) return;
  // Compact before growing so a long-lived stream does not keep consumed bytes.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

Result<std::optional<Bytes>, FramingError> FrameReader::next() {
  if (failed_) return fail(*failed_);
  if (buffered() < kLengthPrefixSize) return std::optional<Bytes>{};
  BytesView rest(buf_.data() + pos_, buffered());
  auto len = check_length(rest, max_size_);
  if (!len) {
    failed_ = len.error();
    return fail(len.error());
  }
  if (rest.size() - kLengthPrefixSize < *len) return std::optional<Bytes>{};
  auto body = rest.subspan(kLengthPrefixSize, *len);
  Bytes out(body.begin(), body.end());
  pos_ += kLengthPrefixSize + *len;
  return std::optional<Bytes>{std::move(out)};
}

}  // namespace hearth::wire
