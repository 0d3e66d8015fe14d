// SPDX-License-Identifier: Apache-2.0
#pragma once
// RAII transaction: rolls back in the destructor unless commit() succeeded.
//
//   auto tx = Transaction::begin(db);
//   if (!tx) return fail(tx.error());
//   ... statements ...
//   return tx->commit();
//
// Not nestable (SQLite has no nested BEGIN). Thread affinity: the Database's.

#include "common/store/database.h"

namespace hearth::store {

enum class TransactionKind {
  Deferred,   // takes locks on first read/write
  Immediate,  // takes the write lock now (use for read-modify-write)
};

class Transaction {
 public:
  /// The Database must outlive the Transaction.
  [[nodiscard]] static StoreResult<Transaction> begin(Database& db,
                                                      TransactionKind kind = TransactionKind::Immediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  /// Commits. On failure the transaction is rolled back and the error returned.
  [[nodiscard]] StoreResult<void> commit();
  /// Rolls back now (also what the destructor does when not committed).
  void rollback() noexcept;

 private:
  explicit Transaction(Database& db) noexcept : db_(&db) {}
  Database* db_ = nullptr;  // null once committed or rolled back
};

}  // namespace hearth::store
