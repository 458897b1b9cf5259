#pragma once

#include <string>

#include <tchat/core/result.hpp>

namespace tchat {

// The current tcmalloc heap sample in the legacy text format that pprof reads.
// Unavailable in builds without tcmalloc (sanitizers) or when sampling is off
// (TCMALLOC_SAMPLE_PARAMETER unset).
Result<std::string> HeapProfile();

}  // namespace tchat
