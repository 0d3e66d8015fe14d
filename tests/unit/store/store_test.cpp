// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/store/store.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace hearth;
using namespace hearth::store;

namespace {

using hearth::test::TempDir;

constexpr std::array<Migration, 2> kMigrations{{
    {1, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"},
    {2, "ALTER TABLE items ADD COLUMN data BLOB;"},
}};

OpenOptions options(OpenMode mode, std::vector<std::string> pragmas = {}) {
  OpenOptions o;
  o.mode = mode;
  o.pragmas = std::move(pragmas);
  return o;
}

std::int64_t count_items(Database& db) {
  auto st = db.prepare("SELECT count(*) FROM items");
  REQUIRE(st);
  auto s = st->step();
  REQUIRE(s);
  REQUIRE(*s == Step::Row);
  return st->column_int64(0);
}

void insert_item(Database& db, std::string_view name) {
  auto st = db.prepare("INSERT INTO items(name) VALUES (?1)");
  REQUIRE(st);
  REQUIRE(st->bind_text(1, name));
  REQUIRE(st->run());
}

}  // namespace

TEST_CASE("store: open, migrate, reopen keeps data and version", "[store]") {
  TempDir dir;
  const auto file = dir.path() / "a.db";
  {
    auto db = Database::open(file, options(OpenMode::ReadWriteCreate, {"journal_mode=WAL"}));
    REQUIRE(db);
    auto v = migrate(*db, kMigrations);
    REQUIRE(v);
    CHECK(*v == 2);
    insert_item(*db, "one");
  }
  auto db = Database::open(file, options(OpenMode::ReadWrite));
  REQUIRE(db);
  CHECK(db->user_version().value() == 2);
  auto v = migrate(*db, kMigrations);  // nothing to do
  REQUIRE(v);
  CHECK(*v == 2);
  CHECK(count_items(*db) == 1);
}

TEST_CASE("store: migrating in two releases applies only the new step", "[store]") {
  TempDir dir;
  const auto file = dir.path() / "a.db";
  {
    auto db = Database::open(file);
    REQUIRE(db);
    REQUIRE(migrate(*db, std::span(kMigrations).first(1)).value() == 1);
    insert_item(*db, "old");
  }
  auto db = Database::open(file);
  REQUIRE(db);
  REQUIRE(migrate(*db, kMigrations).value() == 2);
  auto st = db->prepare("SELECT name, data FROM items");
  REQUIRE(st);
  REQUIRE(st->step().value() == Step::Row);
  CHECK(st->column_text(0) == "old");
  CHECK(st->column_is_null(1));
}

TEST_CASE("store: a failing migration step is rolled back and reported", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  constexpr std::array<Migration, 2> bad{{
      {1, "CREATE TABLE t(x INTEGER);"},
      {2, "CREATE TABLE u(y INTEGER); INSERT INTO nowhere VALUES (1);"},
  }};
  auto v = migrate(*db, bad);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == StoreCode::Sqlite);
  CHECK(v.error().detail.find("nowhere") != std::string::npos);
  CHECK(db->user_version().value() == 1);
  CHECK_FALSE(db->in_transaction());
  // Table u from the failed step must not exist.
  auto st = db->prepare("SELECT count(*) FROM sqlite_master WHERE name = 'u'");
  REQUIRE(st);
  REQUIRE(st->step().value() == Step::Row);
  CHECK(st->column_int64(0) == 0);
}

TEST_CASE("store: a database newer than the code is SchemaTooNew and untouched", "[store]") {
  TempDir dir;
  const auto file = dir.path() / "a.db";
  {
    auto db = Database::open(file);
    REQUIRE(db);
    REQUIRE(migrate(*db, kMigrations));
    REQUIRE(db->exec("PRAGMA user_version = 7"));
  }
  auto db = Database::open(file);
  REQUIRE(db);
  auto v = migrate(*db, kMigrations);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == StoreCode::SchemaTooNew);
  CHECK(to_string(v.error().code) == "SchemaTooNew");
  CHECK(db->user_version().value() == 7);
}

TEST_CASE("store: malformed migration lists are refused", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  constexpr std::array<Migration, 2> gap{{{1, "SELECT 1;"}, {3, "SELECT 1;"}}};
  auto v = migrate(*db, gap);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == StoreCode::BadMigrations);
  CHECK(db->user_version().value() == 0);
}

TEST_CASE("store: transaction rolls back on destruction, commits on commit", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  REQUIRE(migrate(*db, kMigrations));
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx);
    insert_item(*db, "dropped");
    CHECK(db->in_transaction());
  }
  CHECK_FALSE(db->in_transaction());
  CHECK(count_items(*db) == 0);
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx);
    insert_item(*db, "kept");
    REQUIRE(tx->commit());
    CHECK_FALSE(tx->commit());  // a second commit is a misuse, reported
  }
  CHECK(count_items(*db) == 1);
}

TEST_CASE("store: an error inside a transaction rolls everything back", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  REQUIRE(migrate(*db, kMigrations));
  insert_item(*db, "dup");
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx);
    insert_item(*db, "fresh");
    auto st = db->prepare("INSERT INTO items(name) VALUES (?1)");
    REQUIRE(st);
    REQUIRE(st->bind_text(1, "dup"));
    auto r = st->run();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == StoreCode::Constraint);
    CHECK(r.error().detail.find("UNIQUE") != std::string::npos);
    // Leaving the scope without commit discards "fresh" too.
  }
  CHECK(count_items(*db) == 1);
}

