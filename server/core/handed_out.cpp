// SPDX-License-Identifier: Apache-2.0
#include "server/core/handed_out.h"

#include <algorithm>

namespace hearth::relay {

void HandedOutKeyPackages::record(const AccountId& account, const mls::Digest& ref) {
  if (!by_account_.contains(account) && by_account_.size() >= kMaxHandedOutAccounts) {
    // Linear, but only when the table is full of distinct accounts.
    auto stalest = std::min_element(by_account_.begin(), by_account_.end(),
                                    [](const auto& a, const auto& b) { return a.second.touched < b.second.touched; });
    total_ -= stalest->second.refs.size();
    by_account_.erase(stalest);
  }
  Refs& entry = by_account_[account];
  entry.touched = ++clock_;
  entry.refs.push_back(ref);
  ++total_;
  if (entry.refs.size() > kMaxHandedOutPerAccount) {
    entry.refs.pop_front();
    --total_;
  }
}

bool HandedOutKeyPackages::contains(const AccountId& account, const mls::Digest& ref) const {
  auto it = by_account_.find(account);
  return it != by_account_.end() && std::find(it->second.refs.begin(), it->second.refs.end(), ref) != it->second.refs.end();
}

void HandedOutKeyPackages::consume(const AccountId& account, const mls::Digest& ref) {
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return;
  auto& refs = it->second.refs;
  auto found = std::find(refs.begin(), refs.end(), ref);
  if (found == refs.end()) return;
  refs.erase(found);
  --total_;
  if (refs.empty()) by_account_.erase(it);
}

}  // namespace hearth::relay
