#pragma once
// The BOSH session state machine (XEP-0124, XEP-0206), sans-I/O: events go in
// with the current time, actions come out, and the runtime executes them.
// It owns the rid window (§14.2), the held requests (§8), the replay cache
// (§14.3), the queue of payloads for the client, inactivity (§10) and
// termination (§13, §17.2). It never touches a socket or reads a clock.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bosh/body.hpp"
#include "bosh/key_chain.hpp"
#include "bosun/condition.hpp"
#include "bosun/time.hpp"

namespace bosun::bosh {

/// Identifies one HTTP request waiting for its answer (assigned by the runtime).
using RequestId = std::uint64_t;

// ---- Actions -------------------------------------------------------------

/// Answer an HTTP request. status is 200 except for legacy clients (§17.1).
struct Respond {
    RequestId request = 0;
    unsigned status = 200;
    std::string body;
};
/// Open the upstream XMPP stream (XEP-0206 §3).
struct OpenUpstream {
    std::string to, from, lang, version;
    /// The client's 'route' (§7.1), verbatim; the runtime uses it only if
    /// the operator allow-listed it (checklist #20).
    std::string route;
};
/// Send a new stream header on the same connection (XEP-0206 §5).
struct RestartUpstream {
    std::string to, from, lang, version;
};
/// Write serialized stanzas to the upstream stream, in rid order (§14.2).
struct SendUpstream {
    std::string data;
};
/// Close the upstream stream. `undelivered` are stanzas from the server the
/// client never received, to be bounced (XEP-0206 §7).
struct CloseUpstream {
    std::vector<std::string> undelivered;
};
/// The session is over: forget its sid.
struct EndSession {
    Condition why = Condition::undefined_condition;
    bool silent = false;  ///< inactivity (§10): nobody was told
    bool by_client = false;  ///< the client sent type='terminate' (§13); `why` is meaningless
};

using Action = std::variant<Respond, OpenUpstream, RestartUpstream, SendUpstream, CloseUpstream, EndSession>;
using Actions = std::vector<Action>;

// ---- Parameters ------------------------------------------------------------

/// Operator limits the negotiation respects (from BoshConfig).
struct Limits {
    Seconds max_wait{60};
    Seconds default_wait{60};
    Seconds inactivity{60};
    Seconds polling{2};
    unsigned max_hold = 1;
    std::size_t max_pending_bytes = 1024 * 1024;
    Seconds connect_timeout{10};
    /// Advertised 'maxpause' (§10); 0: pause is not offered and ignored.
    Seconds max_pause{120};
    /// With client acks (§9.2), responses kept for replay until acknowledged;
    /// more is policy-violation. Never below requests + 1 in a session.
    unsigned max_unacked_responses = 16;
    /// Times one rid may be re-sent before policy-violation (§14.3).
    unsigned max_resends = 8;
    /// Read timeout of a proxy in front of Bosun; 0: none. The granted wait
    /// stays k_front_proxy_margin below it.
    Seconds front_proxy_timeout{0};
};

/// Room left between the granted 'wait' and a front proxy's read timeout,
/// for the answer to cross the proxy before it gives up on the request.
inline constexpr Seconds k_front_proxy_margin{5};

/// Largest 'time' in a §9.2 report: the attribute was typed unsignedShort,
/// so 65535 means "65.535 s or more".
inline constexpr std::uint32_t k_max_report_ms = 65535;

/// What was negotiated at creation (§7.2).
struct Negotiated {
    Seconds wait{60};
    unsigned hold = 1;
    unsigned requests = 2;
    Seconds inactivity{60};
    Seconds polling{2};
    Seconds maxpause{0};          ///< 0: pause not offered (§10, checklist #59)
    bool acks = false;            ///< the client asked for acks with 'ack' (§9.2)
    std::optional<Version> ver;   ///< nullopt: legacy client (§17.1)
    std::string content_type = "text/xml; charset=utf-8";
    std::string domain;

