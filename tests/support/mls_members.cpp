// SPDX-License-Identifier: Apache-2.0
#include "tests/support/mls_members.h"

#include <algorithm>
#include <stdexcept>

#include "common/mls/codec.h"
#include "common/mls/identity.h"
#include "common/mls/roles.h"
#include "tests/support/ids.h"
#include "tests/support/key_packages.h"

namespace hearth::test {
namespace {

crypto::SigningKey copy_key(const crypto::SigningKey& key) {
  auto copy = crypto::ed25519_from_seed(crypto::ed25519_seed(key).view());
  if (!copy) throw std::runtime_error("cannot copy a signing key");
  return std::move(*copy);
}

mls::GroupEnv env() { return mls::GroupEnv{unix_now_s(), nullptr}; }

template <class T>
T must(mls::MlsResult<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + mls::to_string(r.error()));
  return std::move(*r);
}

}  // namespace

MlsMembers::Device& MlsMembers::device_of(const Identity& id) {
  auto& device = devices_[id.account];
  if (!device.key) device.key.emplace(copy_key(id.key));
  return device;
}

mls::KeyPackageBundle MlsMembers::new_package(const Identity& id) {
  return mls::create_key_package(mls::account_credential(id.account.v), id.key,
                                 mls::account_key_package_options(unix_now_s()), rng_);
}

wire::PublishKeys MlsMembers::new_key_packages(const Identity& id, std::size_t count) {
  wire::PublishKeys keys;
  auto& device = device_of(id);
  for (std::size_t i = 0; i < count; ++i) {
    auto bundle = new_package(id);
    keys.key_packages.push_back(mls::encode(bundle.key_package));
    device.packages.push_back(std::move(bundle));
  }
  return keys;
}

void MlsMembers::publish(RelayClient& c, const Identity& id, std::size_t count) {
  (void)c.call<wire::PublishKeysOk>(new_key_packages(id, count));
}

Bytes MlsMembers::new_group_info(const Identity& id, const RoomId& room) {
  auto group = must(mls::GroupState::create(room.v, new_package(id), copy_key(id.key),
                                            {mls::roles_extension(mls::Roles{{id.account.v}})},
                                            mls::RolePolicy::Hearth, rng_),
                    "create a group");
  Bytes info = mls::encode(mls::MlsMessage{mls::kProtocolVersionMls10, group.group_info(true)});
  device_of(id).groups.insert_or_assign(room, std::move(group));
  return info;
}

RoomId MlsMembers::create_room(RelayClient& c, const Identity& id, std::uint64_t lifetime_ms) {
  const RoomId room = new_room_id();
  auto ok = c.call<wire::CreateRoomOk>(wire::CreateRoom{room, new_group_info(id, room), lifetime_ms});
  if (ok.room != room || ok.epoch.v != 0) throw std::runtime_error("CreateRoomOk names another room or epoch");
  return room;
}

mls::GroupState& MlsMembers::group(const Identity& id, const RoomId& room) {
  auto& groups = devices_[id.account].groups;
  auto it = groups.find(room);
  if (it == groups.end()) throw std::runtime_error("not a member of the room on the test side");
  return it->second;
}

std::uint64_t MlsMembers::epoch(const Identity& id, const RoomId& room) const {
  return devices_.at(id.account).groups.at(room).epoch();
}

mls::GroupState MlsMembers::rogue(const Identity& id, const RoomId& room) {
  return must(mls::GroupState::load(group(id, room).serialize(), copy_key(id.key), mls::RolePolicy::AllowAll),
              "reload a group without the policy");
}

mls::KeyPackage MlsMembers::unpublished_package(const Identity& id) { return new_package(id).key_package; }

PendingBundle MlsMembers::bundle_of(const Identity& by, const RoomId& room, mls::PendingCommit commit,
                                    const std::vector<AccountId>& joiners) {
  PendingBundle p;
  p.by = by.account;
  p.bundle = wire::SubmitBundle{room, Epoch{group(by, room).epoch()}, new_envelope_id(), mls::encode(commit.commit),
                                {}, {}};
  for (const auto& a : joiners) p.bundle.welcomes.push_back(wire::WelcomeFor{a, mls::encode(*commit.welcome)});
  p.commit.emplace(std::move(commit));
  return p;
}

PendingBundle MlsMembers::add(RelayClient& c, const Identity& by, const RoomId& room,
                              const std::vector<const Identity*>& joiners) {
  std::vector<wire::KeyPackageOk> fetched;
  for (const auto* j : joiners) fetched.push_back(c.call<wire::KeyPackageOk>(wire::FetchKeyPackage{j->account}));
  return add_fetched(by, room, fetched);
}

