#include "xmpp/sasl.hpp"

#include <idn-free.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stringprep.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <span>
#include <utility>

#include "common/base64.hpp"
#include "common/random.hpp"

namespace bosun::xmpp::sasl {
namespace {

struct MechanismInfo {
    Mechanism mechanism;
    std::string_view name;
};

constexpr MechanismInfo mechanisms[] = {
    {Mechanism::scram_sha_256_plus, "SCRAM-SHA-256-PLUS"},
    {Mechanism::scram_sha_256, "SCRAM-SHA-256"},
    {Mechanism::scram_sha_1_plus, "SCRAM-SHA-1-PLUS"},
    {Mechanism::scram_sha_1, "SCRAM-SHA-1"},
    {Mechanism::plain, "PLAIN"},
    {Mechanism::anonymous, "ANONYMOUS"},
};

// reference/prebind-and-auth.md §6.4: the order of preference per policy.
constexpr Mechanism password_order[] = {Mechanism::scram_sha_256_plus, Mechanism::scram_sha_256,
    Mechanism::scram_sha_1_plus, Mechanism::scram_sha_1, Mechanism::plain};
constexpr Mechanism plain_secret_order[] = {Mechanism::plain};
constexpr Mechanism anonymous_order[] = {Mechanism::anonymous};

std::span<const Mechanism> preference(Policy policy)
{
    switch (policy) {
    case Policy::password:
        return password_order;
    case Policy::plain_secret:
        return plain_secret_order;
    case Policy::anonymous:
        return anonymous_order;
    }
    return {};
}

// Our preference among binding types: tls-exporter is the RFC 9266 default
// for TLS 1.3; tls-server-end-point works through TLS-terminating proxies;
// tls-unique (TLS 1.2 only) last.
constexpr std::string_view binding_preference[]
    = {"tls-exporter", "tls-server-end-point", "tls-unique"};
// Without XEP-0440 the server's types are unknown: RFC 9266 §3 (tls-exporter
// under TLS 1.3) and RFC 5802 §6 (tls-unique) name the defaults. The I/O side
// gives each only under its TLS version, so at most one of them applies.
constexpr std::string_view default_bindings[] = {"tls-exporter", "tls-unique"};

bool contains(const std::vector<std::string>& list, std::string_view item)
{
    return std::find(list.begin(), list.end(), item) != list.end();
}

std::optional<ChannelBinding> pick_binding(const ServerOffer& offer, const ChannelBindingFn& cb)
{
    if (!cb)
        return std::nullopt;
    std::span<const std::string_view> types = default_bindings;
    if (offer.channel_bindings)
        types = binding_preference;
    for (std::string_view type : types) {
        if (offer.channel_bindings && !contains(*offer.channel_bindings, type))
            continue;
        if (auto data = cb(type); data && !data->empty())
            return ChannelBinding {std::string(type), std::move(*data)};
    }
    return std::nullopt;
}

bool offers_any_plus(const ServerOffer& offer)
{
    return std::any_of(offer.mechanisms.begin(), offer.mechanisms.end(), [](const auto& m) {
        auto known = mechanism_from_name(m);
        return known && is_plus(*known);
    });
}

// ---- SCRAM (RFC 5802) ----

constexpr std::uint32_t min_iterations = 4096;  // RFC 7677 §4, RFC 5802 §5.1
// PBKDF2 runs on the event loop; a server asking for more is refused.
constexpr std::uint32_t max_iterations = 1'000'000;
constexpr std::size_t client_nonce_bytes = 24;

const EVP_MD* scram_hash(Mechanism m)
{
    bool sha256 = m == Mechanism::scram_sha_256 || m == Mechanism::scram_sha_256_plus;
    return sha256 ? EVP_sha256() : EVP_sha1();
}

using Digest = std::array<unsigned char, EVP_MAX_MD_SIZE>;

struct Cleansed {
    Digest bytes {};
    ~Cleansed() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    unsigned char* data() { return bytes.data(); }
};

void hmac(const EVP_MD* md, const unsigned char* key, std::size_t key_len, std::string_view data,
    unsigned char* out)
{
    unsigned int len = 0;
    HMAC(md, key, static_cast<int>(key_len), reinterpret_cast<const unsigned char*>(data.data()),
        data.size(), out, &len);
}

std::string as_string(const unsigned char* bytes, std::size_t n)
{
    return std::string(reinterpret_cast<const char*>(bytes), n);
}

struct Attribute {
    char name;
    std::string_view value;
};

// RFC 5802 §7: attr-val *("," attr-val), attr-val = ALPHA "=" value.
std::optional<std::vector<Attribute>> parse_attributes(std::string_view message)
{
    std::vector<Attribute> out;
    while (true) {
        auto comma = message.find(',');
        std::string_view part = message.substr(0, comma);
        bool alpha = part.size() >= 2
            && ((part[0] >= 'a' && part[0] <= 'z') || (part[0] >= 'A' && part[0] <= 'Z'));
        if (!alpha || part[1] != '=')
            return std::nullopt;
        out.push_back({part[0], part.substr(2)});
        if (comma == std::string_view::npos)
            return out;
        message.remove_prefix(comma + 1);
    }
}

std::optional<std::uint32_t> parse_iterations(std::string_view text)
{
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || text[0] == '0')
        return std::nullopt;
    return value;
}

// RFC 5802 §7: printable = %x21-2B / %x2D-7E (no comma).
bool is_printable(std::string_view text)
{
    return std::all_of(
        text.begin(), text.end(), [](char c) { return c >= 0x21 && c <= 0x7e && c != ','; });
}

struct ServerFirst {
    std::string_view nonce;
    std::string salt;
    std::uint32_t iterations = 0;
};

// RFC 5802 §5.1, §7: r, s, i in that order, then extensions we ignore. A
// leading m= is a mandatory extension we do not know: the exchange fails.
Expected<ServerFirst, Error> parse_server_first(
    std::string_view message, std::string_view client_nonce)
{
    auto attrs = parse_attributes(message);
    if (!attrs || attrs->size() < 3 || (*attrs)[0].name != 'r' || (*attrs)[1].name != 's'
        || (*attrs)[2].name != 'i')
        return unexpected(Error::malformed_message);
    ServerFirst first;
    first.nonce = (*attrs)[0].value;
    if (first.nonce.size() <= client_nonce.size() || !first.nonce.starts_with(client_nonce)
        || !is_printable(first.nonce))
        return unexpected(Error::nonce_mismatch);
    auto salt = base64_decode((*attrs)[1].value);
    auto iterations = parse_iterations((*attrs)[2].value);
    if (!salt || salt->empty() || !iterations)
        return unexpected(Error::malformed_message);
    if (*iterations < min_iterations || *iterations > max_iterations)
        return unexpected(Error::weak_iteration_count);
    first.salt = std::move(*salt);
    first.iterations = *iterations;
    return first;
}

std::string random_nonce()
{
    std::array<unsigned char, client_nonce_bytes> raw;
    random_bytes(raw.data(), raw.size());
    return base64_encode(as_string(raw.data(), raw.size()));
}

}  // namespace

