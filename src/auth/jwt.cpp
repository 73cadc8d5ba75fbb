#include "auth/jwt.hpp"

#include "auth/base64url.hpp"
#include "auth/json.hpp"
#include "auth/signature.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace bosun::auth {
namespace {

using boost::json::object;
using boost::json::value;

template <class T> using Result = Expected<T, JwtError>;

Unexpected<JwtError> fail(JwtError e)
{
    return unexpected(e);
}

// 9999-12-31T23:59:59Z: larger dates are refused, so date arithmetic with
// config-sized leeways and lifetimes cannot overflow.
constexpr std::int64_t max_numeric_date = 253402300799;

constexpr std::array<std::string_view, 15> error_names {
    "malformed",
    "too_large",
    "unknown_key",
    "alg_not_allowed",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "lifetime_too_long",
    "audience_mismatch",
    "issuer_mismatch",
    "type_mismatch",
    "missing_claim",
    "replayed",
    "replay_cache_full",
};

boost::json::string_view jv(std::string_view s)
{
    return {s.data(), s.size()};
}

Result<std::optional<std::string>> read_string(const object& obj, std::string_view name)
{
    const value* v = obj.if_contains(jv(name));
    if (v == nullptr) {
        return std::optional<std::string> {};
    }
    if (!v->is_string()) {
        return fail(JwtError::malformed);
    }
    return std::optional<std::string>(std::string(v->get_string()));
}

// RFC 7519 §2 NumericDate. Our profile takes integer seconds only: strings,
// fractions, exponents and out-of-range values are malformed.
Result<std::optional<UnixTime>> read_date(const object& obj, std::string_view name)
{
    const value* v = obj.if_contains(jv(name));
    if (v == nullptr) {
        return std::optional<UnixTime> {};
    }
    if (!v->is_int64() || v->get_int64() < 0 || v->get_int64() > max_numeric_date) {
        return fail(JwtError::malformed);
    }
    return std::optional<UnixTime>(UnixTime(std::chrono::seconds(v->get_int64())));
}

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
        [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 7515 §4.1.9: typ is compared case-insensitively and "application/" may
// be left out.
std::string_view media_subtype(std::string_view typ)
{
    constexpr std::string_view prefix = "application/";
    if (typ.size() > prefix.size() && iequals(typ.substr(0, prefix.size()), prefix)) {
        return typ.substr(prefix.size());
    }
    return typ;
}

// RFC 7515 §4.1.11: we implement no extension, so any critical one is fatal.
bool crit_acceptable(const object& header)
{
    const value* crit = header.if_contains("crit");
    return crit == nullptr || (crit->is_array() && crit->get_array().empty());
}

Result<void> check_typ(const object& header, const VerifyPolicy& policy)
{
    if (policy.typ.empty()) {
        return {};
    }
    auto typ = read_string(header, "typ");
    if (!typ) {
        return fail(typ.error());
    }
    if (!*typ || !iequals(media_subtype(**typ), media_subtype(policy.typ))) {
        return fail(JwtError::type_mismatch);
    }
    return {};
}

struct Header {
    Alg alg;
    std::string kid;
};

// jku, jwk, x5u and x5c are ignored: keys come from config only (RFC 8725
// §3.10, reference §5.4 pitfall 5), so nothing is ever fetched.
Result<Header> read_header(std::string_view text, const VerifyPolicy& policy)
{
    auto header = json::parse_object(text);
    if (!header) {
        return fail(JwtError::malformed);
    }
    auto alg_name = read_string(*header, "alg");
    if (!alg_name || !*alg_name) {
        return fail(JwtError::malformed);
    }
    // RFC 8725 §3.1: "none" and anything off the list are refused outright.
    auto alg = alg_from_wire(**alg_name);
    if (!alg) {
        return fail(JwtError::alg_not_allowed);
    }
    auto kid = read_string(*header, "kid");
    if (!kid || !*kid || (*kid)->empty() || !crit_acceptable(*header)) {
        return fail(JwtError::malformed);
    }
    if (auto typ = check_typ(*header, policy); !typ) {
        return fail(typ.error());
    }
    return Header {*alg, std::move(**kid)};
}

// Keys are found by (iss, kid), never kid alone, so one issuer's kid cannot
// select another issuer's key (reference §5.4 pitfall 5). The iss read here is
// unverified; it only picks the key that must then verify the signature.
Result<const VerifyKey*> select_key(
    const Header& header, const object& claims, const KeySet& keys, const VerifyPolicy& policy)
{
    auto iss = read_string(claims, "iss");
    if (!iss) {
        return fail(iss.error());
    }
    if (!*iss) {
        return fail(JwtError::missing_claim);
    }
    if (!policy.issuer.empty() && **iss != policy.issuer) {
        return fail(JwtError::issuer_mismatch);
    }
    const VerifyKey* key = keys.find(**iss, header.kid);
    if (key == nullptr) {
        return fail(keys.has_kid(header.kid) ? JwtError::issuer_mismatch : JwtError::unknown_key);
    }
    // RFC 8725 §3.1: the key's algorithm, not the header's, decides.
    if (key->alg != header.alg) {
        return fail(JwtError::alg_not_allowed);
    }
    return key;
}

Result<void> check_times(const VerifiedClaims& c, const VerifyPolicy& p, UnixTime now)
{
    // RFC 7519 §4.1.4: now must be before exp; the leeway absorbs clock skew.
    if (now >= c.exp + p.leeway) {
        return fail(JwtError::expired);
    }
    // RFC 7519 §4.1.5: now must be at or after nbf.
    if (c.nbf && now + p.leeway < *c.nbf) {
        return fail(JwtError::not_yet_valid);
    }
    // RFC 7519 §4.1.6 leaves a future iat alone; a skewed or lying issuer
    // clock would otherwise stretch the lifetime check below.
    if (c.iat && *c.iat > now + p.leeway) {
        return fail(JwtError::issued_in_future);
    }
    // Profile (reference §6.4): one-time assertions are short-lived.
    if (c.exp - c.iat.value_or(now) > p.max_lifetime) {
        return fail(JwtError::lifetime_too_long);
    }
    return {};
}

Result<void> read_times(const object& claims, VerifiedClaims& out)
{
    auto exp = read_date(claims, "exp");
    auto iat = read_date(claims, "iat");
    auto nbf = read_date(claims, "nbf");
    if (!exp || !iat || !nbf) {
        return fail(JwtError::malformed);
    }
    if (!*exp) {
        return fail(JwtError::missing_claim);  // reference §5.4 pitfall 3
    }
    out.exp = **exp;
    out.iat = *iat;
    out.nbf = *nbf;
    return {};
}

// RFC 7519 §4.1.3: a string or an array of strings; ours must be in it.
Result<std::vector<std::string>> read_audience(const object& claims, const VerifyPolicy& policy)
{
    const value* v = claims.if_contains("aud");
    if (v == nullptr) {
        return fail(JwtError::missing_claim);
    }
    std::vector<std::string> aud;
    if (v->is_string()) {
        aud.emplace_back(v->get_string());
    } else if (v->is_array()) {
        for (const value& entry : v->get_array()) {
            if (!entry.is_string()) {
                return fail(JwtError::malformed);
            }
            aud.emplace_back(entry.get_string());
        }
    } else {
        return fail(JwtError::malformed);
    }
    if (policy.audience.empty()
        || std::find(aud.begin(), aud.end(), policy.audience) == aud.end()) {
        return fail(JwtError::audience_mismatch);
    }
    return aud;
}

Result<void> read_identity(const object& claims, const VerifyPolicy& policy, VerifiedClaims& out)
{
    auto iss = read_string(claims, "iss");
    auto sub = read_string(claims, "sub");
    auto jti = read_string(claims, "jti");
    if (!iss || !sub || !jti) {
        return fail(JwtError::malformed);
    }
    if (!*iss || !*jti || (policy.require_sub && !*sub)) {
        return fail(JwtError::missing_claim);
    }
    if ((*jti)->empty() || (*jti)->size() > max_jti_bytes) {
        return fail(JwtError::malformed);
    }
    out.iss = std::move(**iss);
    out.sub = sub->value_or(std::string {});
    out.jti = std::move(**jti);
    return {};
}

void read_other_strings(const object& claims, VerifiedClaims& out)
{
    constexpr std::array<std::string_view, 4> registered {"iss", "sub", "aud", "jti"};
    for (const auto& member : claims) {
        std::string_view name(member.key().data(), member.key().size());
        if (member.value().is_string()
            && std::find(registered.begin(), registered.end(), name) == registered.end()) {
            out.strings.emplace(name, std::string(member.value().get_string()));
        }
    }
}

Result<VerifiedClaims> read_claims(const object& claims, const VerifyPolicy& policy, UnixTime now)
{
    VerifiedClaims out;
    if (auto times = read_times(claims, out); !times) {
        return fail(times.error());
    }
    if (auto times = check_times(out, policy, now); !times) {
        return fail(times.error());
    }
    auto aud = read_audience(claims, policy);
    if (!aud) {
        return fail(aud.error());
    }
    out.aud = std::move(*aud);
    if (auto identity = read_identity(claims, policy, out); !identity) {
        return fail(identity.error());
    }
    read_other_strings(claims, out);
    return out;
}

// jti values are namespaced by issuer: one issuer cannot burn another's jti.
std::string replay_key(const VerifiedClaims& c)
{
    return fmt::format("{}:{}{}", c.iss.size(), c.iss, c.jti);
}

std::string header_json(const SigningKey& key, std::string_view typ)
{
    object header;
    header["alg"] = jv(to_wire(key.alg));
    if (!typ.empty()) {
        header["typ"] = jv(typ);
    }
    if (!key.kid.empty()) {
        header["kid"] = jv(key.kid);
    }
    return boost::json::serialize(header);
}

bool is_date_or_aud(std::string_view name)
{
    return name == "exp" || name == "iat" || name == "nbf" || name == "aud";
}

}  // namespace

std::string_view to_string(JwtError error)
{
    auto i = static_cast<std::size_t>(error);
    return i < error_names.size() ? error_names[i] : "unknown";
}

Expected<CompactJws, JwtError> split_compact(std::string_view token, std::size_t max_token_bytes)
{
    // Before anything else, so no parser ever sees an oversized input.
    if (token.size() > max_token_bytes) {
        return fail(JwtError::too_large);
    }
    // RFC 7515 §7.1: exactly three parts (a JWE would have five).
    auto first = token.find('.');
    auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return fail(JwtError::malformed);
    }
    auto header = base64url_decode(token.substr(0, first));
    auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    auto signature = base64url_decode(token.substr(second + 1));
    if (!header || !payload || !signature || header->empty() || payload->empty()) {
        return fail(JwtError::malformed);
    }
    return CompactJws {std::move(*header), std::move(*payload),
        std::string(token.substr(0, second)), std::move(*signature)};
}

