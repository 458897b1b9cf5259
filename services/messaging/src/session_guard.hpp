#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tchat::messaging {

class Hub;

// WebSocket close code for a socket whose credentials ended: its access token
// expired (and no `auth` frame renewed it) or its session was revoked (logout,
// DELETE /v1/auth/sessions/{id}, a password change, a reused refresh token).
// docs/api/openapi.yaml, /v1/ws.
inline constexpr std::uint16_t kCloseCredentialsEnded = 4001;

// Revoked sessions are remembered for as long as their access tokens may live
// (auth caps AUTH_ACCESS_TOKEN_TTL at 1 h), with a minute of clock leeway.
inline constexpr std::chrono::seconds kRememberRevoked{3600 + 60};

// One session revocation, as auth announces it on its event stream
// (tchat.events.auth): "auth.session.revoked" names one session;
// "auth.sessions.revoked" every session of a user except `except_session_id`.
// A user-wide one lists the sessions it revoked (`session_ids`), so that their
// unexpired access tokens are refused too.
struct Revocation {
  std::string session_id;                // one session; empty for a user-wide one
  std::string user_id;                   // the user (required for a user-wide one)
  std::string except_session_id;         // user-wide: the session that stays
  std::vector<std::string> session_ids;  // user-wide: the sessions it ended
  std::string reason;
};

// The revocation an event of the auth stream announces, or nullopt for any other
// event (or a malformed one). `envelope` is the outbox event JSON.
std::optional<Revocation> ParseRevocation(std::string_view envelope);

// Holds every WebSocket of one worker to its credentials: closes (4001) those
// whose access token expired and those whose session was revoked, and remembers
// revoked sessions for as long as their tokens may live, so that such a token
// can neither open a socket nor renew one.
//
// Bound to one worker; not thread-safe. The hub outlives it.
class SessionGuard {
 public:
  SessionGuard(Hub& hub, std::chrono::seconds remember);

  // Closes the sessions whose token expired by `now`; returns how many.
  std::size_t CloseExpired(std::chrono::system_clock::time_point now);
  // Closes the sessions `r` revokes and remembers the revoked session ids;
  // returns how many were closed.
  std::size_t Apply(const Revocation& r, std::chrono::system_clock::time_point now);
  // True when tokens of `session_id` must not be accepted any more.
  bool IsRevoked(std::string_view session_id) const;

 private:
  void Forget(std::chrono::system_clock::time_point now);

  Hub& hub_;
  std::chrono::seconds remember_;
  // session id -> when it may be forgotten (its tokens have expired by then)
  std::unordered_map<std::string, std::chrono::system_clock::time_point> revoked_;
  std::chrono::system_clock::time_point next_forget_{};
};

}  // namespace tchat::messaging
