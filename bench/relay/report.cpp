// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/report.h"

#include <cstdio>
#include <sstream>

namespace hearth::bench {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double per_second(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string opt_fixed(const std::optional<double>& v, int digits, const char* unit) {
  return v ? fixed(*v, digits) + unit : std::string("n/a");
}

std::string json_number(const std::optional<double>& v, int digits) { return v ? fixed(*v, digits) : "null"; }

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string latency_line(const LogHistogram& h) {
  if (h.count() == 0) return "no samples";
  return "p50 " + fixed(ms(h.quantile(0.5)), 3) + " ms  p99 " + fixed(ms(h.quantile(0.99)), 3) + " ms  p99.9 " +
         fixed(ms(h.quantile(0.999)), 3) + " ms  max " + fixed(ms(h.max()), 3) + " ms  (" + std::to_string(h.count()) +
         " samples)";
}

std::string latency_json(const LogHistogram& h) {
  return "{\"samples\": " + std::to_string(h.count()) + ", \"p50_ms\": " + fixed(ms(h.quantile(0.5)), 4) +
         ", \"p99_ms\": " + fixed(ms(h.quantile(0.99)), 4) + ", \"p999_ms\": " + fixed(ms(h.quantile(0.999)), 4) +
         ", \"max_ms\": " + fixed(ms(h.max()), 4) + "}";
}

std::string rate_text(const Options& o) {
  return o.rate > 0 ? fixed(o.rate, 0) + " msg/s offered (open loop)"
                    : "maximum (window " + std::to_string(o.window) + " per sender)";
}

}  // namespace

std::string format_text(const Report& r) {
  const auto& o = r.options;
  std::ostringstream s;
  s << "hearth-bench: scenario " << o.scenario << ": " << o.rooms << " room(s) x " << o.members << " members, "
    << r.senders << " senders, " << o.payload << " B plaintext (" << r.envelope_bytes << " B MLS PrivateMessage), "
    << o.readers << " reader(s) per room, rate " << rate_text(o) << ", " << o.idle
    << " idle connections (" << r.connections << " connections), warm-up " << fixed(o.warmup_s, 1)
    << " s, measured " << fixed(r.measured_s, 2) << " s (set-up took " << fixed(r.setup_s, 2) << " s, "
    << r.key_package_retries << " KeyPackage fetches asked again after RateLimited)\n";
  s << "  deliveries/s       " << fixed(per_second(r.deliveries, r.measured_s), 0) << "  (" << r.deliveries
    << " to members other than the sender; " << r.echoes << " echoes to the sender)\n";
  s << "  publishes/s        " << fixed(per_second(r.publishes, r.measured_s), 0) << "  (SendOk, durable before ack; "
    << r.held_back << " sends held back while a member lagged)\n";
  s << "  opened/s           " << fixed(per_second(r.opened, r.measured_s), 0)
    << "  (decrypted by readers; their deliveries give the latency below)\n";
  s << "  latency send->deliver   " << latency_line(r.delivery_latency) << "\n";
  s << "  latency send->SendOk    " << latency_line(r.ack_latency) << "\n";
  s << "  relay  RSS end " << opt_fixed(r.relay_rss_end_mib, 1, " MiB") << ", peak in window "
    << opt_fixed(r.relay_rss_peak_mib, 1, " MiB") << ", VmHWM " << opt_fixed(r.relay_hwm_mib, 1, " MiB")
    << "; CPU " << opt_fixed(r.relay_cpu_pct, 1, "%") << " of one core; " << r.relay_state << "\n";
  s << "  bench  CPU " << fixed(r.bench_cpu_pct, 1) << "% of one core (one io thread); " << r.full_decodes
    << " frames took the full decoder"
    << (r.bench_cpu_pct > 90 ? " -- WARNING: the bench is near one full core, figures may be bench-limited" : "")
    << "\n";
  s << "  machine " << r.machine_cores << " cores; other processes used " << opt_fixed(r.others_cpu_pct, 1, "%")
    << " of one core in the window; load average " << opt_fixed(r.loadavg_end, 2, "")
    << "; waiting for a CPU (run queue): relay main thread " << opt_fixed(r.relay_runqueue_pct, 1, "%") << ", bench "
    << opt_fixed(r.bench_runqueue_pct, 1, "%") << " of the window"
    << (r.others_cpu_pct && *r.others_cpu_pct > 20 ? " -- WARNING: the machine was not quiet" : "") << "\n";
  s << "  loss   lost " << r.lost << ", duplicates " << r.duplicates << ", out of order " << r.out_of_order
    << ", unanswered sends " << r.unanswered_sends << ", dropped connections " << r.dropped_connections
    << (r.drained ? "" : ", DRAIN TIMED OUT") << "\n";
  s << "  errors ";
  if (r.errors.empty()) s << "none";
  bool first = true;
  for (const auto& [what, n] : r.errors) {
    s << (first ? "" : "; ") << what << " x" << n;
    first = false;
  }
  s << "\n  result " << (r.clean() ? "clean" : "NOT CLEAN (see loss/errors)") << "\n";
  return s.str();
}

std::string format_json(const Report& r) {
  const auto& o = r.options;
  std::ostringstream s;
  s << "{\"scenario\": " << json_string(o.scenario) << ", \"rooms\": " << o.rooms << ", \"members\": " << o.members
    << ", \"senders\": " << r.senders << ", \"payload\": " << o.payload << ", \"envelope_bytes\": " << r.envelope_bytes
    << ", \"readers\": " << o.readers << ", \"rate\": " << fixed(o.rate, 1)
    << ", \"window\": " << o.window << ", \"idle\": " << o.idle << ", \"connections\": " << r.connections
    << ", \"warmup_s\": " << fixed(o.warmup_s, 2) << ", \"measured_s\": " << fixed(r.measured_s, 3)
    << ", \"setup_s\": " << fixed(r.setup_s, 3) << ", \"key_package_retries\": " << r.key_package_retries
    << ", \"deliveries\": " << r.deliveries
    << ", \"deliveries_per_s\": " << fixed(per_second(r.deliveries, r.measured_s), 1) << ", \"echoes\": " << r.echoes
    << ", \"publishes\": " << r.publishes << ", \"publishes_per_s\": " << fixed(per_second(r.publishes, r.measured_s), 1)
    << ", \"held_back\": " << r.held_back << ", \"max_lag\": " << o.max_lag << ", \"opened\": " << r.opened
    << ", \"opened_per_s\": " << fixed(per_second(r.opened, r.measured_s), 1)
    << ", \"delivery_latency\": " << latency_json(r.delivery_latency)
    << ", \"ack_latency\": " << latency_json(r.ack_latency)
    << ", \"relay_rss_end_mib\": " << json_number(r.relay_rss_end_mib, 2)
    << ", \"relay_rss_peak_mib\": " << json_number(r.relay_rss_peak_mib, 2)
    << ", \"relay_hwm_mib\": " << json_number(r.relay_hwm_mib, 2)
    << ", \"relay_cpu_pct\": " << json_number(r.relay_cpu_pct, 1) << ", \"bench_cpu_pct\": " << fixed(r.bench_cpu_pct, 1)
    << ", \"others_cpu_pct\": " << json_number(r.others_cpu_pct, 1) << ", \"machine_cores\": " << r.machine_cores
    << ", \"relay_runqueue_pct\": " << json_number(r.relay_runqueue_pct, 1)
    << ", \"bench_runqueue_pct\": " << json_number(r.bench_runqueue_pct, 1) << ", \"loadavg_end\": " << json_number(r.loadavg_end, 2) << ", \"relay_state\": " << json_string(r.relay_state) << ", \"lost\": " << r.lost
    << ", \"duplicates\": " << r.duplicates << ", \"out_of_order\": " << r.out_of_order
    << ", \"unanswered_sends\": " << r.unanswered_sends << ", \"dropped_connections\": " << r.dropped_connections
    << ", \"drained\": " << (r.drained ? "true" : "false") << ", \"full_decodes\": " << r.full_decodes
    << ", \"errors\": {";
  bool first = true;
  for (const auto& [what, n] : r.errors) {
    s << (first ? "" : ", ") << json_string(what) << ": " << n;
    first = false;
  }
  s << "}, \"clean\": " << (r.clean() ? "true" : "false") << "}\n";
  return s.str();
}

}  // namespace hearth::bench
