// SPDX-License-Identifier: Apache-2.0
#pragma once
// Resource figures of a process read from /proc (Linux only).

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

namespace hearth::bench {

struct MemorySample {
  std::uint64_t rss_kib = 0;  // VmRSS: resident now
  std::uint64_t hwm_kib = 0;  // VmHWM: peak resident since the process started
};

/// The whole content of a (small) file; nullopt when it cannot be opened.
[[nodiscard]] std::optional<std::string> read_whole_file(const std::string& path);

/// VmRSS and VmHWM of `pid`; nullopt when the process is gone or unreadable.
[[nodiscard]] std::optional<MemorySample> read_memory(pid_t pid);

/// User + system CPU time of `pid` in seconds; nullopt when unreadable.
[[nodiscard]] std::optional<double> read_cpu_seconds(pid_t pid);

/// Machine-wide CPU time from /proc/stat, in seconds summed over all cores.
struct MachineCpu {
  double busy_s = 0;   // everything but idle and iowait
  double total_s = 0;
  unsigned cores = 0;
};
[[nodiscard]] std::optional<MachineCpu> read_machine_cpu();

/// Seconds the main thread of `pid` spent waiting on a run queue (runnable
/// but not running) so far, from /proc/PID/schedstat; nullopt when unreadable.
[[nodiscard]] std::optional<double> read_runqueue_wait_seconds(pid_t pid);

/// The 1-minute load average (/proc/loadavg).
[[nodiscard]] std::optional<double> read_loadavg();

/// User + system CPU time of this process in seconds (getrusage).
[[nodiscard]] double self_cpu_seconds() noexcept;

}  // namespace hearth::bench
