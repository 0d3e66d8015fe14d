// SPDX-License-Identifier: Apache-2.0
#include "client/core/engine.h"

#include <system_error>

#include "client/core/engine_impl.h"
#include "client/core/sqlite_store.h"
#include "common/wire/invite.h"

namespace hearth::client {

// ---------------------------------------------------------------- Impl basics

Engine::Impl::Impl(std::unique_ptr<LocalStore> store, EngineOptions options)
    : work_(asio::make_work_guard(io_)),
      store_(std::move(store)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &system_clock_),
      tick_(io_),
      backoff_timer_(io_) {
  if (!options_.transport) options_.transport = tls_transport();
}

ClientResult<void> Engine::Impl::ensure_identity(bool create) {
  if (identity_) return {};
  auto seed = store_->identity_seed();
  if (!seed) return fail(ClientError{ClientCode::Store, "cannot read the device key: " + seed.error().detail});
  if (!*seed) {
    if (!create) return fail(ClientError{ClientCode::NotRegistered, "this profile has no device key"});
    auto key = crypto::ed25519_generate();
    const auto new_seed = crypto::ed25519_seed(key);
    if (auto r = store_->save_identity_seed(new_seed.view()); !r) {
      return fail(ClientError{ClientCode::Store, "cannot store the device key: " + r.error().detail});
    }
    identity_ = std::move(key);
    return {};
  }
  auto key = crypto::ed25519_from_seed(**seed);
  if (!key) return fail(ClientError{ClientCode::Store, "the stored device key is invalid"});
  identity_ = std::move(*key);
  return {};
}

ClientResult<ProfileInfo> Engine::Impl::load_profile() {
  if (profile_) return *profile_;
  auto p = store_->profile();
  if (!p) return fail(ClientError{ClientCode::Store, "cannot read the profile: " + p.error().detail});
  if (!*p) return fail(ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"});
  profile_ = **p;
  return *profile_;
}

void Engine::Impl::store_failed(const StoreError& e, const char* what) {
  emit(ErrorEvent{ClientError{ClientCode::Store, std::string(what) + ": " + store::to_string(e.code) + ": " + e.detail}});
}

void Engine::Impl::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    asio::post(io_, [this] { shutdown(); });
  }
  if (!thread_.joinable()) return;
  auto done = thread_done_.get_future();
  if (done.wait_for(kStopTimeout) != std::future_status::ready) io_.stop();
  thread_.join();
}

// ---------------------------------------------------------------- Engine

ClientResult<std::unique_ptr<Engine>> Engine::open_profile(const std::filesystem::path& dir,
                                                          std::string_view passphrase, EngineOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ClientError{ClientCode::Store, "cannot create the profile directory: " + ec.message()});
  // The profile holds the device key: only its owner may read the directory.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
  auto store = SqliteStore::open(dir / kProfileDbName, passphrase, options.profile_kdf);
  if (!store) {
    const auto code = store.error().code;
    if (code == store::StoreCode::WrongPassphrase || code == store::StoreCode::InvalidPassphrase) {
      return fail(ClientError{ClientCode::Passphrase, store.error().detail});
    }
    return fail(ClientError{ClientCode::Store, "cannot open the profile database: " + store::to_string(store.error().code) +
                                                   ": " + store.error().detail});
  }
  return std::make_unique<Engine>(std::move(*store), std::move(options));
}

Engine::Engine(std::unique_ptr<LocalStore> store, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(store), std::move(options))) {
  crypto::init();
  Impl* impl = impl_.get();
  impl->thread_ = std::thread([impl] {
    impl->io_.run();
    impl->thread_done_.set_value();
  });
  asio::co_spawn(impl->io_, impl->tick_loop(), [impl](std::exception_ptr e) {
    if (e) impl->emit(ErrorEvent{ClientError{ClientCode::Protocol, "housekeeping stopped on an internal error"}});
  });
}

Engine::~Engine() { stop(); }

EventQueue& Engine::events() noexcept { return impl_->events_; }

void Engine::stop() { impl_->stop(); }

void Engine::drop_connection() {
  Impl* impl = impl_.get();
  std::lock_guard lock(impl->stop_mutex_);
  if (impl->stopped_) return;
  asio::post(impl->io_, [impl] {
    if (impl->conn_) impl->conn_->close();
  });
}

