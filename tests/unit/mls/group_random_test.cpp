// SPDX-License-Identifier: Apache-2.0
// A Hearth room driven by a seeded random sequence of adds, removes, leaves,
// self-updates, Update proposals committed by someone else, role changes,
// refused (policy-violating) attempts, commit races and delayed messages.
// After every step:
//   - every member protects a message and every other member opens it;
//   - removed members open nothing new and handle no new commit;
//   - all members agree on the GroupContext (epoch, tree hash, transcript),
//     the epoch authenticator, the roster and the roles;
//   - the relay's PublicGroup (started from a GroupInfo and fed the same
//     handshake messages) agrees with them.
// The seed is fixed; HEARTH_GROUP_SEED overrides it to explore others.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>

#include "tests/unit/mls/group_fixture.h"

using namespace hearth;
using namespace hearth::mls;
using namespace hearth::mls::testing;

namespace {

constexpr std::uint64_t kDefaultSeed = 0x4845415254480005;  // "HEARTH"; one whose 200 steps run every kind
constexpr int kSteps = 200;
constexpr std::size_t kInitialMembers = 10;
constexpr std::size_t kMinMembers = 5;
constexpr std::size_t kMaxMembers = 15;
/// Removed members watched for leaks (each one costs an unprotect per message).
constexpr std::size_t kWatchedRemoved = 4;

std::uint64_t seed_from_env() {
  const char* s = std::getenv("HEARTH_GROUP_SEED");
  if (s == nullptr || *s == '\0') return kDefaultSeed;
  return std::strtoull(s, nullptr, 0);
}

template <class E>
std::size_t count_events(const std::vector<GroupEvent>& events) {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [](const GroupEvent& e) { return std::holds_alternative<E>(e); }));
}

struct Client {
  int id = 0;
  Identity identity;
  std::optional<GroupState> state;
  std::size_t cursor = 0;  // next DeliveryService log entry to handle
  std::uint64_t joined_epoch = 0;
};

struct RemovedClient {
  int id = 0;
  GroupState state;
  std::size_t cursor = 0;
};

struct Invited {
  int id = 0;
  Identity identity;
  KeyPackageBundle bundle;
};

/// A message protected in one epoch and opened a few commits later.
struct Delayed {
  MlsMessage message;
  int sender = 0;
  LeafIndex sender_leaf;
  std::uint64_t epoch = 0;
  Bytes data;
  std::vector<int> readers;  // members of that epoch other than the sender
  bool expire = false;       // held until its epoch is no longer retained
};

class Room {
 public:
  explicit Room(std::uint64_t seed) : rng_(seed) {}

  void start() {
    Client creator = new_client();
    auto state = create_room(creator.identity, to_bytes("random room"), rng_);
    INFO("create: " << outcome(state));
    REQUIRE(state.has_value());
    creator.state = std::move(*state);
    auto ds = DeliveryService::start(*creator.state);
    INFO("relay view from GroupInfo: " << outcome(ds));
    REQUIRE(ds.has_value());
    ds_ = std::move(*ds);
    clients_.push_back(std::move(creator));

    std::vector<KeyPackage> kps;
    for (std::size_t i = 1; i < kInitialMembers; ++i) kps.push_back(invite().bundle.key_package);
    auto pc = clients_[0].state->add(kps, rng_, env());
    deliver_commit(clients_[0], std::move(pc), false);
    check_all();
  }

  /// One random action (then check_all()).
  void step() {
    const std::size_t n = clients_.size();
    std::vector<std::pair<int, void (Room::*)()>> choices;
    if (n < kMaxMembers) choices.push_back({4, &Room::add_step});
    if (n > kMinMembers) choices.push_back({3, &Room::remove_step});
    if (n > kMinMembers) choices.push_back({2, &Room::leave_step});
    choices.push_back({3, &Room::self_update_step});
    choices.push_back({2, &Room::update_proposals_step});
    choices.push_back({1, &Room::roles_step});
    choices.push_back({1, &Room::forbidden_step});
    choices.push_back({1, &Room::race_step});
    choices.push_back({2, &Room::delayed_message_step});
    choices.push_back({2, &Room::psk_step});
    if (n > kMinMembers && n < kMaxMembers) choices.push_back({2, &Room::mixed_step});
    int total = 0;
    for (const auto& c : choices) total += c.first;
    int pick = static_cast<int>(rng_.below(static_cast<std::size_t>(total)));
    for (const auto& c : choices) {
      if (pick < c.first) {
        (this->*c.second)();
        ++counts_[action_.substr(0, action_.find(' '))];
        break;
      }
      pick -= c.first;
    }
    deliver_delayed();
    check_all();
  }

