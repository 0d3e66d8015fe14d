// SPDX-License-Identifier: Apache-2.0
#include "client/cli/passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "common/crypto/secret.h"

namespace hearth::cli {

namespace {

using client::ClientCode;
using client::ClientError;

ClientError passphrase_error(std::string why) { return ClientError{ClientCode::Passphrase, std::move(why)}; }

void strip_newline(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

client::ClientResult<Passphrase> from_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return fail(passphrase_error("cannot read the passphrase file: " + ec.message()));
  if (size > kMaxPassphraseFileSize) {
    return fail(passphrase_error("the passphrase file is larger than " + std::to_string(kMaxPassphraseFileSize) +
                                 " bytes"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(passphrase_error("cannot open the passphrase file"));
  std::string line;
  line.reserve(static_cast<std::size_t>(size) + 1);  // no reallocation leaves copies behind
  std::getline(in, line);
  strip_newline(line);
  return Passphrase(std::move(line));
}

/// One line from the terminal with echo off; nullopt when there is no terminal.
std::optional<Passphrase> prompt_line(int tty, const char* prompt) {
  termios old{};
  const bool have_attr = tcgetattr(tty, &old) == 0;
  if (have_attr) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    (void)tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  (void)!write(tty, prompt, std::char_traits<char>::length(prompt));
  std::string line;
  line.reserve(kMaxPassphraseFileSize + 1);  // no reallocation leaves copies behind
  char c = 0;
  bool got_any = false;
  while (read(tty, &c, 1) == 1) {
    got_any = true;
    if (c == '\n') break;
    if (line.size() <= kMaxPassphraseFileSize) line.push_back(c);
  }
  if (have_attr) (void)tcsetattr(tty, TCSAFLUSH, &old);
  c = 0;
  if (!got_any) return std::nullopt;
  strip_newline(line);
  return Passphrase(std::move(line));
}

}  // namespace

Passphrase::Passphrase(Passphrase&& o) noexcept : s_(o.s_) {
  crypto::wipe(o.s_.data(), o.s_.size());
  o.s_.clear();
}

Passphrase::~Passphrase() {
  if (!s_.empty()) crypto::wipe(s_.data(), s_.size());
}

client::ClientResult<Passphrase> read_passphrase(const std::optional<std::filesystem::path>& file, const char* env,
                                                 bool confirm, const char* prompt) {
  if (file) return from_file(*file);
  if (const char* value = std::getenv(env); value != nullptr) return Passphrase(std::string(value));
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    return fail(passphrase_error(std::string("no passphrase: give --passphrase-file, set ") + env +
                                 ", or run on a terminal"));
  }
  auto first = prompt_line(tty, prompt);
  auto second = first && confirm ? prompt_line(tty, "Repeat it: ") : std::nullopt;
  ::close(tty);
  if (!first || (confirm && !second)) return fail(passphrase_error("no passphrase was entered"));
  if (confirm && second->view() != first->view()) return fail(passphrase_error("the two passphrases differ"));
  return std::move(*first);
}

}  // namespace hearth::cli
