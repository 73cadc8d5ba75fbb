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
    // A proxy in front gives up after its read timeout, so the wait stays
    // below that too, or every idle poll would end in a proxy error.
    Seconds cap = limits.max_wait;
    if (limits.front_proxy_timeout.count() > 0)
        cap = std::min(cap, std::max(limits.front_proxy_timeout - k_front_proxy_margin, Seconds{0}));
    const Seconds asked = req.wait ? Seconds{*req.wait} : limits.default_wait;
    n.wait = std::min(asked, cap);
    // §7.1, §7.2 (checklist #22, #33): hold never above the request; requests = hold+1.
    n.hold = std::min(req.hold.value_or(1u), limits.max_hold);
    n.requests = n.hold + 1;
    n.polling = limits.polling;
    n.inactivity = limits.inactivity;
    // §12 (checklist #68): a polling session gets an inactivity above polling.
    if (n.polling_session())
        n.inactivity = std::max(limits.inactivity, limits.polling * 2);
    // §10 (checklist #36, #59): maxpause only when pause is offered.
    n.maxpause = limits.max_pause;
    // §9.2: a client that will ack puts 'ack' (='1') on its creation request.
    n.acks = req.ack.has_value();
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

// The payloads of one request as one write; a single payload (the usual
// case) is moved, not copied (W2 cost per message, docs/benchmarks.md).
std::string joined(std::vector<std::string>& payloads)
{
    if (payloads.size() == 1)
        return std::move(payloads.front());
    std::size_t size = 0;
    for (const auto& p : payloads)
        size += p.size();
    std::string data;
    data.reserve(size);
    for (const auto& p : payloads)
        data += p;
    return data;
}

}  // namespace

Session::Session(std::string sid, Negotiated params, const Limits& limits)
    : sid_(std::move(sid))
    , params_(std::move(params))
    , connect_timeout_(limits.connect_timeout)
    , max_pending_bytes_(limits.max_pending_bytes)
    // A client that acks as it should never has more than requests + 1
    // responses unacknowledged, so a lower limit would punish it.
    , max_unacked_(std::max(limits.max_unacked_responses, params_.requests + 1))
    , max_resends_(limits.max_resends)
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
    s.last_arrival_ = now;
    s.keys_.start(body.rid, body);  // §15.3 (checklist #82)
    // XEP-0206 §3, checklist #25–#27, #112: the stream header takes to, from,
    // xml:lang and version from the creation body.
    out.push_back(OpenUpstream{*body.to, body.from.value_or(""), body.lang.value_or(""),
                               body.xmpp_version.value_or("1.0"), body.route.value_or("")});
    // XEP-0206 §4 (checklist #38): the creation request waits for the
    // features, up to the connect timeout, so the client gets them at once.
    s.held_.push_back({body.rid, request, now + std::min<Duration>(s.params_.wait, s.connect_timeout_)});
    if (s.params_.polling_session())
        s.held_.back().deadline = now + s.connect_timeout_;
    return {std::move(s), std::move(out)};
}

Session Session::create_prebound(std::string sid, Negotiated params, const Limits& limits, std::uint64_t next_rid,
                                 Seconds attach_timeout, TimePoint now)
{
    Session s(std::move(sid), std::move(params), limits);
    s.last_rid_ = next_rid - 1;
    s.creation_rid_ = next_rid - 1;
    s.creation_answered_ = true;
    s.last_response_ = now;
    s.last_arrival_ = now;
    // P5: the attach window replaces inactivity until the first request,
    // exactly as a pause would (§10), and ends with it.
    s.paused_for_ = attach_timeout;
    // P3: the rid before the first one reads as answered, empty.
    s.remember(next_rid - 1, ResponseBuilder{}.build(), now);
    return s;
}

