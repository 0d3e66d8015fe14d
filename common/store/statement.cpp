// SPDX-License-Identifier: Apache-2.0
#include "common/store/statement.h"

#include <sqlite3.h>

#include <utility>

namespace hearth::store {

namespace {

StoreError error_of(sqlite3* db, int rc) {
  return StoreError{code_from_sqlite(rc), db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)};
}

// sqlite3_bind_blob with a null pointer binds NULL, so an empty blob needs a
// valid (never read) address.
constexpr std::uint8_t kEmptyBlob = 0;

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

StoreResult<void> Statement::check_bind(int rc) const {
  if (rc != SQLITE_OK) return fail(error_of(db_, rc));
  return {};
}

StoreResult<void> Statement::bind_int64(int index, std::int64_t value) {
  return check_bind(sqlite3_bind_int64(stmt_, index, value));
}

StoreResult<void> Statement::bind_text(int index, std::string_view value) {
  return check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

StoreResult<void> Statement::bind_blob(int index, BytesView value) {
  const void* data = value.empty() ? static_cast<const void*>(&kEmptyBlob) : value.data();
  return check_bind(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT));
}

StoreResult<void> Statement::bind_null(int index) { return check_bind(sqlite3_bind_null(stmt_, index)); }

StoreResult<Step> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return Step::Row;
  if (rc == SQLITE_DONE) return Step::Done;
  auto error = error_of(db_, rc);
  // Leave the statement reusable after a failure (e.g. a constraint error).
  sqlite3_reset(stmt_);
  return fail(std::move(error));
}

StoreResult<void> Statement::run() {
  auto s = step();
  if (!s) return fail(std::move(s.error()));
  sqlite3_reset(stmt_);
  if (*s == Step::Row) return fail(StoreError{StoreCode::BadStatement, "statement returned rows"});
  return {};
}

void Statement::reset() noexcept { sqlite3_reset(stmt_); }
void Statement::clear_bindings() noexcept { sqlite3_clear_bindings(stmt_); }

int Statement::column_count() const noexcept { return sqlite3_column_count(stmt_); }

bool Statement::column_is_null(int index) const noexcept {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int index) const noexcept { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), size);
}

Bytes Statement::column_blob(int index) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
  if (data == nullptr || size == 0) return {};
  return Bytes(data, data + size);
}

}  // namespace hearth::store
