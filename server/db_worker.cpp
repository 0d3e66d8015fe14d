// SPDX-License-Identifier: Apache-2.0
#include "server/db_worker.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace hearth::relay {

namespace {
/// Commits slower than this are logged at debug level (count and time only).
constexpr std::chrono::milliseconds kSlowCommit{20};
}  // namespace

DbWorker::DbWorker(RelayStore store, asio::any_io_executor io, FatalHandler on_fatal, std::filesystem::path db_file,
                   std::uint32_t checkpoint_interval_ms)
    : store_(std::move(store)), io_(std::move(io)), on_fatal_(std::move(on_fatal)) {
  thread_ = std::thread([this] { run(); });
  if (!db_file.empty()) {
    checkpointer_ = std::thread(
        [this, f = std::move(db_file), checkpoint_interval_ms] { checkpoint_loop(f, checkpoint_interval_ms); });
  }
}

DbWorker::~DbWorker() { stop(); }

void DbWorker::submit(std::unique_ptr<DbJob> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || failed_) return;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void DbWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stop_ = true;
  }
  checkpoint_wake_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
}

store::StoreResult<void> DbWorker::commit_group(std::vector<std::unique_ptr<DbJob>>& batch) {
  auto tx = store::Transaction::begin(store_.db(), store::TransactionKind::Immediate);
  if (!tx) return fail(std::move(tx.error()));
  for (auto& job : batch) {
    if (auto r = job->run(store_); !r) return fail(std::move(r.error()));  // tx rolls back
  }
  return tx->commit();
}

void DbWorker::run() {
  std::vector<std::unique_ptr<DbJob>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) break;  // stopping, and everything queued is done
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    const auto started = std::chrono::steady_clock::now();
    auto committed = commit_group(batch);
    const auto took = std::chrono::steady_clock::now() - started;
    if (took > kSlowCommit) {
      spdlog::debug("slow commit: {} jobs in {} ms", batch.size(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
    }
    if (auto& r = committed; !r) {
      {
        std::lock_guard lock(mutex_);
        failed_ = true;
        queue_.clear();
      }
      const std::string what = "database write failed (" + store::to_string(r.error().code) + "): " + r.error().detail;
      asio::post(io_, [handler = on_fatal_, what] { handler(what); });
      return;
    }
    commits_.fetch_add(1);
    jobs_.fetch_add(batch.size());
    auto done = std::make_shared<std::vector<std::unique_ptr<DbJob>>>(std::move(batch));
    batch.clear();
    asio::post(io_, [done] {
      for (auto& job : *done) job->done();
    });
  }
  // Leave a small WAL behind after a clean stop.
  if (auto r = store_.db().exec("PRAGMA wal_checkpoint(TRUNCATE)"); !r)
    spdlog::warn("final checkpoint failed: {}", r.error().detail);
}

void DbWorker::checkpoint_loop(std::filesystem::path db_file, std::uint32_t interval_ms) {
  store::OpenOptions options;
  options.mode = store::OpenMode::ReadWrite;
  options.pragmas = {"journal_mode=WAL", "wal_autocheckpoint=0"};
  auto db = store::Database::open(db_file, options);
  if (!db) {
    spdlog::warn("background checkpoints disabled: {}", db.error().detail);
    return;
  }
  std::unique_lock lock(checkpoint_mutex_);
  while (!checkpoint_stop_) {
    checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(interval_ms), [&] { return checkpoint_stop_; });
    if (checkpoint_stop_) break;
    lock.unlock();
    // PASSIVE never waits for writers or readers; a busy moment just skips.
    if (auto r = db->exec("PRAGMA wal_checkpoint(PASSIVE)"); !r)
      spdlog::debug("background checkpoint skipped: {}", r.error().detail);
    lock.lock();
  }
}

}  // namespace hearth::relay
