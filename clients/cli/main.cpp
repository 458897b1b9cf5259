// tchat-cli: a small command-line client of the Tchat API (docs/api/openapi.yaml).
//
//   tchat-cli [--url URL] [--token-file FILE] login --phone +66812345678 [--code 123456]
//   tchat-cli ... login --phone P --password SECRET
//   tchat-cli ... token --key-file KEYS --user USER_ID      (development: mint a token)
//   tchat-cli ... conversations
//   tchat-cli ... direct USER_ID
//   tchat-cli ... group TITLE [USER_ID...]
//   tchat-cli ... send CONVERSATION_ID TEXT...
//   tchat-cli ... send-file CONVERSATION_ID PATH [--caption TEXT] [--voice]
//   tchat-cli ... history CONVERSATION_ID [LIMIT]
//   tchat-cli ... listen                                    (prints events until Ctrl-C)
//
// URL defaults to $TCHAT_URL or http://127.0.0.1:8080 (the gateway); the token is
// kept in FILE ($TCHAT_TOKEN_FILE or ~/.tchat-token, mode 0600).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <tchat/client/blocking.hpp>
#include <tchat/client/token_minter.hpp>
#include <tchat/core/uuid.hpp>

namespace {

using tchat::client::ApiResponse;
using tchat::client::BlockingApi;
using tchat::client::BlockingWs;

volatile std::sig_atomic_t g_stop = 0;

int Usage() {
  std::fprintf(
      stderr,
      "usage: tchat-cli [--url URL] [--token-file FILE] COMMAND ...\n"
      "commands: login --phone P [--code C | --password X] | token --key-file K --user U |\n"
      "          conversations | direct USER | group TITLE [USER...] |\n"
      "          send CONVERSATION TEXT... | send-file CONVERSATION PATH [--caption T] [--voice] "
      "|\n"
      "          history CONVERSATION [LIMIT] | listen\n");
  return 2;
}

std::string Env(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool SaveToken(const std::string& path, const std::string& token) {
  {
    std::ofstream out(path, std::ios::trunc);
    if (!out) return false;
    out << token << '\n';
  }
  return ::chmod(path.c_str(), 0600) == 0;
}

int Print(const ApiResponse& r) {
  if (r.status == 0) {
    std::fprintf(stderr, "error: %s\n", r.raw.c_str());
    return 1;
  }
  std::printf("%s\n", r.raw.empty() ? std::to_string(r.status).c_str() : r.raw.c_str());
  return r.ok() ? 0 : 1;
}

std::string Flag(std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) {
      std::string v = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      return v;
    }
  }
  return {};
}

std::string NewClientMsgId() {
  return "cli-" + tchat::NewUuidV7();
}

// login --phone P [--code C | --password X]: without a code or password, asks
// for an OTP; otherwise signs in and saves the token.
int Login(BlockingApi& api, std::vector<std::string>& args, const std::string& token_file) {
  const std::string phone = Flag(args, "--phone");
  const std::string code = Flag(args, "--code");
  const std::string password = Flag(args, "--password");
  if (phone.empty()) return Usage();
  ApiResponse r;
  if (!password.empty()) {
    r = api.Run(api.async().Login(phone, password));
  } else if (!code.empty()) {
    r = api.Run(api.async().VerifyOtp(phone, code));
  } else {
    r = api.Run(api.async().RequestOtp(phone));
    int rc = Print(r);
    if (rc == 0)
      std::fprintf(stderr, "now run: tchat-cli login --phone %s --code CODE\n", phone.c_str());
    return rc;
  }
  if (!r.ok()) return Print(r);
  if (!SaveToken(token_file, api.async().access_token())) {
    std::fprintf(stderr, "cannot write %s\n", token_file.c_str());
    return 1;
  }
  std::fprintf(stderr, "signed in; token saved to %s\n", token_file.c_str());
  return 0;
}

// token --key-file K --user U: mints a development token and saves it.
int MintToken(std::vector<std::string>& args, const std::string& token_file) {
  const std::string key_file = Flag(args, "--key-file");
  const std::string user = Flag(args, "--user");
  if (key_file.empty() || user.empty()) return Usage();
  auto minter = tchat::client::TokenMinter::FromKeyFile(key_file);
  if (!minter) {
    std::fprintf(stderr, "%s\n", minter.error().message.c_str());
    return 1;
  }
  const std::string token = minter->Mint(user, std::chrono::hours(12));
  if (!SaveToken(token_file, token)) return 1;
  std::printf("%s\n", token.c_str());
  return 0;
}

