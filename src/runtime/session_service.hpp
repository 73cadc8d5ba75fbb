#pragma once
// The seam between the HTTP front end and the session runtime. The front end
// parses HTTP, applies HTTP-level limits and CORS, and hands each POST on the
// BOSH path to handle(); the runtime answers with a complete response.

#include <cstddef>
#include <string>

#include "common/asio.hpp"

namespace bosun::runtime {

struct BoshHttpRequest {
    std::string body;        ///< the POST body (already decoded if it was compressed)
    std::string client_ip;   ///< peer address, or X-Forwarded-For from a trusted proxy
    bool secure = false;     ///< the client used TLS (a trusted proxy's X-Forwarded-Proto; XEP-0124 §19.1)
    /// The body was over the HTTP layer's max_body_bytes: `body` holds only
    /// its start. The named session ends with policy-violation (checklist #100).
    bool over_limit = false;
};

struct BoshHttpResponse {
    unsigned status = 200;
    std::string content_type = "text/xml; charset=utf-8";
    std::string body;
    /// Close the HTTP connection without any answer: a plain-HTTP request for
    /// a session created over TLS (XEP-0124 §19.1, checklist #9). The session
    /// itself carries on.
    bool drop_connection = false;
};

class SessionService {
public:
    virtual ~SessionService() = default;
    /// Answers one BOSH request. May suspend for up to the session's 'wait'
    /// (long poll). Never throws for bad input: that is a BOSH error body or a
    /// legacy HTTP status.
    virtual net::awaitable<BoshHttpResponse> handle(BoshHttpRequest request) = 0;
    /// Number of live sessions, for the status page.
    virtual std::size_t session_count() const = 0;
    /// True once shutdown began: new sessions are refused (system-shutdown).
    virtual bool draining() const = 0;
};

}  // namespace bosun::runtime
