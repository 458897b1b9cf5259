#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tchat::payment {

// One supported currency (docs/api/openapi.yaml, payment): its ISO 4217 code and minor units, the
// top-up methods of its region (lower case, as clients send them) and the default daily and monthly
// outgoing limits in major units. Static data; any thread may read it.
struct CurrencyInfo {
  std::string_view code;
  int minor_units;
  std::span<const std::string_view> methods;
  std::int64_t default_daily_major;
  std::int64_t default_monthly_major;
};

// THB, SGD, IDR, MYR, PHP, VND, USD in that order.
std::span<const CurrencyInfo> Currencies();
// The currency with exactly this upper-case code, or null.
const CurrencyInfo* FindCurrency(std::string_view code);
// Whether `method` is a top-up/withdrawal method of the currency's region.
bool IsRegionalMethod(const CurrencyInfo& currency, std::string_view method);

// Overflow-checked int64 arithmetic: nullopt instead of undefined behaviour.
std::optional<std::int64_t> CheckedAdd(std::int64_t a, std::int64_t b);
std::optional<std::int64_t> CheckedMul(std::int64_t a, std::int64_t b);
// `major` units in minor units (e.g. 100 THB → 10000); nullopt on overflow or a
// negative amount.
std::optional<std::int64_t> MajorToMinor(std::int64_t major, int minor_units);

}  // namespace tchat::payment
