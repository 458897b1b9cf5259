#pragma once

#include <string>
#include <string_view>

// The language of the texts sent to people (the notification service words the
// sign-in SMS) among the supported locales: en, th, id, ms, fil, vi.
namespace tchat::auth {

// The usual language of a supported country: TH→th, ID→id, MY→ms, PH→fil,
// VN→vi, SG and anything else→en.
std::string_view DefaultLocaleForRegion(std::string_view region);

// Picks the SMS locale: `requested` when supported, else the first supported
// language of an Accept-Language header ("th-TH,th;q=0.9,en;q=0.8"; "tl" counts
// as fil), else the region's default.
std::string PickLocale(std::string_view requested, std::string_view accept_language,
                       std::string_view region);

}  // namespace tchat::auth
