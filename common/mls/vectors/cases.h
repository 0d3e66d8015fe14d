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
[[nodiscard]] std::string check_tree_validation(const nlohmann::json& c);   // tree_cases.cpp
[[nodiscard]] std::string check_tree_operations(const nlohmann::json& c);   // tree_cases.cpp
[[nodiscard]] std::string check_treekem(const nlohmann::json& c);           // treekem_cases.cpp
[[nodiscard]] std::string check_welcome(const nlohmann::json& c);           // welcome_cases.cpp
[[nodiscard]] std::string check_passive_client(const nlohmann::json& c);    // welcome_cases.cpp

}  // namespace hearth::mls::vectors
