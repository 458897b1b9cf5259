// tchat-payment: the payment service. Wiring lives in src/setup.cpp.
#include <tchat/core/service/app.hpp>

#include "src/setup.hpp"

int main() {
  return tchat::RunService("payment", 8083, tchat::payment::Setup);
}
