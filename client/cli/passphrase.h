// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where hearth-cli gets a profile's passphrase: a file (for scripts and
// services), an environment variable, or the terminal with echo off.

#include <filesystem>
#include <optional>
#include <string>

#include "client/core/errors.h"

namespace hearth::cli {

/// The environment variable read when no passphrase file is given.
inline constexpr const char* kPassphraseEnv = "HEARTH_PASSPHRASE";
/// The same for the new passphrase of change-passphrase.
inline constexpr const char* kNewPassphraseEnv = "HEARTH_NEW_PASSPHRASE";
/// A passphrase file larger than this is refused unread (it is not a passphrase).
inline constexpr std::uintmax_t kMaxPassphraseFileSize = 4096;

/// A passphrase that wipes its bytes when it goes away.
class Passphrase {
 public:
  Passphrase() = default;
  explicit Passphrase(std::string s) : s_(std::move(s)) {}
  /// Copies, then wipes the source: a moved short string would leave its
  /// bytes in the source's inline buffer.
  Passphrase(Passphrase&& o) noexcept;
  Passphrase& operator=(Passphrase&&) = delete;
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  ~Passphrase();
  [[nodiscard]] std::string_view view() const noexcept { return s_; }

 private:
  std::string s_;
};

/// Reads a passphrase: the first line of `file` when given (a trailing
/// newline is not part of it), else the variable `env` when set, else from
/// the terminal (twice when `confirm`, for a new passphrase). Errors
/// (ClientCode::Passphrase): unreadable or oversized file, no terminal and
/// nothing else given, the two entries differ, empty.
[[nodiscard]] client::ClientResult<Passphrase> read_passphrase(const std::optional<std::filesystem::path>& file,
                                                               const char* env, bool confirm, const char* prompt);

}  // namespace hearth::cli
