#pragma once

#include <chrono>
#include <string>

#include <tchat/core/events/uuid.hpp>

namespace tchat::notification {

using events::IsUuid;
using events::NewUuidV7;

// A UUIDv7 carrying the given time (random below the millisecond), so that ids
// sort by when something happened rather than when it was processed. Unlike
// events::NewUuidV7(now), which keeps one thread's ids increasing and so would
// move an older time forward, the time given is the time in the id.
std::string NewUuidV7At(std::chrono::system_clock::time_point t);

}  // namespace tchat::notification
