#pragma once

#include <string_view>

namespace tchat::httpclient {

// Records a test client's exchanges with the services for the contract check
// (tests/contract/validate_exchanges.mjs validates them against
// docs/api/openapi.yaml). Enabled by the environment variable
// TCHAT_CONTRACT_RECORD, the path of a file that each exchange is appended to as
// one JSON line:
//   {"kind":"http","method","target","status","content_type","body"}
//   {"kind":"ws","direction":"recv"|"send","frame"}
// Each line is one write(2) to a file opened with O_APPEND, so the lines of
// several threads and processes never interleave. Test clients call it after each
// exchange; services never do. Thread-safe.
class ExchangeRecorder {
 public:
  // The process's recorder, or nullptr when TCHAT_CONTRACT_RECORD is unset or the
  // file cannot be opened (said once on stderr). The variable is read once; the
  // check that callers make on every exchange is one branch.
  static ExchangeRecorder* Get();

  // An HTTP exchange: `target` is the path and query as sent ("/v1/users?phone=…").
  void Http(std::string_view method, std::string_view target, int status,
            std::string_view content_type, std::string_view body) const;
  // A WebSocket text frame the client sent (`sent`) or received.
  void WsFrame(bool sent, std::string_view frame) const;

 private:
  explicit ExchangeRecorder(int fd) : fd_(fd) {}
  void Append(std::string line) const;

  int fd_;
};

}  // namespace tchat::httpclient
