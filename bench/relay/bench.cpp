// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/bench.h"

#include <functional>
#include <memory>
#include <random>
#include <unistd.h>

#include <openssl/ssl.h>

#include "bench/relay/asio.h"
#include "bench/relay/connection.h"
#include "bench/relay/proc_stats.h"
#include "bench/relay/tls_socket.h"
#include "common/crypto/crypto.h"

namespace hearth::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr double kMiB = 1024.0;  // KiB per MiB

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

std::chrono::nanoseconds to_ns(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

void rethrow_if(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

class Runner {
 public:
  Runner(const Options& options, const RelayTarget& target)
      : options_(options), target_(target), tls_(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free), shared_{options, {}, {}, false, {}} {
    if (!tls_) throw BenchError("SSL_CTX_new failed: " + openssl_error());
    SSL_CTX_set_min_proto_version(tls_.get(), TLS1_3_VERSION);
    // The relay's certificate is self-signed; trust comes from the SPKI pin
    // that Connection checks after the handshake, as a real client does.
    SSL_CTX_set_verify(tls_.get(), SSL_VERIFY_NONE, nullptr);
  }

  Report run() {
    report_.options = options_;
    report_.connections = options_.connections();
    report_.senders = options_.senders();
    std::exception_ptr failure;
    asio::co_spawn(io_, main_flow(), [&](std::exception_ptr e) {
      failure = e;
      done_ = true;
      for (auto& c : conns_) c->close();
      io_.stop();
    });
    io_.run();
    rethrow_if(failure);
    return report_;
  }

 private:
  asio::awaitable<void> sleep(std::chrono::nanoseconds d) {
    asio::steady_timer t(io_);
    t.expires_after(d);
    co_await t.async_wait(asio::use_awaitable);
  }

  // Runs task(0..count-1) with at most setup_concurrency at once; the first
  // failure stops new tasks and is rethrown once the running ones end. A
  // watchdog closes every connection if the phase takes too long, so no
  // half-open connection can hang the bench.
  // Callers pass named locals only (see Connection::call on GCC 12 and
  // temporaries in co_await expressions).
  // `allowance` is extra watchdog time for phases that wait on purpose.
  asio::awaitable<void> pool(const char* phase, std::size_t count,
                             const std::function<asio::awaitable<void>(std::size_t)>& task,
                             std::chrono::seconds allowance = std::chrono::seconds(0)) {
    std::size_t next = 0;
    std::size_t running = std::min(options_.setup_concurrency, count);
    std::optional<std::string> failure;
    asio::steady_timer done(io_);
    done.expires_at(SteadyClock::time_point::max());
    asio::steady_timer watchdog(io_);
    const auto limit = std::chrono::seconds(60) + std::chrono::milliseconds(20) * count + allowance;
    watchdog.expires_after(limit);
    watchdog.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (!failure) failure = "did not finish within " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limit).count()) + " s";
      for (auto& c : conns_) c->close();
    });
    for (std::size_t w = 0; w < running; ++w) {
      asio::co_spawn(
          io_,
          [&]() -> asio::awaitable<void> {
            while (!failure && next < count) {
              const std::size_t i = next++;
              try {
                co_await task(i);
              } catch (const std::exception& e) {
                if (!failure) failure = "connection " + std::to_string(i) + ": " + e.what();
              }
            }
          },
          [&](std::exception_ptr) {
            if (--running == 0) done.cancel();
          });
    }
    if (running > 0) {
      boost::system::error_code ec;
      co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    watchdog.cancel();
    if (failure) throw BenchError(std::string("set-up phase '") + phase + "' failed: " + *failure);
  }

  asio::awaitable<tcp::endpoint> resolve() {
    tcp::resolver resolver(io_);
    const std::string port = std::to_string(target_.endpoint.port);
    auto results = co_await resolver.async_resolve(target_.endpoint.host, port, asio::use_awaitable);
    if (results.empty()) throw BenchError("cannot resolve " + target_.endpoint.host);
    co_return results.begin()->endpoint();
  }

  asio::awaitable<void> sampler() {
    while (!done_) {
      if (sampling_ && target_.pid > 0) {
        if (auto m = read_memory(target_.pid)) peak_rss_kib_ = std::max(peak_rss_kib_, m->rss_kib);
      }
      co_await sleep(std::chrono::milliseconds(100));
    }
  }

  // Each connection acks once per ack interval, but the connections are
  // spread over the interval in 1 ms slices: acking 2,000 connections in
  // one event-loop turn would stall every other client for ~20 ms and show
  // up as a latency tail that is the bench's, not the relay's.
  asio::awaitable<void> acker() {
    const std::size_t slices = std::max<std::size_t>(options_.ack_interval_ms, 1);
    std::size_t slice = 0;
    while (!done_) {
      const std::size_t n = conns_.size();
      for (std::size_t i = slice * n / slices; i < (slice + 1) * n / slices; ++i) conns_[i]->ack_if_moved();
      slice = (slice + 1) % slices;
      co_await sleep(std::chrono::milliseconds(1));
    }
  }

  void start_senders() {
    const std::size_t per_room = options_.senders_per_room == 0 ? options_.members : options_.senders_per_room;
    std::mt19937_64 rng(crypto::random_bytes(1)[0]);
    const auto interval = options_.rate > 0 ? to_ns(static_cast<double>(options_.senders()) / options_.rate)
                                            : std::chrono::nanoseconds(0);
    std::uniform_int_distribution<std::int64_t> phase(0, std::max<std::int64_t>(interval.count() - 1, 0));
    for (auto& room : shared_.rooms) {
      for (std::size_t i = 0; i < per_room; ++i) {
        if (options_.rate > 0) {
          room.members[i]->start_open_loop(interval, std::chrono::nanoseconds(phase(rng)));
        } else {
          room.members[i]->start_closed_loop(options_.window);
        }
      }
    }
  }

  asio::awaitable<void> main_flow() {
    const auto t_setup = SteadyClock::now();
    const auto endpoint = co_await resolve();
    const std::size_t n = options_.connections();
    conns_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) conns_.push_back(std::make_unique<Connection>(io_, tls_.get(), shared_, i));
    shared_.rooms.resize(options_.rooms);
    for (std::size_t r = 0; r < options_.rooms; ++r) {
      auto& room = shared_.rooms[r];
      room.id = RoomId{crypto::random_bytes(16)};
      for (std::size_t m = 0; m < options_.members; ++m) {
        auto* c = conns_[r * options_.members + m].get();
        room.members.push_back(c);
        // Readers are the last members: senders are the first ones.
        c->join(room, m >= options_.members - options_.readers);
      }
    }

    const std::function<asio::awaitable<void>(std::size_t)> open = [&](std::size_t i) -> asio::awaitable<void> {
      co_await conns_[i]->open(endpoint, target_.endpoint.spki_pin, target_.invite_tokens.at(i));
    };
    const std::function<asio::awaitable<void>(std::size_t)> create = [&](std::size_t r) -> asio::awaitable<void> {
      co_await shared_.rooms[r].members.front()->create_room(shared_.rooms[r]);
    };
    const std::function<asio::awaitable<void>(std::size_t)> sync = [&](std::size_t i) -> asio::awaitable<void> {
      co_await conns_[i]->sync();
    };
    co_await pool("connect and register", n, open);
    // The relay hands out KeyPackages at about one a second per requester
    // after a burst (limits.h); each creator fetches its room's on its own.
    const auto fetch_allowance = std::chrono::seconds(options_.members);
    co_await pool("create rooms", options_.rooms, create, fetch_allowance);
    co_await pool("sync", n, sync);
    report_.setup_s = seconds_since(t_setup);

    asio::co_spawn(io_, sampler(), asio::detached);
    asio::co_spawn(io_, acker(), asio::detached);
    start_senders();
    co_await sleep(to_ns(options_.warmup_s));

    // The measured window.
    const auto relay_cpu0 = target_.pid > 0 ? read_cpu_seconds(target_.pid) : std::nullopt;
    const double self_cpu0 = self_cpu_seconds();
    const auto machine0 = read_machine_cpu();
    const auto relay_wait0 = target_.pid > 0 ? read_runqueue_wait_seconds(target_.pid) : std::nullopt;
    const auto bench_wait0 = read_runqueue_wait_seconds(getpid());
    const auto t0 = SteadyClock::now();
    shared_.stats.recording = true;
    sampling_ = true;
    co_await sleep(to_ns(options_.duration_s));
    shared_.stats.recording = false;
    sampling_ = false;
    report_.measured_s = seconds_since(t0);
    const double self_cpu1 = self_cpu_seconds();
    const auto relay_cpu1 = target_.pid > 0 ? read_cpu_seconds(target_.pid) : std::nullopt;
    const auto machine1 = read_machine_cpu();
    const auto relay_wait1 = target_.pid > 0 ? read_runqueue_wait_seconds(target_.pid) : std::nullopt;
    const auto bench_wait1 = read_runqueue_wait_seconds(getpid());
    if (relay_wait0 && relay_wait1) report_.relay_runqueue_pct = 100.0 * (*relay_wait1 - *relay_wait0) / report_.measured_s;
    if (bench_wait0 && bench_wait1) report_.bench_runqueue_pct = 100.0 * (*bench_wait1 - *bench_wait0) / report_.measured_s;
    report_.loadavg_end = read_loadavg();
    const auto memory = target_.pid > 0 ? read_memory(target_.pid) : std::nullopt;
    report_.bench_cpu_pct = 100.0 * (self_cpu1 - self_cpu0) / report_.measured_s;
    if (relay_cpu0 && relay_cpu1) report_.relay_cpu_pct = 100.0 * (*relay_cpu1 - *relay_cpu0) / report_.measured_s;
    // Whatever else ran on the machine competed with the relay and the bench
    // for the same cores: a figure taken on a busy machine says so.
    if (machine0 && machine1) {
      report_.machine_cores = machine1->cores;
      const double busy_pct = 100.0 * (machine1->busy_s - machine0->busy_s) / report_.measured_s;
      report_.others_cpu_pct = std::max(0.0, busy_pct - report_.bench_cpu_pct - report_.relay_cpu_pct.value_or(0));
    }
    if (memory) {
      report_.relay_rss_end_mib = static_cast<double>(memory->rss_kib) / kMiB;
      report_.relay_hwm_mib = static_cast<double>(memory->hwm_kib) / kMiB;
      peak_rss_kib_ = std::max(peak_rss_kib_, memory->rss_kib);
    }
    if (peak_rss_kib_ > 0) report_.relay_rss_peak_mib = static_cast<double>(peak_rss_kib_) / kMiB;

    // Drain: first every send answered (so room heads are final), then every delivery in.
    shared_.stopping = true;
    const auto deadline = SteadyClock::now() + to_ns(options_.drain_timeout_s);
    auto all = [&](auto pred) {
      return std::all_of(conns_.begin(), conns_.end(), [&](const auto& c) { return !c->alive() || pred(*c); });
    };
    while (SteadyClock::now() < deadline) {
      if (all([](const Connection& c) { return c.in_flight() == 0; }) && all([](const Connection& c) { return c.caught_up(); })) {
        report_.drained = true;
        break;
      }
      co_await sleep(std::chrono::milliseconds(20));
    }
    for (const auto& c : conns_) {
      report_.lost += c->missing();
      report_.unanswered_sends += c->in_flight();
    }
    const auto& s = shared_.stats;
    report_.deliveries = s.deliveries;
    report_.echoes = s.echoes;
    report_.publishes = s.publishes;
    report_.opened = s.opened;
    report_.held_back = s.held_back;
    report_.key_package_retries = s.key_package_retries;
    report_.envelope_bytes = s.envelope_bytes;
    report_.delivery_latency = s.delivery_latency;
    report_.ack_latency = s.ack_latency;
    report_.duplicates = s.duplicates;
    report_.out_of_order = s.out_of_order;
    report_.dropped_connections = s.dropped_connections;
    report_.full_decodes = s.full_decodes;
    report_.errors = s.errors;
  }

  const Options& options_;
  const RelayTarget& target_;
  asio::io_context io_{1};
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls_{nullptr, &SSL_CTX_free};
  Shared shared_;
  // Declared after io_: destroyed first, while the io_context still exists.
  std::vector<std::unique_ptr<Connection>> conns_;
  Report report_;
  bool done_ = false;
  bool sampling_ = false;
  std::uint64_t peak_rss_kib_ = 0;
};

}  // namespace

Report run_bench(const Options& options, const RelayTarget& target) {
  Runner runner(options, target);
  return runner.run();
}

}  // namespace hearth::bench
