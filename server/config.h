// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay's settings: defaults, the TOML file (`--config`), and checks.
// Every setting has a safe default, so a bare `hearth-relay` works. Command
// line flags (main.cpp) override the file.
//
// TOML keys (all optional, top level):
//   listen = "127.0.0.1:7443"         data_dir = "./hearth-data"
//   cert_file = ""  key_file = ""     (both or neither; PEM)
//   public_host = ""  public_port = 0 (for invites; default: the listen address)
//   max_frame_size = 1048576          retention_days = 14
//   retention_interval_ms = 60000     rate_frames_per_second = 20000
//   rate_burst = 40000                outbox_bytes = 8388608
//   outbox_frames = 65536             idle_timeout_seconds = 300
//   handshake_timeout_seconds = 15    ack_flush_interval_ms = 500
//   checkpoint_interval_ms = 1000     log_level = "info"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/types/result.h"

namespace hearth::relay {

inline constexpr std::uint16_t kDefaultPort = 7443;
/// The largest max_frame_size IT may configure.
inline constexpr std::uint32_t kMaxConfigurableFrameSize = 16u << 20;
inline constexpr std::uint32_t kMaxRetentionDays = 3650;
inline constexpr std::uint32_t kMinOutboxBytes = 64u << 10;

enum class ConfigCode {
  Unreadable,    // the file cannot be read
  BadToml,       // not valid TOML
  UnknownKey,    // a key this relay does not know (usually a typo)
  BadValue,      // wrong type or out of range
};
[[nodiscard]] std::string to_string(ConfigCode c);
using ConfigError = Failure<ConfigCode>;

struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = kDefaultPort;
};

struct Config {
  ListenAddress listen;
  std::filesystem::path data_dir = "./hearth-data";
  std::filesystem::path cert_file;  // empty: self-signed in <data_dir>/tls/
  std::filesystem::path key_file;
  std::string public_host;          // empty: the listen host
  std::uint16_t public_port = 0;    // 0: the listen port (7443 when that is 0)
  std::uint32_t max_frame_size = 1u << 20;
  std::uint32_t retention_days = 14;
  std::uint32_t retention_interval_ms = 60'000;
  std::uint32_t rate_frames_per_second = 20'000;
  std::uint32_t rate_burst = 40'000;
  std::uint64_t outbox_bytes = 8u << 20;
  std::uint32_t outbox_frames = 65'536;
  std::uint32_t idle_timeout_seconds = 300;
  std::uint32_t handshake_timeout_seconds = 15;
  std::uint32_t ack_flush_interval_ms = 500;
  std::uint32_t checkpoint_interval_ms = 1000;
  std::string log_level = "info";

  [[nodiscard]] std::uint64_t retention_limit_ms() const noexcept {
    return std::uint64_t{retention_days} * 24 * 3600 * 1000;
  }
  [[nodiscard]] std::string invite_host() const { return public_host.empty() ? listen.host : public_host; }
  [[nodiscard]] std::uint16_t invite_port() const noexcept {
    if (public_port != 0) return public_port;
    return listen.port != 0 ? listen.port : kDefaultPort;
  }
};

/// "HOST:PORT", "[V6]:PORT"; port 0 asks the OS for a free one.
[[nodiscard]] Result<ListenAddress, ConfigError> parse_listen(std::string_view text);
/// Applies TOML text over `base`.
[[nodiscard]] Result<Config, ConfigError> apply_toml(Config base, std::string_view toml_text);
/// Reads and applies a TOML file over the defaults.
[[nodiscard]] Result<Config, ConfigError> load_config_file(const std::filesystem::path& path);
/// Cross-field and range checks, after flags were applied.
[[nodiscard]] Result<void, ConfigError> validate(const Config& config);

}  // namespace hearth::relay
