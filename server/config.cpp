// SPDX-License-Identifier: Apache-2.0
#include "server/config.h"

#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "common/wire/framing.h"

namespace hearth::relay {

std::string to_string(ConfigCode c) {
  switch (c) {
    case ConfigCode::Unreadable: return "Unreadable";
    case ConfigCode::BadToml: return "BadToml";
    case ConfigCode::UnknownKey: return "UnknownKey";
    case ConfigCode::BadValue: return "BadValue";
  }
  return "Unknown";
}

Result<ListenAddress, ConfigError> parse_listen(std::string_view text) {
  const auto bad = [&] { return fail(ConfigError{ConfigCode::BadValue, "listen: expected HOST:PORT"}); };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return bad();
  ListenAddress out;
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();
  }
  std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value > 65535) return bad();
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

namespace {

template <class T>
[[nodiscard]] Result<void, ConfigError> read_uint(const toml::node& node, std::string_view key, T& out) {
  auto v = node.value<std::int64_t>();
  if (!node.is_integer() || !v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max())
    return fail(ConfigError{ConfigCode::BadValue, std::string(key) + ": expected a non-negative integer in range"});
  out = static_cast<T>(*v);
  return {};
}

[[nodiscard]] Result<void, ConfigError> read_string(const toml::node& node, std::string_view key, std::string& out) {
  if (!node.is_string()) return fail(ConfigError{ConfigCode::BadValue, std::string(key) + ": expected a string"});
  out = *node.value<std::string>();
  return {};
}

[[nodiscard]] Result<void, ConfigError> apply_key(Config& c, std::string_view key, const toml::node& node) {
  std::string s;
  if (key == "listen") {
    if (auto r = read_string(node, key, s); !r) return r;
    auto l = parse_listen(s);
    if (!l) return fail(l.error());
    c.listen = *l;
    return {};
  }
  if (key == "data_dir" || key == "cert_file" || key == "key_file") {
    if (auto r = read_string(node, key, s); !r) return r;
    (key == "data_dir" ? c.data_dir : key == "cert_file" ? c.cert_file : c.key_file) = s;
    return {};
  }
  if (key == "public_host") return read_string(node, key, c.public_host);
  if (key == "log_level") return read_string(node, key, c.log_level);
  if (key == "public_port") return read_uint(node, key, c.public_port);
  if (key == "max_frame_size") return read_uint(node, key, c.max_frame_size);
  if (key == "retention_days") return read_uint(node, key, c.retention_days);
  if (key == "retention_interval_ms") return read_uint(node, key, c.retention_interval_ms);
  if (key == "rate_frames_per_second") return read_uint(node, key, c.rate_frames_per_second);
  if (key == "rate_burst") return read_uint(node, key, c.rate_burst);
  if (key == "outbox_bytes") return read_uint(node, key, c.outbox_bytes);
  if (key == "outbox_frames") return read_uint(node, key, c.outbox_frames);
  if (key == "idle_timeout_seconds") return read_uint(node, key, c.idle_timeout_seconds);
  if (key == "handshake_timeout_seconds") return read_uint(node, key, c.handshake_timeout_seconds);
  if (key == "ack_flush_interval_ms") return read_uint(node, key, c.ack_flush_interval_ms);
  if (key == "checkpoint_interval_ms") return read_uint(node, key, c.checkpoint_interval_ms);
  return fail(ConfigError{ConfigCode::UnknownKey, "unknown key '" + std::string(key) + "'"});
}

}  // namespace

Result<Config, ConfigError> apply_toml(Config base, std::string_view toml_text) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "line " << e.source().begin.line << ": " << e.description();
    return fail(ConfigError{ConfigCode::BadToml, msg.str()});
  }
  for (const auto& [key, node] : table) {
    if (auto r = apply_key(base, key.str(), node); !r) return fail(r.error());
  }
  return base;
}

Result<Config, ConfigError> load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ConfigError{ConfigCode::Unreadable, "cannot read " + path.string()});
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(ConfigError{ConfigCode::Unreadable, "cannot read " + path.string()});
  return apply_toml(Config{}, text.str());
}

Result<void, ConfigError> validate(const Config& c) {
  const auto bad = [](std::string what) { return fail(ConfigError{ConfigCode::BadValue, std::move(what)}); };
  if (c.data_dir.empty()) return bad("data_dir must not be empty");
  if (c.cert_file.empty() != c.key_file.empty()) return bad("cert_file and key_file go together");
  if (c.max_frame_size < wire::kMinMaxFrameSize || c.max_frame_size > kMaxConfigurableFrameSize)
    return bad("max_frame_size must be between " + std::to_string(wire::kMinMaxFrameSize) + " and " +
               std::to_string(kMaxConfigurableFrameSize));
  if (c.retention_days == 0 || c.retention_days > kMaxRetentionDays)
    return bad("retention_days must be between 1 and " + std::to_string(kMaxRetentionDays));
  if (c.retention_interval_ms == 0) return bad("retention_interval_ms must be positive");
  if (c.rate_frames_per_second == 0 || c.rate_burst == 0) return bad("rate limits must be positive");
  if (c.outbox_bytes < kMinOutboxBytes) return bad("outbox_bytes must be at least " + std::to_string(kMinOutboxBytes));
  if (c.outbox_bytes < 2ull * c.max_frame_size) return bad("outbox_bytes must hold at least two maximum frames");
  if (c.outbox_frames < 16) return bad("outbox_frames must be at least 16");
  if (c.idle_timeout_seconds == 0 || c.handshake_timeout_seconds == 0) return bad("timeouts must be positive");
  if (c.ack_flush_interval_ms == 0 || c.checkpoint_interval_ms == 0) return bad("intervals must be positive");
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (auto l : kLevels) level_ok = level_ok || c.log_level == l;
  if (!level_ok) return bad("log_level must be one of trace, debug, info, warn, error, critical, off");
  return {};
}

}  // namespace hearth::relay
