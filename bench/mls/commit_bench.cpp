// SPDX-License-Identifier: Apache-2.0
// hearth-mls-bench commit [ITERATIONS]: what Hearth's group operations cost
// as a room grows (run it from a release build:
//   cmake --preset release && cmake --build build/release --target hearth-mls-bench
//   ./build/release/bench/mls/hearth-mls-bench commit 20).
//
// Rooms of 10, 50 and 200 members are built by the facilitator adding one
// member at a time; each new member joins from its Welcome and at once
// commits a self-update, so every member has refreshed its path once (the
// steady state: parent nodes filled, short unmerged-leaf lists). At each size,
// on the same states (every operation is a const transition, nothing is
// adopted), the median over ITERATIONS runs of:
//   remove  create: the facilitator's commit removing one member (with path)
//           process: another member handling it
//   add     create: the facilitator's commit adding one member, with its
//           Welcome (GroupInfo with the ratchet tree: O(n) bytes by design)
//           process: another member handling it;  join: the joiner's join
//   update  create / process: a member's self-update commit
//   ds      the relay's public view (PublicGroup::handle on a copy of the
//           view, as the relay's plan_commit does): remove and add
//   message protect (encrypt) and unprotect (decrypt) of a 512-byte
//           application message, in microseconds
// and, at the largest size, the memory of one member's state:
// GroupState::memory_estimate() and the glibc heap delta (mallinfo2) of a
// clone() and of a join().
//
// Processing a commit should grow with log2(n) (hashes along one path, one
// HPKE decryption), not with n: the table ends with the ratio of the largest
// to the smallest room next to the ratio of log2(n) and of n.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/mls/group_state.h"
#include "common/mls/leaf_node.h"
#include "common/mls/roles.h"

using namespace hearth;
using Clock = std::chrono::steady_clock;

int run_commit_bench(int argc, char** argv);

namespace {

constexpr std::uint64_t kNow = 1'800'000'000;
const std::vector<std::size_t> kSizes = {10, 50, 200};

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "hearth-mls-bench commit: %s failed\n", what);
    std::exit(1);
  }
}
template <class T>
T take(mls::MlsResult<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "hearth-mls-bench commit: %s failed: %s\n", what, mls::to_string(r.error()).c_str());
    std::exit(1);
  }
  return std::move(*r);
}

struct Person {
  Bytes name;
  mls::Credential credential;
  crypto::SigningKey key;
};

crypto::SigningKey copy_key(const crypto::SigningKey& key) {
  const auto seed = crypto::ed25519_seed(key);
  auto copy = crypto::ed25519_from_seed(seed.view());
  require(copy.has_value(), "signing key copy");
  return std::move(*copy);
}

Person person(std::size_t i) {
  const std::string name = "member-" + std::to_string(i);
  return Person{to_bytes(name), mls::basic_credential(as_bytes(name)), crypto::ed25519_generate()};
}

mls::KeyPackageBundle key_package(const Person& p, Rng& rng) {
  mls::KeyPackageOptions options;
  options.lifetime = mls::Lifetime{kNow - 3600, kNow + mls::kDefaultKeyPackageLifetimeSeconds};
  options.extensions = {mls::kRolesExtensionType};
  return mls::create_key_package(p.credential, p.key, options, rng);
}

const mls::GroupEnv kEnv{kNow, nullptr};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct Row {
  std::size_t members = 0;
  double remove_create = 0, remove_process = 0;
  double add_create = 0, add_process = 0, add_join = 0;
  double update_create = 0, update_process = 0;
  std::size_t add_welcome_bytes = 0, remove_commit_bytes = 0;
  std::size_t remove_hpke = 0, update_hpke = 0;  // path secrets encrypted by the commit
  double remove_ds = 0, add_ds = 0;              // the relay's public view
  double encrypt_us = 0, decrypt_us = 0;         // one 512-byte application message
};

/// The relay's processing of a commit: a copy of its view, then handle().
double ds_process_ms(const mls::PublicGroup& view, const mls::MlsMessage& commit) {
  const auto t = Clock::now();
  mls::PublicGroup next = view;
  auto update = next.handle(std::get<mls::PublicMessage>(commit.body), kNow);
  const double ms = ms_since(t);
  require(update.has_value(), "the relay's view handles the commit");
  return ms;
}

/// HPKE encryptions in a commit's UpdatePath (one per copath resolution node).
std::size_t hpke_count(const mls::MlsMessage& commit) {
  const auto* pm = std::get_if<mls::PublicMessage>(&commit.body);
  if (pm == nullptr) return 0;
  const auto* c = std::get_if<mls::Commit>(&pm->content.content);
  if (c == nullptr || !c->path) return 0;
  std::size_t n = 0;
  for (const auto& node : c->path->nodes) n += node.encrypted_path_secret.size();
  return n;
}

