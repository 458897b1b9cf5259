// tchat-messaging: the messaging service (SPEC). Wiring only: configuration, clients and
// handlers are composed here and served by the shared App.
#include <tchat/core/service/app.hpp>

int main() {
  return tchat::RunService("messaging", 8082,
                           [](tchat::App&) -> tchat::Status { return tchat::Ok(); });
}
