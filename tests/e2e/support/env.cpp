#include "support/env.hpp"

#include <cstdlib>

namespace tchat::e2e {

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw MissingEnv(std::string(name) + " is not set (run the tests through scripts/test.sh)");
  }
  return v;
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

}  // namespace tchat::e2e
