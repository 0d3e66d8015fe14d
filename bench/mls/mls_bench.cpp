// SPDX-License-Identifier: Apache-2.0
// hearth-mls-bench commit [ITERATIONS]: commit and Welcome costs in rooms of
// 10, 50 and 200 members, and the memory of one state (commit_bench.cpp).
//
// hearth-mls-bench [SECONDS]: per-core throughput of MLS message protection
// against the raw libsodium cost of the same primitives, and of HPKE.
//
//   framing:  sign_content + protect_private + unprotect_private of a
//             512-byte application message (Ed25519 sign + verify inside)
//   raw:      one Ed25519 sign + verify of the same size, one AEAD seal + open
//   hpke:     seal_base + open_base of a 64-byte secret
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/crypto/hpke.h"
#include "common/mls/framing.h"

using namespace hearth;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
double ops_per_second(double seconds, F&& op) {
  // Warm up, then run whole batches until the time is spent.
  for (int i = 0; i < 100; ++i) op();
  std::size_t ops = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  Clock::time_point now;
  do {
    for (int i = 0; i < 100; ++i) op();
    ops += 100;
    now = Clock::now();
  } while (now < until);
  return static_cast<double>(ops) / std::chrono::duration<double>(now - start).count();
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "hearth-mls-bench: %s failed\n", what);
    std::exit(1);
  }
}

}  // namespace

int run_commit_bench(int argc, char** argv);  // commit_bench.cpp

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "commit") return run_commit_bench(argc - 1, argv + 1);
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 3.0;
  crypto::init();
  crypto::SystemRng rng;

  mls::GroupContext context;
  context.group_id = Bytes(32, 0x11);
  context.epoch = 42;
  context.tree_hash = Bytes(32, 0x22);
  context.confirmed_transcript_hash = Bytes(32, 0x33);
  const Bytes encryption_secret(32, 0x44);
  const Bytes sender_data_secret(32, 0x55);
  auto key = crypto::ed25519_generate();
  const Bytes public_key(key.public_key.begin(), key.public_key.end());
  const mls::SignerKeyLookup lookup = [&](const mls::Sender&) -> mls::MlsResult<Bytes> { return public_key; };
  auto sender_tree = std::move(*mls::SecretTree::create(crypto::SecretBytes(encryption_secret), 8));
  auto receiver_tree = std::move(*mls::SecretTree::create(crypto::SecretBytes(encryption_secret), 8));
  const Bytes message(512, 0x61);

  mls::FramedContent content;
  content.group_id = context.group_id;
  content.epoch = context.epoch;
  content.sender = mls::Sender{mls::SenderType::Member, 3};
  content.content = mls::ApplicationData{message};

  const double framing = ops_per_second(seconds, [&] {
    auto signed_content = mls::sign_content(mls::WireFormat::PrivateMessage, content, context, key, std::nullopt);
    auto m = mls::protect_private(signed_content, sender_tree, sender_data_secret, mls::kDefaultPaddingBlock, rng);
    require(m.has_value(), "protect");
    auto back = mls::unprotect_private(*m, receiver_tree, sender_data_secret, context, lookup);
    require(back.has_value(), "unprotect");
  });

  // The same primitives without MLS: sign + verify the same amount of data
  // (the TBS is the message plus ~130 bytes of header and group context),
  // one AEAD seal + open of the padded plaintext.
  const Bytes tbs(512 + 130, 0x62);
  const Bytes aead_key(crypto::kAeadKeySize, 0x66);
  const Bytes nonce(crypto::kAeadNonceSize, 0x67);
  const Bytes padded(768, 0x61);
  const double raw = ops_per_second(seconds, [&] {
    const auto sig = crypto::ed25519_sign(key, tbs);
    require(crypto::ed25519_verify(public_key, tbs, sig).has_value(), "verify");
    auto ct = crypto::aead_seal(aead_key, nonce, {}, padded);
    require(crypto::aead_open(aead_key, nonce, {}, *ct).has_value(), "aead open");
  });

  const auto recipient = crypto::hpke::derive_key_pair(Bytes(32, 0x77));
  const Bytes secret(64, 0x78);
  const double hpke = ops_per_second(seconds, [&] {
    auto sealed = crypto::hpke::seal_base(recipient.public_key, {}, {}, secret, rng);
    require(sealed.has_value(), "hpke seal");
    require(crypto::hpke::open_base(sealed->enc, recipient.secret.view(), {}, {}, sealed->ciphertext).has_value(),
            "hpke open");
  });

  std::printf("framing protect+unprotect (512 B, sign+verify): %10.0f msg/s\n", framing);
  std::printf("raw primitives (sign+verify, AEAD seal+open):   %10.0f ops/s\n", raw);
  std::printf("framing overhead over raw primitives:           %9.1f %%\n", (raw / framing - 1.0) * 100.0);
  std::printf("HPKE seal+open (64 B):                          %10.0f ops/s\n", hpke);
  return 0;
}
