// bosun-prebind: a command-line client of Bosun's prebind API
// (docs/prebind.md), for scripts and operators, and the key generator.
//
//   bosun-prebind keygen --id ID
//   bosun-prebind prebind --method password|token|anonymous --jid JID
//       [--password-file F | --password-stdin | --token-file F | --token-stdin]
//       [--display-name N] [--resource R] [--client-ip IP] [--issue-resume-token]
//   bosun-prebind prebind --method resume [--jid JID]
//       (--resume-token-file F | --resume-token-stdin)
//   bosun-prebind resume-tokens revoke (--resume-token-file F | --resume-token-stdin | --jid JID)
//   bosun-prebind session get|delete SID
//   bosun-prebind user-sessions delete JID
// Common: --url URL (default http://127.0.0.1:5281), the API key from
// --key-file F, $BOSUN_PREBIND_KEY or --key K (visible in ps: avoid);
// --sign-key-id ID --sign-secret-file F signs the request (HMAC, docs/prebind.md
// "Request signing"); --cacert F, --client-cert F --client-key F for HTTPS
// and mTLS.
//
// Prints the response body on stdout; exit 0 on 2xx, 1 on any other status,
// 2 on a usage or transport error. Secrets are wiped after the request.

#include <curl/curl.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "prebind/api_key.hpp"
#include "prebind/signing.hpp"

namespace {

using bosun::prebind::cleanse;

constexpr const char* usage_text = R"(usage:
  bosun-prebind keygen --id ID
  bosun-prebind prebind --method password|token|anonymous --jid JID
      [--password-file FILE | --password-stdin | --token-file FILE | --token-stdin]
      [--display-name NAME] [--resource RES] [--client-ip IP] [--issue-resume-token]
  bosun-prebind prebind --method resume [--jid JID]
      (--resume-token-file FILE | --resume-token-stdin)
  bosun-prebind resume-tokens revoke
      (--resume-token-file FILE | --resume-token-stdin | --jid JID)
  bosun-prebind session get|delete SID
  bosun-prebind user-sessions delete JID
options for every request:
  --url URL        the prebind listener (default http://127.0.0.1:5281)
  --key-file FILE  file holding the API key bsk_<id>_<secret>
                   (or $BOSUN_PREBIND_KEY; --key KEY works but shows in ps)
  --sign-key-id ID --sign-secret-file FILE
                   sign the request with that signing key (X-Bosun-Signature)
  --cacert FILE    PEM CA to verify an https:// listener
  --client-cert FILE --client-key FILE
                   PEM client certificate and key (mTLS listener)
)";

struct Args {
    std::vector<std::string> words;  // positional
    std::map<std::string, std::string> values;  // --name value
    std::vector<std::string> flags;  // --name (no value)
};

bool is_flag(const std::string& name)
{
    return name == "--password-stdin" || name == "--token-stdin" || name == "--help"
        || name == "--resume-token-stdin" || name == "--issue-resume-token";
}

std::optional<Args> parse_args(int argc, char** argv)
{
    Args out;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (!a.starts_with("--")) {
            out.words.push_back(a);
        } else if (is_flag(a)) {
            out.flags.push_back(a);
        } else if (i + 1 < argc) {
            out.values[a] = argv[++i];
        } else {
            std::fprintf(stderr, "bosun-prebind: %s needs a value\n", a.c_str());
            return std::nullopt;
        }
    }
    return out;
}

bool has_flag(const Args& a, const char* name)
{
    for (const auto& f : a.flags)
        if (f == name)
            return true;
    return false;
}

std::optional<std::string> value(const Args& a, const char* name)
{
    const auto it = a.values.find(name);
    if (it == a.values.end())
        return std::nullopt;
    return it->second;
}

