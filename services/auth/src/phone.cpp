#include "phone.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace tchat::auth {

namespace {

using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::array<std::string_view, 6> kSupported = {"TH", "SG", "ID", "MY", "PH", "VN"};
constexpr std::size_t kMaxInput = 32;

const PhoneNumberUtil& Util() {
  static const PhoneNumberUtil* util = [] {
    PhoneNumberUtil* u = PhoneNumberUtil::GetInstance();
    // The library must never write numbers anywhere (it owns the logger).
    u->SetLogger(new i18n::phonenumbers::NullLogger());
    return u;
  }();
  return *util;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool IsSupportedCountry(std::string_view region) {
  return std::find(kSupported.begin(), kSupported.end(), region) != kSupported.end();
}

Result<PhoneNumber> NormalizePhone(std::string_view input, std::string_view country) {
  if (input.empty()) return Error::InvalidArgument("phone is required");
  if (input.size() > kMaxInput) return Error::InvalidArgument("phone is too long");
  // Only what people type in numbers: digits, a leading '+', spaces and the
  // usual separators. No letters (vanity numbers), no extensions.
  int digits = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '+') {
      if (i != 0) return Error::InvalidArgument("phone may only have '+' at the start");
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return Error::InvalidArgument(
          "phone may only contain digits, '+', spaces, '-', '.' and parentheses");
    }
  }
  if (digits < 6) return Error::InvalidArgument("phone has too few digits");

  const bool international = input.front() == '+';
  std::string region = Upper(country);
  if (!region.empty() && !IsSupportedCountry(region)) {
    return Error::InvalidArgument(
        "country must be one of TH, SG, ID, MY, PH, VN (Tchat is not available in " + region + ")");
  }
  if (!international && region.empty()) {
    return Error::InvalidArgument(
        "phone must be in international format (+country code) or come with a country");
  }

  const PhoneNumberUtil& util = Util();
  i18n::phonenumbers::PhoneNumber parsed;
  const auto err = util.Parse(std::string(input), international ? "ZZ" : region, &parsed);
  if (err != PhoneNumberUtil::NO_PARSING_ERROR) {
    switch (err) {
      case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        return Error::InvalidArgument("phone has an unknown country calling code");
      case PhoneNumberUtil::TOO_SHORT_NSN:
      case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
        return Error::InvalidArgument("phone is too short");
      case PhoneNumberUtil::TOO_LONG_NSN:
        return Error::InvalidArgument("phone is too long");
      default:
        return Error::InvalidArgument("phone is not a phone number");
    }
  }
  if (parsed.has_extension()) return Error::InvalidArgument("phone must not have an extension");

  std::string number_region;
  util.GetRegionCodeForNumber(parsed, &number_region);
  if (!util.IsValidNumber(parsed)) {
    return Error::InvalidArgument(
        "phone is not a valid number" +
        (number_region.empty() || number_region == "ZZ" ? std::string() : " for " + number_region));
  }
  if (!IsSupportedCountry(number_region)) {
    return Error::InvalidArgument("phone numbers of " + number_region +
                                  " are not supported (Tchat serves TH, SG, ID, MY, PH, VN)");
  }
  const auto type = util.GetNumberType(parsed);
  if (type != PhoneNumberUtil::MOBILE && type != PhoneNumberUtil::FIXED_LINE_OR_MOBILE) {
    return Error::InvalidArgument("phone must be a mobile number (sign-in codes are sent by SMS)");
  }
  PhoneNumber out;
  util.Format(parsed, PhoneNumberUtil::E164, &out.e164);
  out.region = std::move(number_region);
  return out;
}

std::string MaskPhone(std::string_view e164) {
  if (e164.size() < 6) return std::string(e164.size(), '*');
  // "+66" country codes are 1-3 digits; show at most the first three characters.
  std::string out(e164.substr(0, 3));
  out.append(e164.size() - 5, '*');
  out.append(e164.substr(e164.size() - 2));
  return out;
}

}  // namespace tchat::auth
