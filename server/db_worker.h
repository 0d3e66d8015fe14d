// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay's database thread, with group commit.
//
//   io thread ──submit(job)──> queue ──> DB thread: BEGIN; run every job that
//                                        queued while the last commit ran; COMMIT
//   io thread <──post(all done callbacks, in submit order)── after COMMIT
//
// A job's `done` runs on the io executor only after its transaction is
// durable (synchronous=FULL), in submit order; that is what makes "durable
// before ack" hold. Jobs see the writes of every job submitted before them.
// A job that fails fails its whole group: nothing of it is acknowledged, the
// worker stops taking jobs and `on_fatal` runs on the io executor (the relay
// then stops; its in-memory state is no longer what the disk holds).
//
// A second thread checkpoints the WAL in the background (PASSIVE, on its own
// connection) so commits never pay for a checkpoint.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/asio.h"
#include "server/store.h"

namespace hearth::relay {

class DbJob {
 public:
  virtual ~DbJob() = default;
  /// On the DB thread, inside the group transaction.
  [[nodiscard]] virtual store::StoreResult<void> run(RelayStore& store) = 0;
  /// On the io executor, after the commit.
  virtual void done() = 0;
};

class DbWorker {
 public:
  using FatalHandler = std::function<void(const std::string& what)>;

  /// Starts the threads. `db_file` is the database the checkpointer opens;
  /// empty disables background checkpoints (in-memory stores in tests).
  DbWorker(RelayStore store, asio::any_io_executor io, FatalHandler on_fatal, std::filesystem::path db_file,
           std::uint32_t checkpoint_interval_ms);
  DbWorker(const DbWorker&) = delete;
  DbWorker& operator=(const DbWorker&) = delete;
  /// stop()s if still running.
  ~DbWorker();

  /// Thread-safe. After stop() or a fatal error the job is dropped (its
  /// `done` never runs).
  void submit(std::unique_ptr<DbJob> job);

  /// `work(store)` returns StoreResult<void>; `done()` runs after commit.
  template <class Work, class Done>
  void submit(Work work, Done done);
  /// `work(store)` returns StoreResult<T>; `done(T)` runs after commit.
  template <class T, class Work, class Done>
  void submit_value(Work work, Done done);

  /// Runs every queued job, posts their completions, checkpoints (TRUNCATE)
  /// and joins the threads. Call from outside the DB thread.
  void stop();

  [[nodiscard]] std::uint64_t commits() const noexcept { return commits_.load(); }
  [[nodiscard]] std::uint64_t jobs_committed() const noexcept { return jobs_.load(); }

 private:
  void run();
  void checkpoint_loop(std::filesystem::path db_file, std::uint32_t interval_ms);
  [[nodiscard]] store::StoreResult<void> commit_group(std::vector<std::unique_ptr<DbJob>>& batch);

  RelayStore store_;
  asio::any_io_executor io_;
  FatalHandler on_fatal_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<DbJob>> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_stop_ = false;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> jobs_{0};
  std::thread thread_;
  std::thread checkpointer_;
};

namespace detail {

template <class Work, class Done>
class LambdaJob final : public DbJob {
 public:
  LambdaJob(Work w, Done d) : work_(std::move(w)), done_(std::move(d)) {}
  store::StoreResult<void> run(RelayStore& store) override { return work_(store); }
  void done() override { done_(); }

 private:
  Work work_;
  Done done_;
};

template <class T, class Work, class Done>
class ValueJob final : public DbJob {
 public:
  ValueJob(Work w, Done d) : work_(std::move(w)), done_(std::move(d)) {}
  store::StoreResult<void> run(RelayStore& store) override {
    auto r = work_(store);
    if (!r) return fail(std::move(r.error()));
    value_.emplace(std::move(*r));
    return {};
  }
  void done() override { done_(std::move(*value_)); }

 private:
  Work work_;
  Done done_;
  std::optional<T> value_;
};

}  // namespace detail

template <class Work, class Done>
void DbWorker::submit(Work work, Done done) {
  submit(std::make_unique<detail::LambdaJob<Work, Done>>(std::move(work), std::move(done)));
}

template <class T, class Work, class Done>
void DbWorker::submit_value(Work work, Done done) {
  submit(std::make_unique<detail::ValueJob<T, Work, Done>>(std::move(work), std::move(done)));
}

}  // namespace hearth::relay