// First line of a file or of stdin, without the newline.
std::optional<std::string> read_secret(const std::string& path)
{
    std::string line;
    if (path == "-") {
        std::getline(std::cin, line);
    } else {
        std::ifstream in(path);
        if (!in) {
            std::fprintf(stderr, "bosun-prebind: cannot read %s\n", path.c_str());
            return std::nullopt;
        }
        std::getline(in, line);
    }
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

std::optional<std::string> api_key(const Args& a)
{
    if (const auto file = value(a, "--key-file"))
        return read_secret(*file);
    if (const char* env = std::getenv("BOSUN_PREBIND_KEY"); env && *env)
        return std::string(env);
    if (auto key = value(a, "--key"))
        return key;
    std::fprintf(stderr, "bosun-prebind: no API key: use --key-file or $BOSUN_PREBIND_KEY\n");
    return std::nullopt;
}

// The request target the listener sees: the --url's own path, then `path`.
std::string request_target(const std::string& base, const std::string& path)
{
    const auto scheme = base.find("://");
    const auto slash = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    std::string prefix = slash == std::string::npos ? "" : base.substr(slash);
    while (!prefix.empty() && prefix.back() == '/')
        prefix.pop_back();
    return prefix + path;
}

// X-Bosun-* signature headers (docs/prebind.md "Request signing"), or an
// empty list when --sign-key-id is absent; nullopt on an error.
std::optional<std::vector<std::string>> signature_headers(
    const Args& a, const char* method, const std::string& target, const std::string& body)
{
    const auto id = value(a, "--sign-key-id");
    const auto file = value(a, "--sign-secret-file");
    if (!id && !file)
        return std::vector<std::string> {};
    if (!id || !file) {
        std::fprintf(stderr, "bosun-prebind: --sign-key-id and --sign-secret-file go together\n");
        return std::nullopt;
    }
    auto secret = bosun::prebind::read_signing_secret(*file);
    if (!secret) {
        std::fprintf(stderr, "bosun-prebind: %s\n", secret.error().c_str());
        return std::nullopt;
    }
    unsigned char raw[16];
    bosun::random_bytes(raw, sizeof raw);
    std::string nonce;
    for (const unsigned char c : raw) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02x", c);
        nonce += buf;
    }
    const std::string ts = std::to_string(static_cast<long long>(std::time(nullptr)));
    const auto signature = bosun::prebind::sign_request(*secret, method, target, ts, nonce, body);
    cleanse(*secret);
    return std::vector<std::string> {"X-Bosun-Key-Id: " + *id, "X-Bosun-Timestamp: " + ts,
        "X-Bosun-Nonce: " + nonce, "X-Bosun-Signature: " + signature};
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out)
{
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

std::string url_encode(const std::string& text)
{
    std::string out;
    for (const unsigned char c : text) {
        const bool plain = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

// One request; prints the body; returns the exit code.
int send(const Args& a, const char* method, const std::string& path, std::string body)
{
    auto key = api_key(a);
    if (!key) {
        cleanse(body);
        return 2;
    }
    const std::string base = value(a, "--url").value_or("http://127.0.0.1:5281");
    const std::string url = base + path;
    const auto signing = signature_headers(a, method, request_target(base, path), body);
    if (!signing) {
        cleanse(*key);
        cleanse(body);
        return 2;
    }
    CURL* curl = curl_easy_init();
    std::string auth = "Authorization: Bearer " + *key;
    cleanse(*key);
    curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
    headers = curl_slist_append(headers, "Expect:");
    for (const auto& h : *signing)
        headers = curl_slist_append(headers, h.c_str());
    if (const auto ca = value(a, "--cacert"))
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca->c_str());
    if (const auto cert = value(a, "--client-cert"))
        curl_easy_setopt(curl, CURLOPT_SSLCERT, cert->c_str());
    if (const auto client_key = value(a, "--client-key"))
        curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key->c_str());
    if (!body.empty())
        headers = curl_slist_append(headers, "Content-Type: application/json");
    std::string response;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!body.empty()) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    cleanse(auth);
    cleanse(body);
    if (rc != CURLE_OK) {
        std::fprintf(stderr, "bosun-prebind: %s: %s\n", url.c_str(), curl_easy_strerror(rc));
        return 2;
    }
    std::printf("%s%s", response.c_str(), response.ends_with('\n') || response.empty() ? "" : "\n");
    if (status < 200 || status > 299) {
        std::fprintf(stderr, "bosun-prebind: HTTP %ld\n", status);
        return 1;
    }
    return 0;
}

// The password or token of a prebind, from a file or stdin.
std::optional<std::string> prebind_secret(const Args& a, const std::string& method)
{
    const std::string stdin_flag = "--" + method + "-stdin";
    if (has_flag(a, stdin_flag.c_str()))
        return read_secret("-");
    if (const auto file = value(a, ("--" + method + "-file").c_str()))
        return read_secret(*file);
    std::fprintf(stderr, "bosun-prebind: method %s needs --%s-file or --%s-stdin\n", method.c_str(),
        method.c_str(), method.c_str());
    return std::nullopt;
}

