// tchat-notification: the notification service. Wiring lives in src/setup.cpp.
#include <tchat/core/service/app.hpp>

#include "src/setup.hpp"

int main() {
  return tchat::RunService("notification", 8084, tchat::notification::Setup);
}
