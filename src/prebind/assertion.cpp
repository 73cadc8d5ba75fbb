#include "prebind/assertion.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "auth/json.hpp"
#include "prebind/api_key.hpp"
#include "prebind/signing.hpp"
#include "prebind/ticket.hpp"
#include "prebind/upstream_login.hpp"

namespace bosun::prebind {
namespace {

using auth::JwtError;

auth::VerifyKey load_key(const AssertionIssuer& issuer, const AssertionKeyConfig& key)
{
    const auto read_file = [&](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw std::runtime_error(
                fmt::format("issuer {} key {}: cannot read key file {}", issuer.id, key.kid, path));
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const auto alg = auth::alg_from_wire(key.alg);
    if (!alg)
        throw std::runtime_error(fmt::format("issuer {} key {}: unknown alg", issuer.id, key.kid));
    Expected<auth::VerifyKey, std::string> loaded = unexpected(std::string("no key file"));
    if (*alg == auth::Alg::HS256) {
        std::string secret = read_file(key.secret_file);
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
            secret.pop_back();
        loaded = auth::load_verify_key_hs256(issuer.issuer, key.kid, secret);
        cleanse(secret);
    } else {
        loaded = auth::load_verify_key_pem(
            issuer.issuer, key.kid, read_file(key.public_key_file), *alg);
    }
    if (!loaded)
        throw std::runtime_error(
            fmt::format("issuer {} key {}: {}", issuer.id, key.kid, loaded.error()));
    return std::move(*loaded);
}

std::chrono::seconds widest_leeway(const PrebindConfig& config)
{
    std::chrono::seconds out {0};
    for (const auto& issuer : config.issuers)
        out = std::max(out, issuer.leeway);
    return out;
}

// The iss claim before any check, only to pick the issuer's policy; the
// verifier then requires that very iss and a key of that issuer.
std::string unverified_issuer(std::string_view token, std::size_t max_bytes)
{
    auto jws = auth::split_compact(token, max_bytes);
    if (!jws)
        return {};
    auto claims = auth::json::parse_object(jws->payload);
    const auto* iss = claims ? claims->if_contains("iss") : nullptr;
    if (!iss || !iss->is_string())
        return {};
    return std::string(iss->get_string());
}

AssertionFailure invalid(JwtError why)
{
    // §6.3: an assertion that fails verification is 403 invalid_credentials;
    // the check's name helps the web app's developer and reveals no secret.
    if (why == JwtError::replay_cache_full)
        return {503, "unavailable", "too many assertions in flight; retry shortly"};
    return {403, "invalid_credentials",
        fmt::format("the assertion failed verification: {}", auth::to_string(why))};
}

void ascii_lower(std::string& s)
{
    for (auto& c : s)
        c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::vector<std::string> check_secret_files(const Config& config)
{
    std::vector<std::string> problems;
    for (const auto& issuer : config.prebind.issuers)
        for (const auto& key : issuer.keys) {
            try {
                (void)load_key(issuer, key);
            } catch (const std::runtime_error& e) {
                problems.emplace_back(e.what());
            }
        }
    for (auto& problem : check_login_secrets(config))
        problems.push_back(std::move(problem));
    for (const auto& client : config.prebind.clients)
        for (const auto& key : client.signing_keys) {
            auto secret = read_signing_secret(key.secret_file);
            if (secret)
                cleanse(*secret);
            else
                problems.push_back(
                    fmt::format("client {} signing key {}: {}", client.id, key.id, secret.error()));
        }
    return problems;
}

AssertionVerifier::AssertionVerifier(const PrebindConfig& config)
    : jtis_(config.max_jti_entries, widest_leeway(config))
{
    for (const auto& cfg : config.issuers) {
        Issuer issuer {cfg, {}};
        for (const auto& key : cfg.keys)
            if (auto added = issuer.keys.add(load_key(cfg, key)); !added)
                throw std::runtime_error(added.error());
        issuers_.push_back(std::move(issuer));
    }
}

std::size_t AssertionVerifier::key_count() const
{
    std::size_t n = 0;
    for (const auto& issuer : issuers_)
        n += issuer.keys.size();
    return n;
}

const AssertionVerifier::Issuer* AssertionVerifier::issuer_for(
    const PrebindClient& client, std::string_view iss) const
{
    for (const auto& issuer : issuers_)
        if (issuer.config.issuer == iss
            && std::find(client.assertion_issuers.begin(), client.assertion_issuers.end(),
                   issuer.config.id)
                != client.assertion_issuers.end())
            return &issuer;
    return nullptr;
}

Expected<AssertedUser, AssertionFailure> AssertionVerifier::verify(
    const PrebindClient& client, std::string_view token, auth::UnixTime now)
{
    std::size_t cap = auth::default_max_token_bytes;
    for (const auto& issuer : issuers_)
        cap = std::max(cap, issuer.config.max_token_bytes);
    // Size first, before anything is decoded (docs/auth.md).
    if (token.size() > cap)
        return unexpected(invalid(JwtError::too_large));
    const std::string iss = unverified_issuer(token, cap);
    if (iss.empty())
        return unexpected(invalid(JwtError::malformed));
    const Issuer* issuer = issuer_for(client, iss);
    if (!issuer)
        return unexpected(AssertionFailure {
            403, "forbidden", "the assertion's issuer is not one this client may use"});
    auth::VerifyPolicy policy;
    policy.audience = issuer->config.audience;
    policy.issuer = issuer->config.issuer;
    policy.max_token_bytes = issuer->config.max_token_bytes;
    policy.leeway = issuer->config.leeway;
    policy.max_lifetime = issuer->config.max_lifetime;
    policy.require_sub = true;
    auto claims = auth::check_jwt(token, issuer->keys, policy, now);
    if (!claims)
        return unexpected(invalid(claims.error()));
    auto jid = parse_bare_jid(claims->sub, false);
    if (!jid)
        return unexpected(AssertionFailure {
            403, "invalid_credentials", "the assertion's sub is not a bare JID \"local@domain\""});
    // Servers nodeprep the SASL authcid; the ticket is bound to that form.
    ascii_lower(jid->local);
    auto kid = claims->kid;
    return AssertedUser {std::move(*jid), std::move(kid), std::move(*claims)};
}

Expected<void, AssertionFailure> AssertionVerifier::spend(
    const AssertedUser& user, auth::UnixTime now)
{
    if (auto spent = auth::spend_jti(user.claims, now, jtis_); !spent)
        return unexpected(invalid(spent.error()));
    return {};
}

}  // namespace bosun::prebind
