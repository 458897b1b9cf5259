#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <tchat/client/api_client.hpp>
#include <tchat/client/ws_client.hpp>
#include <tchat/core/json.hpp>
#include <tchat/core/result.hpp>
#include <tchat/core/task.hpp>

// Blocking façades over the asynchronous client, for tests and the command line.
// Every object built on one io_context shares it: whichever call is waiting runs
// the loop, so WebSocket readers keep receiving in the background. One thread.
namespace tchat::client {

// Runs `io` until `task` completes and returns its value. Exceptions propagate.
template <typename T>
T RunSync(boost::asio::io_context& io, Task<T> task) {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&value, t = std::move(task)]() mutable -> Task<void> {
        value.emplace(co_await std::move(t));
      },
      [&](std::exception_ptr e) {
        error = e;
        done = true;
      });
  while (!done) {
    if (io.stopped()) io.restart();
    io.run_one();
  }
  if (error) std::rethrow_exception(error);
  return std::move(*value);
}

inline void RunSync(boost::asio::io_context& io, Task<void> task) {
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  while (!done) {
    if (io.stopped()) io.restart();
    io.run_one();
  }
  if (error) std::rethrow_exception(error);
}

// Runs `io` until `pred()` holds or `timeout` passes; true when it held. pred() is
// called once per turn of the loop and may consume what it looks for.
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& pred,
              std::chrono::milliseconds timeout);

// The HTTP API, blocking. Transport failures become status 0 with the message in raw.
class BlockingApi {
 public:
  BlockingApi(boost::asio::io_context& io, std::string base_url, std::string token = {},
              std::size_t max_conns = 64);
  ApiClient& async() { return api_; }

  // A header field sent with every request from now on (e.g. X-Real-IP), replacing an
  // earlier value of the same name.
  void set_header(std::string name, std::string value);

  // Any request, exactly as given (plus the fields of set_header).
  ApiResponse Send(ApiRequest request);
  // Every request at once (on as many connections), waiting for all the answers; the
  // answers are in the order of the requests.
  std::vector<ApiResponse> Concurrently(std::vector<ApiRequest> requests);

  // JSON requests; `bearer` empty: the client's token (if any).
  ApiResponse Get(std::string path, std::string bearer = {});
  ApiResponse Post(std::string path, const json::value& body, std::string bearer = {});
  ApiResponse Put(std::string path, const json::value& body, std::string bearer = {});
  ApiResponse Patch(std::string path, const json::value& body, std::string bearer = {});
  ApiResponse Delete(std::string path, std::string bearer = {});

  ApiResponse Call(std::string method, std::string path,
                   std::optional<json::value> body = std::nullopt);
  ApiResponse Raw(std::string method, std::string path, std::string body,
                  std::string content_type = "application/json");
  // Runs one call of async() (the typed calls: Run(async().CreateDirect(id))).
  ApiResponse Run(Task<Result<ApiResponse>> task);

 private:
  ApiResponse Json(std::string method, std::string path, std::optional<json::value> body,
                   std::string bearer);

  boost::asio::io_context& io_;
  ApiClient api_;
  HeaderList headers_;
};

// A WebSocket connection whose frames are read in the background into an inbox.
class BlockingWs {
 public:
  explicit BlockingWs(boost::asio::io_context& io);
  ~BlockingWs();

  // Connects and waits for the server's "ready" frame (the subscriptions are then
  // in place), which is consumed.
  Status Connect(std::string_view base_url, std::string_view token, WsOptions options = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Status Send(std::string_view frame);

  // The next frame (parsed; non-JSON frames come back as {"type":"<raw>","raw":...}).
  std::optional<json::object> Next(std::chrono::milliseconds timeout);
  // The next frame of `type`; frames of other types stay in the inbox.
  std::optional<json::object> NextOfType(std::string_view type, std::chrono::milliseconds timeout);
  // Every frame that arrives within `d` (plus what was already in the inbox).
  std::vector<json::object> CollectFor(std::chrono::milliseconds d);
  // Frames of `type` received within `d`, others dropped.
  std::vector<json::object> CollectType(std::string_view type, std::chrono::milliseconds d);

  bool closed() const { return closed_; }
  // Waits until the server closes the connection; true if it did within timeout.
  bool WaitClosed(std::chrono::milliseconds timeout);
  std::uint16_t close_code() const { return ws_.close_code(); }
  void Close();
  void Abort();

 private:
  struct ReaderState {
    bool alive = true;
    bool reading = false;
  };
  Task<void> ReadLoop(std::shared_ptr<ReaderState> state);

  boost::asio::io_context& io_;
  WsClient ws_;
  std::deque<json::object> inbox_;
  bool closed_ = false;
  std::shared_ptr<ReaderState> state_;
};

}  // namespace tchat::client
