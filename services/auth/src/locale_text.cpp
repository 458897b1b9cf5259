#include "locale_text.hpp"

#include <cctype>
#include <cstdlib>

#include "validation.hpp"

namespace tchat::auth {

std::string_view DefaultLocaleForRegion(std::string_view region) {
  if (region == "TH") return "th";
  if (region == "ID") return "id";
  if (region == "MY") return "ms";
  if (region == "PH") return "fil";
  if (region == "VN") return "vi";
  return "en";
}

namespace {

// "th-TH" → "th", "tl" → "fil", "EN_us" → "en".
std::string LanguageOf(std::string_view tag) {
  std::string lang;
  for (char c : tag) {
    if (c == '-' || c == '_') break;
    lang += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lang == "tl") lang = "fil";
  if (lang == "in") lang = "id";  // legacy code of Indonesian
  return lang;
}

}  // namespace

std::string PickLocale(std::string_view requested, std::string_view accept_language,
                       std::string_view region) {
  if (IsSupportedLocale(requested)) return std::string(requested);
  // Take the first supported entry with a non-zero weight, in header order
  // (browsers list languages by preference already).
  std::string_view rest = accept_language;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto semi = item.find(';');
    std::string_view tag = item.substr(0, semi);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (semi != std::string_view::npos) {
      const std::string_view params = item.substr(semi + 1);
      const auto q = params.find("q=");
      if (q != std::string_view::npos &&
          std::strtod(std::string(params.substr(q + 2)).c_str(), nullptr) <= 0.0) {
        continue;  // q=0: explicitly not wanted
      }
    }
    std::string lang = LanguageOf(tag);
    if (IsSupportedLocale(lang)) return lang;
  }
  return std::string(DefaultLocaleForRegion(region));
}

}  // namespace tchat::auth
