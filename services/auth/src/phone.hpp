#pragma once

#include <string>
#include <string_view>

#include <tchat/core/result.hpp>

namespace tchat::auth {

// A mobile number of a supported country, normalised.
struct PhoneNumber {
  std::string e164;    // "+66812345678"
  std::string region;  // ISO 3166 alpha-2 of the number: "TH"
};

// The countries where Tchat signs people in: TH, SG, ID, MY, PH, VN.
bool IsSupportedCountry(std::string_view region);

// Parses a number typed by a person and normalises it to E.164 with
// libphonenumber. International format ("+66 81 234 5678") is always accepted;
// national format ("081-234-5678") needs `country` (one of the supported
// countries, case-insensitive; empty when not given). Errors are
// kInvalidArgument with a message saying why: malformed, not a valid number,
// not a mobile number, or a country Tchat does not serve. The message never
// repeats the number. Thread-safe.
Result<PhoneNumber> NormalizePhone(std::string_view input, std::string_view country);

// For logs: keeps the country code and the last two digits ("+66*******78").
std::string MaskPhone(std::string_view e164);

}  // namespace tchat::auth
