// SPDX-License-Identifier: Apache-2.0
// hearth-client-bench: a 512-byte text message through the client engine's
// own path, per core, in rooms of 10, 50 and 200 members.
//
//   send     hearth.v1.Content encoded -> outbox entry -> MLS encrypt (padded
//            PrivateMessage) -> ciphertext and group state saved in one
//            transaction (the ratchet step is on disk before it leaves)
//   receive  process_group (decrypt, sender check) -> store_delivery (the
//            plaintext, the group state and the cursor in one transaction)
//            -> hearth.v1.Content decoded
//
// Each path is timed three ways: MLS alone, with the in-memory store (the
// engine's work without the disk), and with the SQLite profile store (what a
// device pays, fsync included: synchronous=FULL, secure_delete).
//
//   hearth-client-bench [--messages N] [--disk-messages N] [--members 10,50,200]
//
// The SQLite runs take fewer messages (each one is a few fsyncs).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "client/core/content.h"
#include "client/core/key_packages.h"
#include "client/core/memory_store.h"
#include "client/core/profile_key.h"
#include "client/core/room_crypto.h"
#include "client/core/room_group.h"
#include "client/core/sqlite_store.h"
#include "common/crypto/crypto.h"

using namespace hearth;
using namespace hearth::client;

namespace {

using Clock = std::chrono::steady_clock;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "hearth-client-bench: %s failed\n", what);
    std::exit(1);
  }
}

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

struct Person {
  AccountId account;
  crypto::SigningKey key;
  std::vector<StoredKeyPackage> stored;
  std::optional<RoomGroup> group;
};

Person person(std::size_t i, Rng& rng) {
  Bytes seed(32);
  rng.fill(seed);
  Bytes id(16, 0);
  id[0] = static_cast<std::uint8_t>(i);
  id[1] = static_cast<std::uint8_t>(i >> 8);
  auto key = crypto::ed25519_from_seed(seed);
  require(key.has_value(), "identity key");
  return Person{AccountId{id}, std::move(*key), {}, std::nullopt};
}

/// A room of `n`: member 0 creates it and adds the others in one commit.
/// Only members 0, 1 (the sender) and 2 (the reader) keep a group.
std::vector<Person> make_room(const RoomId& room, std::size_t n, std::uint64_t now, Rng& rng) {
  std::vector<Person> people;
  for (std::size_t i = 0; i < n; ++i) people.push_back(person(i, rng));
  auto created = RoomGroup::create(room, people[0].account, people[0].key, now, rng);
  require(created.has_value(), "create room");
  std::vector<wire::KeyPackageOk> packages;
  for (std::size_t i = 1; i < n; ++i) {
    auto made = make_key_package(people[i].account, people[i].key, false, now, KeyPackagePolicy{}, rng);
    people[i].stored.push_back(made.stored);
    packages.push_back(wire::KeyPackageOk{people[i].account,
                                          Bytes(people[i].key.public_key.begin(), people[i].key.public_key.end()),
                                          made.published, false});
  }
  auto commit = created->add(packages, rng, now);
  require(commit.has_value(), "add members");
  for (std::size_t i = 1; i <= 2; ++i) {
    const auto w = std::find_if(commit->welcomes.begin(), commit->welcomes.end(),
                                [&](const auto& x) { return x.account == people[i].account; });
    require(w != commit->welcomes.end(), "welcome");
    auto joined = RoomGroup::join(w->welcome, people[i].account, people[i].key, people[i].stored, now);
    require(joined.has_value(), "join");
    people[i].group = std::move(joined->group);
  }
  people[0].group = std::move(commit->next);
  return people;
}

struct Timing {
  double send_us = 0;
  double receive_us = 0;
};