  [[nodiscard]] const std::string& last_action() const noexcept { return action_; }
  /// How often each kind of step ran (by the first word of its description).
  [[nodiscard]] const std::map<std::string, int>& counts() const noexcept { return counts_; }
  [[nodiscard]] int removed_reads_refused() const noexcept { return removed_refusals_; }
  [[nodiscard]] std::size_t size() const noexcept { return clients_.size(); }
  [[nodiscard]] std::uint64_t epoch() const { return clients_.front().state->epoch(); }

  /// Every member protects one message, every other member opens it, and
  /// the watched removed members cannot; then the agreement checks.
  void check_all() {
    INFO("after " << action_);
    for (auto& sender : clients_) {
      Bytes data = to_bytes("msg " + std::to_string(messages_++) + " from " + to_string_bytes(sender.identity.name));
      // Now and then an empty or a long message (several padding blocks).
      if (rng_.chance(5)) data.clear();
      if (rng_.chance(5)) data.resize(data.size() + 1 + rng_.below(3000), 0x5a);
      auto m = sender.state->protect(data, to_bytes("ad"), rng_);
      INFO("protect by " << to_string_bytes(sender.identity.name) << ": " << outcome(m));
      REQUIRE(m.has_value());
      const MlsMessage wire = over_the_wire(*m);
      for (auto& reader : clients_) {
        if (reader.id == sender.id) continue;
        // Mostly unprotect() in place; now and then handle(), which returns
        // the message as an event with the next state.
        MlsResult<ApplicationMessage> got = fail(Error::Truncated);
        if (rng_.chance(15)) {
          auto t = reader.state->handle(wire, env());
          INFO("handle by " << to_string_bytes(reader.identity.name) << ": " << outcome(t));
          REQUIRE(t.has_value());
          REQUIRE(t->events.size() == 1);
          const auto* app = std::get_if<ApplicationMessage>(&t->events.front());
          REQUIRE(app != nullptr);
          got = *app;
          reader.state = std::move(t->next);
          // Its key is spent in the adopted state.
          CHECK_FALSE(reader.state->unprotect(wire).has_value());
        } else {
          got = reader.state->unprotect(wire);
        }
        INFO("unprotect by " << to_string_bytes(reader.identity.name) << ": " << outcome(got));
        REQUIRE(got.has_value());
        CHECK(got->data == data);
        CHECK(got->authenticated_data == to_bytes("ad"));
        CHECK(got->sender == sender.state->own_leaf());
        CHECK(got->credential == sender.identity.credential);
        CHECK(got->epoch == sender.state->epoch());
      }
      for (auto& gone : removed_) {
        auto got = gone.state.unprotect(wire);
        INFO("removed client " << gone.id << " opened a message of a later epoch");
        CHECK_FALSE(got.has_value());
        ++removed_refusals_;
      }
    }

    const GroupState& ref = *clients_.front().state;
    const auto ref_members = ref.members();
    REQUIRE(ref_members.size() == clients_.size());
    CHECK(ref_members.size() >= kMinMembers - 1);  // a leave may go one below before the next add
    CHECK(ref_members.size() <= kMaxMembers + 2);
    const Digest ref_tree_hash = ref.tree().tree_hash();
    CHECK(Bytes(ref_tree_hash.begin(), ref_tree_hash.end()) == ref.context().tree_hash);
    auto ref_export = ref.export_secret(to_bytes("hearth test"), to_bytes("ctx"), 32);
    REQUIRE(ref_export.has_value());
    for (const auto& c : clients_) {
      const GroupState& s = *c.state;
      INFO("member " << to_string_bytes(c.identity.name));
      CHECK_FALSE(s.is_removed());
      CHECK(s.context() == ref.context());
      CHECK(s.epoch() == ref.epoch());
      CHECK(Bytes(s.epoch_authenticator().begin(), s.epoch_authenticator().end()) ==
            Bytes(ref.epoch_authenticator().begin(), ref.epoch_authenticator().end()));
      CHECK(s.tree().tree_hash() == ref_tree_hash);
      CHECK(s.members() == ref_members);
      CHECK(s.roles() == ref.roles());
      CHECK(s.public_group().interim_transcript_hash().size() > 0);
      CHECK(Bytes(s.public_group().interim_transcript_hash().begin(), s.public_group().interim_transcript_hash().end()) ==
            Bytes(ref.public_group().interim_transcript_hash().begin(),
                  ref.public_group().interim_transcript_hash().end()));
      auto exported = s.export_secret(to_bytes("hearth test"), to_bytes("ctx"), 32);
      REQUIRE(exported.has_value());
      CHECK(crypto::equal_ct(exported->view(), ref_export->view()));
      // Its own leaf holds its own credential and key.
      const auto own = std::find_if(ref_members.begin(), ref_members.end(),
                                    [&](const Member& m) { return m.leaf == s.own_leaf(); });
      REQUIRE(own != ref_members.end());
      CHECK(own->credential == c.identity.credential);
      CHECK(own->signature_key == c.identity.public_key());
    }

    // The relay's view: same epoch, tree hash, roster, roles and transcript.
    const PublicGroup& view = ds_->view();
    CHECK(view.epoch() == ref.epoch());
    CHECK(view.context() == ref.context());
    CHECK(view.tree().tree_hash() == ref_tree_hash);
    CHECK(view.members() == ref_members);
    CHECK(view.roles() == ref.roles());
    CHECK(Bytes(view.interim_transcript_hash().begin(), view.interim_transcript_hash().end()) ==
          Bytes(ref.public_group().interim_transcript_hash().begin(),
                ref.public_group().interim_transcript_hash().end()));

    // Now and then a fresh relay view from a random member's GroupInfo
    // equals the one that followed every message.
    if (rng_.chance(10)) {
      const auto& c = clients_[rng_.below(clients_.size())];
      auto fresh = DeliveryService::start(*c.state);
      INFO("relay view from " << to_string_bytes(c.identity.name) << "'s GroupInfo: " << outcome(fresh));
      REQUIRE(fresh.has_value());
      CHECK(fresh->view().context() == view.context());
      CHECK(fresh->view().tree() == view.tree());
      CHECK(fresh->view().roles() == view.roles());
      CHECK(fresh->view().interim_transcript_hash().size() == view.interim_transcript_hash().size());
      CHECK(Bytes(fresh->view().interim_transcript_hash().begin(), fresh->view().interim_transcript_hash().end()) ==
            Bytes(view.interim_transcript_hash().begin(), view.interim_transcript_hash().end()));
    }
  }

