// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/framing.h"

using namespace hearth;
using namespace hearth::mls;

namespace {

class CountingRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  std::uint8_t next_ = 1;
};

struct Fixture {
  Fixture() {
    crypto::init();
    context.group_id = to_bytes("room");
    context.epoch = 4;
    context.tree_hash = Bytes(32, 1);
    context.confirmed_transcript_hash = Bytes(32, 2);
  }
  SecretTree tree() const { return std::move(*SecretTree::create(crypto::SecretBytes(encryption_secret), 4)); }
  FramedContent content(Content body) const {
    FramedContent c;
    c.group_id = context.group_id;
    c.epoch = context.epoch;
    c.sender = Sender{SenderType::Member, 1};
    c.authenticated_data = to_bytes("ad");
    c.content = std::move(body);
    return c;
  }
  PrivateMessage protect_app(SecretTree& t, std::string_view text) {
    auto signed_content = sign_content(WireFormat::PrivateMessage, content(ApplicationData{to_bytes(text)}),
                                       context, key, std::nullopt);
    return std::move(*protect_private(signed_content, t, sender_data_secret, kDefaultPaddingBlock, rng));
  }
  MlsResult<AuthenticatedContent> open(const PrivateMessage& m, SecretTree& t) {
    return unprotect_private(m, t, sender_data_secret, context, lookup);
  }

  GroupContext context;
  Bytes encryption_secret = Bytes(32, 3);
  Bytes sender_data_secret = Bytes(32, 4);
  Bytes membership_key = Bytes(32, 5);
  crypto::SigningKey key = std::move(*crypto::ed25519_from_seed(Bytes(32, 6)));
  crypto::SigningKey other_key = std::move(*crypto::ed25519_from_seed(Bytes(32, 7)));
  SignerKeyLookup lookup = [this](const Sender& s) -> MlsResult<Bytes> {
    if (s.index != 1) return fail(Error::SenderOutOfRange);
    return Bytes(key.public_key.begin(), key.public_key.end());
  };
  CountingRng rng;
};

std::string text_of(const AuthenticatedContent& c) {
  return to_string_bytes(std::get<ApplicationData>(c.content.content).data);
}

}  // namespace

TEST_CASE("framing: private round trip, padding to 256", "[mls][framing]") {
  Fixture f;
  auto sender = f.tree();
  auto receiver = f.tree();
  const auto m = f.protect_app(sender, "hello");
  CHECK((m.ciphertext.size() - kAeadTagSize) % kDefaultPaddingBlock == 0);
  const auto got = f.open(m, receiver);
  REQUIRE(got);
  CHECK(text_of(*got) == "hello");
  CHECK(got->content.sender == Sender{SenderType::Member, 1});
  CHECK(got->content.authenticated_data == to_bytes("ad"));
}

TEST_CASE("framing: replay, out of order, too far ahead", "[mls][framing]") {
  Fixture f;
  auto sender = f.tree();
  auto receiver = f.tree();
  const auto m0 = f.protect_app(sender, "zero");
  const auto m1 = f.protect_app(sender, "one");
  REQUIRE(f.open(m1, receiver));
  REQUIRE(f.open(m0, receiver));
  CHECK(f.open(m0, receiver).error() == Error::GenerationExpired);
  CHECK(f.open(m1, receiver).error() == Error::GenerationExpired);

  auto far_sender = f.tree();
  auto far_receiver = f.tree();
  PrivateMessage last;
  for (std::uint32_t i = 0; i <= kMaxForwardRatchetDistance + 1; ++i) last = f.protect_app(far_sender, "x");
  CHECK(f.open(last, far_receiver).error() == Error::GenerationTooFarAhead);
}

TEST_CASE("framing: private tamper tests", "[mls][framing]") {
  Fixture f;
  auto sender = f.tree();
  auto receiver = f.tree();
  const auto m = f.protect_app(sender, "secret");

  auto flipped = m;
  flipped.ciphertext[3] ^= 1;
  CHECK(f.open(flipped, receiver).error() == Error::DecryptFailed);
  auto bad_sd = m;
  bad_sd.encrypted_sender_data[0] ^= 1;
  CHECK(f.open(bad_sd, receiver).error() == Error::DecryptFailed);
  auto bad_ad = m;
  bad_ad.authenticated_data = to_bytes("AD");
  CHECK(f.open(bad_ad, receiver).error() == Error::DecryptFailed);
  auto truncated = m;
  truncated.ciphertext.pop_back();
  CHECK(f.open(truncated, receiver).error() == Error::DecryptFailed);
  auto wrong_type = m;
  wrong_type.content_type = ContentType::Proposal;
  CHECK(f.open(wrong_type, receiver).error() == Error::DecryptFailed);
  auto wrong_epoch = m;
  wrong_epoch.epoch = 5;
  CHECK(f.open(wrong_epoch, receiver).error() == Error::WrongEpoch);
  auto wrong_group = m;
  wrong_group.group_id = to_bytes("other");
  CHECK(f.open(wrong_group, receiver).error() == Error::WrongGroup);
  // Failed attempts did not burn the key: the genuine message still opens.
  REQUIRE(f.open(m, receiver));

  // Wrong secrets.
  auto other_tree = std::move(*SecretTree::create(crypto::SecretBytes(Bytes(32, 9)), 4));
  const auto again = f.protect_app(sender, "again");
  CHECK(f.open(again, other_tree).error() == Error::DecryptFailed);
  CHECK(unprotect_private(again, receiver, Bytes(32, 9), f.context, f.lookup).error() == Error::DecryptFailed);
}

