// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers for driving client engines against the real relay: bounded waits
// and an event collector.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "client/core/engine.h"
#include "tests/support/profile.h"
#include "tests/support/temp_dir.h"

namespace hearth::test {

inline constexpr std::chrono::milliseconds kWait{20'000};

template <class T>
T await(std::future<T> f, std::chrono::milliseconds timeout = kWait) {
  REQUIRE(f.wait_for(timeout) == std::future_status::ready);
  return f.get();
}

/// Everything an engine reported, collected from its event queue.
struct Seen {
  std::vector<client::MessageReceived> messages;
  std::vector<client::Event> all;
  [[nodiscard]] std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& m : messages) {
      const auto* t = std::get_if<client::ContentText>(&m.content.body);
      out.push_back(t != nullptr ? t->text : "(" + std::string(client::kind_name(m.content)) + ")");
    }
    return out;
  }
  [[nodiscard]] std::size_t count(const RoomId& room) const {
    std::size_t n = 0;
    for (const auto& m : messages) {
      if (m.room == room) ++n;
    }
    return n;
  }
  template <class E>
  [[nodiscard]] std::size_t count_events() const {
    std::size_t n = 0;
    for (const auto& e : all) {
      if (std::holds_alternative<E>(e)) ++n;
    }
    return n;
  }
};

/// Drains `engine`'s events into `seen` until `done(seen)` or `timeout`.
/// Returns whether `done` became true.
inline bool collect(client::Engine& engine, Seen& seen, const std::function<bool(const Seen&)>& done,
                    std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(seen)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    auto e = engine.events().wait_pop(std::chrono::milliseconds(50));
    if (!e) continue;
    if (const auto* m = std::get_if<client::MessageReceived>(&*e)) seen.messages.push_back(*m);
    seen.all.push_back(std::move(*e));
  }
  return true;
}

/// Collects for a fixed time (to show that nothing more arrives).
inline void collect_for(client::Engine& engine, Seen& seen, std::chrono::milliseconds period) {
  (void)collect(engine, seen, [](const Seen&) { return false; }, period);
}

inline client::EngineOptions options(bool reconnect = true) {
  client::EngineOptions o;
  o.client_name = "hearth-it";
  o.reconnect = reconnect;
  o.connect_timeout = std::chrono::milliseconds(5'000);
  o.request_timeout = std::chrono::milliseconds(10'000);
  o.profile_kdf = test::kTestKdf;
  // A small stock keeps the relay's per-requester fetch limit out of reach.
  o.key_packages.target = 3;
  o.key_packages.low_water = 2;
  return o;
}

/// A profile directory with its engine.
struct Client {
  std::filesystem::path dir;
  std::unique_ptr<client::Engine> engine;
  Seen seen;
  /// EngineOptions::commit_fault for the next open().
  std::function<void(Bytes&)> commit_fault;

  void open(bool reconnect = true) {
    auto o = options(reconnect);
    o.commit_fault = commit_fault;
    auto e = client::Engine::open_profile(dir, test::kTestPassphrase, std::move(o));
    REQUIRE(e);
    engine = std::move(*e);
  }
  void close() {
    if (engine) engine->stop();
    engine.reset();
  }
  client::Engine& operator*() { return *engine; }
  client::Engine* operator->() { return engine.get(); }
};

/// Why the engine went offline, each time (for INFO on failures).
inline std::string offline_reasons(const Seen& seen) {
  std::string out;
  for (const auto& e : seen.all) {
    if (const auto* c = std::get_if<client::ConnectionChanged>(&e); c && c->state == client::ConnectionState::Offline) {
      out += "[" + c->reason + "] ";
    }
    if (const auto* err = std::get_if<client::ErrorEvent>(&e)) out += "{" + err->error.describe() + "} ";
  }
  return out;
}

/// The error text of a failed result, empty on success (for INFO).
template <class R>
std::string why(const R& r) {
  return r ? std::string() : r.error().describe();
}

/// All seqs unique (no duplicates delivered to the UI).
inline bool unique_seqs(const Seen& seen, const RoomId& room) {
  std::set<std::uint64_t> seqs;
  for (const auto& m : seen.messages) {
    if (m.room == room && !seqs.insert(m.seq.v).second) return false;
  }
  return true;
}

}  // namespace hearth::test
