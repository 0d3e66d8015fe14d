// SPDX-License-Identifier: Apache-2.0
#pragma once
// What hearth-cli prints: human-readable lines, or with --json one JSON
// object per line on stdout. Errors go to stderr (as JSON with --json).

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "client/core/errors.h"

namespace hearth::cli {

/// Exit codes, documented in --help.
enum class Exit : int {
  Ok = 0,
  Local = 1,       // the local profile failed (unreadable, newer schema) or an internal error
  Usage = 2,       // bad arguments, bad invite, not registered, unknown room
  Connection = 3,  // cannot connect, TLS failure, pin mismatch, connection lost
  Auth = 4,        // registration or login refused, or the passphrase does not open the profile
  Refused = 5,     // the relay refused a request (the error code name is printed)
  Timeout = 6,     // no answer / not enough messages within --timeout
};

[[nodiscard]] Exit exit_for(client::ClientCode c) noexcept;

class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  [[nodiscard]] bool json() const noexcept { return json_; }

  /// One result: with --json the object, else `human` (when not empty).
  void emit(const nlohmann::json& object, const std::string& human) const;
  /// Reports an error on stderr and returns its exit code.
  [[nodiscard]] Exit error(const client::ClientError& e) const;
  [[nodiscard]] Exit usage(const std::string& message) const;

 private:
  bool json_;
};

/// JSON text that survives invalid UTF-8 in payloads (replaced, never thrown).
[[nodiscard]] std::string dump(const nlohmann::json& j);

}  // namespace hearth::cli
