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

std::optional<MachineCpu> read_machine_cpu() {
  auto text = read_whole_file("/proc/stat");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line;
  MachineCpu m;
  bool found = false;
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return std::nullopt;
  while (std::getline(in, line)) {
    if (line.rfind("cpu ", 0) == 0) {
      std::istringstream fields(line.substr(4));
      // user nice system idle iowait irq softirq steal guest guest_nice
      std::uint64_t v[8] = {};
      for (auto& x : v) fields >> x;
      const std::uint64_t total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
      const std::uint64_t idle = v[3] + v[4];
      m.total_s = static_cast<double>(total) / static_cast<double>(ticks);
      m.busy_s = static_cast<double>(total - idle) / static_cast<double>(ticks);
      found = true;
    } else if (line.rfind("cpu", 0) == 0) {
      ++m.cores;
    }
  }
  if (!found) return std::nullopt;
  return m;
}

std::optional<double> read_runqueue_wait_seconds(pid_t pid) {
  auto text = read_whole_file("/proc/" + std::to_string(pid) + "/schedstat");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::uint64_t on_cpu_ns = 0;
  std::uint64_t waiting_ns = 0;
  if (!(in >> on_cpu_ns >> waiting_ns)) return std::nullopt;
  return static_cast<double>(waiting_ns) / 1e9;
}

std::optional<double> read_loadavg() {
  auto text = read_whole_file("/proc/loadavg");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  double load = 0;
  if (!(in >> load)) return std::nullopt;
  return load;
}

double self_cpu_seconds() noexcept {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace hearth::bench
