// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/secret_tree.h"

using namespace hearth;
using namespace hearth::mls;

namespace {

SecretTree make_tree(std::uint32_t n_leaves = 4) {
  return std::move(*SecretTree::create(crypto::SecretBytes(Bytes(32, 7)), n_leaves));
}

}  // namespace

TEST_CASE("secret tree: sender and receiver derive the same keys", "[mls][secret_tree]") {
  auto sender = make_tree();
  auto receiver = make_tree();
  for (std::uint32_t g = 0; g < 5; ++g) {
    auto k = sender.next_key(LeafIndex{2}, RatchetType::Application);
    REQUIRE(k);
    CHECK(k->generation == g);
    auto r = receiver.key_for(LeafIndex{2}, RatchetType::Application, g);
    REQUIRE(r);
    CHECK(crypto::equal_ct(k->key.view(), r->key.view()));
    CHECK(k->nonce == r->nonce);
  }
  // Handshake and application ratchets are independent.
  auto h = sender.next_key(LeafIndex{2}, RatchetType::Handshake);
  REQUIRE(h);
  CHECK(h->generation == 0);
}

TEST_CASE("secret tree: replay of a used generation is refused (key deleted)", "[mls][secret_tree]") {
  auto tree = make_tree();
  REQUIRE(tree.key_for(LeafIndex{0}, RatchetType::Application, 0));
  CHECK(tree.key_for(LeafIndex{0}, RatchetType::Application, 0).error() == Error::GenerationExpired);
}

TEST_CASE("secret tree: out of order inside the window, refused outside it", "[mls][secret_tree]") {
  auto tree = make_tree();
  const auto leaf = LeafIndex{1};
  REQUIRE(tree.key_for(leaf, RatchetType::Application, 5));
  CHECK(tree.key_for(leaf, RatchetType::Application, 3));
  CHECK(tree.key_for(leaf, RatchetType::Application, 3).error() == Error::GenerationExpired);
  CHECK(tree.key_for(leaf, RatchetType::Application, 0));

  // Jump far enough that generation 1 falls out of the window.
  auto fresh = make_tree();
  REQUIRE(fresh.key_for(leaf, RatchetType::Application, kOutOfOrderWindow + 1));
  CHECK(fresh.key_for(leaf, RatchetType::Application, 0).error() == Error::GenerationExpired);
  CHECK(fresh.key_for(leaf, RatchetType::Application, 1));  // the oldest kept
}

TEST_CASE("secret tree: kMaxForwardRatchetDistance bound", "[mls][secret_tree]") {
  auto tree = make_tree();
  CHECK(tree.key_for(LeafIndex{3}, RatchetType::Handshake, kMaxForwardRatchetDistance + 1).error() ==
        Error::GenerationTooFarAhead);
  CHECK(tree.key_for(LeafIndex{3}, RatchetType::Handshake, kMaxForwardRatchetDistance));
}

TEST_CASE("secret tree: window holds at most kOutOfOrderWindow keys", "[mls][secret_tree]") {
  HashRatchet r(crypto::SecretBytes(Bytes(32, 1)));
  REQUIRE(r.get(kMaxForwardRatchetDistance));
  CHECK(r.retained_keys() == kOutOfOrderWindow);
}

TEST_CASE("secret tree: leaves outside the tree and bad sizes", "[mls][secret_tree]") {
  auto tree = make_tree(4);
  CHECK(tree.next_key(LeafIndex{4}, RatchetType::Application).error() == Error::SenderOutOfRange);
  CHECK(SecretTree::create(crypto::SecretBytes(Bytes(32, 7)), 0).error() == Error::InvalidValue);
  CHECK(SecretTree::create(crypto::SecretBytes(Bytes(32, 7)), kMaxTreeLeaves + 1).error() == Error::InvalidValue);
}

TEST_CASE("sender data key uses at most Nh bytes of the ciphertext", "[mls][secret_tree]") {
  const Bytes secret(32, 3);
  Bytes ct(40, 9);
  const auto a = sender_data_key(secret, ct);
  ct[35] ^= 1;  // beyond the sample
  const auto b = sender_data_key(secret, ct);
  CHECK(crypto::equal_ct(a.key.view(), b.key.view()));
  ct[0] ^= 1;
  const auto c = sender_data_key(secret, ct);
  CHECK(!crypto::equal_ct(a.key.view(), c.key.view()));
  const auto short_ct = sender_data_key(secret, BytesView(ct).first(4));
  CHECK(!crypto::equal_ct(a.key.view(), short_ct.key.view()));
}

TEST_CASE("secret tree: the largest tree costs nothing until used", "[mls][secret_tree]") {
  auto tree = make_tree(kMaxTreeLeaves);
  CHECK(tree.next_key(LeafIndex{kMaxTreeLeaves - 1}, RatchetType::Application));
  CHECK(tree.key_for(LeafIndex{0}, RatchetType::Application, 0));
}
