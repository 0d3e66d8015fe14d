// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/mls/room_fixture.h"

#include <catch2/catch.hpp>

namespace hearth::mls::testing {

namespace {
Bytes to_vec(BytesView v) { return Bytes(v.begin(), v.end()); }
}  // namespace

TestRoom::TestRoom(std::uint64_t seed, std::string_view group_id, Relay with) : rng(seed) {
  crypto::init();
  people.push_back(make_identity("alice", rng));
  auto created = create_room(people[0], as_bytes(group_id), rng);
  REQUIRE(outcome(created) == "ok");
  states.emplace_back(std::move(*created));
  if (with == Relay::View) {
    auto started = DeliveryService::start(at(0));
    REQUIRE(outcome(started) == "ok");
    relay.emplace(std::move(*started));
  }
}

std::size_t TestRoom::add_person(const std::string& name) {
  people.push_back(make_identity(name, rng));
  states.emplace_back();
  return people.size() - 1;
}

std::vector<std::size_t> TestRoom::members() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i] && !states[i]->is_removed()) out.push_back(i);
  }
  return out;
}

void TestRoom::deliver(const MlsMessage& m, std::size_t origin, const GroupEnv& env) {
  if (relay) REQUIRE(outcome(relay->submit(m, static_cast<int>(origin))) == "ok");
  const MlsMessage w = over_the_wire(m);
  for (const std::size_t i : members()) {
    if (i == origin) continue;
    auto t = at(i).handle(w, env);
    INFO(to_string_bytes(people[i].name));
    REQUIRE(outcome(t) == "ok");  // a removed member gets its final state
    states[i] = std::move(t->next);
  }
}

void TestRoom::adopt(std::size_t committer, PendingCommit pending,
                     const std::vector<std::pair<std::size_t, KeyPackageBundle>>& joiners) {
  deliver(pending.commit, committer);
  states[committer] = std::move(pending.next);
  if (joiners.empty()) return;
  REQUIRE(pending.welcome.has_value());
  const MlsMessage w = over_the_wire(*pending.welcome);
  for (const auto& [who, bundle] : joiners) {
    auto joined = join_room(w, bundle, people[who]);
    INFO(to_string_bytes(people[who].name));
    REQUIRE(outcome(joined) == "ok");
    states[who] = std::move(*joined);
  }
}

std::vector<std::size_t> TestRoom::add(const std::vector<std::string>& names, bool join) {
  std::vector<std::size_t> added;
  std::vector<std::pair<std::size_t, KeyPackageBundle>> bundles;
  std::vector<KeyPackage> kps;
  for (const auto& name : names) {
    const std::size_t who = add_person(name);
    added.push_back(who);
    bundles.emplace_back(who, make_key_package(people[who], rng));
    kps.push_back(bundles.back().second.key_package);
  }
  auto pending = at(0).add(kps, rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  CHECK(pending->welcome_key_package_refs.size() == names.size());
  if (join) {
    adopt(0, std::move(*pending), bundles);
  } else {
    states[0] = std::move(pending->next);
  }
  return added;
}

void TestRoom::remove(std::size_t who) {
  auto pending = at(0).remove({at(who).own_leaf()}, rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  adopt(0, std::move(*pending));
}

void TestRoom::commit_update(std::size_t who) {
  auto pending = at(who).update(rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  adopt(who, std::move(*pending));
}

void TestRoom::propose_update(std::size_t who) {
  auto proposed = at(who).propose_update(rng);
  REQUIRE(outcome(proposed) == "ok");
  states[who] = std::move(proposed->next);
  REQUIRE(proposed->message.has_value());
  deliver(*proposed->message, who);
}

MlsMessage TestRoom::say(std::size_t who, const std::string& text) {
  auto m = at(who).protect(as_bytes(text), as_bytes("ad"), rng);
  REQUIRE(outcome(m) == "ok");
  return over_the_wire(*m);
}

void TestRoom::check_agree() {
  const auto m = members();
  REQUIRE(!m.empty());
  GroupState& first = at(m[0]);
  const auto exported = first.export_secret(as_bytes("label"), as_bytes("ctx"), 32);
  REQUIRE(exported.has_value());
  for (const std::size_t i : m) {
    INFO(to_string_bytes(people[i].name));
    CHECK(at(i).epoch() == first.epoch());
    CHECK(at(i).context() == first.context());
    CHECK(to_vec(at(i).epoch_authenticator()) == to_vec(first.epoch_authenticator()));
    const auto mine = at(i).export_secret(as_bytes("label"), as_bytes("ctx"), 32);
    REQUIRE(mine.has_value());
    CHECK(to_vec(mine->view()) == to_vec(exported->view()));
    CHECK(at(i).members().size() == m.size());
    CHECK(at(i).tree() == first.tree());
  }
}

void TestRoom::check_everyone_reads_everyone() {
  const auto m = members();
  for (const std::size_t from : m) {
    const std::string text = to_string_bytes(people[from].name) + " in epoch " + std::to_string(at(from).epoch());
    const MlsMessage w = say(from, text);
    for (const std::size_t to : m) {
      if (to == from) continue;
      INFO(to_string_bytes(people[from].name) << " -> " << to_string_bytes(people[to].name));
      auto got = at(to).unprotect(w);
      REQUIRE(outcome(got) == "ok");
      CHECK(got->data == to_bytes(text));
      CHECK(got->authenticated_data == to_bytes("ad"));
      CHECK(got->sender == at(from).own_leaf());
      CHECK(got->credential.identity == people[from].name);
    }
  }
}

}  // namespace hearth::mls::testing