Actions Session::on_request(RequestId request, BodyRequest body, TimePoint now)
{
    Actions out;
    out.reserve(2);  // the usual answer: forward the payload, answer the held request
    attached_ = true;
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
    // §10 (checklist #61): a pause lasts until the next request.
    paused_for_.reset();
    const std::uint64_t rid = body.rid;
    // §11 (checklist #65): the one extra request to pause or terminate may
    // also reach one rid further.
    const std::uint64_t window = params_.requests + ((is_pause(body) || body.terminate) ? 1 : 0);
    if (rid <= last_rid_ || buffered_.contains(rid)) {
        on_resend(rid, request, body, now, out);
    } else if (rid > last_rid_ + window) {
        // §14.2 (checklist #78, #92): above the window.
        terminate(Condition::item_not_found, request, {}, now, out);
    } else if (too_many_requests(rid, body)) {
        terminate(Condition::policy_violation, request, {}, now, out);
    } else if (rid == last_rid_ + 1) {
        process(rid, request, std::move(body), now, now, out);
        process_buffered(now, out);
    } else {
        // §14.2 (checklist #43, #77): early, inside the window: buffered
        // until the gap is filled, then forwarded and answered in rid order.
        buffered_.emplace(rid, Buffered{request, now, std::move(body)});
    }
    return out;
}

Actions Session::on_bad_request(RequestId request, TimePoint now, Condition why)
{
    Actions out;
    if (ended_) {
        respond_error(request, Condition::item_not_found, out);
        return out;
    }
    terminate(why, request, {}, now, out);
    return out;
}

bool Session::too_many_requests(std::uint64_t rid, const BodyRequest& body) const
{
    // §11 (checklist #64): more new requests outstanding than `requests`,
    // none of them answered yet. Held and buffered requests are exactly the
    // unanswered new ones. (#65): one more is allowed when the last of them,
    // in rid order, pauses or terminates.
    const std::size_t outstanding = held_.size() + buffered_.size() + 1;
    const bool newest = buffered_.empty() || buffered_.rbegin()->first < rid;
    const BodyRequest& last = newest ? body : buffered_.rbegin()->second.body;
    const std::size_t allowed = params_.requests + ((is_pause(last) || last.terminate) ? 1 : 0);
    return outstanding > allowed;
}

void Session::on_resend(std::uint64_t rid, RequestId request, const BodyRequest& body, TimePoint now,
                        Actions& out)
{
    // §14.3 (checklist #72): a rid re-sent over and over is abuse. Counted
    // for the rid most recently re-sent, which is all a real client does.
    if (rid != resent_rid_) {
        resent_rid_ = rid;
        resend_count_ = 0;
    }
    if (++resend_count_ > max_resends_) {
        terminate(Condition::policy_violation, request, {}, now, out);
        return;
    }
    const auto early = buffered_.find(rid);
    if (early == buffered_.end()) {
        on_retransmission(rid, request, body, now, out);
        return;
    }
    // §15 (checklist #82): a copy carries the same key as its original.
    if (keys_.active() && body.key != early->second.body.key) {
        terminate(Condition::item_not_found, request, {}, now, out);
        return;
    }
    // §14.3 (checklist #80): an early request sent again: the older copy
    // gets a recoverable error and the newer one its answer.
    out.push_back(Respond{early->second.request, 200, recoverable_error(rid)});
    early->second.request = request;
}

void Session::on_retransmission(std::uint64_t rid, RequestId request, const BodyRequest& body, TimePoint now,
                                Actions& out)
{
    const auto cached = std::find_if(replay_.begin(), replay_.end(), [rid](const Cached& c) { return c.rid == rid; });
    const auto held = std::find_if(held_.begin(), held_.end(), [rid](const Held& h) { return h.rid == rid; });
    // §14.3 (checklist #81): no longer buffered. §15 (checklist #82): a copy
    // must carry the key its original carried, or anyone who saw the sid
    // and a rid could collect responses.
    if ((cached == replay_.end() && held == held_.end()) || !keys_.matches_copy(rid, last_rid_, body)) {
        terminate(Condition::item_not_found, request, {}, now, out);
        return;
    }
    if (cached != replay_.end()) {
        // §14.3 (checklist #79): the cached response is sent again, byte
        // for byte, and the payloads are not forwarded twice.
        out.push_back(Respond{request, 200, cached->body});
        return;
    }
    // §14.3 (checklist #80): the original is still held: answer it with a
    // recoverable error (§17.3) and keep the new one in its place.
    out.push_back(Respond{held->request, 200, recoverable_error(rid)});
    held->request = request;
}

