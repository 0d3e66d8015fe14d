// SPDX-License-Identifier: Apache-2.0
#pragma once
// A relay and registered clients in one room, for client integration tests.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/client/engine_support.h"
#include "tests/integration/client/relay_process.h"

namespace hearth::test {

/// A relay and `n` registered clients; the first creates a room and adds the rest.
struct World {
  TempDir tmp;
  std::unique_ptr<RelayProcess> relay;
  std::vector<Client> clients;
  RoomId room;

  explicit World(std::size_t n, const std::vector<std::string>& handles = {"alice", "bob", "carol", "dave", "erin"}) {
    std::filesystem::create_directories(tmp.path() / "relay");
    relay = std::make_unique<RelayProcess>(tmp.path() / "relay");
    const auto invites = relay->invites(static_cast<int>(n));
    clients.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      clients[i].dir = tmp.path() / handles[i];
      clients[i].open();
      auto account = await(clients[i]->register_account(invites[i], handles[i]));
      INFO(handles[i] << ": " << why(account));
      REQUIRE(account);
      CHECK(account->v.size() == wire::kAccountIdSize);
      REQUIRE(await(clients[i]->start()));
      // The top-up that follows the first sync, awaited: the room's
      // creator adds this client next and needs one of its KeyPackages.
      auto stock = await(clients[i]->top_up_key_packages());
      INFO(handles[i] << ": " << why(stock));
      REQUIRE(stock);
    }
    auto created = await(clients[0]->create_room());
    REQUIRE(created);
    room = *created;
    for (std::size_t i = 1; i < n; ++i) {
      auto added = await(clients[0]->add_member(room, handles[i]));
      // Past the relay's KeyPackage burst (large rooms): its rate is one a second.
      for (int retry = 0; !added && added.error().relay &&
                          added.error().relay->code == wire::ErrorCode::RateLimited && retry < 5;
           ++retry) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1'100));
        added = await(clients[0]->add_member(room, handles[i]));
      }
      INFO("add " << handles[i] << ": " << why(added));
      REQUIRE(added);
    }
    for (std::size_t i = 1; i < n; ++i) {
      auto& c = clients[i];
      REQUIRE(collect(*c, c.seen, [&](const Seen& s) {
        for (const auto& e : s.all) {
          if (const auto* j = std::get_if<client::RoomJoined>(&e); j && j->room == room) return true;
        }
        return false;
      }));
    }
  }
  ~World() {
    for (auto& c : clients) c.close();
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
};

}  // namespace hearth::test
