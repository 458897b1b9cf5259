#pragma once

// The coroutine type every asynchronous operation in Tchat returns. Only the light
// awaitable header is pulled in so that handler files stay free of Beast.
#include <boost/asio/awaitable.hpp>

namespace tchat {

template <typename T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace tchat
