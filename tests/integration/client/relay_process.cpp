// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/client/relay_process.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "common/wire/invite.h"
#include "tests/support/paths.h"

namespace hearth::test {

namespace {

constexpr std::string_view kListeningPrefix = "hearth-relay: listening ";
constexpr std::string_view kSpkiPrefix = "hearth-relay: spki-sha256 ";

}  // namespace

std::filesystem::path RelayProcess::binary() { return binary_dir() / "server" / "hearth-relay"; }

RelayProcess::RelayProcess(std::filesystem::path data_dir, std::uint16_t port) : data_dir_(std::move(data_dir)) {
  start(port);
}

void RelayProcess::start(std::uint16_t port) {
  REQUIRE(std::filesystem::exists(binary()));
  child_ = std::make_unique<ChildProcess>(
      binary(), std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", data_dir_.string()});
  bool listening = false;
  bool pinned = false;
  const auto deadline = std::chrono::steady_clock::now() + kRelayStartTimeout;
  while (!(listening && pinned)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = left.count() > 0 ? child_->read_line(left) : std::nullopt;
    INFO("relay stderr: " << child_->err());
    REQUIRE(line);
    if (line->starts_with(kListeningPrefix)) {
      const auto addr = line->substr(kListeningPrefix.size());
      const auto colon = addr.rfind(':');
      REQUIRE(colon != std::string::npos);
      port_ = static_cast<std::uint16_t>(std::stoul(addr.substr(colon + 1)));
      listening = true;
    } else if (line->starts_with(kSpkiPrefix)) {
      spki_hex_ = line->substr(kSpkiPrefix.size());
      while (!spki_hex_.empty() && (spki_hex_.back() == '\r' || spki_hex_.back() == ' ')) spki_hex_.pop_back();
      pinned = true;
    }
  }
  REQUIRE(port_ != 0);
  REQUIRE(spki_hex_.size() == 64);
}

std::vector<std::string> RelayProcess::invites(int n) const {
  auto r = run(binary(), {"invite", "--data-dir", data_dir_.string(), "--count", std::to_string(n)},
               std::chrono::milliseconds(15'000));
  INFO("invite stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto invite = wire::parse_invite(line);
    INFO("invite line: " << line);
    REQUIRE(invite);
    // The admin command does not know which port this test relay got.
    invite->host = "127.0.0.1";
    invite->port = port_;
    out.push_back(wire::format_invite(*invite));
  }
  REQUIRE(out.size() == static_cast<std::size_t>(n));
  return out;
}

void RelayProcess::kill() {
  if (!child_) return;
  child_->collect(std::chrono::milliseconds(0));
  child_->kill_now();
}

void RelayProcess::restart() {
  kill();
  if (child_) past_logs_ += child_->out() + child_->err();
  start(port_);
}

std::string RelayProcess::logs() {
  if (!child_) return past_logs_;
  child_->collect(std::chrono::milliseconds(50));
  return past_logs_ + child_->out() + child_->err();
}

}  // namespace hearth::test
