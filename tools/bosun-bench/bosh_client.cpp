#include "bosh_client.hpp"

#include <array>
#include <functional>
#include <optional>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pugixml.hpp>

#include "common/base64.hpp"
#include "common/random.hpp"
#include "common/xml_escape.hpp"

namespace bosun::bench {

namespace {

using net::as_tuple;
using net::use_awaitable;

constexpr const char* ns_httpbind = "http://jabber.org/protocol/httpbind";
constexpr std::size_t max_response_bytes = 4 << 20;

struct HttpConn {
    explicit HttpConn(net::any_io_executor ex)
        : stream(std::move(ex))
    {
    }
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    bool open = false;
    bool busy = false;

    void close()
    {
        error_code ignored;
        stream.socket().close(ignored);
        buffer.clear();
        open = false;
    }
};

struct HttpResult {
    std::string error;  // error kind, empty on success
    unsigned status = 0;
    std::string body;
    std::uint64_t arrival_ns = 0;
};

bool retryable(const error_code& ec)
{
    return ec == http::error::end_of_stream || ec == net::error::connection_reset
        || ec == net::error::broken_pipe || ec == net::error::eof;
}

// One POST on a keep-alive connection. A connection the server closed while
// idle is reopened once, and the same request sent again (XEP-0124 §14.3
// allows a client to resend a request with the same rid).
net::awaitable<std::string> http_connect(
    HttpConn& c, const HttpTarget& t, std::chrono::milliseconds timeout)
{
    c.stream.expires_after(timeout);
    auto [ec] = co_await c.stream.async_connect(t.endpoint, as_tuple(use_awaitable));
    if (ec) {
        c.close();
        co_return ec == beast::error::timeout ? "connect_timeout" : "connect";
    }
    c.open = true;
    error_code ignored;
    c.stream.socket().set_option(tcp::no_delay(true), ignored);
    co_return "";
}

net::awaitable<HttpResult> http_post(HttpConn& c, const HttpTarget& t, const std::string& path,
    std::string body, const char* content_type, const std::string& authorization,
    std::chrono::milliseconds timeout)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = c.open;
        if (!c.open) {
            auto error
                = co_await http_connect(c, t, std::min(timeout, std::chrono::milliseconds(10'000)));
            if (!error.empty())
                co_return HttpResult {std::move(error)};
        }
        http::request<http::string_body> req {http::verb::post, path, 11};
        req.set(http::field::host, t.host);
        req.set(http::field::content_type, content_type);
        if (!authorization.empty())
            req.set(http::field::authorization, authorization);
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        c.stream.expires_after(timeout);
        auto [wec, wn] = co_await http::async_write(c.stream, req, as_tuple(use_awaitable));
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_response_bytes);
        error_code ec = wec;
        if (!ec)
            std::tie(ec, std::ignore)
                = co_await http::async_read(c.stream, c.buffer, parser, as_tuple(use_awaitable));
        const std::uint64_t arrival = now_ns();
        if (ec) {
            c.close();
            if (reused && attempt == 0 && retryable(ec))
                continue;
            if (ec == beast::error::timeout)
                co_return HttpResult {"timeout"};
            if (ec == net::error::operation_aborted)
                co_return HttpResult {"aborted"};
            co_return HttpResult {"http_io"};
        }
        auto res = parser.release();
        if (!res.keep_alive())
            c.close();
        co_return HttpResult {"", res.result_int(), std::move(res.body()), arrival};
    }
    co_return HttpResult {"http_io"};
}

class BoshClient : public Client, public std::enable_shared_from_this<BoshClient> {
public:
    BoshClient(Context& ctx, const BoshTargets& targets, std::size_t index, std::uint32_t user)
        : ctx_(ctx)
        , targets_(targets)
        , index_(index)
        , user_(user)
        , jid_(user_jid(ctx.opt, user))
    {
        for (auto& c : conns_)
            c = std::make_unique<HttpConn>(ctx.io.get_executor());
    }

    net::awaitable<bool> login() override;
    bool send_message(const std::string& to_jid, const std::string& body) override;
    net::awaitable<void> close() override;
    bool alive() const override { return alive_; }
    const std::string& jid() const override { return jid_; }

private:
    using Pred = std::function<bool(const pugi::xml_node&)>;

