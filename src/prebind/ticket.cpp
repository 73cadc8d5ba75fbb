#include "prebind/ticket.hpp"

#include <openssl/crypto.h>

#include <array>
#include <charconv>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "auth/base64url.hpp"
#include "auth/digest.hpp"
#include "common/random.hpp"
#include "prebind/api_key.hpp"

namespace bosun::prebind {
namespace {

std::string ticket_mac(std::string_view secret, std::string_view user, std::string_view domain,
    std::string_view exp, std::string_view nonce)
{
    return auth::hmac_sha256_hex(
        secret, fmt::format("{}\n{}\n{}\n{}\n{}", ticket_version, user, domain, exp, nonce));
}

}  // namespace

std::string sign_ticket(std::string_view secret, std::string_view user, std::string_view domain,
    std::int64_t exp, std::string_view nonce)
{
    const std::string e = std::to_string(exp);
    return fmt::format(
        "{}.{}.{}.{}", ticket_version, e, nonce, ticket_mac(secret, user, domain, e, nonce));
}

std::string mint_ticket(
    std::string_view secret, std::string_view user, std::string_view domain, std::int64_t exp)
{
    std::array<unsigned char, ticket_nonce_bytes> raw {};
    random_bytes(raw.data(), raw.size());
    const std::string nonce = auth::base64url_encode(
        std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    return sign_ticket(secret, user, domain, exp, nonce);
}

std::optional<std::string> check_ticket(std::string_view secret, std::string_view ticket,
    std::string_view user, std::string_view domain, std::int64_t now)
{
    std::array<std::string_view, 4> part {};
    std::size_t start = 0;
    for (std::size_t i = 0; i < part.size(); ++i) {
        const auto dot = i + 1 < part.size() ? ticket.find('.', start) : ticket.size();
        if (dot == std::string_view::npos)
            return std::nullopt;
        part[i] = ticket.substr(start, dot - start);
        start = dot + 1;
    }
    std::int64_t exp = 0;
    const auto [end, ec] = std::from_chars(part[1].data(), part[1].data() + part[1].size(), exp);
    if (part[0] != ticket_version || ec != std::errc {} || end != part[1].data() + part[1].size()
        || exp <= now || part[3].find('.') != std::string_view::npos)
        return std::nullopt;
    const std::string want = ticket_mac(secret, user, domain, part[1], part[2]);
    if (want.size() != part[3].size()
        || CRYPTO_memcmp(want.data(), part[3].data(), want.size()) != 0)
        return std::nullopt;
    return std::string(part[2]);
}

TicketSecret read_ticket_secret(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {{}, fmt::format("cannot read ticket secret file {}", path)};
    TicketSecret out;
    out.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    while (!out.bytes.empty() && (out.bytes.back() == '\n' || out.bytes.back() == '\r'))
        out.bytes.pop_back();
    if (out.bytes.size() < min_ticket_secret_bytes) {
        cleanse(out.bytes);
        out.error = fmt::format(
            "ticket secret file {} holds fewer than {} bytes", path, min_ticket_secret_bytes);
    }
    return out;
}

}  // namespace bosun::prebind
