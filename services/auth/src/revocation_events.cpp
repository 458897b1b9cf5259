#include "revocation_events.hpp"

#include <tchat/core/events/auth_events.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/time.hpp>

namespace tchat::auth {

events::Event SessionRevokedEvent(std::string_view user_id, std::string_view session_id,
                                  std::string_view reason) {
  return events::Event::Make(
      std::string(events::kSessionRevoked),
      json::object{{"user_id", user_id}, {"session_id", session_id}, {"reason", reason}});
}

events::Event SessionsRevokedEvent(std::string_view user_id, std::string_view except_session_id,
                                   std::string_view reason,
                                   const std::vector<std::string>& session_ids) {
  json::array ids;
  ids.reserve(session_ids.size());
  for (const auto& id : session_ids) ids.emplace_back(id);
  return events::Event::Make(std::string(events::kSessionsRevoked),
                             json::object{{"user_id", user_id},
                                          {"except_session_id", except_session_id},
                                          {"reason", reason},
                                          {"session_ids", std::move(ids)}});
}

events::Event UserDeletedEvent(std::string_view user_id) {
  return events::Event::Make(
      std::string(events::kUserDeleted),
      json::object{{"user_id", user_id}, {"deleted_at", FormatRfc3339Ms(NowUnixMs())}});
}

std::vector<std::string> SplitSessionIds(std::string_view csv) {
  std::vector<std::string> out;
  while (!csv.empty()) {
    const auto comma = csv.find(',');
    const std::string_view id = csv.substr(0, comma);
    if (!id.empty()) out.emplace_back(id);
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace tchat::auth
