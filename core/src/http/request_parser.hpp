#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>

#include <tchat/core/http/types.hpp>

namespace tchat::http {

// Parses one HTTP/1.x request straight into a Request: method, target, headers
// (names lower-cased) and body, with Beast's parser doing the syntax, the limits
// and the chunked decoding. Nothing goes through Beast's message and fields
// containers, which allocate per field and would be copied into the Request
// anyway. One parser per request; the Request it fills must outlive it. Not
// thread-safe (one connection's coroutine owns both).
class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  // `req` is filled in place; the caller clears it beforehand.
  explicit RequestParser(Request& req) : req_(req) {}

  // The method as Beast knows it (HEAD and GET differ here, unlike for routing).
  boost::beast::http::verb verb() const { return verb_; }
  // 10 or 11.
  unsigned version() const { return version_; }
  // The request carried "Expect: 100-continue".
  bool expects_continue() const { return expect_continue_; }
  // From now on the body goes to `sink` (not owned) instead of Request::body.
  void StreamTo(BodySink* sink) { sink_ = sink; }
  // Why the sink refused a piece of the body (the parse then failed), if it did.
  const std::optional<Error>& sink_error() const { return sink_error_; }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                       boost::beast::string_view target, int version,
                       boost::system::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::system::error_code&) override {}
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::system::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                 boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code&) override {}

  Request& req_;
  boost::beast::http::verb verb_ = boost::beast::http::verb::unknown;
  unsigned version_ = 11;
  bool expect_continue_ = false;
  BodySink* sink_ = nullptr;
  std::optional<Error> sink_error_;

  // Gives a piece of the body to the sink or to Request::body.
  std::size_t TakeBody(boost::beast::string_view body, boost::system::error_code& ec);
};

// Maps Beast's verb to the project's Method.
Method ToMethod(boost::beast::http::verb v);

}  // namespace tchat::http