Expected<VerifiedClaims, JwtError> check_jwt(
    std::string_view token, const KeySet& keys, const VerifyPolicy& policy, UnixTime now)
{
    auto jws = split_compact(token, policy.max_token_bytes);
    if (!jws) {
        return fail(jws.error());
    }
    auto header = read_header(jws->header, policy);
    if (!header) {
        return fail(header.error());
    }
    auto claims = json::parse_object(jws->payload);
    if (!claims) {
        return fail(JwtError::malformed);
    }
    auto key = select_key(*header, *claims, keys, policy);
    if (!key) {
        return fail(key.error());
    }
    if (!verify_signature((*key)->alg, (*key)->material, jws->signing_input, jws->signature)) {
        return fail(JwtError::bad_signature);
    }
    auto verified = read_claims(*claims, policy, now);
    if (!verified) {
        return fail(verified.error());
    }
    verified->kid = std::move(header->kid);
    return verified;
}

Expected<void, JwtError> spend_jti(const VerifiedClaims& claims, UnixTime now, JtiCache& jtis)
{
    switch (jtis.remember(replay_key(claims), claims.exp, now)) {
    case JtiCache::Outcome::stored:
        return {};
    case JtiCache::Outcome::replayed:
        return unexpected(JwtError::replayed);
    case JtiCache::Outcome::full:
        break;
    }
    return unexpected(JwtError::replay_cache_full);
}

