// SPDX-License-Identifier: Apache-2.0
#pragma once
// Versioned schema migrations on `PRAGMA user_version`.
//
// Migrations are numbered 1, 2, 3, ... in order. migrate() runs every step
// above the file's user_version, each in its own transaction that also sets
// user_version, so a crash leaves the file at a whole version. A file whose
// version is above the newest step was written by newer code: SchemaTooNew,
// and nothing is touched.

#include <cstdint>
#include <span>
#include <string_view>

#include "common/store/database.h"

namespace hearth::store {

struct Migration {
  std::int64_t version;  // 1-based, consecutive
  std::string_view sql;  // one or more statements
};

/// Returns the version the database is at afterwards. Errors: BadMigrations
/// (versions not 1..N in order), SchemaTooNew, or the failing step's error
/// (that step is rolled back; earlier steps stay applied).
[[nodiscard]] StoreResult<std::int64_t> migrate(Database& db, std::span<const Migration> migrations);

}  // namespace hearth::store
