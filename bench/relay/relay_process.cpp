// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/relay_process.h"

#include "bench/relay/proc_stats.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace hearth::bench {
namespace {

namespace fs = std::filesystem;

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Child side of fork(): only async-signal-safe calls until exec.
[[noreturn]] void exec_child(std::vector<char*>& argv, int out_fd, int err_fd, bool own_session) {
  // The relay runs in its own session, as a service would: with the kernel's
  // autogroup scheduling it then gets its own CPU share instead of splitting
  // one with the bench (which matters on a machine other people also use).
  if (own_session) setsid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
  if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
  execv(argv[0], argv.data());
  const char msg[] = "hearth-bench: exec of the relay failed\n";
  [[maybe_unused]] auto n = write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(127);
}

std::string read_file(const fs::path& p) { return read_whole_file(p.string()).value_or(std::string()); }

std::string tail_lines(const std::string& text, std::size_t max_lines) {
  std::deque<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

void check_executable(const fs::path& binary) {
  if (access(binary.c_str(), X_OK) != 0) {
    throw BenchError("the relay binary " + binary.string() + " is missing or not executable (" +
                     std::strerror(errno) + "); build the hearth-relay target or pass --relay PATH");
  }
}

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

RelayEndpoint parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw BenchError("not a HOST:PORT address: '" + text + "'");
  RelayEndpoint e;
  e.host = text.substr(0, colon);
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = 0;
  } catch (const std::exception&) {
    port = 0;
  }
  if (port == 0 || port > 65535) throw BenchError("bad port in '" + text + "'");
  e.port = static_cast<std::uint16_t>(port);
  return e;
}

RelayProcess::RelayProcess(const fs::path& binary, const fs::path& data_dir, const std::vector<std::string>& extra_args,
                           const fs::path& log_dir, std::chrono::milliseconds timeout)
    : stdout_path_(log_dir / "relay.stdout"), stderr_path_(log_dir / "relay.stderr") {
  check_executable(binary);
  std::vector<std::string> args{binary.string(), "--listen", "127.0.0.1:0", "--data-dir", data_dir.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto argv = argv_of(args);

  const int out_fd = open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0 || err_fd < 0) throw BenchError("cannot create the relay's log files in " + log_dir.string());
  pid_ = fork();
  if (pid_ == 0) exec_child(argv, out_fd, err_fd, true);
  close(out_fd);
  close(err_fd);
  if (pid_ < 0) throw BenchError(std::string("fork failed: ") + std::strerror(errno));

  // The relay announces itself on stdout; a file (not a pipe) means it can
  // never block on a full pipe later, whatever else it prints.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool listening = false;
  bool pinned = false;
  while (!(listening && pinned)) {
    std::istringstream out(read_file(stdout_path_));
    std::string line;
    while (std::getline(out, line)) {
      constexpr std::string_view kListen = "hearth-relay: listening ";
      constexpr std::string_view kPin = "hearth-relay: spki-sha256 ";
      if (line.rfind(kListen, 0) == 0 && !listening) {
        auto pin = endpoint_.spki_pin;
        endpoint_ = parse_endpoint(line.substr(kListen.size()));
        endpoint_.spki_pin = pin;
        listening = true;
      } else if (line.rfind(kPin, 0) == 0 && !pinned) {
        auto bytes = from_hex(line.substr(kPin.size()));
        if (!bytes || bytes->size() != 32) throw BenchError("the relay printed a malformed spki-sha256 line");
        endpoint_.spki_pin = *bytes;
        pinned = true;
      }
    }
    if (listening && pinned) break;
    if (auto how = ended()) {
      throw BenchError("the relay (" + binary.string() + ") ended with " + *how +
                       " before it was listening; its stderr ends with:\n" + stderr_tail());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw BenchError("the relay did not announce 'listening' and 'spki-sha256' on stdout within " +
                       std::to_string(timeout.count()) + " ms; its stderr ends with:\n" + stderr_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

RelayProcess::~RelayProcess() {
  if (pid_ > 0 && !ended_) stop();
}

std::optional<std::string> RelayProcess::ended() {
  if (ended_ || pid_ <= 0) return ended_;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) ended_ = describe_wait_status(status);
  return ended_;
}

std::string RelayProcess::stop() {
  if (auto how = ended()) return *how;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto how = ended()) return *how;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  ended_ = "killed after 5 s without exiting on SIGTERM (" + describe_wait_status(status) + ")";
  return *ended_;
}

std::string RelayProcess::stderr_tail(std::size_t max_lines) const {
  return tail_lines(read_file(stderr_path_), max_lines);
}

std::vector<std::string> make_invites(const fs::path& binary, const fs::path& data_dir, std::size_t count) {
  check_executable(binary);
  std::vector<std::string> args{binary.string(), "invite", "--data-dir", data_dir.string(), "--count",
                                std::to_string(count)};
  auto argv = argv_of(args);
  std::array<int, 2> out{};
  std::array<int, 2> err{};
  if (pipe2(out.data(), O_CLOEXEC) != 0 || pipe2(err.data(), O_CLOEXEC) != 0)
    throw BenchError(std::string("pipe failed: ") + std::strerror(errno));
  const pid_t pid = fork();
  if (pid == 0) exec_child(argv, out[1], err[1], false);
  close(out[1]);
  close(err[1]);
  if (pid < 0) throw BenchError(std::string("fork failed: ") + std::strerror(errno));

  // Read stdout then stderr; the subcommand prints little to stderr, so it
  // cannot fill that pipe while we wait on stdout.
  auto drain = [](int fd) {
    std::string text;
    std::array<char, 65536> buf{};
    for (;;) {
      auto n = read(fd, buf.data(), buf.size());
      if (n > 0) {
        text.append(buf.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    close(fd);
    return text;
  };
  std::string text = drain(out[0]);
  std::string errors = drain(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw BenchError("'" + binary.string() + " invite --count " + std::to_string(count) + "' failed with " +
                     describe_wait_status(status) + ":\n" + tail_lines(errors, 15));
  }
  std::vector<std::string> invites;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("hearth://", 0) == 0) invites.push_back(line);
  }
  if (invites.size() < count) {
    throw BenchError("the relay's invite subcommand printed " + std::to_string(invites.size()) +
                     " invites, " + std::to_string(count) + " were asked for");
  }
  invites.resize(count);
  return invites;
}

fs::path default_relay_path() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "hearth-relay";
  auto dir = self.parent_path();
  auto build_tree = dir / ".." / ".." / "server" / "hearth-relay";
  auto sibling = dir / ".." / "server" / "hearth-relay";
  if (!fs::exists(build_tree, ec) && fs::exists(sibling, ec)) return sibling.lexically_normal();
  return build_tree.lexically_normal();
}

}  // namespace hearth::bench