std::optional<Condition> Session::refusal(std::uint64_t rid, const BodyRequest& body, TimePoint arrival)
{
    // §15.3 (checklist #82, #83): a broken key sequence: not processed.
    if (!keys_.advance(rid, body))
        return Condition::item_not_found;
    // §10 (checklist #63): a pause beyond maxpause is unspecified; Bosun
    // refuses it as Openfire does.
    if (is_pause(body) && Seconds{*body.pause} > params_.maxpause)
        return Condition::policy_violation;
    if (polls_too_often(body, arrival))
        return Condition::policy_violation;
    return std::nullopt;
}

bool Session::polls_too_often(const BodyRequest& body, TimePoint arrival) const
{
    // §12 (checklist #69, #70): in a polling session, two consecutive empty
    // requests less than `polling` apart, the first answered without
    // payloads. This is also §11's "too frequent" rule (#66), which §12
    // refines for polling sessions. Long-polling sessions are not checked:
    // there it would also catch a client that sends an empty request while
    // one is held (checklist §4 item 13), which is how some libraries keep
    // a request open, and a held request already paces the client.
    if (!params_.polling_session() || !is_empty_poll(body) || !last_was_empty_)
        return false;
    if (arrival - last_arrival_ >= params_.polling)
        return false;
    return last_answered_rid_ == last_rid_ && last_payload_rid_ != last_rid_;
}

bool Session::take_client_ack(std::uint64_t rid, const BodyRequest& body, TimePoint now)
{
    if (!params_.acks)
        return true;
    // §9.2 (checklist #55): a client leaves 'ack' out only when it has every
    // response, so no ack acknowledges everything before this request.
    const std::uint64_t ack = std::min(body.ack.value_or(rid - 1), rid - 1);
    // §9.2, §14.3 (checklist #54): acknowledged responses leave the cache.
    std::erase_if(replay_, [ack](const Cached& c) { return c.rid <= ack; });
    // §9.2 (checklist #53): a response the client lacks: say so at once.
    if (ack < last_answered_rid_) {
        const auto missing
            = std::find_if(replay_.begin(), replay_.end(), [ack](const Cached& c) { return c.rid == ack + 1; });
        if (missing != replay_.end()) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - missing->sent).count();
            report_ = Report{ack + 1, static_cast<std::uint32_t>(std::clamp<std::int64_t>(ms, 0, k_max_report_ms))};
        }
    }
    // STYLE rule 8: what a client leaves unacknowledged is bounded: the
    // cached responses plus those still owed to held requests and to this
    // one never exceed max_unacked_responses.
    return replay_.size() + held_.size() + 1 <= max_unacked_;
}

