// SPDX-License-Identifier: Apache-2.0
// hearth-relay: serve (no subcommand) or administer (`invite`).
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "server/config.h"
#include "server/server.h"

namespace {

using hearth::relay::Config;

/// Flags that override the config file; unset ones leave it alone.
struct Overrides {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  std::optional<std::string> public_host;
  std::optional<std::uint16_t> public_port;
  std::optional<std::uint32_t> max_frame_size;
  std::optional<std::uint32_t> retention_days;
  std::optional<std::uint32_t> retention_interval_ms;
  std::optional<std::uint32_t> rate_frames_per_second;
  std::optional<std::uint32_t> rate_burst;
  std::optional<std::uint64_t> outbox_bytes;
  std::optional<std::uint32_t> outbox_frames;
  std::optional<std::uint32_t> idle_timeout_seconds;
  std::optional<std::uint32_t> handshake_timeout_seconds;
  std::optional<std::uint32_t> ack_flush_interval_ms;
  std::optional<std::uint32_t> checkpoint_interval_ms;
  std::optional<std::string> log_level;
};

void add_common(CLI::App& app, Overrides& o) {
  app.add_option("--config", o.config_file, "TOML config file");
  app.add_option("--data-dir", o.data_dir, "data directory (default ./hearth-data)");
  app.add_option("--cert", o.cert_file, "PEM certificate (default: self-signed in <data-dir>/tls)");
  app.add_option("--key", o.key_file, "PEM private key for --cert");
  app.add_option("--public-host", o.public_host, "host name put into invites (default: the listen host)");
  app.add_option("--public-port", o.public_port, "port put into invites (default: the listen port)");
  app.add_option("--listen", o.listen, "HOST:PORT to listen on (default 127.0.0.1:7443; port 0 picks one)");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical, off");
}

void add_serve(CLI::App& app, Overrides& o) {
  app.add_option("--max-frame-size", o.max_frame_size, "largest frame body in bytes");
  app.add_option("--retention-days", o.retention_days, "relay limit for application envelopes");
  app.add_option("--retention-interval-ms", o.retention_interval_ms, "how often retention runs");
  app.add_option("--rate-frames-per-second", o.rate_frames_per_second, "per-connection frame rate");
  app.add_option("--rate-burst", o.rate_burst, "per-connection frame burst");
  app.add_option("--outbox-bytes", o.outbox_bytes, "per-connection queued bytes before a slow reader is cut");
  app.add_option("--outbox-frames", o.outbox_frames, "per-connection queued frames before a slow reader is cut");
  app.add_option("--idle-timeout-seconds", o.idle_timeout_seconds, "close connections silent this long");
  app.add_option("--handshake-timeout-seconds", o.handshake_timeout_seconds, "TLS handshake limit");
  app.add_option("--ack-flush-interval-ms", o.ack_flush_interval_ms, "how often acknowledged cursors are written");
  app.add_option("--checkpoint-interval-ms", o.checkpoint_interval_ms, "background WAL checkpoint period");
}

template <class T, class U>
void apply(const std::optional<T>& flag, U& target) {
  if (flag) target = static_cast<U>(*flag);
}

[[nodiscard]] std::optional<Config> make_config(const Overrides& o) {
  Config c;
  if (o.config_file) {
    auto loaded = hearth::relay::load_config_file(*o.config_file);
    if (!loaded) {
      std::cerr << "hearth-relay: config " << *o.config_file << ": " << loaded.error().detail << std::endl;
      return std::nullopt;
    }
    c = std::move(*loaded);
  }
  if (o.listen) {
    auto l = hearth::relay::parse_listen(*o.listen);
    if (!l) {
      std::cerr << "hearth-relay: --listen: " << l.error().detail << std::endl;
      return std::nullopt;
    }
    c.listen = *l;
  }
  apply(o.data_dir, c.data_dir);
  apply(o.cert_file, c.cert_file);
  apply(o.key_file, c.key_file);
  apply(o.public_host, c.public_host);
  apply(o.public_port, c.public_port);
  apply(o.max_frame_size, c.max_frame_size);
  apply(o.retention_days, c.retention_days);
  apply(o.retention_interval_ms, c.retention_interval_ms);
  apply(o.rate_frames_per_second, c.rate_frames_per_second);
  apply(o.rate_burst, c.rate_burst);
  apply(o.outbox_bytes, c.outbox_bytes);
  apply(o.outbox_frames, c.outbox_frames);
  apply(o.idle_timeout_seconds, c.idle_timeout_seconds);
  apply(o.handshake_timeout_seconds, c.handshake_timeout_seconds);
  apply(o.ack_flush_interval_ms, c.ack_flush_interval_ms);
  apply(o.checkpoint_interval_ms, c.checkpoint_interval_ms);
  apply(o.log_level, c.log_level);
  if (auto v = hearth::relay::validate(c); !v) {
    std::cerr << "hearth-relay: config: " << v.error().detail << std::endl;
    return std::nullopt;
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hearth-relay: the Hearth relay (serves when run without a subcommand)"};
  Overrides serve;
  add_common(app, serve);
  add_serve(app, serve);

  Overrides inv;
  std::uint32_t count = 1;
  std::uint32_t ttl_hours = hearth::relay::kDefaultInviteTtlHours;
  CLI::App* invite = app.add_subcommand("invite", "create one-time registration invites, one per line");
  add_common(*invite, inv);
  invite->add_option("--count", count, "how many invites (default 1)");
  invite->add_option("--ttl-hours", ttl_hours, "how long they stay valid (default 168)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : hearth::relay::kExitUsage;
  }

  // Logs go to stderr; stdout carries only the lines tests and scripts parse.
  auto logger = spdlog::stderr_logger_mt("hearth-relay");
  spdlog::set_default_logger(logger);
  try {
    if (invite->parsed()) {
      // Flags given before the subcommand count too; those after it win.
      Overrides merged = serve;
      if (inv.config_file) merged.config_file = inv.config_file;
      if (inv.data_dir) merged.data_dir = inv.data_dir;
      if (inv.cert_file) merged.cert_file = inv.cert_file;
      if (inv.key_file) merged.key_file = inv.key_file;
      if (inv.public_host) merged.public_host = inv.public_host;
      if (inv.public_port) merged.public_port = inv.public_port;
      if (inv.listen) merged.listen = inv.listen;
      if (inv.log_level) merged.log_level = inv.log_level;
      auto config = make_config(merged);
      if (!config) return hearth::relay::kExitStartupError;
      spdlog::set_level(spdlog::level::from_str(config->log_level));
      return hearth::relay::run_invite(*config, count, ttl_hours);
    }
    auto config = make_config(serve);
    if (!config) return hearth::relay::kExitStartupError;
    spdlog::set_level(spdlog::level::from_str(config->log_level));
    return hearth::relay::run_server(*config);
  } catch (const std::exception& e) {
    std::cerr << "hearth-relay: " << e.what() << std::endl;
    return hearth::relay::kExitStartupError;
  }
}