std::string_view name(Mechanism m)
{
    for (const auto& info : mechanisms) {
        if (info.mechanism == m)
            return info.name;
    }
    return {};
}

std::optional<Mechanism> mechanism_from_name(std::string_view text)
{
    for (const auto& info : mechanisms) {
        if (info.name == text)
            return info.mechanism;
    }
    return std::nullopt;
}

bool is_plus(Mechanism m)
{
    return m == Mechanism::scram_sha_256_plus || m == Mechanism::scram_sha_1_plus;
}

bool is_scram(Mechanism m)
{
    return m != Mechanism::plain && m != Mechanism::anonymous;
}

std::optional<Selection> choose(
    Policy policy, const ServerOffer& offer, bool confidential, const ChannelBindingFn& cb)
{
    for (Mechanism m : preference(policy)) {
        if (!contains(offer.mechanisms, name(m)))
            continue;
        // RFC 4616 §6 / reference §6.4: PLAIN only over TLS or loopback.
        if (m == Mechanism::plain && !confidential)
            continue;
        if (is_plus(m)) {
            auto binding = pick_binding(offer, cb);
            if (!binding)
                continue;
            return Selection {m, std::move(binding), false};
        }
        // RFC 5802 §6: "y" tells a server that offered no -PLUS that we could
        // have bound, so a stripped -PLUS is detected. With any -PLUS offered
        // (say SHA-1-PLUS while we pick SHA-256) "y" would fail; send "n".
        bool y = is_scram(m) && !offers_any_plus(offer) && pick_binding(offer, cb).has_value();
        return Selection {m, std::nullopt, y};
    }
    return std::nullopt;
}

