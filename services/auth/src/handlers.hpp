#pragma once

#include <memory>

#include <tchat/core/http/router.hpp>

#include "service.hpp"

namespace tchat::auth {

// Adds every auth route of docs/api/openapi.yaml, auth to `router`:
//   POST /v1/auth/otp/request, POST /v1/auth/otp/verify, POST /v1/auth/login,
//   POST /v1/auth/refresh, GET /.well-known/jwks.json        (public)
//   PUT /v1/auth/password, POST /v1/auth/logout, GET /v1/auth/sessions,
//   DELETE /v1/auth/sessions/{id}, GET|PATCH /v1/users/me, GET /v1/users/{id},
//   GET /v1/users?phone=                                      (bearer token)
// Handlers run on the worker serving the request and use that worker's
// AuthService (Worker::Get<AuthService>()). Authenticated routes verify the
// token with the shared verifier over auth's own keys and refuse revoked
// sessions, so they do not depend on JWKS_URL/JWKS_FILE being configured.
void RegisterRoutes(http::Router& router, const AuthDeps& deps);

}  // namespace tchat::auth
