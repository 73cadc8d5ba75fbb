#include "prebind/upstream_login.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "prebind/api_key.hpp"
#include "prebind/ticket.hpp"

namespace bosun::prebind {
namespace {

namespace json = boost::json;

std::string_view trim_left(std::string_view text)
{
    while (!text.empty()
        && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n'
            || text.front() == '\r'))
        text.remove_prefix(1);
    return text;
}

// A JWK set of exactly one key stands for that key, as in ejabberd's jwt_key.
json::object* single_key(json::object& jwk)
{
    auto* keys = jwk.if_contains("keys");
    if (!keys)
        return &jwk;
    auto* array = keys->if_array();
    if (!array || array->size() != 1 || !array->front().is_object())
        return nullptr;
    return &array->front().get_object();
}

std::string_view string_member(const json::object& o, std::string_view name)
{
    const auto* v = o.if_contains(name);
    return (v && v->is_string()) ? std::string_view(v->get_string()) : std::string_view {};
}

Expected<auth::SigningKey, std::string> load_oct_jwk(std::string_view text)
{
    boost::system::error_code ec;
    json::value parsed = json::parse(text, ec);
    json::object* jwk = (!ec && parsed.is_object()) ? single_key(parsed.get_object()) : nullptr;
    if (!jwk)
        return unexpected(std::string("not a JWK (a JSON object, or a set of one key)"));
    const auto kty = string_member(*jwk, "kty");
    if (kty == "EC" || kty == "RSA" || kty == "OKP")
        return unexpected(fmt::format("a kty \"{}\" JWK: give Bosun the private key as PEM "
                                      "(ejabberd's jwt_key is its public JWK)",
            kty));
    if (kty != "oct")
        return unexpected(std::string("the JWK's kty is not \"oct\""));
    if (const auto alg = string_member(*jwk, "alg"); !alg.empty() && alg != "HS256")
        return unexpected(std::string("the JWK's alg is not HS256"));
    auto secret = auth::base64url_decode(string_member(*jwk, "k"));
    if (auto* k = jwk->if_contains("k"); k && k->is_string())
        cleanse_bytes(k->get_string().data(), k->get_string().size());
    if (!secret)
        return unexpected(std::string("the JWK's k is not base64url"));
    auto key = auth::load_signing_key_hs256(*secret);
    cleanse(*secret);
    return key;
}

std::string read_file(const std::string& path, bool& ok)
{
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    return ok ? std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())
              : std::string {};
}

Expected<auth::SigningKey, std::string> load_key_file(
    std::string_view domain, const UpstreamConfig& up)
{
    bool ok = false;
    std::string text = read_file(up.ejabberd_jwt_key_file, ok);
    if (!ok)
        return unexpected(fmt::format(
            "upstream {}: cannot read ejabberd_jwt_key_file {}", domain, up.ejabberd_jwt_key_file));
    auto key = load_ejabberd_jwt_key(text);
    cleanse(text);
    if (!key)
        return unexpected(fmt::format("upstream {}: ejabberd_jwt_key_file {}: {}", domain,
            up.ejabberd_jwt_key_file, key.error()));
    return key;
}

}  // namespace

Expected<auth::SigningKey, std::string> load_ejabberd_jwt_key(std::string_view file_text)
{
    const auto text = trim_left(file_text);
    if (text.starts_with('{'))
        return load_oct_jwk(text);
    if (text.starts_with("-----BEGIN"))
        return auth::load_signing_key_pem(text);
    return unexpected(std::string("expected a {\"kty\":\"oct\"} JWK or a PEM private key"));
}

std::vector<std::string> check_login_secrets(const Config& config)
{
    std::vector<std::string> problems;
    for (const auto& [domain, up] : config.upstreams) {
        if (up.prebind_login == AssertionLogin::ticket) {
            auto secret = read_ticket_secret(up.ticket_secret_file);
            cleanse(secret.bytes);
            if (!secret.error.empty())
                problems.push_back(fmt::format("upstream {}: {}", domain, secret.error));
        } else if (up.prebind_login == AssertionLogin::ejabberd_jwt) {
            if (auto key = load_key_file(domain, up); !key)
                problems.push_back(key.error());
        }
    }
    return problems;
}

LoginMinter::LoginMinter(const std::map<std::string, UpstreamConfig>& upstreams)
{
    for (const auto& [domain, up] : upstreams) {
        Domain d;
        d.how = up.prebind_login;
        if (up.prebind_login == AssertionLogin::ticket) {
            auto secret = read_ticket_secret(up.ticket_secret_file);
            if (!secret.error.empty())
                throw std::runtime_error(fmt::format("upstream {}: {}", domain, secret.error));
            d.ticket_secret = std::move(secret.bytes);
            d.lifetime = up.ticket_lifetime;
        } else if (up.prebind_login == AssertionLogin::ejabberd_jwt) {
            auto key = load_key_file(domain, up);
            if (!key)
                throw std::runtime_error(key.error());
            d.key = std::move(*key);
            d.jid_field = up.ejabberd_jwt_jid_field;
            d.lifetime = up.ejabberd_jwt_lifetime;
        } else {
            continue;
        }
        domains_.emplace(domain, std::move(d));
    }
}

LoginMinter::~LoginMinter()
{
    for (auto& [domain, d] : domains_)
        cleanse(d.ticket_secret);
}

std::optional<MintedLogin> LoginMinter::mint(const BareJid& jid, auth::UnixTime now) const
{
    const auto it = domains_.find(jid.domain);
    if (it == domains_.end())
        return std::nullopt;
    const Domain& d = it->second;
    const auth::UnixTime exp = now + d.lifetime;
    MintedLogin out {{}, exp.time_since_epoch().count()};
    if (d.how == AssertionLogin::ticket) {
        out.secret = mint_ticket(d.ticket_secret, jid.local, jid.domain, out.exp);
        return out;
    }
    // ejabberd_auth_jwt compares the claim's JID with the SASL user@host,
    // both nodeprepped; the localpart here is already ASCII-lowercased.
    auto token = auth::mint_ejabberd_jwt(
        {.jid = jid.text(), .exp = exp, .jid_field = d.jid_field}, *d.key);
    if (!token)  // a loaded key signs; Api::handle turns this into a 500
        throw std::runtime_error(fmt::format("upstream {}: {}", jid.domain, token.error()));
    out.secret = std::move(*token);
    return out;
}

}  // namespace bosun::prebind