std::string_view describe(Error e)
{
    switch (e) {
    case Error::unexpected_message:
        return "unexpected SASL message at this step";
    case Error::malformed_message:
        return "malformed SCRAM message from the server";
    case Error::nonce_mismatch:
        return "server nonce does not extend the client nonce";
    case Error::weak_iteration_count:
        return "SCRAM iteration count out of range";
    case Error::server_error:
        return "server-final message carries an error";
    case Error::server_signature_mismatch:
        return "SCRAM server signature mismatch";
    }
    return "unknown";
}

void wipe(std::string& s)
{
    if (!s.empty())
        OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

std::string_view describe(PrepError e)
{
    switch (e) {
    case PrepError::prohibited:
        return "contains a character SASLprep prohibits";
    case PrepError::bidi:
        return "mixes right-to-left and left-to-right text";
    case PrepError::invalid_utf8:
        return "is not valid UTF-8";
    case PrepError::empty:
        return "is empty after SASLprep";
    }
    return "?";
}

Expected<std::string, PrepError> saslprep(std::string_view text)
{
    // libidn takes a C string: an embedded NUL would cut it short, and
    // U+0000 is prohibited anyway (RFC 3454 C.2.1).
    if (text.find('\0') != std::string_view::npos)
        return unexpected(PrepError::prohibited);
    std::string in(text);
    char* out = nullptr;
    const int rc = stringprep_profile(in.c_str(), &out, "SASLprep", Stringprep_profile_flags {});
    wipe(in);
    if (rc != STRINGPREP_OK) {
        if (out)
            idn_free(out);
        if (rc == STRINGPREP_BIDI_BOTH_L_AND_RAL || rc == STRINGPREP_BIDI_LEADTRAIL_NOT_RAL
            || rc == STRINGPREP_BIDI_CONTAINS_PROHIBITED)
            return unexpected(PrepError::bidi);
        if (rc == STRINGPREP_CONTAINS_PROHIBITED || rc == STRINGPREP_CONTAINS_UNASSIGNED)
            return unexpected(PrepError::prohibited);
        return unexpected(PrepError::invalid_utf8);
    }
    std::string prepared(out);
    OPENSSL_cleanse(out, prepared.size());
    idn_free(out);
    if (prepared.empty())
        return unexpected(PrepError::empty);
    return prepared;
}

std::string escape_saslname(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '=')
            out += "=3D";
        else if (c == ',')
            out += "=2C";
        else
            out += c;
    }
    return out;
}

Client::Client(
    Selection selection, std::string_view authcid, std::string_view secret, std::string nonce)
    : selection_(std::move(selection))
    , authcid_(authcid)
    , secret_(secret)
    , nonce_(std::move(nonce))
{
    if (is_scram(selection_.mechanism) && nonce_.empty())
        nonce_ = random_nonce();
}

Client::~Client()
{
    for (std::string* s : {&secret_, &auth_message_, &server_signature_})
        wipe(*s);
    if (selection_.binding)
        wipe(selection_.binding->data);
}

// RFC 5802 §7 gs2-header; the authzid is always empty.
std::string Client::gs2_header() const
{
    if (selection_.binding)
        return "p=" + selection_.binding->type + ",,";
    return selection_.client_supports_binding ? "y,," : "n,,";
}

