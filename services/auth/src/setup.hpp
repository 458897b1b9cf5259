#pragma once

#include <tchat/core/result.hpp>

namespace tchat {
class App;
}

namespace tchat::auth {

// Wires the auth service onto `app`: reads Config, loads the signing keys
// (TCHAT_JWT_KEY_FILE, or an ephemeral key with a warning), creates one
// AuthService per worker over the shared AuthDeps, registers the routes, and
// starts worker 0's background loops (the outbox relay and the clean-up of
// ended sessions). Errors name the bad configuration key.
Status Setup(App& app);

}  // namespace tchat::auth
