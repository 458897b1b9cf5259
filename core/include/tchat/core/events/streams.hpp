#pragma once

#include <string_view>

// The Redis streams events travel on: one per producing service. Producers
// write them through OutboxWriter (outbox.hpp) and an OutboxRelay; consumers,
// load generators and tests name them by these constants. Header-only, so that
// code without the events library (tests, benchmarks) can use them too.
namespace tchat::events {

inline constexpr std::string_view kAuthStream = "tchat.events.auth";
inline constexpr std::string_view kMessagingStream = "tchat.events.messaging";
inline constexpr std::string_view kPaymentStream = "tchat.events.payment";

}  // namespace tchat::events
