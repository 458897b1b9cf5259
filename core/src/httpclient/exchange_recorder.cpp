#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <tchat/core/httpclient/exchange_recorder.hpp>
#include <tchat/core/json.hpp>

namespace tchat::httpclient {

ExchangeRecorder* ExchangeRecorder::Get() {
  static ExchangeRecorder* const recorder = []() -> ExchangeRecorder* {
    const char* path = std::getenv("TCHAT_CONTRACT_RECORD");
    if (path == nullptr || *path == '\0') return nullptr;
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::fprintf(stderr, "TCHAT_CONTRACT_RECORD: cannot open %s: %s; not recording\n", path,
                   std::strerror(errno));
      return nullptr;
    }
    return new ExchangeRecorder(fd);  // lives as long as the process
  }();
  return recorder;
}

void ExchangeRecorder::Http(std::string_view method, std::string_view target, int status,
                            std::string_view content_type, std::string_view body) const {
  Append(json::serialize(json::object{{"kind", "http"},
                                      {"method", method},
                                      {"target", target},
                                      {"status", status},
                                      {"content_type", content_type},
                                      {"body", body}}));
}

void ExchangeRecorder::WsFrame(bool sent, std::string_view frame) const {
  Append(json::serialize(
      json::object{{"kind", "ws"}, {"direction", sent ? "send" : "recv"}, {"frame", frame}}));
}

void ExchangeRecorder::Append(std::string line) const {
  line += '\n';
  // One write: O_APPEND makes it land whole at the end of the file. A short
  // write (a full disk) loses the line; the validator then sees a broken one.
  while (::write(fd_, line.data(), line.size()) < 0 && errno == EINTR) {
  }
}

}  // namespace tchat::httpclient
