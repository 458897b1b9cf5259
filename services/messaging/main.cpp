// tchat-messaging: the messaging service. Wiring lives in src/setup.cpp.
#include <tchat/core/service/app.hpp>

#include "src/setup.hpp"

int main() {
  return tchat::RunService("messaging", 8082, tchat::messaging::Setup);
}