// listen: prints the WebSocket's events until Ctrl-C, pinging every 30 s.
int Listen(boost::asio::io_context& io, const std::string& url, const std::string& token) {
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  BlockingWs ws(io);
  auto st = ws.Connect(url, token);
  if (!st) {
    std::fprintf(stderr, "cannot connect: %s\n", st.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "listening (Ctrl-C to stop)\n");
  auto last_ping = std::chrono::steady_clock::now();
  while (!g_stop && !ws.closed()) {
    if (auto ev = ws.Next(std::chrono::milliseconds(500))) {
      std::printf("%s\n", tchat::ToJson(*ev).c_str());
      std::fflush(stdout);
    }
    if (std::chrono::steady_clock::now() - last_ping > std::chrono::seconds(30)) {
      (void)ws.Send(tchat::client::WsClient::PingFrame());
      last_ping = std::chrono::steady_clock::now();
    }
  }
  if (!ws.closed()) ws.Close();
  return 0;
}

// send-file CONVERSATION PATH [--caption TEXT] [--voice]: uploads the file (its
// kind is what the service finds in the bytes: photo, video, or file; a voice
// note with --voice) and sends it as a message. Prints the message.
int SendFile(BlockingApi& api, std::vector<std::string> args) {
  const std::string caption = Flag(args, "--caption");
  const auto before = args.size();
  std::erase(args, std::string("--voice"));
  const bool voice = args.size() != before;
  if (args.size() != 2) return Usage();
  std::ifstream in(args[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", args[1].c_str());
    return 1;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string name = std::filesystem::path(args[1]).filename().string();
  ApiResponse up = api.Run(api.async().UploadMedia(bytes, voice ? std::string() : name, voice));
  if (!up.ok()) return Print(up);
  const tchat::json::object& media = up.object();
  const tchat::json::value* id = media.if_contains("id");
  const tchat::json::value* kind = media.if_contains("kind");
  if (id == nullptr || !id->is_string() || kind == nullptr || !kind->is_string()) return Print(up);
  const std::string type = voice ? "voice" : std::string(kind->get_string());
  return Print(api.Run(api.async().SendAttachment(args[0], NewClientMsgId(), type,
                                                  std::string(id->get_string()), caption)));
}

// The commands that need a saved token.
int RunSignedIn(boost::asio::io_context& io, BlockingApi& api, const std::string& url,
                const std::string& cmd, const std::vector<std::string>& args) {
  if (cmd == "conversations") return Print(api.Run(api.async().ListConversations(50)));
  if (cmd == "direct" && args.size() == 1) return Print(api.Run(api.async().CreateDirect(args[0])));
  if (cmd == "group" && !args.empty()) {
    std::vector<std::string> members(args.begin() + 1, args.end());
    return Print(api.Run(api.async().CreateGroup(args[0], members)));
  }
  if (cmd == "send" && args.size() >= 2) {
    std::string text;
    for (std::size_t i = 1; i < args.size(); ++i) text += (i > 1 ? " " : "") + args[i];
    return Print(api.Run(api.async().SendText(args[0], NewClientMsgId(), text)));
  }
  if (cmd == "send-file") return SendFile(api, args);
  if (cmd == "history" && !args.empty()) {
    const int limit = args.size() > 1 ? std::atoi(args[1].c_str()) : 50;
    return Print(api.Run(api.async().History(args[0], std::nullopt, std::nullopt, limit)));
  }
  if (cmd == "listen") return Listen(io, url, api.async().access_token());
  return Usage();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string url = Flag(args, "--url");
  if (url.empty()) url = Env("TCHAT_URL", "http://127.0.0.1:8080");
  std::string token_file = Flag(args, "--token-file");
  if (token_file.empty()) {
    token_file = Env("TCHAT_TOKEN_FILE", Env("HOME", ".") + "/.tchat-token");
  }
  if (args.empty()) return Usage();
  const std::string cmd = args.front();
  args.erase(args.begin());

  boost::asio::io_context io;
  BlockingApi api(io, url, cmd == "login" || cmd == "token" ? "" : ReadFile(token_file));
  if (cmd == "login") return Login(api, args, token_file);
  if (cmd == "token") return MintToken(args, token_file);
  if (api.async().access_token().empty()) {
    std::fprintf(stderr, "not signed in (no token in %s): run tchat-cli login\n",
                 token_file.c_str());
    return 1;
  }
  return RunSignedIn(io, api, url, cmd, args);
}