    std::string wrap(const std::string& payload, const std::string& extra = {})
    {
        return fmt::format("<body rid='{}' sid='{}' xmlns='{}'{}>{}</body>", rid_++, sid_,
            ns_httpbind, extra, payload);
    }
    std::chrono::milliseconds request_timeout() const
    {
        return std::chrono::milliseconds(
            static_cast<long>((ctx_.opt.wait + ctx_.opt.request_timeout_margin) * 1000));
    }
    net::awaitable<bool> login_sasl();
    net::awaitable<bool> login_prebind();
    net::awaitable<bool> bind_and_start();
    // Sends first_body, then empty polls, until pred matches a child of a
    // response or the login deadline passes.
    net::awaitable<bool> step(std::string first_body, Pred pred, const char* what);
    // Checks status, XML and terminate; returns the <body/> or an empty node.
    pugi::xml_node check_response(const HttpResult& r, pugi::xml_document& doc);
    void pump();
    void issue();
    net::awaitable<void> run_request(std::size_t conn, std::string body);
    void fail();

    Context& ctx_;
    const BoshTargets& targets_;
    std::size_t index_;
    std::uint32_t user_;
    std::string jid_;
    std::string sid_;
    std::uint64_t rid_ = 0;
    std::array<std::unique_ptr<HttpConn>, 2> conns_;
    Clock::time_point deadline_ {};
    int in_flight_ = 0;
    std::string outq_;
    std::size_t outq_count_ = 0;
    bool alive_ = false;
    bool closing_ = false;
    bool need_session_ = false;
};

pugi::xml_node BoshClient::check_response(const HttpResult& r, pugi::xml_document& doc)
{
    if (!r.error.empty()) {
        if (r.error != "aborted" || alive_)
            ctx_.error(r.error);
        return {};
    }
    if (r.status != 200) {
        ctx_.error(fmt::format("http_{}", r.status));
        return {};
    }
    if (!doc.load_buffer(r.body.data(), r.body.size())) {
        ctx_.error("bad_xml");
        return {};
    }
    auto body = doc.child("body");
    if (!body) {
        ctx_.error("bad_xml");
        return {};
    }
    if (std::string_view(body.attribute("type").as_string()) == "terminate") {
        const char* cond = body.attribute("condition").as_string();
        ctx_.error(fmt::format("terminate:{}", *cond ? cond : "none"));
        return {};
    }
    return body;
}

net::awaitable<bool> BoshClient::step(std::string first_body, Pred pred, const char* what)
{
    std::string body = std::move(first_body);
    while (Clock::now() < deadline_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        auto r = co_await http_post(*conns_[0], targets_.bosh, targets_.bosh.path, std::move(body),
            "text/xml; charset=utf-8", {}, std::min(left, request_timeout()));
        pugi::xml_document doc;
        auto root = check_response(r, doc);
        if (!root)
            co_return false;
        if (sid_.empty())
            sid_ = root.attribute("sid").as_string();
        if (sid_.empty()) {
            ctx_.error("login:no_sid");
            co_return false;
        }
        for (auto child : root.children())
            if (child.type() == pugi::node_element && pred(child))
                co_return true;
        body = wrap("");
    }
    ctx_.error(fmt::format("login_timeout:{}", what));
    co_return false;
}

net::awaitable<bool> BoshClient::login()
{
    deadline_ = Clock::now()
        + std::chrono::milliseconds(static_cast<long>(ctx_.opt.login_timeout * 1000));
    rid_ = 1 + random_u64() % (1ull << 40);
    bool ok = false;
    if (ctx_.opt.login == Login::prebind)
        ok = co_await login_prebind();
    else
        ok = co_await login_sasl();
    if (!ok) {
        for (auto& c : conns_)
            c->close();
        co_return false;
    }
    // Open the second connection now (a browser keeps two after the first
    // send): otherwise the first message of each session would pay for a
    // TCP handshake. --lazy-connect leaves it to the first send.
    if (!ctx_.opt.lazy_connect && !conns_[1]->open) {
        auto error
            = co_await http_connect(*conns_[1], targets_.bosh, std::chrono::milliseconds(10'000));
        if (!error.empty()) {
            ctx_.error(error);
            for (auto& c : conns_)
                c->close();
            co_return false;
        }
    }
    alive_ = true;
    pump();
    co_return true;
}

net::awaitable<bool> BoshClient::login_sasl()
{
    const auto& o = ctx_.opt;
    // XEP-0206 §4: session creation with xmpp:version; hold=1 as Strophe.
    const std::string create = fmt::format(
        "<body content='text/xml; charset=utf-8' hold='1' rid='{}' to='{}' ver='1.6' wait='{}' "
        "xml:lang='en' xmpp:version='1.0' xmlns='{}' xmlns:xmpp='urn:xmpp:xbosh'/>",
        rid_++, xml_escape(o.domain), o.wait, ns_httpbind);
    auto features = [](const pugi::xml_node& n) { return is_stream_features(n.name()); };
    if (!co_await step(create, features, "features"))
        co_return false;

    const std::string auth = plain_auth_element(jid_, o.password);
    bool success = false;
    auto sasl = [&](const pugi::xml_node& n) {
        const std::string_view name = n.name();
        success = name == "success";
        return name == "success" || name == "failure";
    };
    if (!co_await step(wrap(auth), sasl, "auth"))
        co_return false;
    if (!success) {
        ctx_.error("login:sasl_failure");
        co_return false;
    }
    // XEP-0206 §5: restart the stream after SASL.
    auto features2 = [&](const pugi::xml_node& n) {
        if (!is_stream_features(n.name()))
            return false;
        auto session = n.child("session");
        need_session_ = session && !session.child("optional");
        return true;
    };
    const std::string restart
        = fmt::format(" to='{}' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'",
            xml_escape(o.domain));
    if (!co_await step(wrap("", restart), features2, "restart"))
        co_return false;
    co_return co_await bind_and_start();
}

net::awaitable<bool> BoshClient::bind_and_start()
{
    auto result_of = [](const char* id) {
        return [id](const pugi::xml_node& n) {
            return std::string_view(n.name()) == "iq"
                && std::string_view(n.attribute("id").as_string()) == id;
        };
    };
    bool bound_ok = false;
    auto bind_pred = [&](const pugi::xml_node& n) {
        if (!result_of("b1")(n))
            return false;
        bound_ok = std::string_view(n.attribute("type").as_string()) == "result";
        if (auto j = n.child("bind").child("jid"))
            jid_ = j.text().as_string();
        return true;
    };
    if (ctx_.opt.login == Login::sasl) {
        const std::string bind = fmt::format("<iq type='set' id='b1' xmlns='jabber:client'><bind "
                                             "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                                             "<resource>{}{}</resource></bind></iq>",
            xml_escape(ctx_.opt.resource), index_);
        if (!co_await step(wrap(bind), bind_pred, "bind"))
            co_return false;
        if (!bound_ok) {
            ctx_.error("login:bind_error");
            co_return false;
        }
        if (need_session_) {
            const std::string session
                = "<iq type='set' id='s1' xmlns='jabber:client'>"
                  "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>";
            if (!co_await step(wrap(session), result_of("s1"), "session"))
                co_return false;
        }
    }
    // Presence and the roster, as a client does right after login.
    const std::string start
        = "<presence xmlns='jabber:client'/>"
          "<iq type='get' id='r1' xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq>";
    co_return co_await step(wrap(start), result_of("r1"), "roster");
}

net::awaitable<bool> BoshClient::login_prebind()
{
    namespace json = boost::json;
    HttpConn api(ctx_.io.get_executor());
    const std::string req = json::serialize(json::object {{"auth", prebind_auth(ctx_.opt, jid_)}});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    auto r = co_await http_post(api, targets_.prebind, "/v1/prebind", req, "application/json",
        "Bearer " + targets_.api_key, left);
    api.close();
    if (!r.error.empty()) {
        ctx_.error("prebind:" + r.error);
        co_return false;
    }
    if (r.status != 201 && r.status != 200) {
        ctx_.error(fmt::format("prebind:http_{}", r.status));
        co_return false;
    }
    error_code ec;
    auto v = json::parse(r.body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    if (!o || !o->contains("sid") || !o->contains("rid") || !o->contains("jid")
        || !o->at("sid").is_string() || !o->at("jid").is_string()) {
        ctx_.error("prebind:bad_response");
        co_return false;
    }
    sid_ = std::string(o->at("sid").as_string());
    jid_ = std::string(o->at("jid").as_string());
    // docs/prebind.md: rid is the value of the next request (the attach).
    rid_ = o->at("rid").to_number<std::uint64_t>(ec);
    if (ec) {
        ctx_.error("prebind:bad_response");
        co_return false;
    }
    co_return co_await bind_and_start();
}

bool BoshClient::send_message(const std::string& to_jid, const std::string& body)
{
    if (!alive_ || closing_)
        return false;
    if (outq_count_ >= ctx_.opt.max_queue) {
        ctx_.error("queue_full");
        return false;
    }
    outq_ += fmt::format(
        "<message to='{}' type='chat' xmlns='jabber:client'><body>{}</body></message>",
        xml_escape(to_jid), xml_escape(body));
    ++outq_count_;
    pump();
    return true;
}

// Strophe's rule: keep one request at the server at all times; data goes
// out at once while fewer than two requests are in flight (hold=1 means the
// server answers the held one when the second arrives).
void BoshClient::pump()
{
    while (alive_ && !closing_ && (in_flight_ == 0 || (outq_count_ > 0 && in_flight_ < 2)))
        issue();
}

void BoshClient::issue()
{
    std::size_t idx = conns_[0]->busy ? 1 : 0;
    if (conns_[idx]->busy)
        return;  // cannot happen with in_flight_ < 2
    conns_[idx]->busy = true;
    ++in_flight_;
    std::string body = wrap(outq_);
    outq_.clear();
    outq_count_ = 0;
    net::co_spawn(ctx_.io, run_request(idx, std::move(body)),
        [self = shared_from_this()](std::exception_ptr e) {
            if (e)
                self->ctx_.error("exception");
        });
}

net::awaitable<void> BoshClient::run_request(std::size_t idx, std::string body)
{
    auto self = shared_from_this();
    auto r = co_await http_post(*conns_[idx], targets_.bosh, targets_.bosh.path, std::move(body),
        "text/xml; charset=utf-8", {}, request_timeout());
    conns_[idx]->busy = false;
    --in_flight_;
    if (!alive_ || closing_)
        co_return;
    pugi::xml_document doc;
    auto root = check_response(r, doc);
    if (!root) {
        fail();
        co_return;
    }
    for (auto m : root.children("message")) {
        auto text = m.child("body").text();
        if (text)
            ctx_.on_message(index_, text.as_string(), r.arrival_ns);
    }
    pump();
}

void BoshClient::fail()
{
    alive_ = false;
    for (auto& c : conns_)
        c->close();
}

net::awaitable<void> BoshClient::close()
{
    auto self = shared_from_this();
    if (!alive_)
        co_return;
    closing_ = true;
    // XEP-0124 §13: terminate on a free connection; the server answers the
    // held request too.
    std::size_t idx = conns_[0]->busy ? 1 : 0;
    if (!conns_[idx]->busy) {
        conns_[idx]->busy = true;
        auto r = co_await http_post(*conns_[idx], targets_.bosh, targets_.bosh.path,
            wrap("<presence type='unavailable' xmlns='jabber:client'/>", " type='terminate'"),
            "text/xml; charset=utf-8", {}, std::chrono::milliseconds(3000));
        conns_[idx]->busy = false;
    }
    alive_ = false;
    for (auto& c : conns_)
        c->close();
}

}  // namespace

bool is_stream_features(const char* name)
{
    const std::string_view n = name;
    return n == "features" || n.ends_with(":features");
}

std::string plain_auth_element(std::string_view jid, std::string_view password)
{
    std::string plain;
    plain.push_back('\0');
    plain += jid.substr(0, jid.find('@'));
    plain.push_back('\0');
    plain += password;
    return fmt::format("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{}</auth>",
        base64_encode(plain));
}

bool resolve_http_url(
    net::io_context& io, const std::string& url, HttpTarget& out, std::string& error)
{
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) {
        error = "only http:// URLs are supported";
        return false;
    }
    const std::string rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    const std::string hostport = rest.substr(0, slash);
    out.path = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = hostport.rfind(':');
    const std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    const std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
    tcp::resolver resolver(io);
    error_code ec;
    auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty()) {
        error = fmt::format("cannot resolve {}: {}", hostport, ec.message());
        return false;
    }
    out.endpoint = results.begin()->endpoint();
    out.host = hostport;
    return true;
}

std::shared_ptr<Client> make_bosh_client(
    Context& ctx, const BoshTargets& targets, std::size_t index, std::uint32_t user)
{
    return std::make_shared<BoshClient>(ctx, targets, index, user);
}

}  // namespace bosun::bench
