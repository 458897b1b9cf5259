#include "metrics.hpp"

namespace tchat::payment {

Metrics& Metrics::Get() {
  static Metrics m;
  return m;
}

Metrics::Metrics()
    : transfers_(metrics::Registry::Default().AddCounter(
          "payment_transfers_total", "Transfer attempts by kind and result.", {"kind", "result"})),
      amounts_(metrics::Registry::Default().AddCounter(
          "payment_transfer_amount_minor_total",
          "Amount moved by completed transfers, in the currency's minor units.", {"currency"})),
      replays_(metrics::Registry::Default()
                   .AddCounter("payment_idempotent_replays_total",
                               "Requests answered from a stored Idempotency-Key.")
                   .With(std::vector<std::string>{})),
      rejections_(metrics::Registry::Default().AddCounter(
          "payment_webhook_rejections_total", "Payment-provider webhooks refused, by reason.",
          {"reason"})),
      events_(metrics::Registry::Default().AddCounter(
          "payment_webhook_events_total", "Accepted payment-provider webhooks by type and outcome.",
          {"type", "outcome"})),
      batch_size_(metrics::Registry::Default()
                      .AddHistogram("payment_transfer_batch_size",
                                    "Transfers posted per database transaction.", {},
                                    {1, 2, 4, 8, 16, 32, 64, 128, 256})
                      .With(std::vector<std::string>{})),
      rate_limited_(metrics::Registry::Default().AddCounter(
          "payment_rate_limited_total",
          "Money requests refused (429) by the per-user rate limit, by route.", {"route"})),
      rate_limit_errors_(
          metrics::Registry::Default()
              .AddCounter("payment_rate_limit_errors_total",
                          "Money requests admitted without a rate-limit check because Redis "
                          "failed (the limiter fails open).")
              .With(std::vector<std::string>{})) {
  auto& lookups = metrics::Registry::Default().AddCounter(
      "payment_user_lookups_total",
      "Counterparty checks against the auth service, by result (cached, found, not_found, "
      "refused, unavailable).",
      {"result"});
  const std::array<std::string_view, 5> names{"cached", "found", "not_found", "refused",
                                              "unavailable"};  // in Lookup's order
  for (std::size_t i = 0; i < names.size(); ++i) user_lookups_[i] = &lookups.With({names[i]});
}

void Metrics::Transfer(std::string_view kind, std::string_view result) {
  transfers_.With({kind, result}).Inc();
}

void Metrics::Amount(std::string_view currency, std::int64_t minor_units) {
  amounts_.With({currency}).Inc(static_cast<double>(minor_units));
}

metrics::Counter& Metrics::RateLimited(std::string_view route) {
  return rate_limited_.With({route});
}

void Metrics::WebhookRejected(std::string_view reason) {
  rejections_.With({reason}).Inc();
}

void Metrics::WebhookEvent(std::string_view type, std::string_view outcome) {
  events_.With({type, outcome}).Inc();
}

}  // namespace tchat::payment
