#pragma once

// Direct reads of a service's database, for independent checks of what its API
// did (libpq, written independently of the service's store code).

#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace tchat::e2e {

// A blocking libpq connection for independent checks of the database. Not
// thread-safe.
class SqlProbe {
 public:
  explicit SqlProbe(const std::string& url);
  ~SqlProbe();
  SqlProbe(const SqlProbe&) = delete;
  SqlProbe& operator=(const SqlProbe&) = delete;

  bool ok() const;
  std::string error() const;
  // Rows of text values (nullopt for NULL); an error sets error() and returns {}.
  std::vector<std::vector<std::optional<std::string>>> Query(const std::string& sql);
  // The single value of a one-row, one-column query ("" on error or NULL).
  std::string Scalar(const std::string& sql);

 private:
  pg_conn* conn_ = nullptr;
  std::string last_error_;
};

}  // namespace tchat::e2e
