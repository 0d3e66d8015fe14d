// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "server/db_worker.h"
#include "tests/support/temp_dir.h"

using namespace hearth;
using namespace hearth::relay;

namespace {

AccountId acct(std::uint8_t b) { return AccountId{Bytes(16, b)}; }

/// Runs the io context until `done` or the guard time passes.
void run_until(asio::io_context& io, const bool& done, std::chrono::seconds guard = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
    io.restart();
  }
}

[[nodiscard]] std::int64_t count_accounts(const std::filesystem::path& data_dir) {
  // A separate connection sees only what is committed.
  auto s = RelayStore::open(data_dir);
  REQUIRE(s);
  auto st = s->db().prepare("SELECT count(*) FROM accounts");
  REQUIRE(st);
  REQUIRE(st->step().value() == store::Step::Row);
  return st->column_int64(0);
}

}  // namespace

TEST_CASE("db worker: done runs after the commit is durable, in submit order", "[server][db]") {
  test::TempDir dir;
  auto store = RelayStore::open(dir.path());
  REQUIRE(store);
  asio::io_context io;
  std::string fatal;
  DbWorker worker(std::move(*store), io.get_executor(), [&](const std::string& w) { fatal = w; },
                  dir.path() / kDatabaseFileName, 50);
  constexpr int kJobs = 100;
  std::vector<int> order;
  std::vector<std::int64_t> seen;
  bool finished = false;
  for (int i = 0; i < kJobs; ++i) {
    worker.submit(
        [i](RelayStore& s) {
          return s.insert_account(
              AccountRow{AccountId{Bytes(16, static_cast<std::uint8_t>(i))}, "h" + std::to_string(i), Bytes(32, 1)},
              i);
        },
        [&, i] {
          order.push_back(i);
          if (i % 25 == 0) seen.push_back(count_accounts(dir.path()));
          finished = order.size() == kJobs;
        });
  }
  run_until(io, finished);
  REQUIRE(fatal.empty());
  REQUIRE(order.size() == kJobs);
  for (int i = 0; i < kJobs; ++i) REQUIRE(order[static_cast<std::size_t>(i)] == i);
  // When job i's callback runs, at least i + 1 rows are on disk.
  for (std::size_t k = 0; k < seen.size(); ++k) REQUIRE(seen[k] >= static_cast<std::int64_t>(k * 25 + 1));
  REQUIRE(worker.jobs_committed() == kJobs);
  REQUIRE(worker.commits() <= kJobs);  // grouped: never more commits than jobs
}

TEST_CASE("db worker: typed results and a failing job", "[server][db]") {
  auto store = RelayStore::open_memory();
  REQUIRE(store);
  asio::io_context io;
  std::string fatal;
  DbWorker worker(std::move(*store), io.get_executor(), [&](const std::string& w) { fatal = w; }, {}, 1000);
  std::optional<std::uint32_t> stock;
  bool got = false;
  worker.submit_value<std::optional<std::uint32_t>>(
      [](RelayStore& s) {
        return s.add_key_packages(acct(1), {PublishedKeyPackage{Bytes{1}, 10}, PublishedKeyPackage{Bytes{2}, 10}},
                                  std::nullopt, 10, 0);
      },
      [&](std::optional<std::uint32_t> v) {
        stock = v;
        got = true;
      });
  run_until(io, got);
  REQUIRE(stock == 2u);

  // A job that fails: its done never runs, on_fatal does, later jobs are dropped.
  bool failed_done = false;
  bool later_done = false;
  worker.submit([](RelayStore& s) { return s.db().exec("INSERT INTO no_such_table VALUES (1)"); },
                [&] { failed_done = true; });
  bool never = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (fatal.empty() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
    io.restart();
  }
  worker.submit([](RelayStore&) -> store::StoreResult<void> { return {}; }, [&] { later_done = true; });
  run_until(io, never, std::chrono::seconds(1));
  REQUIRE_FALSE(fatal.empty());
  REQUIRE_FALSE(failed_done);
  REQUIRE_FALSE(later_done);
}
