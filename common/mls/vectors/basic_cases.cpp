// SPDX-License-Identifier: Apache-2.0
// tree-math, deserialization, crypto-basics and RFC 9180 A.2.1.
#include "common/crypto/hpke.h"
#include "common/mls/codec.h"
#include "common/mls/labeled_crypto.h"
#include "common/mls/tree_math.h"
#include "common/mls/vectors/cases.h"
#include "common/mls/vectors/check.h"

namespace hearth::mls::vectors {
namespace {

void check_optional_nodes(Check& check, std::string_view what, const nlohmann::json& expected, std::uint32_t n_nodes,
                          auto&& compute) {
  check.equal(std::string(what) + " count", expected.size(), n_nodes);
  for (std::uint32_t i = 0; i < n_nodes && check.ok(); ++i) {
    const std::optional<NodeIndex> got = compute(NodeIndex{i});
    const auto& want = expected.at(i);
    const std::string name = std::string(what) + "[" + std::to_string(i) + "]";
    if (want.is_null()) {
      check.require(name + " should be null", !got.has_value());
    } else {
      check.require(name + " should exist", got.has_value());
      if (got) check.equal(name, got->v, want.get<std::uint32_t>());
    }
  }
}

}  // namespace

std::string check_tree_math(const nlohmann::json& c) {
  Check check;
  const auto n_leaves = c.at("n_leaves").get<std::uint32_t>();
  const std::uint32_t n_nodes = node_width(n_leaves);
  check.equal("n_nodes", n_nodes, c.at("n_nodes").get<std::uint32_t>());
  check.equal("root", root(n_leaves).v, c.at("root").get<std::uint32_t>());
  check_optional_nodes(check, "left", c.at("left"), n_nodes, [](NodeIndex x) { return left(x); });
  check_optional_nodes(check, "right", c.at("right"), n_nodes, [](NodeIndex x) { return right(x); });
  check_optional_nodes(check, "parent", c.at("parent"), n_nodes, [&](NodeIndex x) { return parent(x, n_leaves); });
  check_optional_nodes(check, "sibling", c.at("sibling"), n_nodes,
                       [&](NodeIndex x) { return sibling(x, n_leaves); });
  return check.failure();
}

std::string check_deserialization(const nlohmann::json& c) {
  Check check;
  const Bytes header = hex_field(c, "vlbytes_header");
  const auto length = c.at("length").get<std::uint64_t>();
  check.equal("encode", encode_varint(length), header);
  const auto decoded = decode_varint(header);
  check.require("decode failed", decoded.has_value());
  if (decoded) check.equal("decode", *decoded, length);
  return check.failure();
}

std::string check_crypto_basics(const nlohmann::json& c) {
  Check check;
  {
    const auto& v = c.at("ref_hash");
    const Bytes label = to_bytes(v.at("label").get<std::string>());
    check.equal("ref_hash", ref_hash(label, hex_field(v, "value")), hex_field(v, "out"));
  }
  {
    const auto& v = c.at("expand_with_label");
    auto out = expand_with_label(hex_field(v, "secret"), v.at("label").get<std::string>(), hex_field(v, "context"),
                                 v.at("length").get<std::size_t>());
    check.require("expand_with_label failed", out.has_value());
    if (out) check.equal("expand_with_label", out->view(), hex_field(v, "out"));
  }
  {
    const auto& v = c.at("derive_secret");
    const auto out = derive_secret(hex_field(v, "secret"), v.at("label").get<std::string>());
    check.equal("derive_secret", out.view(), hex_field(v, "out"));
  }
  {
    const auto& v = c.at("derive_tree_secret");
    auto out = derive_tree_secret(hex_field(v, "secret"), v.at("label").get<std::string>(),
                                  v.at("generation").get<std::uint32_t>(), v.at("length").get<std::size_t>());
    check.require("derive_tree_secret failed", out.has_value());
    if (out) check.equal("derive_tree_secret", out->view(), hex_field(v, "out"));
  }
  {
    const auto& v = c.at("sign_with_label");
    const std::string label = v.at("label").get<std::string>();
    const Bytes content = hex_field(v, "content");
    const Bytes pub = hex_field(v, "pub");
    check.require("verify_with_label (vector signature)",
                  verify_with_label(pub, label, content, hex_field(v, "signature")).has_value());
    auto key = crypto::ed25519_from_seed(hex_field(v, "priv"));
    check.require("signing key", key.has_value());
    if (key) {
      check.equal("signing public key", key->public_key, pub);
      const Bytes sig = sign_with_label(*key, label, content);
      // Ed25519 is deterministic, so our signature equals the vector's.
      check.equal("sign_with_label", sig, hex_field(v, "signature"));
      check.require("verify_with_label (own signature)", verify_with_label(pub, label, content, sig).has_value());
    }
  }
  {
    const auto& v = c.at("encrypt_with_label");
    const std::string label = v.at("label").get<std::string>();
    const Bytes context = hex_field(v, "context");
    const HpkeCiphertext ct{hex_field(v, "kem_output"), hex_field(v, "ciphertext")};
    auto pt = decrypt_with_label(hex_field(v, "priv"), label, context, ct);
    check.require("decrypt_with_label failed", pt.has_value());
    if (pt) check.equal("decrypt_with_label", pt->view(), hex_field(v, "plaintext"));
    // Our own encryption to the same key decrypts back.
    const auto eph = crypto::hpke::derive_key_pair(as_bytes("crypto-basics ephemeral"));
    auto own = encrypt_with_label(hex_field(v, "pub"), label, context, hex_field(v, "plaintext"), eph);
    check.require("encrypt_with_label failed", own.has_value());
    if (own) {
      auto back = decrypt_with_label(hex_field(v, "priv"), label, context, *own);
      check.require("round trip", back.has_value());
      if (back) check.equal("round trip", back->view(), hex_field(v, "plaintext"));
    }
  }
  return check.failure();
}

std::string check_hpke(const nlohmann::json& c) {
  namespace hpke = crypto::hpke;
  Check check;
  check.require("mode 0 only", c.at("mode").get<int>() == 0);
  const auto eph = hpke::derive_key_pair(hex_field(c, "ikmE"));
  const auto rcpt = hpke::derive_key_pair(hex_field(c, "ikmR"));
  check.equal("skEm", eph.secret.view(), hex_field(c, "skEm"));
  check.equal("pkEm", eph.public_key, hex_field(c, "pkEm"));
  check.equal("skRm", rcpt.secret.view(), hex_field(c, "skRm"));
  check.equal("pkRm", rcpt.public_key, hex_field(c, "pkRm"));
  const Bytes info = hex_field(c, "info");
  auto s = hpke::setup_base_s_with_ephemeral(rcpt.public_key, info, eph);
  auto r = hpke::setup_base_r(hex_field(c, "enc"), rcpt.secret.view(), info);
  check.require("setup", s.has_value() && r.has_value());
  if (!check.ok()) return check.failure();
  check.equal("enc", s->enc, hex_field(c, "enc"));
  check.equal("key", s->context.key(), hex_field(c, "key"));
  check.equal("base_nonce", s->context.base_nonce(), hex_field(c, "base_nonce"));
  check.equal("exporter_secret", r->exporter_secret(), hex_field(c, "exporter_secret"));
  const Bytes pt = hex_field(c, "pt");
  for (const auto& e : c.at("encryptions")) {
    const auto seq = e.at("seq").get<std::uint64_t>();
    const Bytes aad = hex_field(e, "aad");
    auto ct = s->context.seal_at(seq, aad, pt);
    check.require("seal", ct.has_value());
    if (!ct) break;
    check.equal("ct seq " + std::to_string(seq), *ct, hex_field(e, "ct"));
    auto back = r->open_at(seq, aad, hex_field(e, "ct"));
    check.require("open", back.has_value());
    if (back) check.equal("pt", *back, pt);
  }
  for (const auto& e : c.at("exports")) {
    auto out = r->export_secret(hex_field(e, "exporter_context"), e.at("L").get<std::size_t>());
    check.require("export", out.has_value());
    if (out) check.equal("exported_value", out->view(), hex_field(e, "exported_value"));
  }
  return check.failure();
}

}  // namespace hearth::mls::vectors
