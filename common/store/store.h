// SPDX-License-Identifier: Apache-2.0
#pragma once
// The whole of common/store: Database, Statement, Transaction, migrate().

#include "common/store/database.h"     // IWYU pragma: export
#include "common/store/error.h"        // IWYU pragma: export
#include "common/store/migrate.h"      // IWYU pragma: export
#include "common/store/statement.h"    // IWYU pragma: export
#include "common/store/transaction.h"  // IWYU pragma: export
