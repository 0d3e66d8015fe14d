// SPDX-License-Identifier: Apache-2.0
#pragma once
// One check per vector file type; each returns the first mismatch, or "" when
// the case passes. Internal to the vectors library.

#include <string>

#include <nlohmann/json.hpp>

namespace hearth::mls::vectors {

[[nodiscard]] std::string check_tree_math(const nlohmann::json& c);
[[nodiscard]] std::string check_deserialization(const nlohmann::json& c);
[[nodiscard]] std::string check_crypto_basics(const nlohmann::json& c);
[[nodiscard]] std::string check_hpke(const nlohmann::json& c);
[[nodiscard]] std::string check_key_schedule(const nlohmann::json& c);
[[nodiscard]] std::string check_psk_secret(const nlohmann::json& c);
[[nodiscard]] std::string check_secret_tree(const nlohmann::json& c);
[[nodiscard]] std::string check_transcript_hashes(const nlohmann::json& c);
[[nodiscard]] std::string check_message_protection(const nlohmann::json& c);
[[nodiscard]] std::string check_messages(const nlohmann::json& c);

}  // namespace hearth::mls::vectors
