// SPDX-License-Identifier: Apache-2.0
#include "client/core/events.h"

namespace hearth::client {

std::string to_string(ConnectionState s) {
  switch (s) {
    case ConnectionState::Offline: return "offline";
    case ConnectionState::Connecting: return "connecting";
    case ConnectionState::Online: return "online";
  }
  return "unknown";
}

const char* event_name(const Event& e) noexcept {
  return std::visit(wire::Overloaded{
                        [](const MessageReceived&) { return "message"; },
                        [](const DecryptionFailed&) { return "decryption_failed"; },
                        [](const MessageSent&) { return "sent"; },
                        [](const SendFailed&) { return "send_failed"; },
                        [](const RosterChanged&) { return "roster_changed"; },
                        [](const LeaveRequested&) { return "leave_requested"; },
                        [](const RoomReset&) { return "room_reset"; },
                        [](const ChangeRejected&) { return "change_rejected"; },
                        [](const RoomJoined&) { return "room_joined"; },
                        [](const RoomLeft&) { return "room_left"; },
                        [](const RoomClosedEvent&) { return "room_closed"; },
                        [](const ConnectionChanged&) { return "connection"; },
                        [](const Synced&) { return "synced"; },
                        [](const IdentityKeyChanged&) { return "identity_changed"; },
                        [](const KeyPackagesPublished&) { return "key_packages_published"; },
                        [](const MessageRefused&) { return "message_refused"; },
                        [](const MessagesErased&) { return "messages_erased"; },
                        [](const ErrorEvent&) { return "error"; },
                        [](const EventsDropped&) { return "events_dropped"; },
                    },
                    e);
}

void EventQueue::push(Event e) {
  {
    std::lock_guard lock(mutex_);
    if (events_.size() >= capacity_) {
      events_.pop_front();
      ++dropped_;
    }
    events_.push_back(std::move(e));
  }
  cv_.notify_one();
}

std::optional<Event> EventQueue::pop_locked() {
  if (dropped_ > 0) {
    const auto n = dropped_;
    dropped_ = 0;
    return Event{EventsDropped{n}};
  }
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<Event> EventQueue::try_pop() {
  std::lock_guard lock(mutex_);
  return pop_locked();
}

std::optional<Event> EventQueue::wait_pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return !events_.empty() || dropped_ > 0; });
  return pop_locked();
}

std::size_t EventQueue::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

}  // namespace hearth::client
