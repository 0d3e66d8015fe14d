// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/client/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <stdexcept>
#include <thread>

namespace hearth::test {

namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> argv_storage;
  argv_storage.push_back(program.string());
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A session of its own: no controlling terminal, so a program under test
    // can never stop to prompt on the developer's terminal.
    ::setsid();
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

ChildProcess::~ChildProcess() {
  kill_now();
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool ChildProcess::pump(std::chrono::milliseconds timeout) {
  std::array<pollfd, 2> fds{};
  nfds_t n = 0;
  if (out_fd_ >= 0) fds[n++] = pollfd{out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = pollfd{err_fd_, POLLIN, 0};
  if (n == 0) return false;
  const int ready = ::poll(fds.data(), n, static_cast<int>(timeout.count()));
  if (ready <= 0) return true;
  for (nfds_t i = 0; i < n; ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    std::array<char, 4096> buf{};
    const auto got = ::read(fds[i].fd, buf.data(), buf.size());
    const bool is_out = fds[i].fd == out_fd_;
    if (got <= 0) {
      ::close(fds[i].fd);
      (is_out ? out_fd_ : err_fd_) = -1;
      continue;
    }
    (is_out ? out_ : err_).append(buf.data(), static_cast<std::size_t>(got));
  }
  return true;
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto nl = out_.find('\n', out_pos_);
    if (nl != std::string::npos) {
      std::string line = out_.substr(out_pos_, nl - out_pos_);
      out_pos_ = nl + 1;
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    if (!pump(std::min(left, std::chrono::milliseconds(100)))) return std::nullopt;
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!status_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(status);
      break;
    }
    if (Clock::now() >= deadline) {
      kill_now();
      return std::nullopt;
    }
    if (!pump(std::chrono::milliseconds(20))) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  while (pump(std::chrono::milliseconds(0)) && (out_fd_ >= 0 || err_fd_ >= 0)) {
    // Drain what the child wrote before it exited; pipes close at EOF.
    if (Clock::now() >= deadline + std::chrono::seconds(1)) break;
  }
  return status_;
}

void ChildProcess::kill_now() {
  if (status_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  status_ = decode_status(status);
}

void ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (status_ || pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!wait(grace)) kill_now();
}

RunResult run(const std::filesystem::path& program, const std::vector<std::string>& args,
              std::chrono::milliseconds timeout) {
  ChildProcess child(program, args);
  RunResult r;
  r.exit_code = child.wait(timeout);
  r.out = child.out();
  r.err = child.err();
  return r;
}

}  // namespace hearth::test