 private:
  // ---- actions ----

  void add_step() {
    const std::size_t room = kMaxMembers - clients_.size();
    const std::size_t k = 1 + rng_.below(std::min<std::size_t>(room, 2));
    const bool by_proposal = rng_.chance(30);
    const bool tree_in_welcome = !rng_.chance(20);
    Client& f = *pick_facilitator();
    std::vector<KeyPackage> kps;
    for (std::size_t i = 0; i < k; ++i) kps.push_back(invite().bundle.key_package);
    action_ = "add " + std::to_string(k) + " by " + name(f) + (by_proposal ? " (proposed)" : "") +
              (tree_in_welcome ? "" : " (tree out of band)");
    INFO(action_);
    if (by_proposal) ++counts_["add-proposed"];
    if (!tree_in_welcome) ++counts_["add-tree-out-of-band"];
    if (by_proposal) {
      for (const auto& kp : kps) {
        propose(f, f.state->propose_add(kp, env()));
      }
      Client& c = clients_[rng_.below(clients_.size())];
      action_ += ", committed by " + name(c);
      CommitOptions options;
      options.ratchet_tree_in_welcome = tree_in_welcome;
      deliver_commit(c, c.state->commit(options, rng_, env()), !tree_in_welcome);
      return;
    }
    CommitOptions options;
    for (const auto& kp : kps) options.proposals.push_back(Proposal{Add{kp}});
    options.ratchet_tree_in_welcome = tree_in_welcome;
    deliver_commit(f, f.state->commit(options, rng_, env()), !tree_in_welcome);
  }

  void remove_step() {
    Client& f = *pick_facilitator();
    Client& victim = pick_other(f);
    action_ = "remove " + name(victim) + " by " + name(f);
    INFO(action_);
    const LeafIndex leaf = victim.state->own_leaf();
    deliver_commit(f, f.state->remove({leaf}, rng_, env()), false);
  }

