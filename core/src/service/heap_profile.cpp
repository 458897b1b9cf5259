#include "heap_profile.hpp"

#include <cstdlib>

#ifdef TCHAT_HAVE_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

namespace tchat {

Result<std::string> HeapProfile() {
#ifdef TCHAT_HAVE_TCMALLOC
  if (std::getenv("TCMALLOC_SAMPLE_PARAMETER") == nullptr) {
    return Error::Unavailable(
        "heap sampling is off: start the service with TCMALLOC_SAMPLE_PARAMETER set");
  }
  std::string out;
  MallocExtension::instance()->GetHeapSample(&out);
  return out;
#else
  return Error::Unavailable("this build has no tcmalloc (sanitizer build)");
#endif
}

}  // namespace tchat
