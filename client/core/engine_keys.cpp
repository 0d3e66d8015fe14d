// SPDX-License-Identifier: Apache-2.0
// The KeyPackage stock: after each sync and every kKeyPackageCheckInterval,
// ask the relay how many one-time packages it holds, make what is missing
// (and a new last-resort package when ours nears expiry), store their
// private keys, then publish them.
#include <algorithm>

#include "client/core/engine_impl.h"

namespace hearth::client {

void Engine::Impl::top_up_key_packages(TopUpDone done) {
  if (done) top_up_done_.push_back(std::move(done));
  if (topping_up_) return;
  topping_up_ = true;
  next_key_check_ms_ = now_ms() + kKeyPackageCheckInterval.count();
  asio::co_spawn(io_, run_key_top_up(), [this](std::exception_ptr e, ClientResult<KeyPackageStock> r) {
    topping_up_ = false;
    if (e) r = fail(ClientError{ClientCode::Protocol, "the KeyPackage top-up failed unexpectedly"});
    if (!r && r.error().code != ClientCode::Disconnected && r.error().code != ClientCode::Stopped) {
      emit(ErrorEvent{r.error()});
    }
    auto waiting = std::move(top_up_done_);
    top_up_done_.clear();
    for (auto& d : waiting) d(r);
  });
}

asio::awaitable<ClientResult<KeyPackageStock>> Engine::Impl::run_key_top_up() {
  if (!profile_ || !identity_) co_return fail(ClientError{ClientCode::NotRegistered, "no account on this device"});
  // An empty PublishKeys only reports the stock.
  wire::Message ask = wire::PublishKeys{{}, std::nullopt};
  auto asked = co_await request(std::move(ask));
  auto stock = expect<wire::PublishKeysOk>(std::move(asked), "PublishKeysOk");
  if (!stock) co_return fail(stock.error());

  auto local = store_->key_packages();
  if (!local) co_return fail(store_error(local.error(), "cannot read our KeyPackages"));
  const auto now_s = static_cast<std::uint64_t>(std::max<std::int64_t>(now_ms(), 0) / 1000);
  KeyPackagePolicy policy = options_.key_packages;
  policy.target = std::min<std::uint32_t>(policy.target, static_cast<std::uint32_t>(wire::kMaxListItems));
  const auto plan = plan_key_packages(stock->stock, *local, now_s, policy);
  for (const auto& ref : plan.drop) {
    if (auto r = store_->remove_key_package(ref); !r) {
      co_return fail(store_error(r.error(), "cannot delete an expired KeyPackage"));
    }
  }
  KeyPackageStock out{stock->stock, 0, false};
  if (!plan.publishes()) co_return out;

  std::vector<StoredKeyPackage> fresh;
  wire::PublishKeys publish;
  for (std::uint32_t i = 0; i < plan.one_time + (plan.last_resort ? 1u : 0u); ++i) {
    const bool last_resort = i == plan.one_time;
    auto made = make_key_package(profile_->account, *identity_, last_resort, now_s, policy, rng_);
    if (last_resort) {
      publish.last_resort = std::move(made.published);
    } else {
      publish.key_packages.push_back(std::move(made.published));
    }
    fresh.push_back(std::move(made.stored));
  }
  // The private keys first: the relay may hand a package out the moment it has it.
  if (auto r = store_->add_key_packages(fresh); !r) co_return fail(store_error(r.error(), "cannot store new KeyPackages"));
  wire::Message msg = std::move(publish);
  auto sent = co_await request(std::move(msg));
  auto ok = expect<wire::PublishKeysOk>(std::move(sent), "PublishKeysOk");
  if (!ok) {
    // Refused by the relay: never handed out, so the keys can go. Anything
    // else (a drop, a timeout) may have reached it: keep them.
    if (ok.error().relay) {
      for (const auto& p : fresh) (void)store_->remove_key_package(p.ref);
    }
    co_return fail(ok.error());
  }
  out.relay_stock = ok->stock;
  out.added = plan.one_time;
  out.last_resort = plan.last_resort;
  emit(KeyPackagesPublished{out.relay_stock, out.added, out.last_resort});
  co_return out;
}

std::future<ClientResult<KeyPackageStock>> Engine::top_up_key_packages() {
  Impl* impl = impl_.get();
  return impl->defer<KeyPackageStock>([impl](Impl::PromisePtr<KeyPackageStock> promise) {
    impl->top_up_key_packages([promise](const ClientResult<KeyPackageStock>& r) { promise->set_value(r); });
  });
}

}  // namespace hearth::client