std::future<ClientResult<AccountId>> Engine::register_account(std::string invite, std::string handle, bool system_ca) {
  Impl* impl = impl_.get();
  auto promise = std::make_shared<std::promise<ClientResult<AccountId>>>();
  auto future = promise->get_future();
  auto run = [impl, promise, invite = std::move(invite), handle = std::move(handle), system_ca] {
    auto refuse = [&](ClientCode code, std::string detail) { promise->set_value(fail(ClientError{code, std::move(detail)})); };
    auto parsed = wire::parse_invite(invite);
    if (!parsed) return refuse(ClientCode::InvalidInvite, "invalid invite: " + wire::to_string(parsed.error()));
    if (handle.empty() || handle.size() > wire::kMaxHandleSize) {
      return refuse(ClientCode::InvalidArgument, "a handle has 1 to " + std::to_string(wire::kMaxHandleSize) + " bytes");
    }
    auto existing = impl->store_->profile();
    if (!existing) return refuse(ClientCode::Store, "cannot read the profile: " + existing.error().detail);
    if (*existing && !(*existing)->account.empty()) {
      return refuse(ClientCode::AlreadyRegistered, "this profile is already registered as " + (*existing)->handle);
    }
    if (impl->registration_ || impl->session_running_) return refuse(ClientCode::InvalidArgument, "a session is already running");
    if (auto r = impl->ensure_identity(true); !r) return promise->set_value(fail(r.error()));
    ProfileInfo p{parsed->host, parsed->port, system_ca ? Bytes{} : parsed->spki_pin, AccountId{}, handle};
    if (auto r = impl->store_->save_profile(p); !r) return refuse(ClientCode::Store, "cannot save the profile: " + r.error().detail);
    impl->profile_ = p;
    impl->registration_ = Impl::Registration{parsed->token, handle, promise};
    impl->start_session();
  };
  {
    std::lock_guard lock(impl->stop_mutex_);
    if (impl->stopped_) {
      promise->set_value(fail(ClientError{ClientCode::Stopped, "the engine is stopped"}));
      return future;
    }
    asio::post(impl->io_, std::move(run));
  }
  return future;
}

std::future<ClientResult<void>> Engine::start() {
  Impl* impl = impl_.get();
  return impl->defer<void>([impl](Impl::PromisePtr<void> promise) {
    if (impl->online_) {
      promise->set_value(ClientResult<void>{});
      return;
    }
    auto profile = impl->load_profile();
    if (!profile) return promise->set_value(fail(profile.error()));
    if (profile->account.empty() && !impl->registration_) {
      return promise->set_value(fail(ClientError{ClientCode::NotRegistered, "this profile is not registered with a relay"}));
    }
    impl->start_waiters_.push_back(std::move(*promise));
    impl->start_session();
  });
}

std::future<ClientResult<RoomId>> Engine::create_room(std::uint64_t lifetime_ms) {
  Impl* impl = impl_.get();
  return impl->spawn<RoomId>([impl, lifetime_ms] { return impl->create_room(lifetime_ms); });
}

std::future<ClientResult<Seq>> Engine::add_member(RoomId room, std::string handle) {
  Impl* impl = impl_.get();
  return impl->spawn<Seq>([impl, room = std::move(room), handle = std::move(handle)] {
    return impl->add_member(room, handle);
  });
}

std::future<ClientResult<Seq>> Engine::remove_member(RoomId room, std::string handle) {
  Impl* impl = impl_.get();
  return impl->spawn<Seq>([impl, room = std::move(room), handle = std::move(handle)] {
    return impl->remove_member(room, handle);
  });
}

std::future<ClientResult<Seq>> Engine::leave_room(RoomId room) {
  Impl* impl = impl_.get();
  return impl->spawn<Seq>([impl, room = std::move(room)] { return impl->leave_room(room); });
}

std::future<ClientResult<Seq>> Engine::reset_room(RoomId room) {
  Impl* impl = impl_.get();
  return impl->spawn<Seq>([impl, room = std::move(room)] { return impl->reset_room(room); });
}

std::future<ClientResult<Seq>> Engine::set_role(RoomId room, std::string handle, wire::Role role) {
  Impl* impl = impl_.get();
  return impl->spawn<Seq>([impl, room = std::move(room), handle = std::move(handle), role] {
    return impl->set_role(room, handle, role);
  });
}