std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

}  // namespace

int run_commit_bench(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  crypto::init();
  crypto::SystemRng rng;

  // The facilitator F (leaf 0) and the observer R (leaf 1), who processes.
  const Person f = person(0);
  const Person r = person(1);
  auto state_f = take(mls::GroupState::create(to_bytes("bench room"), key_package(f, rng), copy_key(f.key),
                                              {mls::roles_extension(mls::Roles{{f.name}})}, mls::RolePolicy::Hearth, rng),
                      "create");
  std::optional<mls::GroupState> state_r;
  std::vector<Row> rows;
  std::size_t next = 1;
  std::printf("building rooms of");
  for (const std::size_t size : kSizes) std::printf(" %zu", size);
  std::printf(" members (each member joins, then commits a self-update) ...\n");
  std::fflush(stdout);

  for (const std::size_t size : kSizes) {
    while (state_f.members().size() < size) {
      const Person p = next == 1 ? Person{r.name, r.credential, copy_key(r.key)} : person(next);
      ++next;
      const auto kp = key_package(p, rng);
      auto pc = take(state_f.add({kp.key_package}, rng, kEnv), "add");
      if (state_r) state_r = take(state_r->handle(pc.commit, kEnv), "observer handles add").next;
      state_f = std::move(pc.next);
      require(pc.welcome.has_value(), "welcome");
      auto joined = take(mls::GroupState::join(std::get<mls::Welcome>(pc.welcome->body), kp, copy_key(p.key),
                                               std::nullopt, mls::RolePolicy::Hearth, kEnv),
                         "join");
      auto up = take(joined.update(rng, kEnv), "self-update");
      state_f = take(state_f.handle(up.commit, kEnv), "facilitator handles update").next;
      if (state_r) {
        state_r = take(state_r->handle(up.commit, kEnv), "observer handles update").next;
      } else {
        state_r = std::move(up.next);
      }
    }

    Row row;
    row.members = size;
    std::vector<double> rc, rp, ac, ap, aj, uc, up, rds, ads, enc, dec;
    const Bytes message(512, 0x6d);
    // The member removed: the last one added (neither F nor R).
    const auto members = state_f.members();
    const mls::LeafIndex victim = members.back().leaf;
    for (int i = 0; i < iterations; ++i) {
      auto t = Clock::now();
      auto pc = take(state_f.remove({victim}, rng, kEnv), "remove");
      rc.push_back(ms_since(t));
      row.remove_commit_bytes = mls::encode(pc.commit).size();
      row.remove_hpke = hpke_count(pc.commit);
      t = Clock::now();
      auto handled = take(state_r->handle(pc.commit, kEnv), "process remove");
      rp.push_back(ms_since(t));
      static_cast<void>(handled);
      rds.push_back(ds_process_ms(state_f.public_group(), pc.commit));

      const Person p = person(100000 + static_cast<std::size_t>(i));
      const auto kp = key_package(p, rng);
      t = Clock::now();
      auto add = take(state_f.add({kp.key_package}, rng, kEnv), "add");
      ac.push_back(ms_since(t));
      row.add_welcome_bytes = mls::encode(*add.welcome).size();
      t = Clock::now();
      auto handled_add = take(state_r->handle(add.commit, kEnv), "process add");
      ap.push_back(ms_since(t));
      static_cast<void>(handled_add);
      ads.push_back(ds_process_ms(state_f.public_group(), add.commit));
      t = Clock::now();
      auto joined = take(mls::GroupState::join(std::get<mls::Welcome>(add.welcome->body), kp, copy_key(p.key),
                                               std::nullopt, mls::RolePolicy::Hearth, kEnv),
                         "join");
      aj.push_back(ms_since(t));
      static_cast<void>(joined);

      t = Clock::now();
      auto upd = take(state_r->update(rng, kEnv), "update");
      uc.push_back(ms_since(t));
      row.update_hpke = hpke_count(upd.commit);
      t = Clock::now();
      auto handled_upd = take(state_f.handle(upd.commit, kEnv), "process update");
      up.push_back(ms_since(t));
      static_cast<void>(handled_upd);

      t = Clock::now();
      auto sealed = take(state_f.protect(message, {}, rng), "protect");
      enc.push_back(ms_since(t) * 1000.0);
      t = Clock::now();
      auto opened = take(state_r->unprotect(sealed), "unprotect");
      dec.push_back(ms_since(t) * 1000.0);
      require(opened.data == message, "the message round-trips");
    }
    row.remove_ds = median(rds);
    row.add_ds = median(ads);
    row.encrypt_us = median(enc);
    row.decrypt_us = median(dec);
    row.remove_create = median(rc);
    row.remove_process = median(rp);
    row.add_create = median(ac);
    row.add_process = median(ap);
    row.add_join = median(aj);
    row.update_create = median(uc);
    row.update_process = median(up);
    rows.push_back(row);
  }

  std::printf("\nmedian of %d runs, milliseconds (create = the committer, process = another member)\n", iterations);
  std::printf("%8s | %9s %9s | %9s %9s %9s | %9s %9s | %6s %6s | %11s %10s\n", "members", "rm create", "rm proc",
              "add creat", "add proc", "join", "upd creat", "upd proc", "rm enc", "up enc", "rm commit B",
              "welcome B");
  for (const auto& row : rows) {
    std::printf("%8zu | %9.3f %9.3f | %9.3f %9.3f %9.3f | %9.3f %9.3f | %6zu %6zu | %11zu %10zu\n", row.members,
                row.remove_create, row.remove_process, row.add_create, row.add_process, row.add_join,
                row.update_create, row.update_process, row.remove_hpke, row.update_hpke, row.remove_commit_bytes,
                row.add_welcome_bytes);
  }
  std::printf("(rm enc / up enc: HPKE encryptions of path secrets in the last remove / update commit)\n");
  std::printf("\n%8s | %9s %9s | %12s %12s\n", "members", "rm ds", "add ds", "512 B enc us", "512 B dec us");
  for (const auto& row : rows) {
    std::printf("%8zu | %9.3f %9.3f | %12.1f %12.1f\n", row.members, row.remove_ds, row.add_ds, row.encrypt_us,
                row.decrypt_us);
  }
  std::printf("(ds: the relay's public view processing the same commit, copy of the view included)\n");
  const Row& small = rows.front();
  const Row& large = rows.back();
  const double n_ratio = static_cast<double>(large.members) / static_cast<double>(small.members);
  const double log_ratio =
      std::log2(static_cast<double>(large.members)) / std::log2(static_cast<double>(small.members));
  std::printf("\ngrowth from %zu to %zu members: n x%.1f, log2(n) x%.2f\n", small.members, large.members, n_ratio,
              log_ratio);
  std::printf("  relay view: remove x%.2f, add x%.2f\n", large.remove_ds / small.remove_ds,
              large.add_ds / small.add_ds);
  std::printf("  remove process x%.2f, add process x%.2f, update process x%.2f\n",
              large.remove_process / small.remove_process, large.add_process / small.add_process,
              large.update_process / small.update_process);
  std::printf("  remove create  x%.2f, add create  x%.2f, update create  x%.2f, join x%.2f\n",
              large.remove_create / small.remove_create, large.add_create / small.add_create,
              large.update_create / small.update_create, large.add_join / small.add_join);

  // Memory of one member's state at the largest size.
  const std::size_t before_clone = heap_in_use();
  std::optional<mls::GroupState> copy = state_r->clone();
  const std::size_t after_clone = heap_in_use();
  std::printf("\nstate of one member at %zu members: memory_estimate() %zu B, heap delta of clone() %zu B\n",
              large.members, state_r->memory_estimate(), after_clone - before_clone);
  {
    const Person p = person(200000);
    const auto kp = key_package(p, rng);
    auto add = take(state_f.add({kp.key_package}, rng, kEnv), "add for memory");
    const auto& welcome = std::get<mls::Welcome>(add.welcome->body);
    const std::size_t before_join = heap_in_use();
    auto joined = take(mls::GroupState::join(welcome, kp, copy_key(p.key), std::nullopt, mls::RolePolicy::Hearth,
                                             kEnv),
                       "join for memory");
    const std::size_t after_join = heap_in_use();
    std::printf("state of a joiner at %zu members: memory_estimate() %zu B, heap delta of join() %zu B\n",
                joined.members().size(), joined.memory_estimate(), after_join - before_join);
  }
  copy.reset();
  // What the observer's state really holds (its tree, the retained past
  // epochs' views and secrets): the heap it gives back when destroyed.
  const std::size_t before_drop = heap_in_use();
  state_r.reset();
  const std::size_t after_drop = heap_in_use();
  std::printf("heap freed by destroying the observer's state (%zu members, %zu past epochs retained at most): %zu B\n",
              large.members, mls::kMaxPastEpochs, before_drop - after_drop);
  return 0;
}
