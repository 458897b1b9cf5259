#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tchat/core/jwt/http_jwks_key_source.hpp>
#include <tchat/core/log.hpp>

namespace tchat::jwt {

namespace asio = boost::asio;

std::shared_ptr<HttpJwksKeySource> HttpJwksKeySource::Create(asio::any_io_executor executor,
                                                             HttpJwksOptions options) {
  return std::shared_ptr<HttpJwksKeySource>(
      new HttpJwksKeySource(std::move(executor), std::move(options)));
}

HttpJwksKeySource::HttpJwksKeySource(asio::any_io_executor executor, HttpJwksOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      client_(executor_, options_.http),
      timer_(executor_) {}

void HttpJwksKeySource::Start() {
  asio::co_spawn(executor_, Loop(shared_from_this()), asio::detached);
}

void HttpJwksKeySource::Stop() {
  stopped_ = true;
  Wake();
}

void HttpJwksKeySource::OnUnknownKid() {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t next = next_unknown_kid_refresh_ns_.load(std::memory_order_relaxed);
  if (now < next) return;
  const std::int64_t interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.unknown_kid_min_interval)
          .count();
  // One thread wins the slot; the others return.
  if (!next_unknown_kid_refresh_ns_.compare_exchange_strong(next, now + interval)) return;
  Wake();
}

void HttpJwksKeySource::Wake() {
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->wake_requested_ = true;
      self->timer_.cancel();
    }
  });
}

Task<void> HttpJwksKeySource::Loop(std::shared_ptr<HttpJwksKeySource> self) {
  while (!self->stopped_) {
    self->wake_requested_ = false;
    const Status st = co_await self->Refresh();
    if (self->stopped_) break;
    if (self->wake_requested_) continue;  // asked for while fetching
    self->timer_.expires_after(st.ok() ? self->options_.refresh_interval
                                       : self->options_.retry_interval);
    co_await self->timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

Task<Status> HttpJwksKeySource::Refresh() {
  auto self = shared_from_this();  // alive until the fetch ends
  httpclient::HttpRequest req("GET", options_.url);
  req.headers.Add("Accept", "application/json");
  auto res = co_await client_.Send(std::move(req));
  Status st = Ok();
  if (!res) {
    st = std::move(res).error();
  } else if (res->status != 200) {
    st = Error::Unavailable("JWKS endpoint answered HTTP " + std::to_string(res->status));
  } else if (auto set = KeySet::ParseJwks(res->body); !set) {
    st = std::move(set).error();
  } else if (auto current = Current(); !current || !(*current == *set)) {
    log::Info("jwks updated", {{"url", options_.url}, {"keys", set->keys().size()}});
    Publish(std::make_shared<const KeySet>(std::move(*set)));
  }
  if (st.ok()) {
    ++fetches_;
  } else {
    ++failures_;
    log::Warn("jwks refresh failed", {{"url", options_.url}, {"error", st.error().message}});
  }
  co_return st;
}

}  // namespace tchat::jwt
