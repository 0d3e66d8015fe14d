// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace hearth {

/// Wall-clock time as Unix milliseconds. Pure code takes the value as a
/// parameter; I/O layers hold a Clock so tests can move time by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock for tests. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  [[nodiscard]] std::int64_t now_ms() const override { return now_.load(); }
  void advance_ms(std::int64_t d) { now_.fetch_add(d); }
  void set_ms(std::int64_t t) { now_.store(t); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace hearth
