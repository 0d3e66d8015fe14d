// SPDX-License-Identifier: Apache-2.0
#include "server/server.h"

#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <system_error>

#include <spdlog/spdlog.h>

#include "common/crypto/crypto.h"
#include "common/types/clock.h"
#include "common/wire/invite.h"
#include "server/asio.h"
#include "server/core/limits.h"
#include "server/relay.h"
#include "server/store.h"
#include "server/tls.h"

namespace hearth::relay {

namespace fs = std::filesystem;
using asio::ip::tcp;

namespace {

/// Pause after an accept error such as EMFILE, so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

void startup_error(const std::string& what) { std::cerr << "hearth-relay: " << what << std::endl; }

[[nodiscard]] bool prepare_data_dir(const fs::path& dir) {
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (ec) {
    startup_error("cannot create the data directory " + dir.string() + ": " + ec.message());
    return false;
  }
  if (created) ::chmod(dir.c_str(), 0700);
  return true;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Relay& relay, asio::ssl::context& tls) {
  boost::system::error_code ec;
  asio::steady_timer pause(acceptor.get_executor());
  while (acceptor.is_open()) {
    tcp::socket socket(acceptor.get_executor());
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) break;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
      pause.expires_after(kAcceptRetryDelay);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    relay.accept(std::move(socket), tls);
  }
}

[[nodiscard]] std::string base64url(BytesView b) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (auto byte : b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

}  // namespace

int run_server(const Config& config) {
  std::signal(SIGPIPE, SIG_IGN);
  crypto::init();
  if (!prepare_data_dir(config.data_dir)) return kExitStartupError;
  auto store = RelayStore::open(config.data_dir);
  if (!store) {
    startup_error("cannot open the database in " + config.data_dir.string() + " (" +
                  store::to_string(store.error().code) + "): " + store.error().detail);
    return kExitStartupError;
  }
  auto state = store->load();
  if (!state) {
    startup_error("cannot read the database (" + store::to_string(state.error().code) + "): " + state.error().detail);
    return kExitStartupError;
  }
  auto identity = load_or_create_identity(config.data_dir, config.cert_file, config.key_file);
  if (!identity) {
    startup_error("TLS identity: " + identity.error().detail);
    return kExitStartupError;
  }
  auto tls = make_server_context(*identity);
  if (!tls) {
    startup_error("TLS: " + tls.error().detail);
    return kExitStartupError;
  }

  asio::io_context io(1);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config.listen.host, ec);
  if (ec) {
    startup_error("listen: not an IP address: " + config.listen.host);
    return kExitStartupError;
  }
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(address, config.listen.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    startup_error("cannot listen on " + config.listen.host + ":" + std::to_string(config.listen.port) + ": " +
                  ec.message());
    return kExitStartupError;
  }

  SystemClock clock;
  crypto::SystemRng rng;
  Relay relay(io, config, std::move(*store), std::move(*state), clock, rng, config.data_dir / kDatabaseFileName);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  relay.set_fatal_handler([&] {
    acceptor.close(ec);
    signals.cancel();
    io.stop();
  });
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (e) return;
    acceptor.close(ec);
    relay.shutdown([&] { io.stop(); });
  });
  asio::co_spawn(io, accept_loop(acceptor, relay, *tls), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("accept loop ended by an exception: {}", x.what());
    }
  });
  relay.start();

  const auto bound = acceptor.local_endpoint(ec);
  std::printf("hearth-relay: listening %s:%u\n", bound.address().to_string().c_str(),
              static_cast<unsigned>(bound.port()));
  std::printf("hearth-relay: spki-sha256 %s\n", to_hex(identity->spki_sha256).c_str());
  std::fflush(stdout);
  spdlog::info("relay started (protocol {}, max frame {} bytes)", wire::kProtocolVersion, config.max_frame_size);

  io.run();
  if (relay.failed()) return kExitStartupError;
  spdlog::info("relay stopped");
  return kExitOk;
}

int run_invite(const Config& config, std::uint32_t count, std::uint32_t ttl_hours) {
  if (count == 0 || count > kMaxInvitesPerCommand) {
    startup_error("--count must be between 1 and " + std::to_string(kMaxInvitesPerCommand));
    return kExitUsage;
  }
  if (ttl_hours == 0) {
    startup_error("--ttl-hours must be positive");
    return kExitUsage;
  }
  crypto::init();
  if (!prepare_data_dir(config.data_dir)) return kExitStartupError;
  auto identity = load_or_create_identity(config.data_dir, config.cert_file, config.key_file);
  if (!identity) {
    startup_error("TLS identity: " + identity.error().detail);
    return kExitStartupError;
  }
  auto store = RelayStore::open(config.data_dir);
  if (!store) {
    startup_error("cannot open the database in " + config.data_dir.string() + " (" +
                  store::to_string(store.error().code) + "): " + store.error().detail);
    return kExitStartupError;
  }
  SystemClock clock;
  const auto now = clock.now_ms();
  const auto expires = now + static_cast<std::int64_t>(ttl_hours) * 3600 * 1000;
  std::vector<std::string> tokens;
  auto tx = store::Transaction::begin(store->db());
  if (!tx) {
    startup_error("database: " + tx.error().detail);
    return kExitStartupError;
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    tokens.push_back(base64url(crypto::random_bytes(kInviteTokenBytes)));
    if (auto r = store->insert_invite(tokens.back(), now, expires); !r) {
      startup_error("database: " + r.error().detail);
      return kExitStartupError;
    }
  }
  if (auto r = tx->commit(); !r) {
    startup_error("database: " + r.error().detail);
    return kExitStartupError;
  }
  for (const auto& token : tokens) {
    const wire::Invite invite{config.invite_host(), config.invite_port(), identity->spki_sha256, token};
    std::printf("%s\n", wire::format_invite(invite).c_str());
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace hearth::relay