// A resume token (never on the command line: it is a bearer credential).
std::optional<std::string> resume_token(const Args& a)
{
    if (has_flag(a, "--resume-token-stdin"))
        return read_secret("-");
    if (const auto file = value(a, "--resume-token-file"))
        return read_secret(*file);
    return std::nullopt;
}

int prebind(const Args& a)
{
    const auto method = value(a, "--method");
    const auto jid = value(a, "--jid");
    const bool resume = method == "resume";  // the token names the user
    if (!method || (!jid && !resume)) {
        std::fprintf(stderr, "bosun-prebind: prebind needs --method and --jid\n%s", usage_text);
        return 2;
    }
    boost::json::object auth {{"method", *method}};
    if (jid)
        auth["jid"] = *jid;
    if (*method == "password" || *method == "token") {
        auto secret = prebind_secret(a, *method);
        if (!secret)
            return 2;
        auth[*method] = *secret;
        cleanse(*secret);
    }
    if (resume) {
        auto token = resume_token(a);
        if (!token) {
            std::fprintf(stderr,
                "bosun-prebind: method resume needs --resume-token-file or --resume-token-stdin\n");
            return 2;
        }
        auth["resume_token"] = *token;
        cleanse(*token);
    }
    if (const auto name = value(a, "--display-name"))
        auth["display_name"] = *name;
    boost::json::object root {{"auth", std::move(auth)}};
    if (const auto resource = value(a, "--resource"))
        root["resource"] = *resource;
    if (const auto ip = value(a, "--client-ip"))
        root["client"] = boost::json::object {{"ip", *ip}};
    if (has_flag(a, "--issue-resume-token"))
        root["issue_resume_token"] = true;
    return send(a, "POST", "/v1/prebind", boost::json::serialize(root));
}

int revoke_resume_tokens(const Args& a)
{
    boost::json::object root;
    if (const auto jid = value(a, "--jid")) {
        root["jid"] = *jid;
    } else if (auto token = resume_token(a)) {
        root["resume_token"] = *token;
        cleanse(*token);
    } else {
        std::fprintf(stderr,
            "bosun-prebind: resume-tokens revoke needs --jid, "
            "--resume-token-file or --resume-token-stdin\n");
        return 2;
    }
    return send(a, "POST", "/v1/resume-tokens/revoke", boost::json::serialize(root));
}

int keygen(const Args& a)
{
    const auto id = value(a, "--id");
    if (!id || id->empty() || id->find('_') != std::string::npos) {
        std::fprintf(stderr, "bosun-prebind: keygen needs --id ID (letters, digits, '-')\n");
        return 2;
    }
    std::string key = bosun::prebind::generate_key(*id);
    std::printf("key: %s\n", key.c_str());
    std::printf("# in bosun.toml, [[prebind.clients]] with id = \"%s\":\n", id->c_str());
    std::printf("key_hashes = [\"%s\"]\n", bosun::prebind::key_hash(key).c_str());
    cleanse(key);
    return 0;
}

int dispatch(const Args& a)
{
    const auto& w = a.words;
    if (w.size() == 1 && w[0] == "keygen")
        return keygen(a);
    if (w.size() == 1 && w[0] == "prebind")
        return prebind(a);
    if (w.size() == 3 && w[0] == "session" && (w[1] == "get" || w[1] == "delete"))
        return send(a, w[1] == "get" ? "GET" : "DELETE", "/v1/sessions/" + url_encode(w[2]), "");
    if (w.size() == 2 && w[0] == "resume-tokens" && w[1] == "revoke")
        return revoke_resume_tokens(a);
    if (w.size() == 3 && w[0] == "user-sessions" && w[1] == "delete")
        return send(a, "DELETE", "/v1/users/" + url_encode(w[2]) + "/sessions", "");
    std::fprintf(stderr, "%s", usage_text);
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    const auto args = parse_args(argc, argv);
    if (!args)
        return 2;
    if (has_flag(*args, "--help")) {
        std::printf("%s", usage_text);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const int rc = dispatch(*args);
    curl_global_cleanup();
    return rc;
}
