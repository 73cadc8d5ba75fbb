#pragma once
// The native upstream login for prebind (pure, sans-I/O): SASL, stream
// restart, resource bind and the legacy session IQ (RFC 6120 §6, §7;
// RFC 3921 §3; reference/prebind-and-auth.md §6.4 steps 3-7). The caller
// feeds every element of the post-TLS stream and carries out the steps:
// it writes LoginSend, restarts the stream on LoginRestart and hands the
// BOSH session over on LoginDone. No presence is ever sent.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "xmpp/framer.hpp"
#include "xmpp/sasl.hpp"

namespace bosun::xmpp {

struct LoginRequest {
    std::string domain;
    std::string username;  ///< localpart (authcid); ignored for anonymous
    std::string secret;  ///< wiped once the SASL client holds it
    sasl::Policy policy = sasl::Policy::password;
    std::string resource;  ///< asked for at bind; empty: the server picks
    bool confidential = false;  ///< TLS active or loopback upstream (allows PLAIN)
};

/// Channel binding data for a type ("tls-exporter", ...), or nullopt.
using ChannelBindingFn = sasl::ChannelBindingFn;

struct LoginSend {
    std::string xml;  ///< write to the upstream; may carry a SASL payload: never log it
};
struct LoginRestart { };  ///< restart the stream (UpstreamConnection::restart)
struct LoginDone {
    std::string jid;  ///< full JID from the bind result
    std::string mechanism;  ///< e.g. "SCRAM-SHA-256-PLUS"
    std::vector<Element> early;  ///< stanzas seen after SASL, for the browser
};

enum class LoginError {
    mechanism_unavailable,  ///< nothing the policy allows, or the server refused the mechanism
    not_authorized,  ///< RFC 6120 §6.5.10
    account_disabled,  ///< §6.5.1
    credentials_expired,  ///< §6.5.2
    temporary_auth_failure,  ///< §6.5.11
    sasl_failure,  ///< any other SASL <failure/>
    server_signature_mismatch,  ///< RFC 5802 §3: the server did not prove it knows the password
    bind_failed,  ///< bind or session IQ error, or no bind offered
    stream_error,  ///< <stream:error/>
    protocol_error,  ///< anything unexpected
};

struct LoginFailed {
    LoginError error;
    std::string condition;  ///< SASL, stream or stanza error condition name; may be empty
    std::string detail;  ///< for logs; never the SASL <text/> or any secret
};

using LoginStep = std::variant<LoginSend, LoginRestart, LoginDone, LoginFailed>;

class Login {
public:
    /// `test_nonce` fixes the SCRAM client nonce (tests only).
    Login(LoginRequest req, ChannelBindingFn cb, std::string test_nonce = {});
    ~Login();
    Login(const Login&) = delete;
    Login& operator=(const Login&) = delete;

    /// One top-level element of the current stream, whose header is `header`.
    /// Returns the steps to take, in order. After LoginDone or LoginFailed the
    /// login is finished and further elements return nothing.
    std::vector<LoginStep> on_element(const StreamHeader& header, const Element& e);

    bool finished() const { return state_ == State::finished; }

private:
    enum class State { features, sasl, restart_features, bind, session, finished };

    std::vector<LoginStep> on_features(const StreamHeader& header, const Element& e);
    std::vector<LoginStep> on_sasl_element(const StreamHeader& header, const Element& e);
    std::vector<LoginStep> on_bind_features(const StreamHeader& header, const Element& e);
    std::vector<LoginStep> on_iq_reply(const StreamHeader& header, const Element& e);
    std::vector<LoginStep> done();
    std::vector<LoginStep> fail(LoginError error, std::string condition, std::string detail);

    LoginRequest req_;
    ChannelBindingFn cb_;
    std::string test_nonce_;
    std::unique_ptr<sasl::Client> client_;
    std::string mechanism_;
    std::string bind_id_;
    std::string session_id_;
    std::string jid_;
    std::vector<Element> early_;
    bool session_required_ = false;
    State state_ = State::features;
};

}  // namespace bosun::xmpp
