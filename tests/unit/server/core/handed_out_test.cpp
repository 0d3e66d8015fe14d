// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "server/core/handed_out.h"

using namespace hearth;
using namespace hearth::relay;

namespace {

AccountId account_no(std::uint32_t n) {
  Bytes id(16, 0);
  for (int i = 0; i < 4; ++i) id[static_cast<std::size_t>(12 + i)] = static_cast<std::uint8_t>(n >> (8 * (3 - i)));
  return AccountId{id};
}
mls::Digest ref(std::uint8_t b) {
  mls::Digest d{};
  d.fill(b);
  return d;
}

}  // namespace

TEST_CASE("handed-out KeyPackages: recorded per account, consumed once", "[server][core][keys]") {
  HandedOutKeyPackages h;
  h.record(account_no(1), ref(1));
  CHECK(h.contains(account_no(1), ref(1)));
  CHECK_FALSE(h.contains(account_no(2), ref(1)));  // another account's package
  CHECK_FALSE(h.contains(account_no(1), ref(2)));
  h.consume(account_no(1), ref(1));
  CHECK_FALSE(h.contains(account_no(1), ref(1)));
  CHECK(h.size() == 0);
  h.consume(account_no(1), ref(1));  // nothing left: no effect
  // A last-resort package handed out twice may be used twice.
  h.record(account_no(1), ref(9));
  h.record(account_no(1), ref(9));
  h.consume(account_no(1), ref(9));
  CHECK(h.contains(account_no(1), ref(9)));
}

TEST_CASE("handed-out KeyPackages: the newest kMaxHandedOutPerAccount per account", "[server][core][keys]") {
  HandedOutKeyPackages h;
  for (std::size_t i = 0; i <= kMaxHandedOutPerAccount; ++i) h.record(account_no(1), ref(static_cast<std::uint8_t>(i)));
  CHECK(h.size() == kMaxHandedOutPerAccount);
  CHECK_FALSE(h.contains(account_no(1), ref(0)));
  CHECK(h.contains(account_no(1), ref(1)));
  CHECK(h.contains(account_no(1), ref(static_cast<std::uint8_t>(kMaxHandedOutPerAccount))));
}

TEST_CASE("handed-out KeyPackages: at most kMaxHandedOutAccounts accounts, the stalest go", "[server][core][keys]") {
  HandedOutKeyPackages h;
  for (std::uint32_t a = 0; a < kMaxHandedOutAccounts; ++a) h.record(account_no(a), ref(1));
  h.record(account_no(0), ref(2));  // account 0 is fresh again; account 1 is now the stalest
  h.record(account_no(kMaxHandedOutAccounts), ref(1));
  CHECK(h.size() == kMaxHandedOutAccounts + 1);  // account 0 holds two
  CHECK_FALSE(h.contains(account_no(1), ref(1)));
  CHECK(h.contains(account_no(0), ref(1)));
  CHECK(h.contains(account_no(kMaxHandedOutAccounts), ref(1)));
}
