// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/relay/relay_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/wire/invite.h"
#include "tests/support/paths.h"

namespace hearth::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("hearth-relay-it-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path relay_binary() { return binary_dir() / "server" / "hearth-relay"; }

namespace {

[[nodiscard]] std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

[[nodiscard]] std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args_in, std::chrono::milliseconds timeout) {
  std::vector<std::string> args = args_in;
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const fs::path err = tmp.path() / "err";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    auto argv = argv_of(args);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  ProcessResult result;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

RelayProcess::RelayProcess(fs::path data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)) {
  static int counter = 0;
  const auto tag = std::to_string(::getpid()) + "-" + std::to_string(++counter);
  out_file_ = data_dir_.parent_path() / ("relay-" + tag + ".out");
  err_file_ = data_dir_.parent_path() / ("relay-" + tag + ".err");
  std::vector<std::string> args{relay_binary().string(), "--listen", "127.0.0.1:0", "--data-dir", data_dir_.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int o = ::open(out_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    auto argv = argv_of(args);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  const std::string kListen = "hearth-relay: listening ";
  const std::string kPin = "hearth-relay: spki-sha256 ";
  while (port_ == 0 || spki_hex_.empty()) {
    if (Clock::now() > deadline) {
      kill9();
      throw std::runtime_error("the relay did not announce itself: " + read_file(err_file_));
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the relay exited at start: " + read_file(err_file_));
    }
    std::istringstream lines(read_file(out_file_));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(kListen, 0) == 0) {
        const auto colon = line.rfind(':');
        port_ = static_cast<std::uint16_t>(std::stoul(line.substr(colon + 1)));
      } else if (line.rfind(kPin, 0) == 0) {
        spki_hex_ = line.substr(kPin.size());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

RelayProcess::~RelayProcess() {
  kill9();
  std::error_code ec;
  fs::remove(out_file_, ec);
  fs::remove(err_file_, ec);
}

std::vector<std::string> RelayProcess::invites(int count) const {
  auto r = run_process({relay_binary().string(), "invite", "--data-dir", data_dir_.string(), "--count",
                        std::to_string(count)});
  if (r.exit_code != 0) throw std::runtime_error("invite failed: " + r.err);
  std::vector<std::string> tokens;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto invite = wire::parse_invite(line);
    if (!invite) throw std::runtime_error("the invite subcommand printed an unparseable invite");
    tokens.push_back(invite->token);
  }
  return tokens;
}

std::optional<int> RelayProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

int RelayProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  if (auto code = wait(timeout)) return *code;
  kill9();
  return -1;
}

void RelayProcess::kill9() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string RelayProcess::stderr_text() const { return read_file(err_file_); }

}  // namespace hearth::test
