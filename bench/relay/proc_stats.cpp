// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/proc_stats.h"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace hearth::bench {

std::optional<std::string> read_whole_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  std::array<char, 8192> buf{};
  for (;;) {
    const auto n = read(fd, buf.data(), buf.size());
    if (n > 0) {
      text.append(buf.data(), static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fd);
  return text;
}

std::optional<MemorySample> read_memory(pid_t pid) {
  auto text = read_whole_file("/proc/" + std::to_string(pid) + "/status");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  MemorySample s;
  bool rss = false;
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&line] {
      std::istringstream fields(line.substr(line.find(':') + 1));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib;
    };
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_kib = value();
      rss = true;
    } else if (line.rfind("VmHWM:", 0) == 0) {
      s.hwm_kib = value();
    }
  }
  if (!rss) return std::nullopt;  // a zombie has no VmRSS line
  return s;
}

std::optional<double> read_cpu_seconds(pid_t pid) {
  auto text = read_whole_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  const std::string& all = *text;
  // The command name (field 2) may hold spaces and parentheses: start after the last ')'.
  auto close = all.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(all.substr(close + 1));
  std::string field;
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  // After ')' come field 3 (state) onwards; utime is field 14, stime field 15.
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) stime = std::stoull(field);
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(ticks);
}

double self_cpu_seconds() noexcept {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace hearth::bench