TEST_CASE("store: a garbage file is NotADatabase, not a crash", "[store]") {
  TempDir dir;
  const auto file = dir.path() / "garbage.db";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>('x' + i % 3));
  }
  auto db = Database::open(file);
  REQUIRE_FALSE(db);
  CHECK(db.error().code == StoreCode::NotADatabase);
  CHECK_FALSE(db.error().detail.empty());
}

TEST_CASE("store: a corrupted header of a real database is an error", "[store]") {
  TempDir dir;
  const auto file = dir.path() / "c.db";
  {
    auto db = Database::open(file);
    REQUIRE(db);
    REQUIRE(migrate(*db, kMigrations));
  }
  {
    std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(0);
    f.write("NOT SQLITE AT ALL", 16);  // overwrite the magic string
  }
  auto db = Database::open(file);
  REQUIRE_FALSE(db);
  CHECK(db.error().code == StoreCode::NotADatabase);
}

TEST_CASE("store: missing file without create, and unwritable directory, are CannotOpen", "[store]") {
  TempDir dir;
  auto missing = Database::open(dir.path() / "missing.db", options(OpenMode::ReadWrite));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == StoreCode::CannotOpen);

  auto in_missing_dir = Database::open(dir.path() / "no" / "such" / "dir.db");
  REQUIRE_FALSE(in_missing_dir);
  CHECK(in_missing_dir.error().code == StoreCode::CannotOpen);

  if (::geteuid() != 0) {  // root ignores permission bits
    const auto locked = dir.path() / "locked";
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    auto db = Database::open(locked / "x.db");
    REQUIRE_FALSE(db);
    CHECK(db.error().code == StoreCode::CannotOpen);
  }
}

TEST_CASE("store: writing through a read-only connection is ReadOnly", "[store]") {
  TempDir dir;
  const auto file = dir.path() / "r.db";
  {
    auto db = Database::open(file);
    REQUIRE(db);
    REQUIRE(migrate(*db, kMigrations));
  }
  auto db = Database::open(file, options(OpenMode::ReadOnly));
  REQUIRE(db);
  auto r = db->exec("INSERT INTO items(name) VALUES ('x')");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == StoreCode::ReadOnly);
}

TEST_CASE("store: binding round trips int64, text, blob, empty blob and null", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  REQUIRE(db->exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, e BLOB, n BLOB)"));
  auto ins = db->prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
  REQUIRE(ins);
  const std::int64_t big = std::numeric_limits<std::int64_t>::min();
  const std::string text("h\xC3\xA9llo\0world", 12);  // UTF-8 with an embedded NUL
  const Bytes blob{0x00, 0xff, 0x10, 0x00};
  REQUIRE(ins->bind_int64(1, big));
  REQUIRE(ins->bind_text(2, text));
  REQUIRE(ins->bind_blob(3, blob));
  REQUIRE(ins->bind_blob(4, BytesView{}));
  REQUIRE(ins->bind_null(5));
  REQUIRE(ins->run());
  CHECK(db->changes() == 1);

  auto sel = db->prepare("SELECT i, s, b, e, n, typeof(e) FROM t");
  REQUIRE(sel);
  REQUIRE(sel->step().value() == Step::Row);
  CHECK(sel->column_count() == 6);
  CHECK(sel->column_int64(0) == big);
  CHECK(sel->column_text(1) == text);
  CHECK(sel->column_blob(2) == blob);
  CHECK(sel->column_blob(3).empty());
  CHECK_FALSE(sel->column_is_null(3));
  CHECK(sel->column_text(5) == "blob");
  CHECK(sel->column_is_null(4));
  CHECK(sel->step().value() == Step::Done);

  // reset keeps bindings: the same insert again gives a second identical row.
  REQUIRE(ins->run());
  sel->reset();
  int rows = 0;
  while (sel->step().value() == Step::Row) ++rows;
  CHECK(rows == 2);
}

TEST_CASE("store: bad SQL, bad bind index and multi-statement prepare are BadStatement or Sqlite",
          "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  auto bad = db->prepare("SELEC nonsense");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == StoreCode::Sqlite);

  auto st = db->prepare("SELECT ?1");
  REQUIRE(st);
  auto r = st->bind_int64(2, 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == StoreCode::BadStatement);

  auto two = db->prepare("SELECT 1; SELECT 2");
  REQUIRE_FALSE(two);
  CHECK(two.error().code == StoreCode::BadStatement);

  auto trailing = db->prepare("SELECT 1;  \n");
  CHECK(trailing);
}

TEST_CASE("store: every StoreCode has a distinct name", "[store]") {
  const std::array codes{StoreCode::CannotOpen, StoreCode::NotADatabase, StoreCode::ReadOnly,
                         StoreCode::Busy, StoreCode::Constraint, StoreCode::Full, StoreCode::Io,
                         StoreCode::BadStatement, StoreCode::TypeMismatch, StoreCode::SchemaTooNew,
                         StoreCode::BadMigrations, StoreCode::Sqlite};
  std::set<std::string> names;
  for (auto c : codes) names.insert(to_string(c));
  CHECK(names.size() == codes.size());
}

TEST_CASE("store: moved-from objects are inert", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  Database moved = std::move(*db);
  REQUIRE(moved.exec("CREATE TABLE t(x)"));
  auto st = moved.prepare("INSERT INTO t VALUES (1)");
  REQUIRE(st);
  Statement other = std::move(*st);
  REQUIRE(other.run());
}
