// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/deliver_scan.h"

#include "common/wire/messages.h"

namespace hearth::bench {
namespace {

// Field numbers of hearth.v1.Frame and hearth.v1.Deliver (proto/hearth/v1/hearth.proto).
constexpr std::uint64_t kFrameRequestId = 1;
constexpr std::uint64_t kFrameDeliver = 70;
constexpr std::uint64_t kRoomId = 1;
constexpr std::uint64_t kSeq = 2;
constexpr std::uint64_t kKind = 3;
constexpr std::uint64_t kSender = 4;
constexpr std::uint64_t kEnvelopeId = 5;
constexpr std::uint64_t kEpoch = 6;
constexpr std::uint64_t kPayload = 8;
constexpr std::uint64_t kRosterChanges = 9;

constexpr std::uint64_t kVarint = 0;
constexpr std::uint64_t kFixed64 = 1;
constexpr std::uint64_t kLengthDelimited = 2;
constexpr std::uint64_t kFixed32 = 5;

class Cursor {
 public:
  explicit Cursor(BytesView in) : in_(in) {}
  [[nodiscard]] bool done() const noexcept { return pos_ == in_.size(); }

  [[nodiscard]] std::optional<std::uint64_t> varint() noexcept {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < in_.size(); shift += 7) {
      const std::uint8_t b = in_[pos_++];
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::optional<BytesView> bytes() noexcept {
    auto n = varint();
    if (!n || *n > in_.size() - pos_) return std::nullopt;
    auto out = in_.subspan(pos_, static_cast<std::size_t>(*n));
    pos_ += static_cast<std::size_t>(*n);
    return out;
  }

  [[nodiscard]] bool skip(std::uint64_t wire_type) noexcept {
    switch (wire_type) {
      case kVarint: return varint().has_value();
      case kLengthDelimited: return bytes().has_value();
      case kFixed64: return advance(8);
      case kFixed32: return advance(4);
      default: return false;  // groups are not used by proto3
    }
  }

 private:
  [[nodiscard]] bool advance(std::size_t n) noexcept {
    if (n > in_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  BytesView in_;
  std::size_t pos_ = 0;
};

std::optional<DeliverView> scan_body(BytesView body) noexcept {
  DeliverView d;
  bool has_room = false;
  bool has_sender = false;
  bool has_envelope = false;
  Cursor c(body);
  while (!c.done()) {
    auto tag = c.varint();
    if (!tag) return std::nullopt;
    const std::uint64_t field = *tag >> 3;
    const std::uint64_t type = *tag & 7;
    if (type == kLengthDelimited && (field == kRoomId || field == kSender || field == kEnvelopeId || field == kPayload)) {
      auto v = c.bytes();
      if (!v) return std::nullopt;
      if (field == kRoomId) {
        d.room = *v;
        has_room = true;
      } else if (field == kSender) {
        d.sender = *v;
        has_sender = true;
      } else if (field == kEnvelopeId) {
        has_envelope = v->size() == wire::kEnvelopeIdSize;
      } else {
        d.payload = *v;
      }
    } else if (type == kVarint && (field == kSeq || field == kKind || field == kEpoch)) {
      auto v = c.varint();
      if (!v) return std::nullopt;
      if (field == kSeq) d.seq = *v;
      if (field == kKind) d.kind = *v;
      if (field == kEpoch) d.epoch = *v;
    } else if (field == kRosterChanges || field == kRoomId || field == kSender || field == kEnvelopeId ||
               field == kPayload || field == kSeq || field == kKind || field == kEpoch) {
      return std::nullopt;  // roster changes, or a known field with the wrong wire type
    } else if (!c.skip(type)) {
      return std::nullopt;
    }
  }
  if (!has_room || d.room.size() < wire::kMinRoomIdSize || d.room.size() > wire::kMaxRoomIdSize) return std::nullopt;
  if (!has_sender || d.sender.size() != wire::kAccountIdSize || !has_envelope || d.seq == 0) return std::nullopt;
  return d;
}

}  // namespace

std::optional<DeliverView> scan_deliver(BytesView body) noexcept {
  Cursor c(body);
  std::optional<DeliverView> found;
  while (!c.done()) {
    auto tag = c.varint();
    if (!tag) return std::nullopt;
    const std::uint64_t field = *tag >> 3;
    const std::uint64_t type = *tag & 7;
    if (field == kFrameRequestId && type == kVarint) {
      auto id = c.varint();
      if (!id || *id != 0) return std::nullopt;  // pushes carry no request id
    } else if (field == kFrameDeliver && type == kLengthDelimited && !found) {
      auto inner = c.bytes();
      if (!inner) return std::nullopt;
      found = scan_body(*inner);
      if (!found) return std::nullopt;
    } else {
      return std::nullopt;  // another body, or something wire::decode should judge
    }
  }
  return found;
}

}  // namespace hearth::bench
