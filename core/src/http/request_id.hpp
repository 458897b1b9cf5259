#pragma once

// Private to the HTTP server: X-Request-ID values.
#include <string>
#include <string_view>

namespace tchat::http {

// A request id from the client is kept when it looks sane: 1 to 128 characters
// from [A-Za-z0-9._:-].
bool SaneRequestId(std::string_view id);

// 128 random bits as 32 hex digits, written into `out`, whose capacity is reused.
void NewRequestId(std::string& out);
std::string NewRequestId();

}  // namespace tchat::http
