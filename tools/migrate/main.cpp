// tchat-migrate: golang-migrate compatible migrations for PostgreSQL (see cli.hpp).

#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tchat::migrate::RunCli(args, std::cout, std::cerr, std::cin,
                                tchat::migrate::PostgresDriverFactory());
}
