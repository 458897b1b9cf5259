#pragma once

// Private to the HTTP server (server.cpp, server_websocket.cpp, response_head.cpp).
#include <chrono>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace tchat::http {

// The socket of one HTTP connection and its deadline. Beast's tcp_stream arms and
// cancels a timer around every read and write, which costs two timer-queue
// operations and one extra completion per request; here one timer per connection
// watches a deadline that each operation only moves. The timer fires at the
// deadline it last saw: if the deadline moved later it sleeps again, otherwise the
// socket is closed and the pending operation fails. Shared with the timer's
// handler, which may outlive the session by one cancelled wait.
struct ConnIo : std::enable_shared_from_this<ConnIo> {
  using Clock = std::chrono::steady_clock;

  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;
  Clock::time_point deadline = Clock::time_point::max();  // max: no operation running
  Clock::time_point armed = Clock::time_point::max();     // the timer's expiry
  Clock::duration recheck{};                              // sleep while no operation runs
  bool done = false;

  ConnIo(boost::asio::ip::tcp::socket s, Clock::duration recheck_every)
      : socket(std::move(s)), timer(socket.get_executor()), recheck(recheck_every) {}

  // The next operation must finish within `d` (from `now`, when the caller has
  // just read the clock).
  void Expire(std::chrono::milliseconds d) { Expire(Clock::now(), d); }
  void Expire(Clock::time_point now, std::chrono::milliseconds d) {
    deadline = now + d;
    if (deadline < armed) Arm(deadline);
  }
  // No deadline until the next Expire (a handler is running).
  void Pause() { deadline = Clock::time_point::max(); }
  // The session is over (or the socket moved to a WebSocket): stop watching.
  void Stop() {
    done = true;
    timer.cancel();
  }

 private:
  void Arm(Clock::time_point at) {
    armed = at;
    timer.expires_at(at);
    timer.async_wait([self = shared_from_this(), at](const boost::system::error_code& ec) {
      if (ec || self->done || self->armed != at) return;  // cancelled or re-armed since
      self->Fire();
    });
  }
  void Fire() {
    const auto now = Clock::now();
    if (deadline == Clock::time_point::max()) {
      Arm(now + recheck);
    } else if (deadline > now) {
      Arm(deadline);
    } else {
      armed = Clock::time_point::max();
      boost::system::error_code ignored;
      socket.close(ignored);  // the pending read or write fails: the session ends
    }
  }
};

}  // namespace tchat::http
