// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <thread>

#include "client/core/events.h"

using namespace hearth;
using namespace hearth::client;
using namespace std::chrono_literals;

TEST_CASE("events: first in, first out, empty queue gives nothing", "[client][events]") {
  EventQueue q;
  CHECK_FALSE(q.try_pop());
  q.push(RoomLeft{RoomId{Bytes(16, 1)}});
  q.push(Synced{3});
  auto a = q.try_pop();
  REQUIRE(a);
  CHECK(std::string(event_name(*a)) == "room_left");
  auto b = q.try_pop();
  REQUIRE(b);
  REQUIRE(std::holds_alternative<Synced>(*b));
  CHECK(std::get<Synced>(*b).rooms == 3);
  CHECK_FALSE(q.try_pop());
}

TEST_CASE("events: a full queue drops the oldest and reports how many", "[client][events]") {
  constexpr std::size_t kCap = 4;
  EventQueue q(kCap);
  for (std::size_t i = 0; i < kCap + 3; ++i) q.push(Synced{i});
  CHECK(q.size() == kCap);
  auto first = q.try_pop();
  REQUIRE(first);
  REQUIRE(std::holds_alternative<EventsDropped>(*first));
  CHECK(std::get<EventsDropped>(*first).count == 3);
  auto next = q.try_pop();
  REQUIRE(next);
  CHECK(std::get<Synced>(*next).rooms == 3);  // the oldest kept
}

TEST_CASE("events: the default bound is kMaxQueuedEvents", "[client][events]") {
  EventQueue q;
  for (std::size_t i = 0; i < kMaxQueuedEvents + 1; ++i) q.push(Synced{i});
  CHECK(q.size() == kMaxQueuedEvents);
  auto first = q.try_pop();
  REQUIRE(first);
  CHECK(std::get<EventsDropped>(*first).count == 1);
}

TEST_CASE("events: wait_pop times out, and wakes for a push from another thread", "[client][events]") {
  EventQueue q;
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(q.wait_pop(20ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);

  std::thread producer([&] {
    std::this_thread::sleep_for(10ms);
    q.push(ConnectionChanged{ConnectionState::Online, {}});
  });
  auto e = q.wait_pop(5s);
  producer.join();
  REQUIRE(e);
  REQUIRE(std::holds_alternative<ConnectionChanged>(*e));
  CHECK(to_string(std::get<ConnectionChanged>(*e).state) == "online");
}

TEST_CASE("events: many producers lose nothing under the bound", "[client][events]") {
  EventQueue q;
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) q.push(Synced{static_cast<std::size_t>(i)});
    });
  }
  for (auto& p : producers) p.join();
  int n = 0;
  while (q.try_pop()) ++n;
  CHECK(n == kThreads * kEach);
}
