// SPDX-License-Identifier: Apache-2.0
#include "common/store/transaction.h"

#include <utility>

namespace hearth::store {

StoreResult<Transaction> Transaction::begin(Database& db, TransactionKind kind) {
  const char* sql = kind == TransactionKind::Immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  if (auto r = db.exec(sql); !r) return fail(std::move(r.error()));
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() { rollback(); }

StoreResult<void> Transaction::commit() {
  if (db_ == nullptr) return fail(StoreError{StoreCode::BadStatement, "transaction already finished"});
  auto r = db_->exec("COMMIT");
  if (!r) {
    rollback();
    return r;
  }
  db_ = nullptr;
  return {};
}

void Transaction::rollback() noexcept {
  if (db_ == nullptr) return;
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL);
  // ROLLBACK then fails harmlessly, which is why the result is ignored.
  if (db_->in_transaction()) static_cast<void>(db_->exec("ROLLBACK"));
  db_ = nullptr;
}

}  // namespace hearth::store
