// SPDX-License-Identifier: Apache-2.0
#include "client/cli/output.h"

#include <iostream>

namespace hearth::cli {

Exit exit_for(client::ClientCode c) noexcept {
  using client::ClientCode;
  switch (c) {
    case ClientCode::InvalidInvite:
    case ClientCode::InvalidArgument:
    case ClientCode::NotRegistered:
    case ClientCode::AlreadyRegistered: return Exit::Usage;
    case ClientCode::Store:
    case ClientCode::Stopped: return Exit::Local;
    case ClientCode::Connect:
    case ClientCode::Tls:
    case ClientCode::PinMismatch:
    case ClientCode::Protocol:
    case ClientCode::Disconnected: return Exit::Connection;
    case ClientCode::AuthFailed:
    case ClientCode::IdentityChanged:
    case ClientCode::Passphrase: return Exit::Auth;
    case ClientCode::Refused:
    case ClientCode::NotAllowed: return Exit::Refused;
    case ClientCode::Timeout: return Exit::Timeout;
  }
  return Exit::Local;
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void Output::emit(const nlohmann::json& object, const std::string& human) const {
  if (json_) {
    std::cout << dump(object) << std::endl;
  } else if (!human.empty()) {
    std::cout << human << std::endl;
  }
}

Exit Output::error(const client::ClientError& e) const {
  const Exit code = exit_for(e.code);
  if (json_) {
    nlohmann::json j{{"error", client::to_string(e.code)}, {"message", e.detail}, {"exit", static_cast<int>(code)}};
    if (e.relay) j["relay_code"] = wire::to_string(e.relay->code);
    std::cerr << dump(j) << std::endl;
  } else {
    std::cerr << "hearth-cli: " << e.describe() << std::endl;
  }
  return code;
}

Exit Output::usage(const std::string& message) const {
  return error(client::ClientError{client::ClientCode::InvalidArgument, message});
}

}  // namespace hearth::cli
