#include <algorithm>
#include <cerrno>
#include <deque>
#include <optional>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <sys/socket.h>

#include <tchat/core/httpclient/http_client.hpp>

namespace tchat::httpclient {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return AsciiLower(x) == AsciiLower(y); });
}

bool HasControlChars(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// The parts of a URL the client needs.
struct Target {
  bool tls = false;
  std::string host;  // for DNS / SNI / certificate check (IPv6 without brackets)
  std::uint16_t port = 0;
  std::string host_header;  // Host: value
  std::string resource;     // path?query
  std::string pool_key;     // scheme://host:port
};

Result<Target> ParseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error::InvalidArgument("invalid URL");
  const auto& u = *parsed;
  Target t;
  if (u.scheme_id() == boost::urls::scheme::http) {
    t.tls = false;
  } else if (u.scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else {
    return Error::InvalidArgument("URL scheme must be http or https");
  }
  if (u.has_userinfo()) return Error::InvalidArgument("URL user info is not supported");
  t.host = u.host_address();
  if (t.host.empty()) return Error::InvalidArgument("URL has no host");
  const std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    if (u.port_number() == 0) return Error::InvalidArgument("invalid URL port");
    t.port = u.port_number();
  }
  t.host_header = std::string(u.encoded_host());
  if (t.port != default_port) t.host_header += ":" + std::to_string(t.port);
  t.resource = std::string(u.encoded_path());
  if (t.resource.empty()) t.resource = "/";
  if (u.has_query()) {
    t.resource += '?';
    t.resource += u.encoded_query();
  }
  t.pool_key = std::string(t.tls ? "https://" : "http://") + std::string(u.encoded_host()) + ":" +
               std::to_string(t.port);
  return t;
}

bool IsReplayable(const HttpRequest& r) {
  for (std::string_view m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}) {
    if (r.method == m) return true;
  }
  return r.headers.Has("Idempotency-Key");
}

// An established connection, plain or TLS.
struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  template <typename F>
  auto Visit(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
  // True if the server has not closed or written to the idle socket.
  bool LooksAlive() {
    if (buffer.size() != 0) return false;
    auto& sock = Lowest().socket();
    if (!sock.is_open()) return false;
    char byte;
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

Error MapIoError(const boost::system::error_code& ec, const Target& t, std::string_view stage) {
  if (ec == beast::error::timeout) return Error::DeadlineExceeded("HTTP request timed out");
  if (ec == http::error::body_limit) return Error::Unavailable("HTTP response body too large");
  if (ec == http::error::header_limit) return Error::Unavailable("HTTP response header too large");
  return Error::Unavailable(std::string(stage) + " " + t.host + ":" + std::to_string(t.port) +
                            ": " + ec.message());
}

}  // namespace

// ---------------------------------------------------------------------------
// HttpHeaders

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::Set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const Field& f) { return IEquals(f.first, name); });
  Add(std::move(name), std::move(value));
}

std::optional<std::string_view> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (IEquals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Pool

class HttpClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, HttpClientOptions opts)
      : ex_(std::move(ex)), opts_(std::move(opts)) {
    opts_.max_conns_per_host = std::max<std::size_t>(opts_.max_conns_per_host, 1);
  }

  static Task<Result<HttpResponse>> Send(std::shared_ptr<Impl> self, HttpRequest req);

  void CloseIdle() {
    closed_ = true;
    for (auto& [key, pool] : pools_) {
      pool.open -= pool.idle.size();
      pool.idle.clear();
    }
    idle_total_ = 0;
  }
  std::size_t idle_total() const { return idle_total_; }
  std::size_t open_total() const {
    std::size_t n = 0;
    for (const auto& [key, pool] : pools_) n += pool.open;
    return n;
  }

 private:
  // A request waiting for a connection slot on a full host.
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool granted = false;
    std::unique_ptr<Connection> conn;  // handed-over idle connection, or null: dial one
  };
  struct HostPool {
    std::deque<std::unique_ptr<Connection>> idle;  // most recently used last
    std::size_t open = 0;                          // idle + busy + dialling
    std::deque<std::shared_ptr<Waiter>> waiters;
  };
  // A connection slot held by one request; gives it back on every path.
  struct Lease {
    std::shared_ptr<Impl> owner;
    std::string key;
    std::unique_ptr<Connection> conn;  // null until dialled
    bool reused = false;
    bool reusable = false;
    Lease(std::shared_ptr<Impl> o, std::string k) : owner(std::move(o)), key(std::move(k)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (owner) owner->Release(key, std::move(conn), reusable);
    }
  };

  Task<Result<Lease>> Acquire(const std::string& key, Clock::time_point deadline);
  void Release(const std::string& key, std::unique_ptr<Connection> conn, bool reusable);
  Task<Result<std::unique_ptr<Connection>>> Dial(const Target& t, Clock::time_point deadline);
  Result<asio::ssl::context*> SslContext();

  asio::any_io_executor ex_;
  HttpClientOptions opts_;
  std::unordered_map<std::string, HostPool> pools_;
  std::size_t idle_total_ = 0;
  bool closed_ = false;  // the HttpClient is gone: released connections are closed
  std::optional<asio::ssl::context> ssl_;
};

