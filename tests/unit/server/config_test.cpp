// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <fstream>

#include "server/config.h"
#include "tests/support/temp_dir.h"

using namespace hearth::relay;

TEST_CASE("config: defaults are safe and valid", "[server][config]") {
  Config c;
  REQUIRE(validate(c));
  REQUIRE(c.listen.host == "127.0.0.1");
  REQUIRE(c.listen.port == 7443);
  REQUIRE(c.data_dir == "./hearth-data");
  REQUIRE(c.max_frame_size == 1u << 20);
  REQUIRE(c.retention_limit_ms() == 14ull * 24 * 3600 * 1000);
  REQUIRE(c.invite_host() == "127.0.0.1");
  REQUIRE(c.invite_port() == 7443);
  c.listen.port = 0;
  REQUIRE(c.invite_port() == kDefaultPort);
  c.public_port = 443;
  c.public_host = "relay.example.org";
  REQUIRE(c.invite_port() == 443);
  REQUIRE(c.invite_host() == "relay.example.org");
}

TEST_CASE("config: listen addresses", "[server][config]") {
  REQUIRE(parse_listen("127.0.0.1:0").value().port == 0);
  REQUIRE(parse_listen("0.0.0.0:7443").value().host == "0.0.0.0");
  REQUIRE(parse_listen("[::1]:8443").value().host == "::1");
  REQUIRE_FALSE(parse_listen("127.0.0.1"));
  REQUIRE_FALSE(parse_listen(":7443"));
  REQUIRE_FALSE(parse_listen("host:"));
  REQUIRE_FALSE(parse_listen("host:65536"));
  REQUIRE_FALSE(parse_listen("host:-1"));
  REQUIRE_FALSE(parse_listen("::1:80"));
  REQUIRE_FALSE(parse_listen("[]:80"));
}

TEST_CASE("config: TOML keys apply over the defaults", "[server][config]") {
  auto c = apply_toml(Config{}, R"(
listen = "0.0.0.0:9443"
data_dir = "/var/lib/hearth"
cert_file = "/etc/hearth/cert.pem"
key_file = "/etc/hearth/key.pem"
public_host = "relay.example.org"
public_port = 443
max_frame_size = 65536
retention_days = 7
retention_interval_ms = 1000
rate_frames_per_second = 100
rate_burst = 200
outbox_bytes = 1048576
outbox_frames = 1000
idle_timeout_seconds = 60
handshake_timeout_seconds = 5
ack_flush_interval_ms = 250
checkpoint_interval_ms = 2000
log_level = "warn"
)");
  REQUIRE(c);
  REQUIRE(c->listen.port == 9443);
  REQUIRE(c->data_dir == "/var/lib/hearth");
  REQUIRE(c->cert_file == "/etc/hearth/cert.pem");
  REQUIRE(c->public_port == 443);
  REQUIRE(c->max_frame_size == 65536);
  REQUIRE(c->retention_days == 7);
  REQUIRE(c->outbox_bytes == 1048576);
  REQUIRE(c->log_level == "warn");
  REQUIRE(validate(*c));
}

TEST_CASE("config: bad TOML, unknown keys and wrong types are clear errors", "[server][config]") {
  auto bad = apply_toml(Config{}, "listen = \n");
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().code == ConfigCode::BadToml);
  REQUIRE(bad.error().detail.find("line 1") != std::string::npos);

  auto unknown = apply_toml(Config{}, "lisen = \"127.0.0.1:1\"\n");
  REQUIRE(unknown.error().code == ConfigCode::UnknownKey);
  REQUIRE(unknown.error().detail.find("lisen") != std::string::npos);

  REQUIRE(apply_toml(Config{}, "max_frame_size = \"big\"\n").error().code == ConfigCode::BadValue);
  REQUIRE(apply_toml(Config{}, "max_frame_size = -1\n").error().code == ConfigCode::BadValue);
  REQUIRE(apply_toml(Config{}, "public_port = 70000\n").error().code == ConfigCode::BadValue);
  REQUIRE(apply_toml(Config{}, "listen = \"nowhere\"\n").error().code == ConfigCode::BadValue);
  REQUIRE(apply_toml(Config{}, "log_level = 3\n").error().code == ConfigCode::BadValue);
}

TEST_CASE("config: range checks", "[server][config]") {
  auto check = [](auto mutate) {
    Config c;
    mutate(c);
    return validate(c);
  };
  REQUIRE_FALSE(check([](Config& c) { c.max_frame_size = 100; }));
  REQUIRE_FALSE(check([](Config& c) { c.max_frame_size = kMaxConfigurableFrameSize + 1; }));
  REQUIRE_FALSE(check([](Config& c) { c.retention_days = 0; }));
  REQUIRE_FALSE(check([](Config& c) { c.retention_days = kMaxRetentionDays + 1; }));
  REQUIRE_FALSE(check([](Config& c) { c.outbox_bytes = kMinOutboxBytes - 1; }));
  REQUIRE_FALSE(check([](Config& c) { c.outbox_bytes = c.max_frame_size; }));
  REQUIRE_FALSE(check([](Config& c) { c.rate_frames_per_second = 0; }));
  REQUIRE_FALSE(check([](Config& c) { c.idle_timeout_seconds = 0; }));
  REQUIRE_FALSE(check([](Config& c) { c.cert_file = "cert.pem"; }));
  REQUIRE_FALSE(check([](Config& c) { c.log_level = "loud"; }));
  REQUIRE(check([](Config& c) {
    c.max_frame_size = 16384;
    c.outbox_bytes = kMinOutboxBytes;
  }));
}

TEST_CASE("config: files", "[server][config]") {
  hearth::test::TempDir dir;
  REQUIRE(load_config_file(dir.path() / "missing.toml").error().code == ConfigCode::Unreadable);
  {
    std::ofstream f(dir.path() / "relay.toml");
    f << "retention_days = 3\n";
  }
  REQUIRE(load_config_file(dir.path() / "relay.toml").value().retention_days == 3);
}
