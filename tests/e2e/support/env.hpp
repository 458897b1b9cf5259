#pragma once

// The environment of the end-to-end tests, read in this one place. scripts/test.sh
// sets every variable; a test that needs one that is unset fails (never skips).
//
//   TCHAT_TEST_AUTH_URL              tchat-auth (dev OTP on: codes come back as dev_code)
//   TCHAT_TEST_AUTH_LOG              tchat-auth's log file
//   TCHAT_TEST_MESSAGING_URL         tchat-messaging
//   TCHAT_TEST_PAYMENT_URL           tchat-payment
//   TCHAT_TEST_NOTIFICATION_URL      tchat-notification
//   TCHAT_TEST_NOTIFICATION_SINK     host:port where the notification tests' sink listens
//   TCHAT_TEST_JWT_KEY_FILE          signing key file of tchat-keygen (tokens are minted)
//   TCHAT_TEST_ADMIN_TOKEN           the services' TCHAT_ADMIN_TOKEN
//   TCHAT_TEST_PSP_WEBHOOK_SECRET    tchat-payment's TCHAT_PSP_WEBHOOK_SECRET
//   TCHAT_TEST_PAYMENT_DATABASE_URL  tchat-payment's DATABASE_URL (independent SQL checks)
//   TCHAT_TEST_MESSAGING_DATABASE_URL  a migrated tchat_messaging database
//   TCHAT_TEST_PAYMENT_BIN, TCHAT_TEST_MESSAGING_BIN  service binaries tests start themselves
//   TCHAT_TEST_REDIS_URL             the stack's Redis
//   TCHAT_TEST_PG_URL                an administrative PostgreSQL database
//   TCHAT_TEST_REDIS_SERVER_BIN      optional: redis-server (default: from PATH)
//   TCHAT_TEST_REPLICA_LOG_LEVEL     optional: LOG_LEVEL of replicas tests start (default warn)
//   TCHAT_CONTRACT_RECORD            optional: every exchange of the client library is
//                                    appended there (tchat::httpclient::ExchangeRecorder)

#include <stdexcept>
#include <string>

namespace tchat::e2e {

// Thrown by RequireEnv: escaping a test (or its SetUp) it fails the test with the message.
class MissingEnv : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The value of `name`; throws MissingEnv naming the variable when it is unset or empty.
std::string RequireEnv(const char* name);
// The value of `name`, or `fallback` when it is unset or empty.
std::string EnvOr(const char* name, std::string fallback = {});

}  // namespace tchat::e2e
