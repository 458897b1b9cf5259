#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tchat::notification {

// The languages notifications are written in (docs/api/openapi.yaml, notification).
enum class Locale { kEn, kTh, kId, kMs, kFil, kVi };

// "th", "th-TH", "th_TH", "TH" → kTh; "tl"/"tl-PH" → kFil; "in" → kId (legacy code).
// nullopt for anything else (callers fall back to English or refuse the input).
std::optional<Locale> ParseLocale(std::string_view tag);
// The canonical code: "en", "th", "id", "ms", "fil", "vi".
std::string_view LocaleCode(Locale locale);
// A guess from an E.164 number's country code (+66 → th, +62 → id, +60 → ms,
// +63 → fil, +84 → vi), English otherwise.
Locale LocaleForPhone(std::string_view e164);

// Every user-visible string. Placeholders in braces: {n}, {name}, {amount},
// {code}, {minutes}.
enum class Text {
  kNewMessageTitle,   // "New message"
  kNewMessagesTitle,  // "{n} new messages"
  kHiddenBody,        // "Open Tchat to read"
  kPhoto,
  kFile,
  kPayment,
  kPaymentReceivedTitle,
  kPaymentReceivedBody,       // "You received {amount}"
  kPaymentReceivedBodyNamed,  // "{name} sent you {amount}"
  kPaymentSentTitle,
  kPaymentSentBody,  // "You sent {amount}"
  kRequestCreatedTitle,
  kRequestCreatedBody,  // "You were asked to pay {amount}"
  kRequestPaidTitle,
  kRequestPaidBody,
  kRequestDeclinedTitle,
  kRequestDeclinedBody,
  kRequestCancelledTitle,
  kRequestCancelledBody,
  kTopupSucceededTitle,
  kTopupSucceededBody,
  kTopupFailedTitle,
  kTopupFailedBody,
  kPaymentUpdateTitle,
  kPaymentUpdateBody,  // "{amount}"
  kOtpSms,             // "Your Tchat code is {code}. It expires in {minutes} minutes..."
  kOtpPasswordSms,     // "Your Tchat code to change your password is {code}. ..."
  kPasswordChangedTitle,
  kPasswordChangedBody,  // "Your password was changed; your other devices were signed out..."
  kPasswordResetBody,
  kPasswordRemovedBody,  // "Your password was removed; ... other devices were signed out."
  kCount_,
};

using TextArgs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// The text in `locale` with its placeholders replaced. Unknown placeholders stay
// as written. Pure; thread-safe.
std::string Localize(Locale locale, Text text, TextArgs args = {});

// "1,234.50 THB" from minor units and an ISO 4217 code (VND has no minor unit,
// the other supported currencies two; unknown codes are shown with two).
std::string FormatAmount(std::int64_t minor_units, std::string_view currency);

// At most `max_chars` UTF-8 characters of `s` (never cutting a character), with
// "…" appended when shortened. Invalid UTF-8 bytes are dropped.
std::string TruncateUtf8(std::string_view s, std::size_t max_chars);

}  // namespace tchat::notification
