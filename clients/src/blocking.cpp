#include <algorithm>
#include <thread>

#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>

#include <tchat/client/blocking.hpp>

namespace tchat::client {

using namespace std::chrono_literals;

bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& pred,
              std::chrono::milliseconds timeout) {
  // pred() is evaluated exactly once per loop turn (it may consume what it finds).
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    // Slices of at most 10 ms, so that conditions outside the loop (a child
    // process exiting, a clock) are seen soon too.
    const auto slice = std::min(deadline, std::chrono::steady_clock::now() + 10ms);
    if (io.run_one_until(slice) == 0 && io.stopped()) {
      // Nothing pending at all: wait a little rather than spin.
      std::this_thread::sleep_for(1ms);
    }
  }
}

BlockingApi::BlockingApi(boost::asio::io_context& io, std::string base_url, std::string token,
                         std::size_t max_conns)
    : io_(io), api_(io.get_executor(), std::move(base_url), std::move(token), max_conns) {}

void BlockingApi::set_header(std::string name, std::string value) {
  std::erase_if(headers_, [&name](const auto& field) { return field.first == name; });
  headers_.emplace_back(std::move(name), std::move(value));
}

ApiResponse BlockingApi::Run(Task<Result<ApiResponse>> task) {
  auto r = RunSync(io_, std::move(task));
  if (!r) {
    ApiResponse out;
    out.status = 0;
    out.raw = r.error().message;
    return out;
  }
  return std::move(*r);
}

ApiResponse BlockingApi::Send(ApiRequest request) {
  return std::move(Concurrently({std::move(request)}).front());
}

std::vector<ApiResponse> BlockingApi::Concurrently(std::vector<ApiRequest> requests) {
  std::vector<ApiResponse> answers(requests.size());
  std::size_t done = 0;
  std::exception_ptr error;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    ApiRequest& request = requests[i];
    request.headers.insert(request.headers.begin(), headers_.begin(), headers_.end());
    boost::asio::co_spawn(
        io_,
        [this, request = std::move(request), &answer = answers[i]]() mutable -> Task<void> {
          auto r = co_await api_.Send(std::move(request));
          if (r) {
            answer = std::move(*r);
          } else {
            answer.raw = r.error().message;
          }
        },
        [&done, &error](std::exception_ptr e) {
          ++done;
          if (e && !error) error = e;
        });
  }
  // Every coroutine refers to `answers`: all must finish before this returns.
  while (done < requests.size()) {
    if (io_.stopped()) io_.restart();
    io_.run_one();
  }
  if (error) std::rethrow_exception(error);
  return answers;
}

ApiResponse BlockingApi::Json(std::string method, std::string path, std::optional<json::value> body,
                              std::string bearer) {
  ApiRequest request(std::move(method), std::move(path), body ? ToJson(*body) : std::string());
  if (!bearer.empty()) request.bearer = std::move(bearer);
  return Send(std::move(request));
}

ApiResponse BlockingApi::Get(std::string path, std::string bearer) {
  return Json("GET", std::move(path), std::nullopt, std::move(bearer));
}

ApiResponse BlockingApi::Post(std::string path, const json::value& body, std::string bearer) {
  return Json("POST", std::move(path), body, std::move(bearer));
}

ApiResponse BlockingApi::Put(std::string path, const json::value& body, std::string bearer) {
  return Json("PUT", std::move(path), body, std::move(bearer));
}

ApiResponse BlockingApi::Patch(std::string path, const json::value& body, std::string bearer) {
  return Json("PATCH", std::move(path), body, std::move(bearer));
}

ApiResponse BlockingApi::Delete(std::string path, std::string bearer) {
  return Json("DELETE", std::move(path), std::nullopt, std::move(bearer));
}

ApiResponse BlockingApi::Call(std::string method, std::string path,
                              std::optional<json::value> body) {
  return Json(std::move(method), std::move(path), std::move(body), {});
}

