// SPDX-License-Identifier: Apache-2.0
// Identity keys of other accounts: pinned on first sight, checked on every
// later sight (lookups, KeyPackages), compared by people as safety numbers.
#include <algorithm>

#include "client/core/engine_impl.h"
#include "client/core/safety_number.h"

namespace hearth::client {

namespace {

bool same_key(BytesView a, BytesView b) { return std::ranges::equal(a, b); }

std::string without_spaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '-') out.push_back(c);
  }
  return out;
}

}  // namespace

ClientResult<void> Engine::Impl::check_identity(const AccountId& account, BytesView key, const std::string& handle) {
  if (key.size() != crypto::kEd25519PublicKeySize) {
    return fail(ClientError{ClientCode::Protocol, "the relay sent an identity key of the wrong size"});
  }
  if (profile_ && account == profile_->account) {
    // Our own account: the key is ours, or the relay is lying about us.
    if (identity_ && same_key(key, identity_->public_key)) return {};
    return fail(ClientError{ClientCode::IdentityChanged, "the relay names another identity key for our own account"});
  }
  auto pin = store_->pinned_key(account);
  if (!pin) return fail(store_error(pin.error(), "cannot read a pinned identity key"));
  if (!*pin) {
    if (auto w = store_->put_pinned_key(PinnedKey{account, Bytes(key.begin(), key.end()), now_ms(), false}); !w) {
      return fail(store_error(w.error(), "cannot pin an identity key"));
    }
    return {};
  }
  if (same_key((*pin)->identity_key, key)) return {};
  emit(IdentityKeyChanged{account, handle, (*pin)->identity_key, Bytes(key.begin(), key.end())});
  return fail(ClientError{ClientCode::IdentityChanged,
                          "the identity key of " + (handle.empty() ? account.hex() : handle) +
                              " is not the one this device pinned; compare safety numbers before accepting it"});
}

asio::awaitable<ClientResult<SafetyNumber>> Engine::Impl::safety_number(std::string handle) {
  auto info = co_await lookup(std::move(handle));
  if (!info) co_return fail(info.error());
  if (!profile_ || !identity_) co_return fail(ClientError{ClientCode::NotRegistered, "no account on this device"});
  auto pin = store_->pinned_key(info->account);
  if (!pin) co_return fail(store_error(pin.error(), "cannot read a pinned identity key"));
  SafetyNumber out;
  out.account = info->account;
  out.handle = info->handle;
  out.digits = client::safety_number(profile_->account, identity_->public_key, info->account, info->identity_key);
  out.verified = *pin && (*pin)->verified;
  co_return out;
}

asio::awaitable<ClientResult<wire::KeyPackageOk>> Engine::Impl::fetch_key_package(AccountId account) {
  wire::Message msg = wire::FetchKeyPackage{account};
  auto answer = co_await request(std::move(msg));
  auto kp = expect<wire::KeyPackageOk>(std::move(answer), "KeyPackageOk");
  if (!kp) co_return kp;
  if (kp->account != account) co_return fail(ClientError{ClientCode::Protocol, "the relay answered for another account"});
  if (auto pinned = check_identity(account, kp->identity_key, {}); !pinned) co_return fail(pinned.error());
  const auto now_s = static_cast<std::uint64_t>(std::max<std::int64_t>(now_ms(), 0) / 1000);
  if (auto ok = mls::check_account_key_package(kp->key_package, account.v, kp->identity_key, now_s); !ok) {
    co_return fail(ClientError{ClientCode::Protocol,
                               "the relay served a KeyPackage that is not this account's: " + mls::to_string(ok.error())});
  }
  co_return kp;
}

std::future<ClientResult<wire::KeyPackageOk>> Engine::fetch_key_package(AccountId account) {
  Impl* impl = impl_.get();
  return impl->spawn<wire::KeyPackageOk>(
      [impl, account = std::move(account)] { return impl->fetch_key_package(account); });
}

std::future<ClientResult<SafetyNumber>> Engine::safety_number(std::string handle) {
  Impl* impl = impl_.get();
  return impl->spawn<SafetyNumber>([impl, handle = std::move(handle)] { return impl->safety_number(handle); });
}

std::future<ClientResult<SafetyNumber>> Engine::verify_safety_number(std::string handle, std::string digits) {
  Impl* impl = impl_.get();
  return impl->spawn<SafetyNumber>(
      [impl, handle = std::move(handle), digits = std::move(digits)]() -> asio::awaitable<ClientResult<SafetyNumber>> {
        auto number = co_await impl->safety_number(handle);
        if (!number) co_return number;
        if (without_spaces(number->digits) != without_spaces(digits)) {
          co_return fail(ClientError{ClientCode::InvalidArgument,
                                     "these digits are not your safety number with " + number->handle});
        }
        auto pin = impl->store_->pinned_key(number->account);
        if (!pin) co_return fail(store_error(pin.error(), "cannot read a pinned identity key"));
        if (!*pin) co_return fail(ClientError{ClientCode::Protocol, "no pinned key to verify"});
        PinnedKey verified = **pin;
        verified.verified = true;
        if (auto w = impl->store_->put_pinned_key(verified); !w) {
          co_return fail(store_error(w.error(), "cannot mark a key verified"));
        }
        number->verified = true;
        co_return number;
      });
}

std::future<ClientResult<SafetyNumber>> Engine::accept_identity_key(std::string handle) {
  Impl* impl = impl_.get();
  return impl->spawn<SafetyNumber>([impl, handle = std::move(handle)]() -> asio::awaitable<ClientResult<SafetyNumber>> {
    auto info = co_await impl->lookup(handle, Impl::Pins::Skip);
    if (!info) co_return fail(info.error());
    if (impl->profile_ && info->account == impl->profile_->account) {
      co_return fail(ClientError{ClientCode::InvalidArgument, "our own key is not accepted from the relay"});
    }
    if (info->identity_key.size() != crypto::kEd25519PublicKeySize) {
      co_return fail(ClientError{ClientCode::Protocol, "the relay sent an identity key of the wrong size"});
    }
    if (auto w = impl->store_->put_pinned_key(PinnedKey{info->account, info->identity_key, impl->now_ms(), false}); !w) {
      co_return fail(store_error(w.error(), "cannot pin an identity key"));
    }
    auto number = co_await impl->safety_number(handle);
    co_return number;
  });
}

}  // namespace hearth::client