Task<Result<HttpClient::Impl::Lease>> HttpClient::Impl::Acquire(const std::string& key,
                                                                Clock::time_point deadline) {
  Lease lease(nullptr, key);  // owner set once a slot is held
  auto& pool = pools_[key];
  const auto now = Clock::now();
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    --idle_total_;
    if (now - conn->idle_since < opts_.idle_timeout && conn->LooksAlive()) {
      lease.owner = shared_from_this();
      lease.conn = std::move(conn);
      lease.reused = true;
      co_return lease;
    }
    --pool.open;  // stale: dropped
  }
  if (pool.open < opts_.max_conns_per_host) {
    ++pool.open;
    lease.owner = shared_from_this();
    co_return lease;
  }
  auto waiter = std::make_shared<Waiter>(ex_);
  pool.waiters.push_back(waiter);
  waiter->timer.expires_at(deadline);
  co_await waiter->timer.async_wait(kUseTuple);
  if (!waiter->granted) {
    std::erase(pools_[key].waiters, waiter);
    co_return Error::DeadlineExceeded("HTTP request timed out waiting for a connection");
  }
  lease.owner = shared_from_this();
  lease.conn = std::move(waiter->conn);
  lease.reused = lease.conn != nullptr;
  co_return lease;
}

void HttpClient::Impl::Release(const std::string& key, std::unique_ptr<Connection> conn,
                               bool reusable) {
  auto& pool = pools_[key];
  if (conn && reusable && !closed_) {
    conn->Lowest().expires_never();
    if (!pool.waiters.empty()) {
      auto w = std::move(pool.waiters.front());
      pool.waiters.pop_front();
      w->granted = true;
      w->conn = std::move(conn);
      w->timer.cancel();
      return;
    }
    if (idle_total_ < opts_.max_idle_conns) {
      conn->idle_since = Clock::now();
      pool.idle.push_back(std::move(conn));
      ++idle_total_;
      return;
    }
  }
  conn.reset();
  --pool.open;
  if (!pool.waiters.empty()) {
    auto w = std::move(pool.waiters.front());
    pool.waiters.pop_front();
    ++pool.open;
    w->granted = true;
    w->timer.cancel();
  }
}

Result<asio::ssl::context*> HttpClient::Impl::SslContext() {
  if (ssl_) return &*ssl_;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);
  if (ec) return Error::Internal("TLS: cannot load system CAs: " + ec.message());
  if (!opts_.extra_ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(opts_.extra_ca_pem), ec);
    if (ec) return Error::Internal("TLS: bad extra CA PEM: " + ec.message());
  }
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  ssl_.emplace(std::move(ctx));
  return &*ssl_;
}

