// SPDX-License-Identifier: Apache-2.0
#include "common/store/database.h"

#include <sqlite3.h>

#include <utility>

#include "common/store/statement.h"

namespace hearth::store {

namespace {

StoreError error_of(sqlite3* db, int rc) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return StoreError{code_from_sqlite(rc), std::move(detail)};
}

}  // namespace

StoreResult<Database> Database::open(const std::filesystem::path& path, const OpenOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (options.mode) {
    case OpenMode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case OpenMode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case OpenMode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
  }
  return open_uri(path.string(), flags, options);
}

StoreResult<Database> Database::open_memory(const OpenOptions& options) {
  return open_uri(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, options);
}

StoreResult<Database> Database::open_uri(const std::string& name, int flags, const OpenOptions& options) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  // sqlite3_open_v2 hands back a handle even on failure; it must be closed.
  Database db(raw);
  if (rc != SQLITE_OK) return fail(error_of(raw, rc));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // Opening is lazy: SQLite reads the header only on first use. Touch the
  // schema now so a garbage or corrupt file fails here, as a typed error.
  if (auto r = db.exec("SELECT count(*) FROM sqlite_master"); !r) return fail(std::move(r.error()));
  for (const auto& pragma : options.pragmas) {
    if (auto r = db.exec("PRAGMA " + pragma); !r) return fail(std::move(r.error()));
  }
  return db;
}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  // close_v2 defers the close until every statement is finalized, so the
  // destruction order of Database and Statement does not matter.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

StoreResult<void> Database::exec(std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(error_of(db_, rc));
  return {};
}

StoreResult<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) return fail(error_of(db_, rc));
  Statement s(db_, stmt);
  if (stmt == nullptr) return fail(StoreError{StoreCode::BadStatement, "empty statement"});
  const auto consumed = static_cast<std::size_t>(tail - sql.data());
  for (auto c : sql.substr(consumed)) {
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != ';') {
      return fail(StoreError{StoreCode::BadStatement, "more than one statement"});
    }
  }
  return s;
}

StoreResult<std::int64_t> Database::user_version() {
  auto st = prepare("PRAGMA user_version");
  if (!st) return fail(std::move(st.error()));
  auto row = st->step();
  if (!row) return fail(std::move(row.error()));
  if (*row != Step::Row) return fail(StoreError{StoreCode::Sqlite, "user_version returned no row"});
  return st->column_int64(0);
}

std::int64_t Database::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_); }
std::int64_t Database::changes() const noexcept { return sqlite3_changes(db_); }
bool Database::in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

StoreError Database::last_error(int rc) const { return error_of(db_, rc); }

}  // namespace hearth::store
