// SPDX-License-Identifier: Apache-2.0
#pragma once
// One SQLite connection, owned. Move-only; closing happens in the destructor.
//
// Thread affinity: a Database and the Statements prepared on it belong to one
// thread at a time (the connection is opened with SQLITE_OPEN_NOMUTEX). Share
// a file between threads by opening one Database per thread.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/error.h"

struct sqlite3;

namespace hearth::store {

class Statement;

enum class OpenMode {
  ReadWriteCreate,  // create the file if missing
  ReadWrite,        // the file must exist
  ReadOnly,
};

struct OpenOptions {
  OpenMode mode = OpenMode::ReadWriteCreate;
  /// How long a statement waits for another connection's lock before Busy.
  int busy_timeout_ms = 5000;
  /// Pragmas run in order right after opening, each as "PRAGMA <text>", e.g.
  /// "journal_mode=WAL", "synchronous=FULL", "secure_delete=ON".
  std::vector<std::string> pragmas;
};

class Database {
 public:
  /// Opens (or creates) `path` and checks that it is a readable SQLite file,
  /// then runs the pragmas. Errors: CannotOpen (missing file in ReadWrite /
  /// ReadOnly mode, unwritable directory), NotADatabase (garbage or corrupt
  /// header), ReadOnly, and whatever a pragma fails with.
  [[nodiscard]] static StoreResult<Database> open(const std::filesystem::path& path,
                                                  const OpenOptions& options = {});
  /// A private in-memory database (tests, scratch).
  [[nodiscard]] static StoreResult<Database> open_memory(const OpenOptions& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  /// Runs one or more SQL statements that take no parameters and return no
  /// rows of interest (schema, pragmas).
  [[nodiscard]] StoreResult<void> exec(std::string_view sql);
  /// Prepares one statement. Trailing text after the first statement is an
  /// error (BadStatement), so a bound value can never run as SQL.
  [[nodiscard]] StoreResult<Statement> prepare(std::string_view sql);

  /// `PRAGMA user_version`.
  [[nodiscard]] StoreResult<std::int64_t> user_version();
  [[nodiscard]] std::int64_t last_insert_rowid() const noexcept;
  /// Rows changed by the last INSERT/UPDATE/DELETE.
  [[nodiscard]] std::int64_t changes() const noexcept;
  [[nodiscard]] bool in_transaction() const noexcept;

  /// The raw handle, for the rare call this wrapper does not cover.
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }

  /// The error for the connection's last failed call (code + SQLite message).
  [[nodiscard]] StoreError last_error(int rc) const;

 private:
  explicit Database(sqlite3* db) noexcept : db_(db) {}
  [[nodiscard]] static StoreResult<Database> open_uri(const std::string& name, int flags,
                                                      const OpenOptions& options);
  sqlite3* db_ = nullptr;
};

}  // namespace hearth::store
