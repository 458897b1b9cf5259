// Small helpers of tchat-msg-loadgen (loadgen.cpp); its options: loadgen_options.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <tchat/client/api_client.hpp>
#include <tchat/core/task.hpp>

namespace tchat::msgload {

bool StartsWith(std::string_view s, std::string_view p);

// The send timestamp (µs) that a message frame's body starts with; -1 without one.
std::int64_t BodyStamp(std::string_view frame);

// The resident memory of process `pid` (KiB), -1 if unknown.
long RssKiB(int pid);

// The p-quantile (0..1) of `v` (µs) in ms; reorders v.
double Percentile(std::vector<std::int64_t>& v, double p);

// Runs `make(i)` for i in [0, n) with at most `parallel` in flight on `io`; blocks
// until all are done (the io_context must be running on another thread); dies
// naming `what` if any failed.
void ForEachParallel(boost::asio::io_context& io, int n, int parallel,
                     std::function<Task<bool>(client::ApiClient&, int)> make,
                     const std::string& url, const char* what);

}  // namespace tchat::msgload
