// SPDX-License-Identifier: Apache-2.0
#include "common/store/error.h"

#include <sqlite3.h>

namespace hearth::store {

std::string to_string(StoreCode c) {
  switch (c) {
    case StoreCode::CannotOpen: return "CannotOpen";
    case StoreCode::NotADatabase: return "NotADatabase";
    case StoreCode::ReadOnly: return "ReadOnly";
    case StoreCode::Busy: return "Busy";
    case StoreCode::Constraint: return "Constraint";
    case StoreCode::Full: return "Full";
    case StoreCode::Io: return "Io";
    case StoreCode::BadStatement: return "BadStatement";
    case StoreCode::TypeMismatch: return "TypeMismatch";
    case StoreCode::SchemaTooNew: return "SchemaTooNew";
    case StoreCode::BadMigrations: return "BadMigrations";
    case StoreCode::Sqlite: return "Sqlite";
    case StoreCode::InvalidPassphrase: return "InvalidPassphrase";
    case StoreCode::WrongPassphrase: return "WrongPassphrase";
    case StoreCode::KdfFailed: return "KdfFailed";
    case StoreCode::Undecryptable: return "Undecryptable";
  }
  return "Unknown";
}

StoreCode code_from_sqlite(int rc) noexcept {
  switch (rc & 0xff) {  // the primary code sits in the low byte of an extended code
    case SQLITE_CANTOPEN: return StoreCode::CannotOpen;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return StoreCode::NotADatabase;
    case SQLITE_READONLY:
    case SQLITE_PERM: return StoreCode::ReadOnly;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return StoreCode::Busy;
    case SQLITE_CONSTRAINT: return StoreCode::Constraint;
    case SQLITE_FULL: return StoreCode::Full;
    case SQLITE_IOERR: return StoreCode::Io;
    case SQLITE_RANGE:
    case SQLITE_MISUSE: return StoreCode::BadStatement;
    case SQLITE_MISMATCH: return StoreCode::TypeMismatch;
    default: return StoreCode::Sqlite;
  }
}

}  // namespace hearth::store