TEST_CASE("framing: a private message signed by the wrong key is refused", "[mls][framing]") {
  Fixture f;
  auto sender = f.tree();
  auto receiver = f.tree();
  auto signed_content = sign_content(WireFormat::PrivateMessage, f.content(ApplicationData{to_bytes("x")}),
                                     f.context, f.other_key, std::nullopt);
  auto m = protect_private(signed_content, sender, f.sender_data_secret, 0, f.rng);
  REQUIRE(m);
  CHECK(f.open(*m, receiver).error() == Error::InvalidSignature);
  // Signed for another group context.
  auto ctx = f.context;
  ctx.tree_hash[0] ^= 1;
  auto other_ctx = sign_content(WireFormat::PrivateMessage, f.content(ApplicationData{to_bytes("x")}), ctx, f.key,
                                std::nullopt);
  auto m2 = protect_private(other_ctx, sender, f.sender_data_secret, 0, f.rng);
  REQUIRE(m2);
  CHECK(f.open(*m2, receiver).error() == Error::InvalidSignature);
}

TEST_CASE("framing: padding bound and non-member senders", "[mls][framing]") {
  Fixture f;
  auto sender = f.tree();
  auto signed_content = sign_content(WireFormat::PrivateMessage, f.content(ApplicationData{to_bytes("x")}),
                                     f.context, f.key, std::nullopt);
  CHECK(protect_private(signed_content, sender, f.sender_data_secret, kMaxPaddingBlock + 1, f.rng).error() ==
        Error::InvalidValue);
  CHECK(protect_private(signed_content, sender, f.sender_data_secret, kMaxPaddingBlock, f.rng));
  auto external = signed_content;
  external.content.sender = Sender{SenderType::External, 0};
  CHECK(protect_private(external, sender, f.sender_data_secret, 0, f.rng).error() == Error::SenderOutOfRange);
  auto outside = signed_content;
  outside.content.sender = Sender{SenderType::Member, 4};
  CHECK(protect_private(outside, sender, f.sender_data_secret, 0, f.rng).error() == Error::SenderOutOfRange);
}

TEST_CASE("framing: public message tamper tests", "[mls][framing]") {
  Fixture f;
  Proposal p;
  p.body = Remove{2};
  const auto signed_content = sign_content(WireFormat::PublicMessage, f.content(p), f.context, f.key, std::nullopt);
  auto m = protect_public(signed_content, f.membership_key, f.context);
  REQUIRE(m);
  REQUIRE(m->membership_tag);
  REQUIRE(unprotect_public(*m, f.membership_key, f.context, f.lookup));

  auto bad_tag = *m;
  (*bad_tag.membership_tag)[0] ^= 1;
  CHECK(unprotect_public(bad_tag, f.membership_key, f.context, f.lookup).error() == Error::InvalidMembershipTag);
  CHECK(unprotect_public(*m, Bytes(32, 8), f.context, f.lookup).error() == Error::InvalidMembershipTag);
  auto no_tag = *m;
  no_tag.membership_tag.reset();
  CHECK(unprotect_public(no_tag, f.membership_key, f.context, f.lookup).error() == Error::InvalidMembershipTag);
  auto bad_sig = *m;
  bad_sig.auth.signature[0] ^= 1;
  // The membership tag covers the signature, so recompute it to reach the signature check.
  const AuthenticatedContent resigned{WireFormat::PublicMessage, bad_sig.content, bad_sig.auth};
  auto retagged = protect_public(resigned, f.membership_key, f.context);
  REQUIRE(retagged);
  CHECK(unprotect_public(*retagged, f.membership_key, f.context, f.lookup).error() == Error::InvalidSignature);
  auto bad_content = *m;
  bad_content.content.authenticated_data = to_bytes("changed");
  CHECK(unprotect_public(bad_content, f.membership_key, f.context, f.lookup).error() ==
        Error::InvalidMembershipTag);
  auto wrong_epoch = *m;
  wrong_epoch.content.epoch = 3;
  CHECK(unprotect_public(wrong_epoch, f.membership_key, f.context, f.lookup).error() == Error::WrongEpoch);

  const auto app = sign_content(WireFormat::PublicMessage, f.content(ApplicationData{to_bytes("x")}), f.context,
                                f.key, std::nullopt);
  CHECK(protect_public(app, f.membership_key, f.context).error() == Error::WrongWireFormat);
  // A commit without its confirmation tag is malformed.
  const auto commit = sign_content(WireFormat::PublicMessage, f.content(Commit{}), f.context, f.key, std::nullopt);
  CHECK(protect_public(commit, f.membership_key, f.context).error() == Error::InvalidValue);
}

TEST_CASE("framing: content above the decoder's vector bound is refused", "[mls][framing]") {
  Fixture f;
  auto sender = f.tree();
  const Bytes huge(kMaxVectorSize, 0x41);
  auto signed_content =
      sign_content(WireFormat::PrivateMessage, f.content(ApplicationData{huge}), f.context, f.key, std::nullopt);
  CHECK(protect_private(signed_content, sender, f.sender_data_secret, 0, f.rng).error() == Error::VectorTooLong);
}