ApiResponse BlockingApi::Raw(std::string method, std::string path, std::string body,
                             std::string content_type) {
  ApiRequest request(std::move(method), std::move(path), std::move(body));
  request.content_type = std::move(content_type);
  return Send(std::move(request));
}

BlockingWs::BlockingWs(boost::asio::io_context& io)
    : io_(io), ws_(io.get_executor()), state_(std::make_shared<ReaderState>()) {}

BlockingWs::~BlockingWs() {
  state_->alive = false;
  ws_.Abort();
  // Let the reader see the abort before the client goes away.
  auto state = state_;
  RunUntil(
      io_, [state] { return !state->reading; }, std::chrono::seconds(2));
}

Status BlockingWs::Connect(std::string_view base_url, std::string_view token, WsOptions options,
                           std::chrono::milliseconds timeout) {
  Status st = RunSync(io_, ws_.Connect(base_url, token, std::move(options)));
  if (!st) return st;
  state_->reading = true;
  boost::asio::co_spawn(io_, ReadLoop(state_), boost::asio::detached);
  auto ready = NextOfType("ready", timeout);
  if (!ready) return Error::Unavailable("no ready frame from the server");
  return Ok();
}

Task<void> BlockingWs::ReadLoop(std::shared_ptr<ReaderState> state) {
  for (;;) {
    auto text = co_await ws_.ReadText();
    if (!state->alive) {
      state->reading = false;
      co_return;
    }
    if (!text) break;
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (!ec && v.is_object()) {
      inbox_.push_back(std::move(v.get_object()));
    } else {
      inbox_.push_back(json::object{{"type", "<raw>"}, {"raw", *text}});
    }
  }
  closed_ = true;
  state->reading = false;
}

Status BlockingWs::Send(std::string_view frame) {
  return RunSync(io_, ws_.WriteText(frame));
}

std::optional<json::object> BlockingWs::Next(std::chrono::milliseconds timeout) {
  RunUntil(
      io_, [this] { return !inbox_.empty() || closed_; }, timeout);
  if (inbox_.empty()) return std::nullopt;
  json::object o = std::move(inbox_.front());
  inbox_.pop_front();
  return o;
}

std::optional<json::object> BlockingWs::NextOfType(std::string_view type,
                                                   std::chrono::milliseconds timeout) {
  std::optional<json::object> found;
  auto scan = [&] {
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      const json::value* t = it->if_contains("type");
      if (t != nullptr && t->is_string() && t->get_string() == type) {
        found = std::move(*it);
        inbox_.erase(it);
        return true;
      }
    }
    return closed_;
  };
  RunUntil(io_, scan, timeout);
  return found;
}

std::vector<json::object> BlockingWs::CollectFor(std::chrono::milliseconds d) {
  RunUntil(
      io_, [] { return false; }, d);
  std::vector<json::object> out(std::make_move_iterator(inbox_.begin()),
                                std::make_move_iterator(inbox_.end()));
  inbox_.clear();
  return out;
}

std::vector<json::object> BlockingWs::CollectType(std::string_view type,
                                                  std::chrono::milliseconds d) {
  std::vector<json::object> out;
  for (auto& o : CollectFor(d)) {
    const json::value* t = o.if_contains("type");
    if (t != nullptr && t->is_string() && t->get_string() == type) out.push_back(std::move(o));
  }
  return out;
}

bool BlockingWs::WaitClosed(std::chrono::milliseconds timeout) {
  return RunUntil(
      io_, [this] { return closed_; }, timeout);
}

void BlockingWs::Close() {
  if (ws_.is_open()) RunSync(io_, ws_.Close());
  RunUntil(
      io_, [this] { return !state_->reading; }, std::chrono::seconds(2));
}

void BlockingWs::Abort() {
  ws_.Abort();
  RunUntil(
      io_, [this] { return !state_->reading; }, std::chrono::seconds(2));
}

}  // namespace tchat::client
