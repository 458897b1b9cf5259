// tchat-payment: the payment service (SPEC §5). Wiring only: configuration, clients
// and handlers are composed by SetupPaymentService and served by the shared App.
#include <tchat/core/service/app.hpp>

#include "src/setup.hpp"

int main() {
  return tchat::RunService("payment", 8083, tchat::payment::SetupPaymentService);
}
