#pragma once
// The body of POST /v1/prebind, parsed strictly (reference/prebind-and-auth.md
// §6.3): valid UTF-8 JSON, one object, no repeated or unknown member, every
// field of the right type. Secrets are held only in PrebindRequest::secret,
// which is wiped on destruction; the parser's own memory is wiped too.

#include <optional>
#include <string>
#include <string_view>

#include "bosun/expected.hpp"

namespace bosun::prebind {

enum class Method { password, token, anonymous, assertion, resume };

std::optional<Method> method_from_wire(std::string_view name);
std::string_view to_wire(Method method);

struct BareJid {
    std::string local;  // empty: a domain alone (anonymous)
    std::string domain;  // lowercased
    std::string text() const { return local.empty() ? domain : local + '@' + domain; }
};

// "local@domain" (or a domain alone when `domain_only`). The domain is
// lowercased; the localpart must be 1-1023 bytes without the characters
// RFC 7622 §3.3.1 forbids (" & ' / : < > @, space, controls). No resource.
std::optional<BareJid> parse_bare_jid(std::string_view text, bool domain_only);

struct PrebindRequest {
    PrebindRequest() = default;
    PrebindRequest(PrebindRequest&&) = default;
    PrebindRequest& operator=(PrebindRequest&&) = default;
    ~PrebindRequest();

    Method method = Method::password;
    BareJid jid;
    std::string secret;  // password or token; never logged
    std::optional<std::string> display_name;  // anonymous only
    std::optional<std::string> resource;
    std::optional<std::string> client_ip;  // normalized numeric address
    bool issue_resume_token = false;  // "issue_resume_token": true
};

// The error is a detail text for a 400 problem; it never quotes a value.
[[nodiscard]] Expected<PrebindRequest, std::string> parse_prebind_request(std::string_view body);

// The body of POST /v1/tickets: exactly one of {"assertion": "<JWT>"} or
// {"jid": "local@domain"}.
struct TicketRequest {
    TicketRequest() = default;
    TicketRequest(TicketRequest&&) = default;
    TicketRequest& operator=(TicketRequest&&) = default;
    ~TicketRequest();

    std::optional<BareJid> jid;
    std::string assertion;  // never logged; wiped on destruction
};

[[nodiscard]] Expected<TicketRequest, std::string> parse_ticket_request(std::string_view body);

// The body of POST /v1/resume-tokens/revoke: exactly one of
// {"resume_token": "bsr1_..."} or {"jid": "local@domain"}.
struct RevokeRequest {
    RevokeRequest() = default;
    RevokeRequest(RevokeRequest&&) = default;
    RevokeRequest& operator=(RevokeRequest&&) = default;
    ~RevokeRequest();

    std::optional<BareJid> jid;
    std::string resume_token;  // never logged; wiped on destruction
};

[[nodiscard]] Expected<RevokeRequest, std::string> parse_revoke_request(std::string_view body);

}  // namespace bosun::prebind