    /// §12: the client asked for a polling session.
    bool polling_session() const { return wait.count() == 0 || hold == 0; }
};

/// One element from the upstream stream, ready for a client body.
struct UpstreamElement {
    enum class Kind { stanza, features, stream_error };
    Kind kind = Kind::stanza;
    std::string xml;   ///< stanzas carry xmlns='jabber:client' (XEP-0206 §2)
};

/// Checks a creation request and computes the session parameters (§7.1,
/// §7.2; checklist #18, #19, #21–#23, #29). `serves` says whether a domain
/// has an upstream.
template <class Serves>
Expected<Negotiated, Condition> negotiate(const BodyRequest& req, const Limits& limits, Serves&& serves);

class Session {
public:
    /// Starts a session for a creation request: returns the session and its
    /// first actions (open the upstream). The creation request is held until
    /// the upstream's stream features arrive (XEP-0206 §4, checklist #38).
    static std::pair<Session, Actions> create(std::string sid, Negotiated params, const Limits& limits,
                                              RequestId request, const BodyRequest& body, TimePoint now);

    /// Starts a session already logged in upstream by the prebind API
    /// (checklist P1-P7): no creation request, the upstream stream is open
    /// and bound, and the browser's first request must carry `next_rid`. The
    /// rid before it is kept answered with an empty body, so a client that
    /// re-sends it gets a valid answer (P3). Until that first request the
    /// session lives `attach_timeout` instead of `inactivity` (P5); stanzas
    /// arriving meanwhile wait for it (P2).
    static Session create_prebound(std::string sid, Negotiated params, const Limits& limits,
                                   std::uint64_t next_rid, Seconds attach_timeout, TimePoint now);

    Actions on_request(RequestId request, BodyRequest body, TimePoint now);
    /// A request naming this session whose body could not be parsed: the
    /// session ends with bad-request (§17.2, checklist #87).
    Actions on_bad_request(RequestId request, TimePoint now, Condition why = Condition::bad_request);
    /// The HTTP connection of a held request closed before its answer (a
    /// page unload, a dropped network): nothing written to it would be read.
    /// The request is answered with an empty body that stays replayable for
    /// a retry of its rid, and what the server sends waits for the client's
    /// next request instead (XEP-0124 §14.3, reference prebind-and-auth §6.6).
    /// The creation request is not touched: its answer carries the sid.
    Actions on_request_gone(RequestId request, TimePoint now);
    Actions on_upstream(std::vector<UpstreamElement> elements, TimePoint now);
    Actions on_upstream_closed(Condition why, TimePoint now);
    Actions on_tick(TimePoint now);
    /// Graceful shutdown of the connection manager (checklist #98).
    Actions shutdown(TimePoint now) { return close(Condition::system_shutdown, now); }
    /// Ends the session from Bosun's side (shutdown, the prebind API): held
    /// requests are told `why`, and what the client never received is
    /// bounced upstream (XEP-0206 §7).
    Actions close(Condition why, TimePoint now);

    /// The earliest time on_tick has something to do.
    std::optional<TimePoint> next_deadline() const;

    const std::string& sid() const { return sid_; }
    const Negotiated& params() const { return params_; }
    bool ended() const { return ended_; }
    /// A request of this session has arrived (for a prebound session: the
    /// browser attached).
    bool attached() const { return attached_; }
    std::size_t pending_bytes() const { return pending_bytes_; }
    std::size_t held_count() const { return held_.size(); }

private:
    struct Held {
        std::uint64_t rid;
        RequestId request;
        TimePoint deadline;
    };
    struct Buffered {
        RequestId request;
        TimePoint arrival;
        BodyRequest body;
    };
    struct Cached {
        std::uint64_t rid;
        TimePoint sent;   ///< for 'time' in a §9.2 report
        std::string body;
    };
    struct Report {
        std::uint64_t rid;
        std::uint32_t ms;
    };

    Session(std::string sid, Negotiated params, const Limits& limits);

