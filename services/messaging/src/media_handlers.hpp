#pragma once

#include <tchat/core/http/router.hpp>

namespace tchat::messaging {

struct Config;

// POST /v1/media (streamed upload), GET /v1/media/{id} (the media object with
// signed URLs), GET /media/{id}/{variant} (a signed URL: the gateway serves the
// file it names).
void RegisterMediaRoutes(http::Router& router, const Config& config);

}  // namespace tchat::messaging