void Session::process(std::uint64_t rid, RequestId request, BodyRequest body, TimePoint arrival, TimePoint now,
                      Actions& out)
{
    if (const auto refused = refusal(rid, body, arrival)) {
        terminate(*refused, request, {}, now, out);
        return;
    }
    last_rid_ = rid;
    last_arrival_ = arrival;
    last_was_empty_ = is_empty_poll(body);
    if (!take_client_ack(rid, body, now)) {
        terminate(Condition::policy_violation, request, {}, now, out);
        return;
    }
    std::string data = joined(body.payloads);
    if (body.terminate) {
        client_terminate(request, std::move(data), now, out);
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
    if (is_pause(body)) {
        pause(rid, request, Seconds{*body.pause}, now, out);
        return;
    }
    hold(rid, request, now, out);
}

void Session::process_buffered(TimePoint now, Actions& out)
{
    while (!ended_ && !buffered_.empty() && buffered_.begin()->first == last_rid_ + 1) {
        auto node = buffered_.extract(buffered_.begin());
        process(node.key(), node.mapped().request, std::move(node.mapped().body), node.mapped().arrival, now,
                out);
    }
}

void Session::client_terminate(RequestId request, std::string data, TimePoint now, Actions& out)
{
    // §13 (checklist #73, #75): payloads of a terminate request MUST be
    // forwarded. Held requests get their ordinary answers in rid order, and
    // the terminate request itself type='terminate' (checklist §4 item 4).
    if (!data.empty())
        out.push_back(SendUpstream{std::move(data)});
    while (!held_.empty())
        answer_oldest(now, out);
    out.push_back(Respond{request, 200, ResponseBuilder().attr("type", "terminate").build()});
    end(Condition::undefined_condition, false, out, true);
}

void Session::pause(std::uint64_t rid, RequestId request, Seconds period, TimePoint now, Actions& out)
{
    // §10 (checklist #60): every held request and the pause request are
    // answered at once and without payloads: what is queued stays queued
    // for the request after the pause.
    while (!held_.empty())
        answer_oldest(now, out, false);
    ResponseBuilder b;
    add_ack_and_report(b, rid);
    // §14.3: pause responses are not kept for replay, so a re-sent pause
    // rid gets item-not-found (checklist §4 item 15).
    out.push_back(Respond{request, 200, b.build()});
    last_response_ = now;
    last_answered_rid_ = rid;
    // §10 (checklist #61, #62): inactivity is `pause` until the next
    // request, shorter or longer than the usual one.
    paused_for_ = period;
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
    // §9.2 (checklist #53): a report is sent at once, on the next response.
    if (report_ && !held_.empty())
        answer_oldest(now, out);
}

void Session::flush_to_held(TimePoint now, Actions& out)
{
    if (!held_.empty() && !pending_.empty())
        answer_oldest(now, out);
}

void Session::answer_oldest(TimePoint now, Actions& out, bool with_payloads)
{
    const Held h = held_.front();
    held_.erase(held_.begin());
    std::vector<std::string> payloads;
    if (with_payloads) {
        payloads.swap(pending_);
        pending_bytes_ = 0;
    }
    ResponseBuilder b;
    if (h.rid == creation_rid_ && !creation_answered_) {
        add_creation_attributes(b);
        creation_answered_ = true;
    } else {
        add_ack_and_report(b, h.rid);
    }
    for (const auto& p : payloads) {
        if (needs_stream_ns(p))
            b.declare_stream_ns();  // XEP-0206 §2 (checklist #39)
        b.payload(p);
    }
    if (!payloads.empty())
        last_payload_rid_ = h.rid;
    answer(h, b.build(), now, out);
}

void Session::add_creation_attributes(ResponseBuilder& b) const
{
    // §7.2 (checklist #32–#36, #40), XEP-0206 §4. No 'stream' (§16 multiple
    // streams are not offered, checklist #84), no obsolete 'secure'/'authid'.
    b.attr("sid", sid_)
        .attr("wait", std::to_string(params_.wait.count()))
        .attr("requests", std::to_string(params_.requests))
        .attr("hold", std::to_string(params_.hold))
        .attr("inactivity", std::to_string(params_.inactivity.count()))
        .attr("polling", std::to_string(params_.polling.count()))
        .attr("from", params_.domain)
        // §7.2, §5 (checklist #5): the request codings the HTTP front end
        // decodes (src/http/coding.hpp accepted_codings).
        .attr("accept", k_accepted_codings);
    // §10 (checklist #36, #59): maxpause if and only if pause is offered.
    if (params_.maxpause.count() > 0)
        b.attr("maxpause", std::to_string(params_.maxpause.count()));
    // §9.1 (checklist #37): a session with acks has one on the creation
    // response, equal to the creation rid, even when a later request has
    // already arrived (it is what answers the creation request early).
    if (params_.acks)
        b.attr("ack", std::to_string(creation_rid_));
    if (params_.ver)
        b.attr("ver", to_string(*params_.ver));
    b.attr("xmlns:xmpp", k_ns_xbosh).attr("xmpp:version", "1.0").attr("xmpp:restartlogic", "true");
}

void Session::add_ack(ResponseBuilder& b, std::uint64_t rid) const
{
    // §9.1 (checklist #51, #52): the highest rid received with every lower
    // one, except when that is the rid being answered. Only in sessions
    // whose client asked for acks.
    if (params_.acks && last_rid_ != rid)
        b.attr("ack", std::to_string(last_rid_));
}

void Session::add_ack_and_report(ResponseBuilder& b, std::uint64_t rid)
{
    add_ack(b, rid);
    // §9.2 (checklist #53).
    if (report_) {
        b.attr("report", std::to_string(report_->rid)).attr("time", std::to_string(report_->ms));
        report_.reset();
    }
}

std::string Session::recoverable_error(std::uint64_t rid)
{
    // §17.3: type='error'; not kept for replay, as it answers no rid for good.
    ResponseBuilder b;
    b.attr("type", "error");
    add_ack(b, rid);
    return b.build();
}

void Session::answer(const Held& h, std::string body, TimePoint now, Actions& out)
{
    remember(h.rid, body, now);
    out.push_back(Respond{h.request, 200, std::move(body)});
    last_response_ = now;
    last_answered_rid_ = h.rid;
}

void Session::remember(std::uint64_t rid, const std::string& body, TimePoint now)
{
    // §14.3 (checklist #79, #54): the last `requests` responses; with acks,
    // every response the client has not acknowledged (take_client_ack
    // drops them, and bounds how many may wait).
    replay_.push_back({rid, now, body});
    if (!params_.acks && replay_.size() > params_.requests)
        replay_.erase(replay_.begin(), replay_.end() - params_.requests);
}

bool Session::is_pause(const BodyRequest& body) const
{
    // §10 (checklist #59): without maxpause, 'pause' is ignored.
    return body.pause && params_.maxpause.count() > 0;
}

bool Session::is_empty_poll(const BodyRequest& body) const
{
    return body.payloads.empty() && !body.terminate && !body.restart && !is_pause(body);
}

Seconds Session::inactivity() const
{
    return paused_for_.value_or(params_.inactivity);
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

Actions Session::on_request_gone(RequestId request, TimePoint now)
{
    Actions out;
    if (ended_)
        return out;
    const auto it
        = std::find_if(held_.begin(), held_.end(), [request](const Held& h) { return h.request == request; });
    if (it == held_.end() || (it->rid == creation_rid_ && !creation_answered_))
        return out;
    const Held h = *it;
    held_.erase(it);
    // No payloads: pending_ stays for the next request. The ack goes out as
    // usual; a pending §9.2 report waits for a response that will be read.
    ResponseBuilder b;
    add_ack(b, h.rid);
    answer(h, b.build(), now, out);
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
    // §10 (checklist #56, #61, #62): nothing held for `inactivity` (or the
    // pause) since the last response.
    if (held_.empty() && now - last_response_ >= inactivity()) {
        for (auto& [rid, b] : buffered_)
            respond_error(b.request, Condition::item_not_found, out);
        buffered_.clear();
        end(Condition::undefined_condition, true, out);
    }
    return out;
}

Actions Session::close(Condition why, TimePoint now)
{
    Actions out;
    if (ended_)
        return out;
    if (held_.empty()) {
        // Nobody is waiting, and no later request will be served: end now, so
        // end() bounces what the client never received (XEP-0206 §7). Moving
        // it into a terminal body, as terminate() does, would lose it.
        for (auto& [rid, b] : buffered_)
            out.push_back(Respond {b.request, 200, terminate_body(why)});
        buffered_.clear();
        end(why, false, out);
        return out;
    }
    std::vector<std::string> carried;
    carried.swap(pending_);
    pending_bytes_ = 0;
    terminate(why, std::nullopt, std::move(carried), now, out);
    return out;
}

std::optional<TimePoint> Session::next_deadline() const
{
    if (ended_)
        return std::nullopt;
    if (!held_.empty())
        return held_.front().deadline;
    return last_response_ + inactivity();
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
    // requests get other-request (checklist #93). Terminal bodies carry no
    // 'ack': there is nothing left to acknowledge.
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
        paused_for_.reset();
        out.push_back(CloseUpstream{std::move(pending_)});
        pending_.clear();
        return;
    }
    end(why, false, out);
}

void Session::end(Condition why, bool silent, Actions& out, bool by_client)
{
    if (ended_)
        return;
    ended_ = true;
    // XEP-0206 §7: what the client never received is bounced upstream.
    out.push_back(CloseUpstream{std::move(pending_)});
    pending_.clear();
    pending_bytes_ = 0;
    out.push_back(EndSession{why, silent, by_client});
}

}  // namespace bosun::bosh
