// SPDX-License-Identifier: Apache-2.0
#pragma once
// Which KeyPackages the relay handed out (FetchKeyPackage), per account, so
// a commit can add an account only with a package the relay gave to
// somebody for it (DESIGN.md §4: Welcomes go "to the accounts whose
// KeyPackages it handed out"). A package the relay never handed out, e.g.
// one an attacker kept from an old upload, is refused. Bounded: the newest
// kMaxHandedOutPerAccount refs per account, across at most
// kMaxHandedOutAccounts accounts (the oldest entries go first). Held in
// memory only: after a restart a commit with a package fetched before it is
// refused, and the client fetches a fresh one. Pure data structure; not
// thread-safe.

#include <cstdint>
#include <deque>
#include <map>

#include "common/mls/labeled_crypto.h"
#include "common/types/ids.h"

namespace hearth::relay {

/// Refs remembered per account: more than a client fetches for one commit
/// (several rooms adding the same person at once).
inline constexpr std::size_t kMaxHandedOutPerAccount = 16;
/// Accounts with remembered refs.
inline constexpr std::size_t kMaxHandedOutAccounts = 100'000;

class HandedOutKeyPackages {
 public:
  /// Remembers that the package with `ref` of `account` was handed out
  /// (again, for a last-resort package), dropping the oldest past the bounds.
  void record(const AccountId& account, const mls::Digest& ref);
  [[nodiscard]] bool contains(const AccountId& account, const mls::Digest& ref) const;
  /// Forgets one handed-out `ref` (the commit that used it was accepted).
  void consume(const AccountId& account, const mls::Digest& ref);
  [[nodiscard]] std::size_t size() const noexcept { return total_; }

 private:
  struct Refs {
    std::deque<mls::Digest> refs;
    std::uint64_t touched = 0;
  };
  std::map<AccountId, Refs> by_account_;
  std::size_t total_ = 0;
  std::uint64_t clock_ = 0;  // order of use, to find the stalest account
};

}  // namespace hearth::relay
