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

BlockingApi::BlockingApi(boost::asio::io_context& io, std::string base_url, std::string token)
    : io_(io), api_(io.get_executor(), std::move(base_url), std::move(token)) {}

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

ApiResponse BlockingApi::Call(std::string method, std::string path,
                              std::optional<json::value> body) {
  return Run(api_.Call(method, path, std::move(body)));
}

ApiResponse BlockingApi::Raw(std::string method, std::string path, std::string body,
                             std::string content_type) {
  return Run(api_.CallRaw(method, path, std::move(body), std::move(content_type)));
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
