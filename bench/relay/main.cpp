// SPDX-License-Identifier: Apache-2.0
// hearth-bench: drives hearth-relay with R rooms x M members over real TLS
// connections with real registration and real MLS rooms (commits, Welcomes,
// PrivateMessages), and prints throughput, latency and the relay's RSS and
// CPU.
//
// Exit status: 0 clean run; 1 usage or set-up failure (the relay could not
// be started, refused a connection, a registration or a room); 2 the run
// finished but lost or refused something, dropped a connection, or the relay
// died (the bench doubles as a correctness smoke test).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <memory>
#include <sys/resource.h>
#include <csignal>

#include "bench/relay/bench.h"
#include "bench/relay/options.h"
#include "bench/relay/proc_stats.h"
#include "bench/relay/relay_process.h"
#include "bench/relay/report.h"
#include "common/crypto/crypto.h"
#include "common/wire/invite.h"

namespace {

namespace fs = std::filesystem;
using namespace hearth::bench;

// Every connection is a file descriptor on both sides; a spawned relay
// inherits the raised limit.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::vector<std::string> read_lines(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) throw BenchError("cannot read " + path);
  std::istringstream in(*text);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Tokens from the invite strings; the pin comes from the relay's own
// announcement when we started it, else from the invites (they must agree).
void take_invites(RelayTarget& target, const std::vector<std::string>& invites, std::size_t needed) {
  if (invites.size() < needed)
    throw BenchError(std::to_string(invites.size()) + " invites for " + std::to_string(needed) + " connections");
  for (std::size_t i = 0; i < needed; ++i) {
    auto inv = hearth::wire::parse_invite(invites[i]);
    if (!inv) throw BenchError("invite " + std::to_string(i) + " does not parse: " + hearth::wire::to_string(inv.error()));
    if (target.endpoint.spki_pin.empty()) {
      target.endpoint.spki_pin = inv->spki_pin;
    } else if (inv->spki_pin != target.endpoint.spki_pin) {
      throw BenchError("the invites' pin differs from the public key the relay announced");
    }
    target.invite_tokens.push_back(inv->token);
  }
}

int run(Options o) {
  raise_fd_limit();
  hearth::crypto::init();
  // A connection the relay resets must not kill the bench with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  RelayTarget target;
  std::unique_ptr<RelayProcess> relay;
  fs::path temp_dir;
  const fs::path relay_binary = o.relay_path.empty() ? default_relay_path() : fs::path(o.relay_path);
  const std::size_t n = o.connections();
  if (o.connect.empty()) {
    std::string pattern = (fs::temp_directory_path() / "hearth-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw BenchError("cannot create a temporary directory");
    temp_dir = pattern;
    const fs::path data_dir = temp_dir / "data";
    fs::create_directories(data_dir);
    relay = std::make_unique<RelayProcess>(relay_binary, data_dir, o.relay_args, temp_dir,
                                           std::chrono::milliseconds(static_cast<std::int64_t>(o.startup_timeout_s * 1000)));
    target.endpoint = relay->endpoint();
    target.pid = relay->pid();
    // On stderr so that a profiler can attach (perf record -p PID); stdout stays the result.
    std::fprintf(stderr, "hearth-bench: relay pid %d listening on %s:%u, data in %s\n", static_cast<int>(relay->pid()),
                 target.endpoint.host.c_str(), static_cast<unsigned>(target.endpoint.port), data_dir.c_str());
    take_invites(target, make_invites(relay_binary, data_dir, n), n);
  } else {
    target.endpoint = parse_endpoint(o.connect);
    target.pid = o.relay_pid;
    take_invites(target,
                 o.invites_file.empty() ? make_invites(relay_binary, o.relay_data_dir, n) : read_lines(o.invites_file), n);
  }
  if (!o.pin_hex.empty()) {
    auto pin = hearth::from_hex(o.pin_hex);
    if (!pin || pin->size() != 32) throw BenchError("--pin must be 64 hex digits");
    target.endpoint.spki_pin = *pin;
  }

  Report report;
  try {
    report = run_bench(o, target);
  } catch (const BenchError& e) {
    std::string detail = e.what();
    if (relay) {
      if (auto how = relay->ended()) detail += "\n  the relay ended with " + *how + "; its stderr ends with:\n" + relay->stderr_tail();
      relay->stop();
    }
    throw BenchError(detail);
  }

  if (relay) {
    if (auto how = relay->ended()) {
      report.relay_state = "relay DIED during the run (" + *how + ")";
      report.errors["relay died: " + *how] += 1;
    } else {
      report.relay_state = "relay running at the end; on SIGTERM: " + relay->stop();
    }
  } else {
    report.relay_state = o.relay_pid > 0 ? (kill(o.relay_pid, 0) == 0 ? "relay running at the end" : "relay GONE at the end")
                                         : "external relay";
  }
  std::fputs((o.json ? format_json(report) : format_text(report)).c_str(), stdout);
  std::fflush(stdout);
  if (!temp_dir.empty()) {
    if (o.keep_data) {
      std::fprintf(stderr, "hearth-bench: kept the relay's data and logs in %s\n", temp_dir.c_str());
    } else {
      std::error_code ec;
      fs::remove_all(temp_dir, ec);
    }
  }
  return report.clean() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hearth-bench: load generator for hearth-relay (real TLS, real registration, real MLS)"};
  Options o;
  std::string scenario;
  app.add_option("--scenario", scenario,
                 "a: 1 room x 50, 512 B, maximum; b: 100 rooms x 20, 2000 msg/s; c: a plus 1000 idle connections")
      ->check(CLI::IsMember({"a", "b", "c"}));
  app.add_option("--rooms", o.rooms, "rooms");
  app.add_option("--members", o.members, "members (connections) per room");
  app.add_option("--senders-per-room", o.senders_per_room, "members of each room that send (0 = all)");
  app.add_option("--payload", o.payload, "plaintext bytes per message, before MLS encryption (>= 8)");
  app.add_option("--readers", o.readers,
                 "members per room that decrypt every message; latency is measured on them (0 = none)");
  app.add_option("--rate", o.rate, "messages/s offered in total, open loop (0 = maximum throughput)");
  app.add_option("--window", o.window, "maximum mode: unacknowledged sends per sender");
  app.add_option("--max-lag", o.max_lag,
                 "maximum mode: senders hold back while a member of the room is this many messages behind");
  app.add_option("--idle", o.idle, "extra idle logged-in connections");
  app.add_option("--duration", o.duration_s, "measured seconds");
  app.add_option("--warmup", o.warmup_s, "seconds of load before measuring");
  app.add_option("--drain-timeout", o.drain_timeout_s, "seconds to wait for outstanding deliveries after the run");
  app.add_option("--ack-interval-ms", o.ack_interval_ms, "per-connection Ack batching interval");
  app.add_option("--setup-concurrency", o.setup_concurrency, "connections set up at once");
  app.add_flag("--json", o.json, "print one JSON object instead of text");
  app.add_option("--relay", o.relay_path, "hearth-relay binary to spawn (default: ../../server/hearth-relay next to this binary)");
  app.add_option("--relay-arg", o.relay_args, "extra argument for the spawned relay (repeatable)")->allow_extra_args(false);
  app.add_option("--startup-timeout", o.startup_timeout_s, "seconds to wait for the spawned relay to listen");
  app.add_flag("--keep-data", o.keep_data, "keep the spawned relay's data dir and logs");
  app.add_option("--connect", o.connect, "HOST:PORT of a running relay instead of spawning one");
  app.add_option("--relay-data-dir", o.relay_data_dir, "with --connect: its data dir (invites are made with `invite`)");
  app.add_option("--relay-pid", o.relay_pid, "with --connect: its pid, for RSS and CPU");
  app.add_option("--invites", o.invites_file, "with --connect: file with one invite per line");
  app.add_option("--pin", o.pin_hex, "SPKI SHA-256 pin (hex) overriding the invites'");
  CLI11_PARSE(app, argc, argv);

  if (!scenario.empty()) {
    const auto spec = *scenario_spec(scenario);
    o.scenario = scenario;
    if (app.count("--rooms") == 0) o.rooms = spec.rooms;
    if (app.count("--members") == 0) o.members = spec.members;
    if (app.count("--payload") == 0) o.payload = spec.payload;
    if (app.count("--rate") == 0) o.rate = spec.rate;
    if (app.count("--idle") == 0) o.idle = spec.idle;
  }
  if (auto problem = validate(o)) {
    std::fprintf(stderr, "hearth-bench: %s\n", problem->c_str());
    return 1;
  }
  try {
    return run(std::move(o));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hearth-bench: %s\n", e.what());
    return 1;
  }
}
