// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/mls/group_fixture.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <utility>

#include "common/mls/welcome.h"

namespace hearth::mls::testing {

crypto::SigningKey Identity::signing_key() const {
  const auto seed = crypto::ed25519_seed(key);
  auto copy = crypto::ed25519_from_seed(seed.view());
  REQUIRE(copy.has_value());
  return std::move(*copy);
}

Identity make_identity(std::string_view name, Rng& rng) {
  Bytes seed(32);
  rng.fill(seed);
  auto key = crypto::ed25519_from_seed(seed);
  REQUIRE(key.has_value());
  Identity id{to_bytes(name), basic_credential(as_bytes(name)), std::move(*key)};
  return id;
}

KeyPackageBundle make_key_package(const Identity& id, Rng& rng) {
  KeyPackageOptions options;
  options.lifetime = Lifetime{kTestNow - 3600, kTestNow + kDefaultKeyPackageLifetimeSeconds};
  options.extensions = {kRolesExtensionType};
  return create_key_package(id.credential, id.key, options, rng);
}

std::optional<crypto::SecretBytes> TestPsks::external(BytesView psk_id) const {
  for (const auto& [id, secret] : items_) {
    if (std::equal(id.begin(), id.end(), psk_id.begin(), psk_id.end())) return crypto::SecretBytes(secret);
  }
  return std::nullopt;
}

std::optional<crypto::SecretBytes> TestPsks::resumption(BytesView, std::uint64_t) const { return std::nullopt; }

GroupEnv test_env(const PskLookup* psks) { return GroupEnv{kTestNow, psks}; }

std::vector<Extension> room_extensions(std::vector<Bytes> names) {
  return {roles_extension(Roles{std::move(names)})};
}

MlsResult<GroupState> create_room(const Identity& creator, BytesView group_id, Rng& rng, RolePolicy policy) {
  const auto own = make_key_package(creator, rng);
  return GroupState::create(Bytes(group_id.begin(), group_id.end()), own, creator.signing_key(),
                            room_extensions({creator.name}), policy, rng);
}

MlsResult<GroupState> join_room(const MlsMessage& welcome, const KeyPackageBundle& own, const Identity& id,
                                const std::optional<RatchetTree>& tree, RolePolicy policy, const PskLookup* psks) {
  const auto* w = std::get_if<Welcome>(&welcome.body);
  if (w == nullptr) return fail(Error::InvalidWelcome);
  return GroupState::join(*w, own, id.signing_key(), tree, policy, test_env(psks));
}

MlsResult<DeliveryService> DeliveryService::start(const GroupState& member) {
  const GroupInfo info = member.group_info(true);
  // The relay gets the GroupInfo over the wire, as bytes.
  auto decoded = decode<GroupInfo>(encode(info));
  if (!decoded) return fail(decoded.error());
  const auto tree_ext = std::find_if(decoded->extensions.begin(), decoded->extensions.end(),
                                     [](const Extension& e) { return e.extension_type == kExtRatchetTree; });
  if (tree_ext == decoded->extensions.end()) return fail(Error::InvalidTree);
  auto tree = decode<RatchetTree>(tree_ext->extension_data);
  if (!tree) return fail(tree.error());
  auto view = PublicGroup::from_group_info(*decoded, *tree, member.public_group().policy(), kTestNow);
  if (!view) return fail(view.error());
  DeliveryService ds;
  ds.view_ = std::move(*view);
  return ds;
}

MlsResult<PublicUpdate> DeliveryService::submit(const MlsMessage& handshake, int origin) {
  const MlsMessage wire = over_the_wire(handshake);
  const auto* pm = std::get_if<PublicMessage>(&wire.body);
  if (pm == nullptr) return fail(Error::WrongWireFormat);
  if (pm->content.epoch != view_.epoch()) return fail(Error::WrongEpoch);
  auto next = view_;
  auto update = next.handle(*pm, kTestNow);
  if (!update) return fail(update.error());
  view_ = std::move(next);
  log_.push_back(Delivered{wire, origin, *update});
  return update;
}

void DeliveryService::submit_welcome(const MlsMessage& welcome, std::span<const Digest> key_package_refs) {
  for (const auto& ref : key_package_refs) welcomes_.emplace_back(ref, over_the_wire(welcome));
}

std::optional<MlsMessage> DeliveryService::take_welcome(const Digest& ref) {
  for (auto it = welcomes_.begin(); it != welcomes_.end(); ++it) {
    if (it->first == ref) {
      MlsMessage m = std::move(it->second);
      welcomes_.erase(it);
      return m;
    }
  }
  return std::nullopt;
}

MlsResult<EpochKeys> epoch_keys_from_welcome(const Welcome& welcome, const KeyPackageBundle& joiner) {
  const Digest ref = key_package_ref(joiner.key_package);
  auto group_secrets = decrypt_group_secrets(welcome, ref, joiner.init_key.secret.view());
  if (!group_secrets) return fail(group_secrets.error());
  if (!group_secrets->psks.empty()) return fail(Error::Unsupported);
  const Bytes no_psk = zero_secret();
  const auto ws = welcome_secret(group_secrets->joiner_secret, no_psk);
  auto info = decrypt_group_info(welcome, ws.view());
  if (!info) return fail(info.error());
  EpochKeys keys{info->group_context,
                 derive_epoch_secrets_from_joiner(group_secrets->joiner_secret, no_psk, encode(info->group_context)),
                 std::move(*group_secrets), std::move(*info)};
  return keys;
}

MlsMessage over_the_wire(const MlsMessage& m) {
  auto back = decode<MlsMessage>(encode(m));
  INFO("decode: " << outcome(back));
  REQUIRE(back.has_value());
  REQUIRE(*back == m);
  return std::move(*back);
}

const PublicMessage& public_message(const MlsMessage& m) {
  const auto* pm = std::get_if<PublicMessage>(&m.body);
  REQUIRE(pm != nullptr);
  return *pm;
}

}  // namespace hearth::mls::testing
