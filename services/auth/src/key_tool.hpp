#pragma once

namespace tchat::auth {

// tchat-auth's command-line key tools (argc > 1):
//   tchat-auth --generate-key      print a new key file for TCHAT_JWT_KEY_FILE
//   tchat-auth --rotate-key FILE   print FILE rotated: a new active key, FILE's
//                                  active key kept as "previous"
//   tchat-auth --jwks FILE         print the public JWKS of a key file
// Prints to stdout; returns the process exit status (2 on bad usage or a bad
// key file, after a message on stderr).
int RunKeyTool(int argc, char** argv);

}  // namespace tchat::auth
