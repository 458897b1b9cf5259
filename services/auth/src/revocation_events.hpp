#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tchat/core/events/outbox.hpp>

// The events that announce ended sessions (tchat/core/events/auth_events.hpp),
// built in one place. Each is written to the outbox in the transaction that ends
// the sessions, so an announcement exists exactly when the revocation committed:
// messaging closes the sessions' sockets and refuses their unexpired access
// tokens, notification removes their push devices.
namespace tchat::auth {

// auth.session.revoked: one session ended (logout, DELETE /v1/auth/sessions/{id},
// a reused refresh token). The per-user cap's evictions are written by SQL in
// the sign-in batch (store.cpp, kEvictSql) with the same fields.
events::Event SessionRevokedEvent(std::string_view user_id, std::string_view session_id,
                                  std::string_view reason);

// auth.sessions.revoked: every session of the user but `except_session_id`
// (empty: none) ended with a password change; `session_ids` are the sessions this
// change revoked (their access tokens must no longer open a socket).
events::Event SessionsRevokedEvent(std::string_view user_id, std::string_view except_session_id,
                                   std::string_view reason,
                                   const std::vector<std::string>& session_ids);

// auth.user.deleted: the account `user_id` was deleted (no personal data).
events::Event UserDeletedEvent(std::string_view user_id);

// The revoked session ids of a comma-separated list (string_agg in SQL).
std::vector<std::string> SplitSessionIds(std::string_view csv);

}  // namespace tchat::auth
