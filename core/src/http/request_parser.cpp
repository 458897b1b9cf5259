#include "request_parser.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace tchat::http {

namespace bhttp = boost::beast::http;

Method ToMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

void RequestParser::on_request_impl(bhttp::verb method, boost::beast::string_view,
                                    boost::beast::string_view target, int version,
                                    boost::system::error_code&) {
  verb_ = method;
  version_ = static_cast<unsigned>(version);
  req_.method = ToMethod(method);
  req_.target.assign(target);
}

void RequestParser::on_field_impl(bhttp::field name, boost::beast::string_view name_string,
                                  boost::beast::string_view value, boost::system::error_code&) {
  if (name == bhttp::field::expect && boost::beast::iequals(value, "100-continue")) {
    expect_continue_ = true;
  }
  auto& [k, v] = req_.headers.emplace_back();
  k.resize(name_string.size());
  for (std::size_t i = 0; i < name_string.size(); ++i) {
    const char c = name_string[i];
    k[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  v.assign(value);
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      boost::system::error_code& ec) {
  // basic_parser has already refused a length above the body limit.
  if (content_length && sink_ == nullptr) {
    if (*content_length > req_.body.max_size()) {
      ec = bhttp::error::buffer_overflow;
      return;
    }
    req_.body.reserve(static_cast<std::size_t>(*content_length));
  }
}

std::size_t RequestParser::TakeBody(boost::beast::string_view body, boost::system::error_code& ec) {
  if (sink_ == nullptr) {
    req_.body.append(body);
    return body.size();
  }
  auto st = sink_->Write(std::string_view(body.data(), body.size()));
  if (!st) {
    sink_error_ = std::move(st).error();
    ec = boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
    return 0;
  }
  return body.size();
}

std::size_t RequestParser::on_body_impl(boost::beast::string_view body,
                                        boost::system::error_code& ec) {
  return TakeBody(body, ec);
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                              boost::system::error_code& ec) {
  return TakeBody(body, ec);
}

}  // namespace tchat::http
