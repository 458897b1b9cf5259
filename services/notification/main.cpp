// tchat-notification: the notification service (SPEC §6). Wiring only: the
// service is composed by notification::SetUp on the shared App.
#include <tchat/core/service/app.hpp>

#include "src/service.hpp"

int main() {
  return tchat::RunService("notification", 8084, tchat::notification::SetUp);
}