PendingBundle MlsMembers::add_fetched(const Identity& by, const RoomId& room,
                                      const std::vector<wire::KeyPackageOk>& fetched) {
  std::vector<std::pair<AccountId, mls::KeyPackage>> packages;
  for (const auto& f : fetched) {
    packages.emplace_back(f.account, must(mls::decode<mls::KeyPackage>(f.key_package), "a fetched package"));
  }
  return add_packages(by, room, packages);
}

PendingBundle MlsMembers::add_packages(const Identity& by, const RoomId& room,
                                       const std::vector<std::pair<AccountId, mls::KeyPackage>>& packages) {
  std::vector<mls::KeyPackage> kps;
  std::vector<AccountId> joiners;
  for (const auto& [account, kp] : packages) {
    kps.push_back(kp);
    joiners.push_back(account);
  }
  return bundle_of(by, room, must(group(by, room).add(kps, rng_, env()), "an add commit"), joiners);
}

PendingBundle MlsMembers::remove(const Identity& by, const RoomId& room, const std::vector<const Identity*>& members) {
  const auto& g = group(by, room);
  std::vector<mls::LeafIndex> leaves;
  for (const auto* m : members) {
    for (const auto& member : g.members()) {
      auto account = mls::credential_account(member.credential);
      if (account && account->v == m->account.v) leaves.push_back(member.leaf);
    }
  }
  return bundle_of(by, room, must(g.remove(leaves, rng_, env()), "a remove commit"), {});
}

PendingBundle MlsMembers::update(const Identity& by, const RoomId& room) {
  mls::CommitOptions options;
  options.force_path = true;
  return bundle_of(by, room, must(group(by, room).commit(options, rng_, env()), "an update commit"), {});
}

PendingBundle MlsMembers::leave(const Identity& by, const RoomId& room) {
  const auto& g = group(by, room);
  auto t = must(g.propose_remove(g.own_leaf()), "a self-removal proposal");
  PendingBundle p;
  p.by = by.account;
  p.bundle = wire::SubmitBundle{room, Epoch{g.epoch()}, new_envelope_id(), mls::encode(*t.message), {}, {}};
  p.proposal = std::move(t.message);
  p.proposer.emplace(std::move(t.next));
  return p;
}

void MlsMembers::accepted(const RoomId& room, PendingBundle&& p) {
  const mls::MlsMessage& message = p.commit ? p.commit->commit : *p.proposal;
  for (auto& [account, device] : devices_) {
    auto it = device.groups.find(room);
    if (it == device.groups.end()) continue;
    if (account == p.by) {
      it->second = p.commit ? std::move(p.commit->next) : std::move(*p.proposer);
      continue;
    }
    auto t = must(it->second.handle(message, env()), "process an accepted handshake");
    const bool removed = std::any_of(t.events.begin(), t.events.end(), [](const mls::GroupEvent& e) {
      return std::holds_alternative<mls::SelfRemoved>(e);
    });
    if (removed) {
      device.groups.erase(it);
    } else {
      it->second = std::move(t.next);
    }
  }
  if (!p.commit || !p.commit->welcome) return;
  const auto& welcome = std::get<mls::Welcome>(p.commit->welcome->body);
  for (const auto& w : p.bundle.welcomes) {
    auto& device = devices_[w.account];
    auto bundle = std::find_if(device.packages.begin(), device.packages.end(), [&](const auto& b) {
      return std::any_of(welcome.secrets.begin(), welcome.secrets.end(),
                         [&](const auto& s) { return std::ranges::equal(s.new_member, b.ref); });
    });
    if (bundle == device.packages.end()) throw std::runtime_error("a joiner has no package for its Welcome");
    if (!device.key) throw std::runtime_error("a joiner's key is unknown");
    device.groups.insert_or_assign(room, must(mls::GroupState::join(welcome, *bundle, copy_key(*device.key),
                                                                    std::nullopt, mls::RolePolicy::Hearth, env()),
                                              "join from a Welcome"));
    device.packages.erase(bundle);
  }
}

Bytes MlsMembers::encrypt(const Identity& by, const RoomId& room, BytesView plaintext) {
  auto message = must(group(by, room).protect(plaintext, {}, rng_), "protect a message");
  return mls::encode(message);
}

Bytes MlsMembers::encrypt(const Identity& by, const RoomId& room, std::string_view text) {
  return encrypt(by, room, BytesView(to_bytes(text)));
}

Bytes MlsMembers::open(const Identity& reader, const RoomId& room, BytesView payload) {
  auto message = must(mls::decode<mls::MlsMessage>(payload), "decode a delivered message");
  return std::move(must(group(reader, room).unprotect(message), "open a delivered message").data);
}

std::string MlsMembers::decrypt(const Identity& reader, const RoomId& room, BytesView payload) {
  return to_string_bytes(open(reader, room, payload));
}

}  // namespace hearth::test