/// Sends `messages` from member 1 to member 2 through `sender_store` and
/// `reader_store` (nullptr: MLS and the codec only).
Timing run(std::vector<Person>& people, const RoomId& room, std::size_t messages, LocalStore* sender_store,
           LocalStore* reader_store, std::uint64_t now, Rng& rng) {
  Person& sender = people[1];
  Person& reader = people[2];
  const std::string text(512, 'm');
  std::vector<wire::Deliver> wire_messages;
  wire_messages.reserve(messages);

  const auto send_start = Clock::now();
  for (std::size_t i = 0; i < messages; ++i) {
    const Content c{new_content_id(rng), static_cast<std::int64_t>(now) * 1000, ContentText{text, std::nullopt}};
    const Bytes plain = encode_content(c);
    Bytes id_bytes(16);
    rng.fill(id_bytes);
    const EnvelopeId id{id_bytes};
    if (sender_store != nullptr) {
      require(sender_store->outbox_add(PendingSend{id, room, plain, static_cast<std::int64_t>(i)}).has_value(),
              "outbox add");
    }
    auto sealed = sender.group->encrypt(plain, rng);
    require(sealed.has_value(), "encrypt");
    if (sender_store != nullptr) {
      require(sender_store->save_encrypted(id, EncryptedSend{Epoch{sender.group->epoch()}, *sealed},
                                           sender.group->save())
                  .has_value(),
              "save encrypted");
      require(sender_store->outbox_remove(id).has_value(), "outbox remove");
    }
    wire::Deliver d;
    d.room = room;
    d.seq = Seq{i + 1};
    d.kind = wire::EnvelopeKind::Application;
    d.sender = sender.account;
    d.envelope_id = id;
    d.epoch = Epoch{sender.group->epoch()};
    d.timestamp_ms = static_cast<std::int64_t>(now) * 1000;
    d.payload = std::move(*sealed);
    wire_messages.push_back(std::move(d));
  }
  const auto send_end = Clock::now();

  const GroupSelf self{reader.account, reader.key, reader.stored};
  RoomRecord record{room, Epoch{reader.group->epoch()}, wire::Role::Member, RoomStatus::Active, Seq{0}};
  const auto receive_start = Clock::now();
  for (const auto& d : wire_messages) {
    auto fx = process_group(std::move(reader.group), d, self, now);
    require(fx.group.has_value() && fx.write.payload.has_value(), "decrypt");
    reader.group = std::move(fx.group);
    if (reader_store != nullptr) {
      record.cursor = d.seq;
      require(reader_store->store_delivery(d, record, fx.write).has_value(), "store delivery");
    }
    auto content = decode_content(*fx.write.payload);
    require(content.has_value() && std::holds_alternative<ContentText>(content->body), "decode content");
  }
  const auto receive_end = Clock::now();

  const auto us = [&](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(messages);
  };
  return Timing{us(send_end - send_start), us(receive_end - receive_start)};
}

std::vector<std::size_t> parse_sizes(const char* s) {
  std::vector<std::size_t> out;
  std::string item;
  for (const char* p = s;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!item.empty()) out.push_back(static_cast<std::size_t>(std::stoul(item)));
      item.clear();
      if (*p == '\0') break;
    } else {
      item += *p;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t messages = 2000;
  std::size_t disk_messages = 200;
  std::vector<std::size_t> sizes{10, 50, 200};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--messages") {
      messages = static_cast<std::size_t>(std::stoul(argv[i + 1]));
    } else if (flag == "--disk-messages") {
      disk_messages = static_cast<std::size_t>(std::stoul(argv[i + 1]));
    } else if (flag == "--members") {
      sizes = parse_sizes(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: hearth-client-bench [--messages N] [--disk-messages N] [--members 10,50,200]\n");
      return 2;
    }
  }
  require(messages > 0 && disk_messages > 0 && !sizes.empty() && std::all_of(sizes.begin(), sizes.end(), [](auto n) { return n >= 3; }),
          "arguments (messages > 0, rooms of 3 or more)");
  crypto::init();
  crypto::SystemRng rng;
  const std::uint64_t now = unix_now();
  const auto dir = std::filesystem::temp_directory_path() / ("hearth-client-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);

  std::printf("512-byte text, %zu messages per run (%zu with SQLite), one core; microseconds per message\n", messages,
              disk_messages);
  std::printf("%8s | %10s %10s | %10s %10s | %10s %10s | %10s\n", "members", "mls send", "mls recv", "mem send",
              "mem recv", "sqlite snd", "sqlite rcv", "state KiB");
  for (const std::size_t n : sizes) {
    Bytes room_id(32);
    rng.fill(room_id);
    const RoomId room{room_id};
    auto people = make_room(room, n, now, rng);
    const Timing bare = run(people, room, messages, nullptr, nullptr, now, rng);

    MemoryStore mem_sender, mem_reader;
    const Timing mem = run(people, room, messages, &mem_sender, &mem_reader, now, rng);

    const auto sender_db = dir / ("sender-" + std::to_string(n) + ".db");
    const auto reader_db = dir / ("reader-" + std::to_string(n) + ".db");
    const crypto::Argon2Params kdf{kMinProfileKdfOps, kMinProfileKdfMemory};  // opening is not what is timed
    auto sq_sender = SqliteStore::open(sender_db, "bench passphrase", kdf);
    auto sq_reader = SqliteStore::open(reader_db, "bench passphrase", kdf);
    require(sq_sender.has_value() && sq_reader.has_value(), "open sqlite stores");
    const Timing disk = run(people, room, disk_messages, sq_sender->get(), sq_reader->get(), now, rng);

    std::printf("%8zu | %10.1f %10.1f | %10.1f %10.1f | %10.1f %10.1f | %10.1f\n", n, bare.send_us, bare.receive_us,
                mem.send_us, mem.receive_us, disk.send_us, disk.receive_us,
                static_cast<double>(people[2].group->save().size()) / 1024.0);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
