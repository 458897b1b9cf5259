#include "key_tool.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "signing_keys.hpp"

namespace tchat::auth {

int RunKeyTool(int argc, char** argv) {
  const std::string cmd = argv[1];
  if (cmd == "--generate-key" && argc == 2) {
    std::fputs(NewKeyFileJson(std::nullopt).c_str(), stdout);
    return 0;
  }
  if ((cmd == "--rotate-key" || cmd == "--jwks") && argc == 3) {
    auto file = LoadKeyFile(argv[2]);
    if (!file) {
      std::fprintf(stderr, "tchat-auth: %s\n", file.error().message.c_str());
      return 2;
    }
    if (cmd == "--rotate-key") {
      std::fputs(NewKeyFileJson(file->active).c_str(), stdout);
    } else {
      SigningKeys keys(std::move(*file));
      std::printf("%s\n", keys.jwks().c_str());
    }
    return 0;
  }
  std::fprintf(stderr,
               "usage: tchat-auth                    serve (configured by the environment)\n"
               "       tchat-auth --generate-key     print a new key file (TCHAT_JWT_KEY_FILE)\n"
               "       tchat-auth --rotate-key FILE  print FILE with a new active key\n"
               "       tchat-auth --jwks FILE        print the public JWKS of a key file\n");
  return cmd == "--help" || cmd == "-h" ? 0 : 2;
}

}  // namespace tchat::auth
