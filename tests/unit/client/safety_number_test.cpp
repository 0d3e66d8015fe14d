// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <regex>

#include "client/core/safety_number.h"

using namespace hearth;
using namespace hearth::client;

namespace {

const AccountId kAlice{Bytes(16, 0xa1)};
const AccountId kBob{Bytes(16, 0xb0)};
const Bytes kAliceKey(32, 0x11);
const Bytes kBobKey(32, 0x22);

}  // namespace

TEST_CASE("safety number: 60 digits in 12 groups, the same from both sides", "[client][safety]") {
  const auto ab = safety_number(kAlice, kAliceKey, kBob, kBobKey);
  const auto ba = safety_number(kBob, kBobKey, kAlice, kAliceKey);
  CHECK(ab == ba);
  CHECK(std::regex_match(ab, std::regex("([0-9]{5} ){11}[0-9]{5}")));
  CHECK(ab.size() == kSafetyNumberDigits + kSafetyNumberDigits / kSafetyNumberGroup - 1);
  const auto half = safety_half(kAlice, kAliceKey);
  CHECK(half.size() == kSafetyNumberDigits / 2);
  // The halves are ordered, so the number starts with the smaller one.
  const auto other = safety_half(kBob, kBobKey);
  std::string joined = std::min(half, other) + std::max(half, other);
  std::string digits;
  for (char c : ab) {
    if (c != ' ') digits.push_back(c);
  }
  CHECK(digits == joined);
  // Deterministic.
  CHECK(safety_number(kAlice, kAliceKey, kBob, kBobKey) == ab);
}

TEST_CASE("safety number: another key or another account gives another number", "[client][safety]") {
  const auto ab = safety_number(kAlice, kAliceKey, kBob, kBobKey);
  Bytes mallory_key = kBobKey;
  mallory_key[31] ^= 0x01;
  CHECK(safety_number(kAlice, kAliceKey, kBob, mallory_key) != ab);
  CHECK(safety_number(kAlice, kAliceKey, AccountId{Bytes(16, 0xb1)}, kBobKey) != ab);
  // A key and an account cannot trade bytes: the key's length is hashed in.
  CHECK(safety_half(AccountId{Bytes(15, 0xa1)}, Bytes(33, 0x11)) != safety_half(kAlice, kAliceKey));
  // Each half depends only on its own side.
  CHECK(safety_half(kBob, mallory_key) != safety_half(kBob, kBobKey));
}