std::future<ClientResult<Seq>> Engine::refresh_keys(RoomId room) {
  Impl* impl = impl_.get();
  return impl->spawn<Seq>([impl, room = std::move(room)] { return impl->refresh_keys(room); });
}

std::future<ClientResult<void>> Engine::close_room(RoomId room) {
  Impl* impl = impl_.get();
  return impl->spawn<void>([impl, room = std::move(room)]() -> asio::awaitable<ClientResult<void>> {
    wire::Message msg = wire::CloseRoom{room};
    auto r = co_await impl->request(std::move(msg));
    if (!r) co_return fail(r.error());
    if (std::get_if<wire::CloseRoomOk>(&*r) == nullptr) {
      co_return fail(ClientError{ClientCode::Protocol, std::string("expected CloseRoomOk, the relay sent ") + wire::kind_name(*r)});
    }
    impl->on_room_closed(room);
    co_return ClientResult<void>{};
  });
}

std::future<ClientResult<wire::Roster>> Engine::roster(RoomId room) {
  Impl* impl = impl_.get();
  return impl->spawn<wire::Roster>([impl, room = std::move(room)]() -> asio::awaitable<ClientResult<wire::Roster>> {
    wire::Message msg = wire::GetRoster{room};
    auto r = co_await impl->request(std::move(msg));
    co_return expect<wire::Roster>(std::move(r), "Roster");
  });
}

std::future<ClientResult<wire::AccountInfo>> Engine::lookup(std::string handle) {
  Impl* impl = impl_.get();
  return impl->spawn<wire::AccountInfo>([impl, handle = std::move(handle)] { return impl->lookup(handle); });
}

std::future<ClientResult<SendReceipt>> Engine::send_text(RoomId room, std::string text) {
  if (text.empty()) {
    std::promise<ClientResult<SendReceipt>> refused;
    refused.set_value(fail(ClientError{ClientCode::InvalidArgument, "empty message"}));
    return refused.get_future();
  }
  return send(std::move(room), ContentText{std::move(text), std::nullopt});
}

std::future<ClientResult<SendReceipt>> Engine::send(RoomId room, ContentBody body) {
  Impl* impl = impl_.get();
  auto promise = std::make_shared<std::promise<ClientResult<SendReceipt>>>();
  auto future = promise->get_future();
  std::lock_guard lock(impl->stop_mutex_);
  if (impl->stopped_) {
    promise->set_value(fail(ClientError{ClientCode::Stopped, "the engine is stopped"}));
    return future;
  }
  asio::post(impl->io_, [impl, promise, room = std::move(room), body = std::move(body)]() mutable {
    // Register the waiter before anything can complete the send.
    auto queued = impl->queue_send(room, std::move(body));
    if (!queued) return promise->set_value(fail(queued.error()));
    impl->send_waiters_[*queued].push_back(std::move(*promise));
  });
  return future;
}

namespace {
// Reads the local store on the engine thread; a failure names what was read.
template <class T, class EngineImpl, class Read>
std::future<ClientResult<T>> read_store(EngineImpl* impl, const char* what, Read read) {
  return impl->template call<T>([impl, what, read = std::move(read)]() -> ClientResult<T> {
    auto r = read(*impl->store_);
    if (!r) return fail(store_error(r.error(), what));
    return std::move(*r);
  });
}
}  // namespace

std::future<ClientResult<std::optional<ProfileInfo>>> Engine::profile() {
  return read_store<std::optional<ProfileInfo>>(impl_.get(), "cannot read the profile",
                                                [](LocalStore& store) { return store.profile(); });
}

std::future<ClientResult<std::vector<RoomRecord>>> Engine::rooms() {
  return read_store<std::vector<RoomRecord>>(impl_.get(), "cannot read rooms",
                                             [](LocalStore& store) { return store.rooms(); });
}

std::future<ClientResult<std::vector<StoredEnvelope>>> Engine::history(RoomId room, Seq after, std::size_t limit) {
  return read_store<std::vector<StoredEnvelope>>(
      impl_.get(), "cannot read messages",
      [room = std::move(room), after, limit](LocalStore& store) { return store.envelopes(room, after, limit); });
}

std::future<ClientResult<std::vector<PendingSend>>> Engine::outbox() {
  return read_store<std::vector<PendingSend>>(impl_.get(), "cannot read the outbox",
                                              [](LocalStore& store) { return store.outbox(); });
}

}  // namespace hearth::client
