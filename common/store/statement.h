// SPDX-License-Identifier: Apache-2.0
#pragma once
// A prepared statement, owned (finalized in the destructor). Move-only.
// Parameters are bound by 1-based index; columns are read by 0-based index.
//
//   auto st = db.prepare("SELECT seq, payload FROM envelopes WHERE room = ?1");
//   st->bind_blob(1, room.v);
//   while (auto step = st->step()) { if (*step == Step::Done) break; ... }
//
// Thread affinity: that of the Database it was prepared on.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/store/error.h"
#include "common/types/bytes.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hearth::store {

enum class Step { Row, Done };

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding; an index out of range is BadStatement. Text and blobs are copied.
  [[nodiscard]] StoreResult<void> bind_int64(int index, std::int64_t value);
  [[nodiscard]] StoreResult<void> bind_text(int index, std::string_view value);
  /// An empty view binds an empty blob (not NULL).
  [[nodiscard]] StoreResult<void> bind_blob(int index, BytesView value);
  [[nodiscard]] StoreResult<void> bind_null(int index);

  /// Advances: Row when a row is available through the column getters, Done
  /// when the statement has finished.
  [[nodiscard]] StoreResult<Step> step();
  /// Steps a statement that returns no rows, to completion, and resets it.
  [[nodiscard]] StoreResult<void> run();
  /// Makes the statement runnable again; bindings are kept.
  void reset() noexcept;
  void clear_bindings() noexcept;

  // Column getters, valid after step() returned Row. SQLite converts between
  // storage classes; a NULL reads as 0 / empty (check column_is_null first
  // when NULL is meaningful).
  [[nodiscard]] int column_count() const noexcept;
  [[nodiscard]] bool column_is_null(int index) const noexcept;
  [[nodiscard]] std::int64_t column_int64(int index) const noexcept;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] Bytes column_blob(int index) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  [[nodiscard]] StoreResult<void> check_bind(int rc) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace hearth::store