std::string Client::initial_response()
{
    switch (selection_.mechanism) {
    case Mechanism::plain:
        // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
        return std::string(1, '\0') + authcid_ + std::string(1, '\0') + secret_;
    case Mechanism::anonymous:
        return {};  // RFC 4505 §2: the trace is optional
    default:
        break;
    }
    client_first_bare_ = "n=" + escape_saslname(authcid_) + ",r=" + nonce_;
    step_ = Step::sent_first;
    return gs2_header() + client_first_bare_;
}

Expected<std::string, Error> Client::respond(std::string_view challenge)
{
    if (step_ == Step::sent_first)
        return client_final(challenge);
    // Some servers send server-final as a challenge and <success/> empty.
    if (step_ == Step::sent_final) {
        auto checked = check_server_final(challenge);
        if (!checked)
            return unexpected(checked.error());
        return std::string();
    }
    return unexpected(Error::unexpected_message);
}

Expected<void, Error> Client::verify_success(std::string_view additional_data)
{
    if (!is_scram(selection_.mechanism))
        return {};
    // RFC 5802 §3: a success before our proof, or without the server's, is
    // not mutual authentication.
    if (step_ == Step::verified && additional_data.empty())
        return {};
    if (step_ != Step::sent_final && step_ != Step::verified)
        return unexpected(Error::unexpected_message);
    if (additional_data.empty())
        return unexpected(Error::server_signature_mismatch);
    return check_server_final(additional_data);
}

Expected<std::string, Error> Client::client_final(std::string_view server_first)
{
    auto first = parse_server_first(server_first, nonce_);
    if (!first)
        return unexpected(first.error());

    // RFC 5802 §7: c= is the GS2 header, plus the binding data for -PLUS.
    std::string cbind_input = gs2_header();
    if (selection_.binding)
        cbind_input += selection_.binding->data;
    std::string without_proof
        = "c=" + base64_encode(cbind_input) + ",r=" + std::string(first->nonce);
    wipe(cbind_input);
    auth_message_ = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;

    // RFC 5802 §3.
    const EVP_MD* md = scram_hash(selection_.mechanism);
    const auto n = static_cast<std::size_t>(EVP_MD_get_size(md));
    Cleansed salted, client_key, stored_key, client_signature, server_key, server_signature;
    PKCS5_PBKDF2_HMAC(secret_.data(), static_cast<int>(secret_.size()),
        reinterpret_cast<const unsigned char*>(first->salt.data()),
        static_cast<int>(first->salt.size()), static_cast<int>(first->iterations), md,
        static_cast<int>(n), salted.data());
    hmac(md, salted.data(), n, "Client Key", client_key.data());
    unsigned int stored_len = 0;
    EVP_Digest(client_key.data(), n, stored_key.data(), &stored_len, md, nullptr);
    hmac(md, stored_key.data(), n, auth_message_, client_signature.data());
    hmac(md, salted.data(), n, "Server Key", server_key.data());
    hmac(md, server_key.data(), n, auth_message_, server_signature.data());
    server_signature_ = as_string(server_signature.data(), n);

    for (std::size_t i = 0; i < n; ++i)
        client_key.bytes[i] ^= client_signature.bytes[i];  // now the ClientProof
    step_ = Step::sent_final;
    return without_proof + ",p=" + base64_encode(as_string(client_key.data(), n));
}

// RFC 5802 §7: server-final = (server-error / verifier) ["," extensions].
Expected<void, Error> Client::check_server_final(std::string_view server_final)
{
    auto attrs = parse_attributes(server_final);
    if (!attrs)
        return unexpected(Error::malformed_message);
    if ((*attrs)[0].name == 'e')
        return unexpected(Error::server_error);
    if ((*attrs)[0].name != 'v')
        return unexpected(Error::malformed_message);
    auto signature = base64_decode((*attrs)[0].value);
    if (!signature)
        return unexpected(Error::malformed_message);
    if (signature->size() != server_signature_.size()
        || CRYPTO_memcmp(signature->data(), server_signature_.data(), signature->size()) != 0)
        return unexpected(Error::server_signature_mismatch);
    step_ = Step::verified;
    return {};
}

}  // namespace bosun::xmpp::sasl
