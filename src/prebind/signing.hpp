#pragma once
// Optional HMAC request signing for prebind API callers (docs/prebind.md
// "Request signing", reference/prebind-and-auth.md §6.2 item 3), for when
// the path between the web app and Bosun is not trusted. On top of the API
// key, a signed request carries:
//
//   X-Bosun-Key-Id:    the id of one of the client's signing keys
//   X-Bosun-Timestamp: Unix seconds, decimal
//   X-Bosun-Nonce:     32-128 characters of [A-Za-z0-9_-] (>= 128 random bits)
//   X-Bosun-Signature: v1=<lowercase hex HMAC-SHA256(secret, string_to_sign)>
//
//   string_to_sign = METHOD "\n" TARGET "\n" TIMESTAMP "\n" NONCE "\n" hex(SHA256(body))
//
// TARGET is the request target exactly as sent (path and query). A request
// is refused when |now - timestamp| > 300 s, and each nonce is accepted once
// per client for 10 minutes. Sans-I/O: the time is a parameter.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jti_cache.hpp"
#include "auth/unix_time.hpp"
#include "bosun/expected.hpp"

namespace bosun::prebind {

inline constexpr std::string_view signature_key_id_header = "X-Bosun-Key-Id";
inline constexpr std::string_view signature_timestamp_header = "X-Bosun-Timestamp";
inline constexpr std::string_view signature_nonce_header = "X-Bosun-Nonce";
inline constexpr std::string_view signature_header = "X-Bosun-Signature";
inline constexpr std::string_view signature_version = "v1=";

inline constexpr std::chrono::seconds signature_max_skew {300};
inline constexpr std::chrono::seconds signature_nonce_lifetime {600};
inline constexpr std::size_t signature_min_nonce_chars = 32;
inline constexpr std::size_t signature_max_nonce_chars = 128;
inline constexpr std::size_t min_signing_secret_bytes = 32;

// One signing key of a client, its secret loaded from secret_file.
struct SigningSecret {
    std::string id;
    std::string secret;
};

// What the verifier needs from a request; the views must outlive verify().
struct SignedRequest {
    std::string_view method;
    std::string_view target;
    std::string_view body;
    std::string_view key_id;  // the header values; empty when absent
    std::string_view timestamp;
    std::string_view nonce;
    std::string_view signature;
};

enum class SignatureError {
    missing_header,  // one of the four headers is absent
    malformed,  // timestamp not decimal, nonce too short or not [A-Za-z0-9_-], not "v1=<hex>"
    unknown_key,  // no signing key of this client has that id
    stale,  // |now - timestamp| > 300 s
    bad_signature,
    replayed,  // nonce seen within its lifetime
    cache_full,  // the nonce cache is at its cap: refuse (fail closed)
};

// Stable snake_case name, e.g. "bad_signature", for problem details and logs.
std::string_view to_string(SignatureError error);

// The string the HMAC covers (see above).
std::string string_to_sign(std::string_view method, std::string_view target,
    std::string_view timestamp, std::string_view nonce, std::string_view body);

// "v1=<hex>": what a caller puts in X-Bosun-Signature (tools, tests).
std::string sign_request(std::string_view secret, std::string_view method, std::string_view target,
    std::string_view timestamp, std::string_view nonce, std::string_view body);

// A secret file's bytes, trailing CR/LF removed. Error text names the file,
// never its bytes.
Expected<std::string, std::string> read_signing_secret(const std::string& path);

class SignatureVerifier {
public:
    // At most max_nonces remembered nonces (over all clients).
    explicit SignatureVerifier(std::size_t max_nonces);

    // Checks the headers, the clock window, the key and the HMAC (compared in
    // constant time), and only then spends the nonce, so unsigned traffic
    // cannot fill the cache. `client` namespaces the nonces.
    [[nodiscard]] Expected<void, SignatureError> verify(std::string_view client,
        const std::vector<SigningSecret>& keys, const SignedRequest& request, auth::UnixTime now);

    std::size_t nonce_count() const { return nonces_.size(); }

private:
    auth::JtiCache nonces_;
};

}  // namespace bosun::prebind
