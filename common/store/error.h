// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "common/types/result.h"

namespace hearth::store {

/// What went wrong in the store. A bad or foreign file is an expected failure
/// (returned, never thrown). The Failure detail carries SQLite's own message,
/// which names no row values (we never build SQL from data; values are bound).
enum class StoreCode {
  CannotOpen,      // the file cannot be opened or created (path, permissions)
  NotADatabase,    // the file exists but is not SQLite, or is corrupt
  ReadOnly,        // a write was attempted on a read-only file or connection
  Busy,            // the database is locked by another connection
  Constraint,      // UNIQUE / NOT NULL / CHECK / foreign key violated
  Full,            // the disk or the database is full
  Io,              // an I/O error while reading or writing
  BadStatement,    // SQL that does not prepare (a bug in our SQL) or a bad bind index
  TypeMismatch,    // a column holds another type than the getter expects
  SchemaTooNew,    // the file was written by a newer version of the code
  BadMigrations,   // the migration list itself is malformed (a bug)
  Sqlite,          // any other SQLite error
  // ---- sealed (encrypted) stores ----
  InvalidPassphrase,  // empty, or longer than the store accepts
  WrongPassphrase,    // the passphrase does not open the store's key
  KdfFailed,          // the passphrase key could not be derived (out of memory)
  Undecryptable,      // a sealed record does not open: damaged, or moved from another row
};
[[nodiscard]] std::string to_string(StoreCode c);

using StoreError = Failure<StoreCode>;

template <class T>
using StoreResult = Result<T, StoreError>;

/// Maps an SQLite primary or extended result code to a StoreCode.
[[nodiscard]] StoreCode code_from_sqlite(int rc) noexcept;

}  // namespace hearth::store
