// SPDX-License-Identifier: Apache-2.0
#pragma once
// The TLS presentation language as RFC 9420 §2.1 uses it: big-endian
// integers, variable-length vectors with a §2.1.2 varint length prefix,
// optionals as a presence byte, structs as concatenation.
//
// Reader is "sticky": the first error is kept, every later read returns a
// zero value and consumes nothing, and every reader of a nested vector shares
// its root's error. Decoders read a whole struct and check `finish()` once.
// A Reader never reads outside its input and never allocates: lengths are
// checked against the remaining input before anything is taken.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/mls/error.h"
#include "common/types/bytes.h"

namespace hearth::mls {

/// Largest value a varint can hold (30 bits).
inline constexpr std::uint64_t kMaxVarint = (std::uint64_t{1} << 30) - 1;
/// Largest vector (in bytes) the decoder accepts; larger prefixes are
/// VectorTooLong even when that many bytes follow.
inline constexpr std::size_t kMaxVectorSize = std::size_t{1} << 24;

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put_u16(out_, v); }
  void u32(std::uint32_t v) { put_u32(out_, v); }
  void u64(std::uint64_t v) { put_u64(out_, v); }
  void raw(BytesView v) { append(out_, v); }
  /// Precondition: v <= kMaxVarint; throws std::length_error otherwise (a
  /// bug: callers bound what they encode, see protect_private).
  void varint(std::uint64_t v);
  /// opaque data<V>.
  void opaque(BytesView v);
  /// A vector whose body `write_body(Writer&)` produces.
  template <class F>
  void vector(F&& write_body) {
    Writer inner;
    write_body(inner);
    opaque(inner.out_);
  }
  template <class T>
  void optional(const std::optional<T>& v) {
    u8(v ? 1 : 0);
    if (v) write(*this, *v);
  }
  template <class T>
  void list(const std::vector<T>& items) {
    vector([&](Writer& w) {
      for (const auto& item : items) write(w, item);
    });
  }

  [[nodiscard]] const Bytes& bytes() const noexcept { return out_; }
  [[nodiscard]] Bytes take() noexcept { return std::move(out_); }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(BytesView in) noexcept : in_(in) {}

  [[nodiscard]] bool ok() const noexcept { return !slot().has_value(); }
  [[nodiscard]] std::optional<Error> error() const noexcept { return slot(); }
  /// Records `e` (if no error yet) and stops all further reading.
  void set_error(Error e) noexcept;
  /// True once everything is read, or after an error (so loops end).
  [[nodiscard]] bool empty() const noexcept { return !ok() || pos_ == in_.size(); }
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size() - pos_; }

  std::uint8_t u8() noexcept;
  std::uint16_t u16() noexcept;
  std::uint32_t u32() noexcept;
  std::uint64_t u64() noexcept;
  BytesView raw(std::size_t n) noexcept;
  std::uint64_t varint() noexcept;
  /// opaque data<V>: a view into the input.
  BytesView opaque() noexcept;
  Bytes opaque_bytes() {
    const BytesView v = opaque();
    return Bytes(v.begin(), v.end());
  }
  /// A reader over the body of a vector, sharing this reader's error.
  Reader vector() noexcept;
  /// A presence byte: 0 or 1, anything else is InvalidValue.
  bool presence() noexcept;

  template <class T>
  std::optional<T> optional() {
    if (!presence()) return std::nullopt;
    T v{};
    read(*this, v);
    return v;
  }
  /// A vector of `T`s; each element must consume at least one byte.
  template <class T>
  std::vector<T> list() {
    Reader sub = vector();
    std::vector<T> out;
    while (!sub.empty()) {
      const std::size_t before = sub.remaining();
      T item{};
      read(sub, item);
      if (!sub.ok()) break;
      if (sub.remaining() == before) {
        sub.set_error(Error::InvalidValue);
        break;
      }
      out.push_back(std::move(item));
    }
    return out;
  }

  /// Ok when no error occurred and all input was consumed.
  [[nodiscard]] MlsResult<void> finish() const;

 private:
  [[nodiscard]] std::optional<Error>& slot() noexcept { return sink_ != nullptr ? *sink_ : error_; }
  [[nodiscard]] const std::optional<Error>& slot() const noexcept { return sink_ != nullptr ? *sink_ : error_; }

  BytesView in_;
  std::size_t pos_ = 0;
  std::optional<Error> error_;
  std::optional<Error>* sink_ = nullptr;  // the root reader's error, for nested readers
};

/// Encodes any type with a `write(Writer&, const T&)` overload.
template <class T>
[[nodiscard]] Bytes encode(const T& value) {
  Writer w;
  write(w, value);
  return w.take();
}

/// Decodes exactly one `T` from `in`: no trailing bytes.
template <class T>
[[nodiscard]] MlsResult<T> decode(BytesView in) {
  Reader r(in);
  T value{};
  read(r, value);
  if (auto done = r.finish(); !done) return fail(done.error());
  return value;
}

// Integer and byte-string overloads, so lists of them work.
inline void write(Writer& w, std::uint8_t v) { w.u8(v); }
inline void write(Writer& w, std::uint16_t v) { w.u16(v); }
inline void write(Writer& w, std::uint32_t v) { w.u32(v); }
inline void write(Writer& w, const Bytes& v) { w.opaque(v); }
inline void read(Reader& r, std::uint8_t& v) { v = r.u8(); }
inline void read(Reader& r, std::uint16_t& v) { v = r.u16(); }
inline void read(Reader& r, std::uint32_t& v) { v = r.u32(); }
inline void read(Reader& r, Bytes& v) { v = r.opaque_bytes(); }

template <class T>
void write(Writer& w, const std::optional<T>& v) {
  w.optional(v);
}
template <class T>
void read(Reader& r, std::optional<T>& v) {
  v = r.optional<T>();
}

/// The varint header alone (deserialization vectors).
[[nodiscard]] Bytes encode_varint(std::uint64_t v);
[[nodiscard]] MlsResult<std::uint64_t> decode_varint(BytesView in);

}  // namespace hearth::mls
