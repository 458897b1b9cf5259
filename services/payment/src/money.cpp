#include "money.hpp"

#include <array>

namespace tchat::payment {
namespace {

constexpr std::array<std::string_view, 2> kThb{"promptpay", "truemoney"};
constexpr std::array<std::string_view, 2> kSgd{"paynow", "grabpay"};
constexpr std::array<std::string_view, 4> kIdr{"qris", "gopay", "ovo", "dana"};
constexpr std::array<std::string_view, 2> kMyr{"duitnow", "touchngo"};
constexpr std::array<std::string_view, 2> kPhp{"gcash", "maya"};
constexpr std::array<std::string_view, 3> kVnd{"vietqr", "momo", "zalopay"};
// USD is not tied to one country of the region: card payments.
constexpr std::array<std::string_view, 1> kUsd{"card"};

// Minor units from ISO 4217; limits from docs/api/openapi.yaml, payment.
constexpr std::array<CurrencyInfo, 7> kCurrencies{{
    {"THB", 2, kThb, 100'000, 3'000'000},
    {"SGD", 2, kSgd, 5'000, 150'000},
    {"IDR", 2, kIdr, 15'000'000, 450'000'000},
    {"MYR", 2, kMyr, 20'000, 600'000},
    {"PHP", 2, kPhp, 250'000, 7'500'000},
    {"VND", 0, kVnd, 230'000'000, 6'900'000'000},
    {"USD", 2, kUsd, 3'000, 90'000},
}};

}  // namespace

std::span<const CurrencyInfo> Currencies() {
  return kCurrencies;
}

const CurrencyInfo* FindCurrency(std::string_view code) {
  for (const auto& c : kCurrencies) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

bool IsRegionalMethod(const CurrencyInfo& currency, std::string_view method) {
  for (auto m : currency.methods) {
    if (m == method) return true;
  }
  return false;
}

std::optional<std::int64_t> CheckedAdd(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<std::int64_t> CheckedMul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<std::int64_t> MajorToMinor(std::int64_t major, int minor_units) {
  if (major < 0 || minor_units < 0) return std::nullopt;
  std::int64_t v = major;
  for (int i = 0; i < minor_units; ++i) {
    auto next = CheckedMul(v, 10);
    if (!next) return std::nullopt;
    v = *next;
  }
  return v;
}

}  // namespace tchat::payment
