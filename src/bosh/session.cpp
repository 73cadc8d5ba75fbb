#include "bosh/session.hpp"

#include <algorithm>
#include <utility>

namespace bosun::bosh {

namespace detail {

Expected<Negotiated, Condition> negotiate_common(const BodyRequest& req, const Limits& limits)
{
    Negotiated n;
    n.domain = *req.to;
    // §7.2 (checklist #21): the response wait MUST NOT exceed the request's.
    const Seconds asked = req.wait ? Seconds{*req.wait} : limits.default_wait;
    n.wait = std::min(asked, limits.max_wait);
    // §7.1, §7.2 (checklist #22, #33): hold never above the request; requests = hold+1.
    n.hold = std::min(req.hold.value_or(1u), limits.max_hold);
    n.requests = n.hold + 1;
    n.polling = limits.polling;
    n.inactivity = limits.inactivity;
    // §12 (checklist #68): a polling session gets an inactivity above polling.
    if (n.wait.count() == 0 || n.hold == 0)
        n.inactivity = std::max(limits.inactivity, limits.polling * 2);
    // §7.2 (checklist #23): ver = min(ours, theirs); none means legacy (§17.1).
    if (req.ver)
        n.ver = std::min(*req.ver, k_our_version);
    // §7.1 (checklist #6): 'content' becomes the Content-Type of every response.
    if (req.content && !req.content->empty())
        n.content_type = *req.content;
    return n;
}

}  // namespace detail

namespace {

bool needs_stream_ns(const std::string& xml) { return xml.starts_with("<stream:"); }

}  // namespace

Session::Session(std::string sid, Negotiated params, const Limits& limits)
    : sid_(std::move(sid))
    , params_(std::move(params))
    , connect_timeout_(limits.connect_timeout)
    , max_pending_bytes_(limits.max_pending_bytes)
{
}

std::pair<Session, Actions> Session::create(std::string sid, Negotiated params, const Limits& limits,
                                            RequestId request, const BodyRequest& body, TimePoint now)
{
    Session s(std::move(sid), std::move(params), limits);
    Actions out;
    s.last_rid_ = body.rid;
    s.creation_rid_ = body.rid;
    s.last_response_ = now;
    // XEP-0206 §3, checklist #25–#27, #112: the stream header takes to, from,
    // xml:lang and version from the creation body.
    out.push_back(OpenUpstream{*body.to, body.from.value_or(""), body.lang.value_or(""),
                               body.xmpp_version.value_or("1.0")});
    // XEP-0206 §4 (checklist #38): the creation request waits for the
    // features, up to the connect timeout, so the client gets them at once.
    s.held_.push_back({body.rid, request, now + std::min<Duration>(s.params_.wait, s.connect_timeout_)});
    if (s.params_.wait.count() == 0 || s.params_.hold == 0)
        s.held_.back().deadline = now + s.connect_timeout_;
    return {std::move(s), std::move(out)};
}

Actions Session::on_request(RequestId request, BodyRequest body, TimePoint now)
{
    Actions out;
    if (ended_) {
        respond_error(request, Condition::item_not_found, out);
        return out;
    }
    if (terminal_body_) {
        // The session died while nothing was held: this request learns why.
        out.push_back(Respond{request, 200, *terminal_body_});
        end(Condition::remote_connection_failed, false, out);
        return out;
    }
    const std::uint64_t rid = body.rid;
    if (rid <= last_rid_) {
        on_retransmission(rid, request, out);
    } else if (rid > last_rid_ + params_.requests) {
        // §14.2 (checklist #78, #92): above the window.
        terminate(Condition::item_not_found, request, {}, now, out);
    } else if (rid == last_rid_ + 1) {
        process(rid, request, std::move(body), now, out);
        process_buffered(now, out);
    } else {
        // §14.2 (checklist #43, #77): early, inside the window: buffer it
        // until the gap is filled, then forward and answer in rid order.
        auto [it, fresh] = buffered_.try_emplace(rid, Buffered{request, std::move(body)});
        if (!fresh) {
            out.push_back(Respond{it->second.request, 200, ResponseBuilder().attr("type", "error").build()});
            it->second.request = request;
        }
    }
    return out;
}

Actions Session::on_bad_request(RequestId request, TimePoint now)
{
    Actions out;
    if (ended_) {
        respond_error(request, Condition::item_not_found, out);
        return out;
    }
    terminate(Condition::bad_request, request, {}, now, out);
    return out;
}

void Session::on_retransmission(std::uint64_t rid, RequestId request, Actions& out)
{
    // §14.3 (checklist #79): a cached response is sent again, byte for byte,
    // and the payloads are not forwarded twice.
    for (const auto& c : replay_) {
        if (c.rid == rid) {
            out.push_back(Respond{request, 200, c.body});
            return;
        }
    }
    // §14.3 (checklist #80): the original is still held: answer it with a
    // recoverable error (§17.3) and keep the new one in its place.
    for (auto& h : held_) {
        if (h.rid == rid) {
            out.push_back(Respond{h.request, 200, ResponseBuilder().attr("type", "error").build()});
            h.request = request;
            return;
        }
    }
    // §14.3 (checklist #81): no longer buffered.
    terminate(Condition::item_not_found, request, {}, TimePoint{}, out);
}

void Session::process(std::uint64_t rid, RequestId request, BodyRequest body, TimePoint now, Actions& out)
{
    last_rid_ = rid;
    std::string data;
    for (const auto& p : body.payloads)
        data += p;
    if (body.terminate) {
        // §13 (checklist #73, #75): payloads of a terminate request MUST be forwarded.
        if (!data.empty())
            out.push_back(SendUpstream{std::move(data)});
        while (!held_.empty())
            answer_oldest(now, out);
        out.push_back(Respond{request, 200, ResponseBuilder().attr("type", "terminate").build()});
        end(Condition::undefined_condition, false, out);
        return;
    }
    if (body.restart) {
        // XEP-0206 §5 (checklist #107, #108): a restart opens a new stream on
        // the same connection; a stanza in the restart body is ignored.
        // The new stream goes to the negotiated domain, whatever 'to' says:
        // creation attributes on later requests are ignored (§7.1, §16.3,
        // checklist #30, #85), and a restart must not reach a domain that
        // negotiate() never checked (checklist #19).
        out.push_back(RestartUpstream {params_.domain, body.from.value_or(""),
            body.lang.value_or(""), body.xmpp_version.value_or("1.0")});
    } else if (!data.empty()) {
        // §8 (checklist #43): forward as soon as possible, in rid order.
        out.push_back(SendUpstream{std::move(data)});
    }
    hold(rid, request, now, out);
}

void Session::process_buffered(TimePoint now, Actions& out)
{
    while (!ended_ && !buffered_.empty() && buffered_.begin()->first == last_rid_ + 1) {
        auto node = buffered_.extract(buffered_.begin());
        process(node.key(), node.mapped().request, std::move(node.mapped().body), now, out);
    }
}

void Session::hold(std::uint64_t rid, RequestId request, TimePoint now, Actions& out)
{
    held_.push_back({rid, request, now + params_.wait});
    // §8 (checklist #49): payloads buffered while nothing was held go out now.
    flush_to_held(now, out);
    // §8 (checklist #46): never more than `hold` waiting; the oldest is answered.
    while (held_.size() > params_.hold)
        answer_oldest(now, out);
    // wait='0': answer at once (§12 polling).
    while (!held_.empty() && held_.front().deadline <= now)
        answer_oldest(now, out);
}

void Session::flush_to_held(TimePoint now, Actions& out)
{
    if (!held_.empty() && !pending_.empty())
        answer_oldest(now, out);
}

void Session::answer_oldest(TimePoint now, Actions& out)
{
    const Held h = held_.front();
    held_.pop_front();
    std::vector<std::string> payloads;
    payloads.swap(pending_);
    pending_bytes_ = 0;
    ResponseBuilder b;
    if (h.rid == creation_rid_ && !creation_answered_) {
        add_creation_attributes(b);
        creation_answered_ = true;
    }
    for (const auto& p : payloads) {
        if (needs_stream_ns(p))
            b.declare_stream_ns();  // XEP-0206 §2 (checklist #39)
        b.payload(p);
    }
    answer(h, b.build(), now, out);
}

void Session::add_creation_attributes(ResponseBuilder& b) const
{
    // §7.2 (checklist #32–#36, #40), XEP-0206 §4. No 'ack' (checklist #37),
    // no 'maxpause' (pause is not offered), no obsolete 'secure'/'authid'.
    b.attr("sid", sid_)
        .attr("wait", std::to_string(params_.wait.count()))
        .attr("requests", std::to_string(params_.requests))
        .attr("hold", std::to_string(params_.hold))
        .attr("inactivity", std::to_string(params_.inactivity.count()))
        .attr("polling", std::to_string(params_.polling.count()))
        .attr("from", params_.domain);
    if (params_.ver)
        b.attr("ver", to_string(*params_.ver));
    b.attr("xmlns:xmpp", k_ns_xbosh).attr("xmpp:version", "1.0").attr("xmpp:restartlogic", "true");
}

void Session::answer(const Held& h, std::string body, TimePoint now, Actions& out)
{
    remember(h.rid, body);
    out.push_back(Respond{h.request, 200, std::move(body)});
    last_response_ = now;
}

void Session::remember(std::uint64_t rid, const std::string& body)
{
    // §14.3: keep the last `requests` responses for retransmissions.
    replay_.push_back({rid, body});
    while (replay_.size() > params_.requests)
        replay_.pop_front();
}

Actions Session::on_upstream(std::vector<UpstreamElement> elements, TimePoint now)
{
    Actions out;
    if (ended_ || terminal_body_)
        return out;
    for (auto& e : elements) {
        if (e.kind == UpstreamElement::Kind::stream_error) {
            // XEP-0206 §6 (checklist #96): stanzas first, then the full stream error.
            std::vector<std::string> carried;
            carried.swap(pending_);
            carried.push_back(std::move(e.xml));
            pending_bytes_ = 0;
            terminate(Condition::remote_stream_error, std::nullopt, std::move(carried), now, out);
            return out;
        }
        pending_bytes_ += e.xml.size();
        pending_.push_back(std::move(e.xml));
    }
    // §8 (checklist #48): a held request is answered as soon as data arrives.
    flush_to_held(now, out);
    // Checked after the flush: with a request held the client is collecting,
    // and its data must reach it rather than end the session.
    if (pending_bytes_ > max_pending_bytes_) {
        // The client stopped collecting its data: a bounded queue, and a
        // BOSH-level answer instead of silent loss.
        terminate(Condition::policy_violation, std::nullopt, {}, now, out);
    }
    return out;
}

Actions Session::on_upstream_closed(Condition why, TimePoint now)
{
    Actions out;
    if (ended_ || terminal_body_)
        return out;
    std::vector<std::string> carried;
    carried.swap(pending_);
    pending_bytes_ = 0;
    terminate(why, std::nullopt, std::move(carried), now, out);
    return out;
}

Actions Session::on_tick(TimePoint now)
{
    Actions out;
    if (ended_)
        return out;
    // §8 (checklist #45): a held request is answered empty when wait expires.
    while (!held_.empty() && held_.front().deadline <= now)
        answer_oldest(now, out);
    // §10 (checklist #56): nothing held for `inactivity` since the last response.
    if (held_.empty() && now - last_response_ >= params_.inactivity) {
        for (auto& [rid, b] : buffered_)
            respond_error(b.request, Condition::item_not_found, out);
        buffered_.clear();
        end(Condition::undefined_condition, true, out);
    }
    return out;
}

Actions Session::shutdown(TimePoint now)
{
    Actions out;
    if (ended_)
        return out;
    if (held_.empty()) {
        // Nobody is waiting, and no later request will be served: end now, so
        // end() bounces what the client never received (XEP-0206 §7). Moving
        // it into a terminal body, as terminate() does, would lose it.
        for (auto& [rid, b] : buffered_)
            out.push_back(Respond {b.request, 200, terminate_body(Condition::system_shutdown)});
        buffered_.clear();
        end(Condition::system_shutdown, false, out);
        return out;
    }
    std::vector<std::string> carried;
    carried.swap(pending_);
    pending_bytes_ = 0;
    terminate(Condition::system_shutdown, std::nullopt, std::move(carried), now, out);
    return out;
}

std::optional<TimePoint> Session::next_deadline() const
{
    if (ended_)
        return std::nullopt;
    if (!held_.empty())
        return held_.front().deadline;
    return last_response_ + params_.inactivity;
}

void Session::respond_error(RequestId request, Condition why, Actions& out) const
{
    // §17.1 (checklist #24, #100): legacy clients get an HTTP status instead.
    if (!params_.ver) {
        if (auto status = legacy_http_status(why)) {
            out.push_back(Respond{request, *status, {}});
            return;
        }
    }
    out.push_back(Respond{request, 200, terminate_body(why)});
}

void Session::terminate(Condition why, std::optional<RequestId> current, std::vector<std::string> carried,
                        TimePoint now, Actions& out)
{
    // §17.2: the request that caused it gets the condition; other waiting
    // requests get other-request (checklist #93).
    const std::string body = terminate_body(why, carried);
    if (current) {
        respond_error(*current, why, out);
    }
    bool told = current.has_value();
    for (const auto& h : held_) {
        out.push_back(Respond{h.request, 200, told ? terminate_body(Condition::other_request) : body});
        told = true;
    }
    held_.clear();
    for (auto& [rid, b] : buffered_)
        out.push_back(Respond{b.request, 200, terminate_body(Condition::other_request)});
    buffered_.clear();
    if (!told) {
        // Nobody is listening: tell the next request (until inactivity).
        terminal_body_ = body;
        last_response_ = now;
        out.push_back(CloseUpstream{std::move(pending_)});
        pending_.clear();
        return;
    }
    end(why, false, out);
}

void Session::end(Condition why, bool silent, Actions& out)
{
    if (ended_)
        return;
    ended_ = true;
    // XEP-0206 §7: what the client never received is bounced upstream.
    out.push_back(CloseUpstream{std::move(pending_)});
    pending_.clear();
    pending_bytes_ = 0;
    out.push_back(EndSession{why, silent});
}

}  // namespace bosun::bosh
