// tchat-payment: the payment service (SPEC). Wiring only: configuration, clients and
// handlers are composed here and served by the shared App.
#include <tchat/core/service/app.hpp>

int main() {
  return tchat::RunService("payment", 8083,
                           [](tchat::App&) -> tchat::Status { return tchat::Ok(); });
}
