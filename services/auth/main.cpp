// tchat-auth: the auth service. Wiring lives in src/setup.cpp; with arguments
// it runs the key tools of src/key_tool.hpp (--generate-key, --rotate-key, --jwks).
#include <tchat/core/service/app.hpp>

#include "src/key_tool.hpp"
#include "src/setup.hpp"

int main(int argc, char** argv) {
  if (argc > 1) return tchat::auth::RunKeyTool(argc, argv);
  return tchat::RunService("auth", 8081, tchat::auth::Setup);
}