Task<Result<std::unique_ptr<Connection>>> HttpClient::Impl::Dial(const Target& t,
                                                                 Clock::time_point deadline) {
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code ec;
  const auto literal = asio::ip::make_address(t.host, ec);
  const bool is_ip = !ec;
  if (is_ip) {
    endpoints.emplace_back(literal, t.port);
  } else {
    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(ex_);
    asio::steady_timer timer(ex_);
    timer.expires_at(deadline);
    timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code e) {
      if (auto r = weak.lock(); r && !e) r->cancel();
    });
    auto [rec, results] =
        co_await resolver->async_resolve(t.host, std::to_string(t.port), kUseTuple);
    timer.cancel();
    if (rec == asio::error::operation_aborted && Clock::now() >= deadline) {
      co_return Error::DeadlineExceeded("HTTP request timed out resolving " + t.host);
    }
    if (rec) co_return MapIoError(rec, t, "resolve");
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }

  beast::tcp_stream stream(ex_);
  stream.expires_at(deadline);
  auto [cec, ep] = co_await stream.async_connect(endpoints, kUseTuple);
  if (cec) co_return MapIoError(cec, t, "connect");
  stream.socket().set_option(tcp::no_delay(true), ec);

  auto conn = std::make_unique<Connection>();
  if (!t.tls) {
    conn->plain.emplace(std::move(stream));
    co_return conn;
  }
  auto ctx = SslContext();
  if (!ctx) co_return std::move(ctx).error();
  conn->tls.emplace(std::move(stream), **ctx);
  // A name, not an address: send SNI (SSL_set_tlsext_host_name without its C cast).
  if (!is_ip && SSL_ctrl(conn->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                         TLSEXT_NAMETYPE_host_name, const_cast<char*>(t.host.c_str())) != 1) {
    co_return Error::Unavailable("TLS: cannot set SNI");
  }
  conn->tls->set_verify_callback(asio::ssl::host_name_verification(t.host), ec);
  auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (hec) co_return MapIoError(hec, t, "TLS handshake with");
  co_return conn;
}

Task<Result<HttpResponse>> HttpClient::Impl::Send(std::shared_ptr<Impl> self, HttpRequest req) {
  auto target = ParseTarget(req.url);
  if (!target) co_return std::move(target).error();
  const Target& t = *target;
  if (req.method.empty() || HasControlChars(req.method) ||
      req.method.find(' ') != std::string::npos) {
    co_return Error::InvalidArgument("invalid HTTP method");
  }

  http::request<http::string_body> msg;
  msg.method_string(req.method);
  msg.target(t.resource);
  msg.version(11);
  for (const auto& [name, value] : req.headers) {
    if (name.empty() || HasControlChars(name) || HasControlChars(value)) {
      co_return Error::InvalidArgument("invalid HTTP header");
    }
    msg.insert(name, value);
  }
  if (!req.headers.Has("Host")) msg.set(http::field::host, t.host_header);
  if (!req.headers.Has("User-Agent")) msg.set(http::field::user_agent, self->opts_.user_agent);
  const bool is_head = req.method == "HEAD";
  msg.body() = std::move(req.body);
  msg.prepare_payload();

  const auto deadline = Clock::now() + req.timeout.value_or(self->opts_.timeout);
  for (int attempt = 0;; ++attempt) {
    auto lease = co_await self->Acquire(t.pool_key, deadline);
    if (!lease) co_return std::move(lease).error();
    if (!lease->conn) {
      auto conn = co_await self->Dial(t, deadline);
      if (!conn) co_return std::move(conn).error();
      lease->conn = std::move(*conn);
    }
    Connection& c = *lease->conn;
    c.Lowest().expires_at(deadline);

    auto [wec, wn] =
        co_await c.Visit([&](auto& s) { return http::async_write(s, msg, kUseTuple); });
    http::response_parser<http::string_body> parser;
    parser.body_limit(self->opts_.max_body_bytes);
    parser.header_limit(kMaxHeaderBytes);
    if (is_head) parser.skip(true);
    boost::system::error_code ec = wec;
    if (!ec) {
      auto [rec, rn] = co_await c.Visit(
          [&](auto& s) { return http::async_read(s, c.buffer, parser, kUseTuple); });
      ec = rec;
    }
    if (ec) {
      const bool closed_early =
          !parser.got_some() &&
          (ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
      if (lease->reused && closed_early && attempt == 0 && IsReplayable(req)) {
        continue;  // the lease drops the dead connection
      }
      co_return MapIoError(ec, t, wec ? "write to" : "read from");
    }

    auto res = parser.release();
    lease->reusable = res.keep_alive() && !res.need_eof();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    co_return out;
  }
}

// ---------------------------------------------------------------------------
// HttpClient

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

HttpClient::~HttpClient() {
  impl_->CloseIdle();
}

Task<Result<HttpResponse>> HttpClient::Send(HttpRequest request) {
  return Impl::Send(impl_, std::move(request));
}

std::size_t HttpClient::IdleConnections() const {
  return impl_->idle_total();
}
std::size_t HttpClient::OpenConnections() const {
  return impl_->open_total();
}

}  // namespace tchat::httpclient