  void leave_step() {
    // Any member may leave, except the last facilitator (the policy keeps one).
    std::vector<std::size_t> may_leave;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (!is_facilitator_client(clients_[i]) || facilitator_count() > 1) may_leave.push_back(i);
    }
    Client& leaver = clients_[may_leave[rng_.below(may_leave.size())]];
    action_ = "leave of " + name(leaver);
    INFO(action_);
    propose(leaver, leaver.state->propose_remove(leaver.state->own_leaf()));
    Client& c = pick_other(leaver);
    action_ += ", committed by " + name(c);
    deliver_commit(c, c.state->commit(CommitOptions{}, rng_, env()), false);
  }

  void self_update_step() {
    Client& c = clients_[rng_.below(clients_.size())];
    action_ = "self-update of " + name(c);
    INFO(action_);
    deliver_commit(c, c.state->update(rng_, env()), false);
  }

  void update_proposals_step() {
    Client& committer = clients_[rng_.below(clients_.size())];
    const std::size_t k = 1 + rng_.below(2);
    action_ = "update proposals by";
    std::vector<int> proposers;
    for (std::size_t i = 0; i < k; ++i) {
      Client& p = pick_other(committer);
      if (std::find(proposers.begin(), proposers.end(), p.id) != proposers.end()) continue;
      proposers.push_back(p.id);
      action_ += " " + name(p);
      INFO(action_);
      propose(p, p.state->propose_update(rng_));
    }
    action_ += ", committed by " + name(committer);
    INFO(action_);
    // Each proposer's leaf as proposed: the commit must apply it, not drop it.
    std::vector<std::pair<int, LeafNode>> proposed;
    for (const int id : proposers) {
      const Client* p = find(id);
      REQUIRE(p != nullptr);
      for (const auto& info : p->state->public_group().proposals().all()) {
        const auto* update = std::get_if<Update>(&info.proposal.body);
        if (update != nullptr && info.sender == p->state->own_leaf()) proposed.emplace_back(id, update->leaf_node);
      }
    }
    deliver_commit(committer, committer.state->commit(CommitOptions{}, rng_, env()), false);
    REQUIRE(proposed.size() == proposers.size());
    for (const auto& [id, leaf] : proposed) {
      const Client* p = find(id);
      REQUIRE(p != nullptr);
      INFO("proposer " << name(*p));
      const LeafNode* now = p->state->tree().leaf(p->state->own_leaf());
      REQUIRE(now != nullptr);
      CHECK(now->encryption_key == leaf.encryption_key);
    }
  }

  void roles_step() {
    Client& f = *pick_facilitator();
    // Demote another facilitator half of the time there is one, else promote.
    std::vector<Client*> others_facilitating;
    std::vector<Client*> others_plain;
    for (auto& c : clients_) {
      if (c.id == f.id) continue;
      (is_facilitator_client(c) ? others_facilitating : others_plain).push_back(&c);
    }
    const bool demote = !others_facilitating.empty() && (others_plain.empty() || rng_.chance(50));
    const auto& pool = demote ? others_facilitating : others_plain;
    Client& target = *pool[rng_.below(pool.size())];
    Roles roles = f.state->roles();
    auto& list = roles.facilitators;
    const auto it = std::find(list.begin(), list.end(), target.identity.name);
    const bool promote = it == list.end();
    CHECK(promote == !demote);
    if (promote) {
      list.push_back(target.identity.name);
    } else {
      list.erase(it);  // f stays a facilitator, so one remains
    }
    action_ = std::string(promote ? "promote " : "demote ") + name(target) + " by " + name(f);
    INFO(action_);
    std::vector<Extension> extensions;
    for (const auto& e : f.state->context().extensions) {
      if (e.extension_type != kRolesExtensionType) extensions.push_back(e);
    }
    extensions.push_back(roles_extension(std::move(roles)));
    CommitOptions options;
    options.proposals.push_back(Proposal{GroupContextExtensions{std::move(extensions)}});
    deliver_commit(f, f.state->commit(options, rng_, env()), false);
    const bool now = is_facilitator_client(target);
    CHECK(now == promote);
  }

  /// A non-facilitator's Add, Remove of someone else and self-promotion are
  /// refused before anything is sent, and the state does not move.
  void forbidden_step() {
    std::vector<std::size_t> plain;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (!is_facilitator_client(clients_[i])) plain.push_back(i);
    }
    if (plain.empty()) {
      action_ = "forbidden attempts skipped (everyone facilitates)";
      return;
    }
    Client& c = clients_[plain[rng_.below(plain.size())]];
    Client& other = pick_other(c);
    action_ = "forbidden attempts by " + name(c);
    INFO(action_);
    const std::uint64_t epoch_before = c.state->epoch();
    Identity stranger = make_identity("stranger", rng_);
    const auto kp = make_key_package(stranger, rng_);
    auto add = c.state->add({kp.key_package}, rng_, env());
    CHECK(outcome(add) == to_string(Error::PolicyViolation));
    auto remove = c.state->remove({other.state->own_leaf()}, rng_, env());
    CHECK(outcome(remove) == to_string(Error::PolicyViolation));
    Roles roles = c.state->roles();
    roles.facilitators.push_back(c.identity.name);
    CommitOptions options;
    options.proposals.push_back(Proposal{GroupContextExtensions{{roles_extension(std::move(roles))}}});
    auto promote = c.state->commit(options, rng_, env());
    CHECK(outcome(promote) == to_string(Error::PolicyViolation));
    auto proposed_add = c.state->propose_add(kp.key_package, env());
    CHECK(outcome(proposed_add) == to_string(Error::PolicyViolation));
    auto proposed_remove = c.state->propose_remove(other.state->own_leaf());
    CHECK(outcome(proposed_remove) == to_string(Error::PolicyViolation));
    CHECK(c.state->epoch() == epoch_before);
  }

  /// Two members commit in the same epoch: the relay takes the first; the
  /// second learns it lost (WrongEpoch) and follows the winner.
  void race_step() {
    Client& a = clients_[rng_.below(clients_.size())];
    Client& b = pick_other(a);
    action_ = "race of " + name(a) + " and " + name(b);
    INFO(action_);
    auto pb = b.state->update(rng_, env());
    INFO("loser's commit: " << outcome(pb));
    REQUIRE(pb.has_value());
    deliver_commit(a, a.state->update(rng_, env()), false);
    auto lost = ds_->submit(pb->commit, b.id);
    CHECK(outcome(lost) == to_string(Error::WrongEpoch));
    // The winner's state refuses the stale commit too.
    auto stale = a.state->handle(pb->commit, env());
    CHECK_FALSE(stale.has_value());
  }

  /// A commit injecting a PSK: an external one every member knows, or the
  /// group's own resumption PSK of an epoch every member saw; with an Add
  /// (external PSKs only: the joiner knows them too) now and then.
  void psk_step() {
    const bool resumption = rng_.chance(40);
    const bool with_add = !resumption && clients_.size() < kMaxMembers && rng_.chance(60);
    Client& c = with_add ? *pick_facilitator() : clients_[rng_.below(clients_.size())];
    PreSharedKeyId id;
    id.psk_nonce = Bytes(kHashSize);
    rng_.fill(id.psk_nonce);
    std::uint64_t oldest = 0;
    for (const auto& m : clients_) oldest = std::max(oldest, m.joined_epoch);
    const std::uint64_t now = c.state->epoch();
    oldest = std::max(oldest, now > kMaxPastEpochs ? now - kMaxPastEpochs : 0);
    CommitOptions options;
    if (resumption) {
      id.psk_type = PskType::Resumption;
      id.usage = ResumptionPskUsage::Application;
      id.psk_group_id = Bytes(c.state->group_id().begin(), c.state->group_id().end());
      id.psk_epoch = oldest + rng_.below(static_cast<std::size_t>(now - oldest + 1));
      action_ = "psk (resumption of epoch " + std::to_string(id.psk_epoch) + ") by " + name(c);
    } else {
      id.psk_type = PskType::External;
      id.psk_id = to_bytes("psk " + std::to_string(psk_count_++));
      Bytes secret(kHashSize);
      rng_.fill(secret);
      psks_.add(id.psk_id, std::move(secret));
      action_ = "psk (external) by " + name(c);
    }
    options.proposals.push_back(Proposal{PreSharedKey{id}});
    if (with_add) {
      options.proposals.push_back(Proposal{Add{invite().bundle.key_package}});
      action_ += " with an Add";
    }
    INFO(action_);
    deliver_commit(c, c.state->commit(options, rng_, env()), false);
    if (with_add) ++counts_["psk-with-add"];
  }

  /// One commit of several members' proposals: a facilitator's Add, a
  /// member's leave, another's Update, committed by a fourth member.
  void mixed_step() {
    Client& f = *pick_facilitator();
    const int f_id = f.id;
    Client& leaver = pick_other(f);
    const int leaver_id = leaver.id;
    Client* updater = nullptr;
    while (updater == nullptr || updater->id == leaver_id) updater = &clients_[rng_.below(clients_.size())];
    const int updater_id = updater->id;
    Client* committer = nullptr;
    while (committer == nullptr || committer->id == leaver_id || committer->id == updater_id) {
      committer = &clients_[rng_.below(clients_.size())];
    }
    const int committer_id = committer->id;
    action_ = "mixed (add by " + name(f) + ", leave of " + name(leaver) + ", update of " + name(*updater) +
              ", committed by " + name(*committer) + ")";
    INFO(action_);
    const Digest joiner = invite().bundle.ref;
    propose(*find(f_id), find(f_id)->state->propose_add(invited_.back().bundle.key_package, env()));
    propose(*find(leaver_id), find(leaver_id)->state->propose_remove(find(leaver_id)->state->own_leaf()));
    propose(*find(updater_id), find(updater_id)->state->propose_update(rng_));
    Bytes proposed_key;
    for (const auto& info : find(updater_id)->state->public_group().proposals().all()) {
      const auto* update = std::get_if<Update>(&info.proposal.body);
      if (update != nullptr && info.sender == find(updater_id)->state->own_leaf()) {
        proposed_key = update->leaf_node.encryption_key;
      }
    }
    Client& c = *find(committer_id);
    deliver_commit(c, c.state->commit(CommitOptions{}, rng_, env()), false);
    CHECK(find(leaver_id) == nullptr);
    const Client* u = find(updater_id);
    REQUIRE(u != nullptr);
    CHECK(u->state->tree().leaf(u->state->own_leaf())->encryption_key == proposed_key);
    const bool joined = std::none_of(invited_.begin(), invited_.end(),
                                     [&](const Invited& i) { return i.bundle.ref == joiner; });
    CHECK(joined);
  }

  void delayed_message_step() {
    Client& s = clients_[rng_.below(clients_.size())];
    action_ = "delayed message from " + name(s);
    Delayed d;
    d.sender = s.id;
    d.sender_leaf = s.state->own_leaf();
    d.epoch = s.state->epoch();
    d.data = to_bytes("delayed " + std::to_string(messages_++));
    d.expire = rng_.chance(25);
    auto m = s.state->protect(d.data, {}, rng_);
    REQUIRE(m.has_value());
    d.message = over_the_wire(*m);
    for (const auto& c : clients_) {
      if (c.id != s.id) d.readers.push_back(c.id);
    }
    delayed_.push_back(std::move(d));
  }

  /// Delayed messages open while their epoch is retained (kMaxPastEpochs),
  /// and no longer once it is not.
  void deliver_delayed() {
    const std::uint64_t now = epoch();
    for (auto it = delayed_.begin(); it != delayed_.end();) {
      const std::uint64_t age = now - it->epoch;
      const bool expired = age > kMaxPastEpochs;
      const bool due = it->expire ? expired : (age == kMaxPastEpochs || (age >= 1 && rng_.chance(40)));
      if (!due) {
        ++it;
        continue;
      }
      INFO("delayed message of epoch " << it->epoch << " at epoch " << now);
      for (auto& c : clients_) {
        if (std::find(it->readers.begin(), it->readers.end(), c.id) == it->readers.end()) continue;
        auto got = c.state->unprotect(it->message);
        INFO("reader " << name(c) << ": " << outcome(got));
        ++counts_[expired ? "delayed-expired" : "delayed-opened"];
        if (expired) {
          CHECK(outcome(got) == to_string(Error::WrongEpoch));
        } else {
          REQUIRE(got.has_value());
          CHECK(got->data == it->data);
          CHECK(got->epoch == it->epoch);
          CHECK(got->sender == it->sender_leaf);
          // The same message twice: its key is gone.
          auto again = c.state->unprotect(it->message);
          CHECK_FALSE(again.has_value());
        }
      }
      it = delayed_.erase(it);
    }
  }

  // ---- plumbing ----

  Client new_client() {
    Client c;
    c.id = next_id_++;
    c.identity = make_identity("member-" + std::to_string(c.id), rng_);
    return c;
  }

  Invited& invite() {
    Client c = new_client();
    auto bundle = make_key_package(c.identity, rng_);
    invited_.push_back(Invited{c.id, std::move(c.identity), std::move(bundle)});
    return invited_.back();
  }

  static std::string name(const Client& c) { return to_string_bytes(c.identity.name); }

  bool is_facilitator_client(const Client& c) const {
    return is_facilitator(c.state->tree(), c.state->roles(), c.state->own_leaf());
  }
  std::size_t facilitator_count() const {
    return static_cast<std::size_t>(
        std::count_if(clients_.begin(), clients_.end(), [&](const Client& c) { return is_facilitator_client(c); }));
  }
  Client* pick_facilitator() {
    std::vector<Client*> fs;
    for (auto& c : clients_) {
      if (is_facilitator_client(c)) fs.push_back(&c);
    }
    REQUIRE_FALSE(fs.empty());
    return fs[rng_.below(fs.size())];
  }
  Client& pick_other(const Client& not_this) {
    for (;;) {
      Client& c = clients_[rng_.below(clients_.size())];
      if (c.id != not_this.id) return c;
    }
  }
  Client* find(int id) {
    for (auto& c : clients_) {
      if (c.id == id) return &c;
    }
    return nullptr;
  }

  /// Sends a proposal: the relay caches it, the proposer adopts its state,
  /// the others handle it.
  void propose(Client& p, MlsResult<Transition> t) {
    INFO("proposal by " << name(p) << ": " << outcome(t));
    REQUIRE(t.has_value());
    REQUIRE(t->message.has_value());
    auto update = ds_->submit(*t->message, p.id);
    INFO("relay: " << outcome(update));
    REQUIRE(update.has_value());
    CHECK(update->content_type == ContentType::Proposal);
    CHECK(update->sender == p.state->own_leaf());
    p.state = std::move(t->next);
    p.cursor = ds_->log().size();
    sync();
    // Members and the relay hold the same proposals.
    for (const auto& c : clients_) {
      INFO("proposal cache of " << name(c));
      CHECK(c.state->public_group().proposals() == ds_->view().proposals());
    }
  }

  /// Sends a commit: the relay checks and orders it, the committer adopts
  /// its pending state, the others handle it, the joiners join.
  void deliver_commit(Client& committer, MlsResult<PendingCommit> pc, bool tree_out_of_band) {
    INFO("commit by " << name(committer) << ": " << outcome(pc));
    REQUIRE(pc.has_value());
    const std::uint64_t before = committer.state->epoch();
    auto update = ds_->submit(pc->commit, committer.id);
    INFO("relay: " << outcome(update));
    REQUIRE(update.has_value());
    CHECK(update->content_type == ContentType::Commit);
    CHECK(update->epoch == before + 1);
    CHECK(update->sender == committer.state->own_leaf());
    CHECK(pc->next.epoch() == before + 1);
    CHECK(count_events<EpochChanged>(pc->events) == 1);

    // The relay and the committer agree on whom the Welcome is for.
    std::vector<Digest> relay_refs;
    for (const auto& a : update->added) relay_refs.push_back(a.key_package_ref);
    CHECK(relay_refs == pc->welcome_key_package_refs);
    CHECK(pc->welcome.has_value() == !update->added.empty());
    if (pc->welcome) ds_->submit_welcome(*pc->welcome, pc->welcome_key_package_refs);

    committer.state = std::move(pc->next);
    committer.cursor = ds_->log().size();
    sync();

    // Joiners.
    for (const auto& added : update->added) {
      auto inv = std::find_if(invited_.begin(), invited_.end(),
                              [&](const Invited& i) { return i.bundle.ref == added.key_package_ref; });
      REQUIRE(inv != invited_.end());
      auto welcome = ds_->take_welcome(added.key_package_ref);
      REQUIRE(welcome.has_value());
      std::optional<RatchetTree> tree;
      if (tree_out_of_band) tree = ds_->view().tree().to_wire();
      auto joined = join_room(*welcome, inv->bundle, inv->identity, tree, RolePolicy::Hearth, &psks_);
      INFO("join of " << to_string_bytes(inv->identity.name) << ": " << outcome(joined));
      REQUIRE(joined.has_value());
      CHECK(joined->own_leaf() == added.leaf);
      CHECK(joined->epoch() == ds_->view().epoch());
      Client c;
      c.id = inv->id;
      c.identity = std::move(inv->identity);
      c.state = std::move(*joined);
      c.cursor = ds_->log().size();
      c.joined_epoch = c.state->epoch();
      invited_.erase(inv);
      clients_.push_back(std::move(c));
    }
  }

  /// Every member handles the log entries it has not seen (not its own);
  /// members the commit removed move to removed_; removed members must fail
  /// on every new commit.
  void sync() {
    const auto& log = ds_->log();
    for (auto it = clients_.begin(); it != clients_.end();) {
      bool removed = false;
      for (; it->cursor < log.size(); ++it->cursor) {
        const Delivered& d = log[it->cursor];
        if (d.origin == it->id) continue;
        auto t = it->state->handle(d.message, env());
        INFO(name(*it) << " handles log entry " << it->cursor << ": " << outcome(t));
        REQUIRE(t.has_value());
        const bool self_removed = count_events<SelfRemoved>(t->events) > 0;
        if (d.update.content_type == ContentType::Commit && !self_removed) {
          CHECK(t->next.epoch() == d.update.epoch);
          CHECK(count_events<MemberAdded>(t->events) == d.update.added.size());
        }
        if (self_removed) {
          CHECK(t->next.is_removed());
          auto after = t->next.protect(to_bytes("after removal"), {}, rng_);
          CHECK(outcome(after) == to_string(Error::Removed));
          removed_.push_back(RemovedClient{it->id, std::move(t->next), it->cursor + 1});
          removed = true;
          break;
        }
        it->state = std::move(t->next);
      }
      if (removed) {
        const bool expected = std::any_of(log.back().update.removed.begin(), log.back().update.removed.end(),
                                          [&](const auto& r) { return r.second == it->identity.credential; });
        CHECK(expected);
        it = clients_.erase(it);
      } else {
        ++it;
      }
    }
    // Every member the relay says was removed has left clients_.
    if (!log.empty()) {
      for (const auto& r : log.back().update.removed) {
        const bool still = std::any_of(clients_.begin(), clients_.end(),
                                       [&](const Client& c) { return c.identity.credential == r.second; });
        CHECK_FALSE(still);
      }
    }
    for (auto& gone : removed_) {
      for (; gone.cursor < log.size(); ++gone.cursor) {
        auto t = gone.state.handle(log[gone.cursor].message, env());
        INFO("removed client " << gone.id << " handled log entry " << gone.cursor);
        CHECK_FALSE(t.has_value());
      }
    }
    while (removed_.size() > kWatchedRemoved) removed_.pop_front();
  }

  SeededRng rng_;
  std::optional<DeliveryService> ds_;
  std::vector<Client> clients_;
  std::deque<RemovedClient> removed_;
  std::vector<Invited> invited_;
  std::vector<Delayed> delayed_;
  int next_id_ = 0;
  std::uint64_t messages_ = 0;
  [[nodiscard]] GroupEnv env() const { return test_env(&psks_); }

  TestPsks psks_;
  std::string action_ = "start";
  std::map<std::string, int> counts_;
  int psk_count_ = 0;
  int removed_refusals_ = 0;
};

}  // namespace

