// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/wire/invite.h"
#include "common/wire/messages.h"

using namespace hearth;
using namespace hearth::wire;

TEST_CASE("invite round trip", "[wire][invite]") {
  Invite in{"relay.example.org", 7443, Bytes(32, 0xab), "Tok_en-123"};
  auto text = format_invite(in);
  REQUIRE(text == "hearth://relay.example.org:7443/?pin=" +
                      to_hex(Bytes(32, 0xab)) + "&token=Tok_en-123");
  REQUIRE(parse_invite(text).value() == in);
  REQUIRE(parse_invite("  " + text + "\n").value() == in);

  Invite v6{"::1", 7443, Bytes(32, 1), "t"};
  auto t6 = format_invite(v6);
  REQUIRE(t6.starts_with("hearth://[::1]:7443/"));
  REQUIRE(parse_invite(t6).value() == v6);
}

TEST_CASE("invite rejects malformed strings", "[wire][invite]") {
  const std::string pin = to_hex(Bytes(32, 1));
  REQUIRE(parse_invite("https://h:1/?pin=" + pin + "&token=t").error() == InviteError::BadScheme);
  REQUIRE(parse_invite("hearth://:1/?pin=" + pin + "&token=t").error() == InviteError::BadHost);
  REQUIRE(parse_invite("hearth://h/?pin=" + pin + "&token=t").error() == InviteError::BadPort);
  REQUIRE(parse_invite("hearth://h:0/?pin=" + pin + "&token=t").error() == InviteError::BadPort);
  REQUIRE(parse_invite("hearth://h:70000/?pin=" + pin + "&token=t").error() == InviteError::BadPort);
  REQUIRE(parse_invite("hearth://h:1x/?pin=" + pin + "&token=t").error() == InviteError::BadPort);
  REQUIRE(parse_invite("hearth://h:1/?pin=abcd&token=t").error() == InviteError::BadPin);
  REQUIRE(parse_invite("hearth://h:1/?token=t").error() == InviteError::BadPin);
  REQUIRE(parse_invite("hearth://h:1/?pin=" + pin).error() == InviteError::BadToken);
  REQUIRE(parse_invite("hearth://h:1/?pin=" + pin + "&token=a b").error() == InviteError::BadToken);
  REQUIRE(parse_invite("hearth://h:1/?pin=" + pin + "&token=" + std::string(kMaxInviteTokenSize + 1, 'a')).error() ==
          InviteError::BadToken);
  REQUIRE(parse_invite("hearth://h o:1/?pin=" + pin + "&token=t").error() == InviteError::BadHost);
}