Expected<VerifiedClaims, JwtError> verify_jwt(std::string_view token, const KeySet& keys,
    const VerifyPolicy& policy, UnixTime now, JtiCache& jtis)
{
    auto verified = check_jwt(token, keys, policy, now);
    if (!verified) {
        return verified;
    }
    // Last, so only a token that passed every other check spends its jti.
    if (auto spent = spend_jti(*verified, now, jtis); !spent) {
        return fail(spent.error());
    }
    return verified;
}

Expected<std::string, std::string> sign_compact(
    const SigningKey& key, std::string_view header_json, std::string_view payload_json)
{
    std::string token = base64url_encode(header_json) + '.' + base64url_encode(payload_json);
    auto signature = sign_bytes(key.alg, key.material, token);
    if (!signature) {
        return unexpected(fmt::format("could not sign with the {} key", to_wire(key.alg)));
    }
    token += '.';
    token += base64url_encode(*signature);
    return token;
}

Expected<std::string, std::string> mint_jwt(
    const MintClaims& claims, const SigningKey& key, std::string_view typ)
{
    object payload;
    for (const auto& [name, text] : claims.strings) {
        if (is_date_or_aud(name)) {
            return unexpected(fmt::format("\"{}\" cannot be a string claim", name));
        }
        payload[jv(name)] = jv(text);
    }
    if (claims.aud.size() == 1) {
        payload["aud"] = jv(claims.aud.front());
    } else if (claims.aud.size() > 1) {
        boost::json::array aud;
        for (const auto& a : claims.aud) {
            aud.emplace_back(jv(a));
        }
        payload["aud"] = std::move(aud);
    }
    payload["exp"] = claims.exp.time_since_epoch().count();
    if (claims.iat) {
        payload["iat"] = claims.iat->time_since_epoch().count();
    }
    if (claims.nbf) {
        payload["nbf"] = claims.nbf->time_since_epoch().count();
    }
    return sign_compact(key, header_json(key, typ), boost::json::serialize(payload));
}

Expected<std::string, std::string> mint_ejabberd_jwt(
    const EjabberdClaims& claims, const SigningKey& key)
{
    if (claims.jid.empty() || claims.jid_field.empty()) {
        return unexpected(std::string("an ejabberd JWT needs a JID and a JID field name"));
    }
    // ejabberd_auth_jwt: exp is mandatory and checked as Exp > Now, no leeway.
    MintClaims mint {.exp = claims.exp};
    mint.strings.emplace(claims.jid_field, claims.jid);
    return mint_jwt(mint, key);
}

}  // namespace bosun::auth
