#pragma once

// Boost.JSON is the project's one JSON library. This header gathers the pieces
// the code uses so that nobody includes the umbrella <boost/json.hpp>.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <tchat/core/result.hpp>

namespace tchat {

namespace json = boost::json;

// Parses a request body that must be a JSON object. Errors are invalid_argument
// with a message that says what is wrong (never the body itself).
Result<json::object> ParseJsonObject(std::string_view body);

// Typed field access for validation. Each returns invalid_argument naming the
// field when it is present with the wrong type; the Optional* forms return
// std::nullopt when the field is missing or null.
Result<std::string> RequireString(const json::object& o, std::string_view field);
Result<std::optional<std::string>> OptionalString(const json::object& o, std::string_view field);
Result<std::int64_t> RequireInt(const json::object& o, std::string_view field);
Result<std::optional<std::int64_t>> OptionalInt(const json::object& o, std::string_view field);
Result<std::optional<bool>> OptionalBool(const json::object& o, std::string_view field);
// OptionalString with "" for a missing or null field.
Result<std::string> StringOrEmpty(const json::object& o, std::string_view field);

// Lenient access for reading what another service wrote: the string value of
// `field`, or "" when it is missing or not a string. The view lives as long as `o`.
std::string_view StringValue(const json::object& o, std::string_view field);

// Serializes compactly.
std::string ToJson(const json::value& v);

// Appends `s` (UTF-8) as a quoted JSON string, escaped as Boost.JSON's
// serializer does, so that hand-written JSON on hot paths is byte for byte what
// serializing the equivalent value gives.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace tchat
