#pragma once
// The BOSH session state machine (XEP-0124, XEP-0206), sans-I/O: events go in
// with the current time, actions come out, and the runtime executes them.
// It owns the rid window (§14.2), the held requests (§8), the replay cache
// (§14.3), the queue of payloads for the client, inactivity (§10) and
// termination (§13, §17.2). It never touches a socket or reads a clock.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bosh/body.hpp"
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
};

/// What was negotiated at creation (§7.2).
struct Negotiated {
    Seconds wait{60};
    unsigned hold = 1;
    unsigned requests = 2;
    Seconds inactivity{60};
    Seconds polling{2};
    std::optional<Version> ver;   ///< nullopt: legacy client (§17.1)
    std::string content_type = "text/xml; charset=utf-8";
    std::string domain;
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

    Actions on_request(RequestId request, BodyRequest body, TimePoint now);
    /// A request naming this session whose body could not be parsed: the
    /// session ends with bad-request (§17.2, checklist #87).
    Actions on_bad_request(RequestId request, TimePoint now);
    Actions on_upstream(std::vector<UpstreamElement> elements, TimePoint now);
    Actions on_upstream_closed(Condition why, TimePoint now);
    Actions on_tick(TimePoint now);
    /// Graceful shutdown of the connection manager (checklist #98).
    Actions shutdown(TimePoint now);

    /// The earliest time on_tick has something to do.
    std::optional<TimePoint> next_deadline() const;

    const std::string& sid() const { return sid_; }
    const Negotiated& params() const { return params_; }
    bool ended() const { return ended_; }
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
        BodyRequest body;
    };
    struct Cached {
        std::uint64_t rid;
        std::string body;
    };

    Session(std::string sid, Negotiated params, const Limits& limits);

    void process(std::uint64_t rid, RequestId request, BodyRequest body, TimePoint now, Actions& out);
    void process_buffered(TimePoint now, Actions& out);
    void on_retransmission(std::uint64_t rid, RequestId request, Actions& out);
    void hold(std::uint64_t rid, RequestId request, TimePoint now, Actions& out);
    void answer_oldest(TimePoint now, Actions& out);
    void answer(const Held& h, std::string body, TimePoint now, Actions& out);
    void flush_to_held(TimePoint now, Actions& out);
    void terminate(Condition why, std::optional<RequestId> current, std::vector<std::string> payloads,
                   TimePoint now, Actions& out);
    void respond_error(RequestId request, Condition why, Actions& out) const;
    void add_creation_attributes(ResponseBuilder& b) const;
    void remember(std::uint64_t rid, const std::string& body);
    void end(Condition why, bool silent, Actions& out);

    std::string sid_;
    Negotiated params_;
    Seconds connect_timeout_;
    std::size_t max_pending_bytes_;

    std::uint64_t last_rid_ = 0;            ///< every rid up to here was processed in order
    std::deque<Held> held_;                 ///< in rid order; answered oldest first (§8, §14.2)
    std::map<std::uint64_t, Buffered> buffered_;  ///< arrived early, inside the window (§14.2)
    std::deque<Cached> replay_;             ///< the last `requests` responses (§14.3)
    std::vector<std::string> pending_;      ///< server payloads not yet delivered
    std::size_t pending_bytes_ = 0;
    std::uint64_t creation_rid_ = 0;
    bool creation_answered_ = false;
    TimePoint last_response_{};             ///< for inactivity (§10)
    std::optional<std::string> terminal_body_;  ///< upstream gone with nothing held: told on next request
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