TEST_CASE("group random: 200 seeded steps, everyone reads everyone, relay agrees", "[mls][group_random]") {
  crypto::init();
  const std::uint64_t seed = seed_from_env();
  INFO("seed " << seed << " (rerun with HEARTH_GROUP_SEED=" << seed << ")");
  Room room(seed);
  room.start();
  REQUIRE(room.size() == kInitialMembers);
  for (int i = 0; i < kSteps; ++i) {
    INFO("step " << i << " epoch " << room.epoch() << " members " << room.size());
    room.step();
    INFO("step " << i << ": " << room.last_action());
    REQUIRE(room.size() >= kMinMembers - 1);
    REQUIRE(room.size() <= kMaxMembers);
  }
  CHECK(room.epoch() >= static_cast<std::uint64_t>(kSteps) / 2);
  // Every kind of step ran (the rarer variants: with the default seed), and
  // removed members were tried.
  std::vector<const char*> kinds = {"add",   "remove", "leave", "self-update", "update", "promote",
                                    "forbidden", "race", "delayed", "psk", "mixed"};
  if (seed == kDefaultSeed) {
    for (const char* k : {"demote", "psk-with-add", "add-proposed", "add-tree-out-of-band", "delayed-expired",
                          "delayed-opened"}) {
      kinds.push_back(k);
    }
  }
  for (const char* kind : kinds) {
    const auto it = room.counts().find(kind);
    const int times = it == room.counts().end() ? 0 : it->second;
    INFO("step kind " << kind << " ran " << times << " times");
    CHECK(times > 0);
  }
  CHECK(room.removed_reads_refused() > 100);
}