    void on_resend(std::uint64_t rid, RequestId request, const BodyRequest& body, TimePoint now, Actions& out);
    void on_retransmission(std::uint64_t rid, RequestId request, const BodyRequest& body, TimePoint now,
                           Actions& out);
    void process(std::uint64_t rid, RequestId request, BodyRequest body, TimePoint arrival, TimePoint now,
                 Actions& out);
    void process_buffered(TimePoint now, Actions& out);
    std::optional<Condition> refusal(std::uint64_t rid, const BodyRequest& body, TimePoint arrival);
    bool too_many_requests(std::uint64_t rid, const BodyRequest& body) const;
    bool polls_too_often(const BodyRequest& body, TimePoint arrival) const;
    bool take_client_ack(std::uint64_t rid, const BodyRequest& body, TimePoint now);
    void client_terminate(RequestId request, std::string data, TimePoint now, Actions& out);
    void pause(std::uint64_t rid, RequestId request, Seconds period, TimePoint now, Actions& out);
    void hold(std::uint64_t rid, RequestId request, TimePoint now, Actions& out);
    void answer_oldest(TimePoint now, Actions& out, bool with_payloads = true);
    void answer(const Held& h, std::string body, TimePoint now, Actions& out);
    void flush_to_held(TimePoint now, Actions& out);
    void terminate(Condition why, std::optional<RequestId> current, std::vector<std::string> payloads,
                   TimePoint now, Actions& out);
    void respond_error(RequestId request, Condition why, Actions& out) const;
    void add_creation_attributes(ResponseBuilder& b) const;
    void add_ack(ResponseBuilder& b, std::uint64_t rid) const;
    void add_ack_and_report(ResponseBuilder& b, std::uint64_t rid);
    std::string recoverable_error(std::uint64_t rid);
    void remember(std::uint64_t rid, const std::string& body, TimePoint now);
    bool is_pause(const BodyRequest& body) const;
    bool is_empty_poll(const BodyRequest& body) const;
    Seconds inactivity() const;
    void end(Condition why, bool silent, Actions& out, bool by_client = false);

    std::string sid_;
    Negotiated params_;
    Seconds connect_timeout_;
    std::size_t max_pending_bytes_;
    unsigned max_unacked_;
    unsigned max_resends_;

    std::uint64_t last_rid_ = 0;            ///< every rid up to here was processed in order
    // Small vectors, not deques: hold+1 and the replay cache are a handful of
    // entries, and a deque allocates a 512-byte block for each idle session.
    std::vector<Held> held_;                ///< in rid order; answered oldest first (§8, §14.2)
    std::map<std::uint64_t, Buffered> buffered_;  ///< arrived early, inside the window (§14.2)
    std::vector<Cached> replay_;            ///< `requests` responses, or the unacknowledged ones (§14.3)
    std::vector<std::string> pending_;      ///< server payloads not yet delivered
    std::size_t pending_bytes_ = 0;
    std::uint64_t creation_rid_ = 0;
    std::uint64_t last_answered_rid_ = 0;   ///< §9.2: the last request responded to
    std::uint64_t last_payload_rid_ = 0;    ///< §12: the last response that carried payloads
    std::uint64_t resent_rid_ = 0;          ///< §14.3: the rid being re-sent, and how often
    unsigned resend_count_ = 0;
    TimePoint last_response_{};             ///< for inactivity (§10)
    TimePoint last_arrival_{};              ///< §12: arrival of the last new request
    std::optional<Seconds> paused_for_;     ///< §10: inactivity until the next request
    std::optional<Report> report_;          ///< §9.2: goes on the next response
    KeyChain keys_;                         ///< §15
    std::optional<std::string> terminal_body_;  ///< upstream gone with nothing held: told on next request
    bool creation_answered_ = false;
    bool last_was_empty_ = false;           ///< §12: the last new request was an empty poll
    bool attached_ = false;                 ///< a request has arrived
    bool ended_ = false;
};

// ---- template implementation ------------------------------------------------

namespace detail {
Expected<Negotiated, Condition> negotiate_common(const BodyRequest& req, const Limits& limits);
}

template <class Serves>
Expected<Negotiated, Condition> negotiate(const BodyRequest& req, const Limits& limits, Serves&& serves)
{
    // §7.1, §17.2 (checklist #18, #90): no 'to' at all.
    if (!req.to || req.to->empty())
        return unexpected(Condition::improper_addressing);
    // §17.2 (checklist #19, #89): a domain without an upstream.
    if (!serves(*req.to))
        return unexpected(Condition::host_unknown);
    return detail::negotiate_common(req, limits);
}

}  // namespace bosun::bosh
