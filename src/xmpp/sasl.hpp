#pragma once
// The client side of the SASL mechanisms Bosun uses to log in upstream
// (pure): SCRAM-SHA-256(-PLUS) and SCRAM-SHA-1(-PLUS) (RFC 5802, RFC 7677),
// PLAIN (RFC 4616) and ANONYMOUS (RFC 4505); never DIGEST-MD5 or CRAM-MD5
// (reference/prebind-and-auth.md §4.4, §6.4). Payloads here are raw bytes;
// base64 and the XML around them belong to xmpp/login.
//
// Channel binding (RFC 5056): the -PLUS variants bind the SCRAM exchange to
// the TLS connection with tls-exporter (RFC 9266), tls-server-end-point or
// tls-unique (RFC 5929). The data comes from the I/O side through a function.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bosun/expected.hpp"

namespace bosun::xmpp::sasl {

/// Mirrors runtime::SaslPolicy.
enum class Policy { password, plain_secret, anonymous };

enum class Mechanism {
    scram_sha_256_plus,
    scram_sha_256,
    scram_sha_1_plus,
    scram_sha_1,
    plain,
    anonymous
};

/// The IANA name: "SCRAM-SHA-256-PLUS", "PLAIN", ...
std::string_view name(Mechanism m);
std::optional<Mechanism> mechanism_from_name(std::string_view name);
bool is_plus(Mechanism m);
bool is_scram(Mechanism m);

struct ChannelBinding {
    std::string type;  ///< "tls-exporter", "tls-server-end-point" or "tls-unique"
    std::string data;  ///< raw bytes
};

/// Channel binding data for a type, or nullopt when the connection cannot
/// give it (no TLS, wrong TLS version, ...).
using ChannelBindingFn = std::function<std::optional<std::string>(std::string_view type)>;

/// What the server's <stream:features/> offered.
struct ServerOffer {
    std::vector<std::string> mechanisms;  ///< RFC 6120 §6.4.1 <mechanism/> texts
    /// XEP-0440 <sasl-channel-binding/> types; nullopt when not advertised.
    std::optional<std::vector<std::string>> channel_bindings;
};

/// The mechanism to use and how to fill the GS2 header.
struct Selection {
    Mechanism mechanism;
    std::optional<ChannelBinding> binding;  ///< set for -PLUS only
    /// We could bind but the server offered no -PLUS at all: GS2 flag "y".
    bool client_supports_binding = false;
};

/// Picks the mechanism (nullopt: none the policy allows).
///  - password: SCRAM-SHA-256-PLUS > SCRAM-SHA-256 > SCRAM-SHA-1-PLUS >
///    SCRAM-SHA-1 > PLAIN, PLAIN only when `confidential`.
///  - plain_secret: PLAIN only, only when `confidential`.
///  - anonymous: ANONYMOUS only.
/// A -PLUS mechanism needs a binding type both sides have: with XEP-0440,
/// the first of tls-exporter, tls-server-end-point, tls-unique that the
/// server lists and `cb` can give; without it, tls-exporter (TLS 1.3) then
/// tls-unique (TLS 1.2), the RFC 9266 / RFC 5802 defaults.
std::optional<Selection> choose(
    Policy policy, const ServerOffer& offer, bool confidential, const ChannelBindingFn& cb);

enum class Error {
    unexpected_message,  ///< a challenge or success at the wrong step
    malformed_message,  ///< not a valid RFC 5802 server-first / server-final
    nonce_mismatch,  ///< RFC 5802 §5.1: server nonce must extend ours
    weak_iteration_count,  ///< below RFC 7677 §4's 4096, or absurdly high
    server_error,  ///< RFC 5802 §7 server-final "e="
    server_signature_mismatch,  ///< RFC 5802 §3: "v=" does not match
};
std::string_view describe(Error e);

/// One authentication exchange. Holds the secret and the derived keys, wiped
/// (OPENSSL_cleanse) on destruction.
class Client {
public:
    /// `authcid` is the username (localpart); the authzid is always empty.
    /// `nonce` fixes the SCRAM client nonce (tests: RFC test vectors); empty
    /// draws 24 random bytes.
    Client(Selection selection, std::string_view authcid, std::string_view secret,
        std::string nonce = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Mechanism mechanism() const { return selection_.mechanism; }

    /// The initial response for <auth/> (may be empty: sent as "=").
    std::string initial_response();

    /// The response to a <challenge/>.
    [[nodiscard]] Expected<std::string, Error> respond(std::string_view challenge);

    /// Checks <success/>'s additional data (SCRAM: the server signature,
    /// unless a challenge already carried it).
    [[nodiscard]] Expected<void, Error> verify_success(std::string_view additional_data);

private:
    enum class Step { start, sent_first, sent_final, verified };

    std::string gs2_header() const;
    Expected<std::string, Error> client_final(std::string_view server_first);
    Expected<void, Error> check_server_final(std::string_view server_final);

    Selection selection_;
    std::string authcid_;
    std::string secret_;
    std::string nonce_;
    std::string client_first_bare_;
    std::string auth_message_;
    std::string server_signature_;
    Step step_ = Step::start;
};

/// Overwrites the bytes of `s` (OPENSSL_cleanse), then clears it.
void wipe(std::string& s);

/// RFC 5802 §5.1 saslname: "=" becomes "=3D" and "," becomes "=2C".
std::string escape_saslname(std::string_view name);

/// Why saslprep() refused a string (RFC 4013 §2.3, §2.4; RFC 3454 §6).
enum class PrepError {
    prohibited,  ///< a prohibited output character (controls, private use, ...)
    bidi,  ///< mixes or misplaces right-to-left characters
    invalid_utf8,
    empty,  ///< nothing left after mapping (e.g. only U+00AD)
};
std::string_view describe(PrepError e);

/// RFC 4013 SASLprep of a username or password, as the PLAIN (RFC 4616 §2)
/// and SCRAM (RFC 5802 §2.2) clients must apply: non-ASCII spaces become
/// U+0020, "commonly mapped to nothing" characters go, NFKC, then the
/// prohibited-output and bidi checks. Unassigned code points are allowed
/// (query strings, as Prosody's own saslprep treats them), so a password
/// with characters newer than Unicode 3.2 still works. Uses GNU libidn's
/// "SASLprep" stringprep profile (docs/auth.md says why).
[[nodiscard]] Expected<std::string, PrepError> saslprep(std::string_view text);

}  // namespace bosun::xmpp::sasl
