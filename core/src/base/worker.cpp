#include <cstdio>
#include <cstdlib>

#include <tchat/core/worker.hpp>

namespace tchat {

void Worker::MissingComponent(const char* type) {
  std::fprintf(stderr, "worker component %s was never set (wiring bug)\n", type);
  std::abort();
}

}  // namespace tchat
