// SPDX-License-Identifier: Apache-2.0
#include "common/store/migrate.h"

#include <string>
#include <utility>

#include "common/store/transaction.h"

namespace hearth::store {

StoreResult<std::int64_t> migrate(Database& db, std::span<const Migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<std::int64_t>(i + 1)) {
      return fail(StoreError{StoreCode::BadMigrations,
                             "migration " + std::to_string(i) + " has version " +
                                 std::to_string(migrations[i].version)});
    }
  }
  const auto latest = static_cast<std::int64_t>(migrations.size());
  auto current = db.user_version();
  if (!current) return fail(std::move(current.error()));
  if (*current > latest) {
    return fail(StoreError{StoreCode::SchemaTooNew, "database schema version " + std::to_string(*current) +
                                                        " is newer than this program's " +
                                                        std::to_string(latest)});
  }
  if (*current < 0) {
    return fail(StoreError{StoreCode::NotADatabase, "negative schema version " + std::to_string(*current)});
  }
  for (auto v = *current; v < latest; ++v) {
    const auto& step = migrations[static_cast<std::size_t>(v)];
    auto tx = Transaction::begin(db);
    if (!tx) return fail(std::move(tx.error()));
    if (auto r = db.exec(step.sql); !r) return fail(std::move(r.error()));
    // user_version takes no bound parameter; the value is our own integer.
    if (auto r = db.exec("PRAGMA user_version = " + std::to_string(step.version)); !r) {
      return fail(std::move(r.error()));
    }
    if (auto r = tx->commit(); !r) return fail(std::move(r.error()));
  }
  return latest;
}

}  // namespace hearth::store
