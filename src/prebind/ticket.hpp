#pragma once
// One-time login tickets for the `assertion` method's "ticket" upstream
// strategy and POST /v1/tickets (docs/prebind.md, reference §6.4).
//
// A ticket is checked offline by the XMPP server's module
// (conf/prosody/mod_auth_bosun.lua) with a secret it shares with Bosun, so
// no HTTP call back to Bosun sits on the SASL path:
//
//   bt1.<exp>.<nonce>.<mac>
//   exp   = Unix seconds, decimal
//   nonce = 128 random bits, base64url (22 characters)
//   mac   = lowercase hex HMAC-SHA256(secret, "bt1\n<user>\n<domain>\n<exp>\n<nonce>")
//
// The server accepts it once (its used-nonce cache lives until exp) and only
// for <user>@<domain>. Secrets never reach a log line.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::prebind {

inline constexpr std::string_view ticket_version = "bt1";
inline constexpr std::size_t min_ticket_secret_bytes = 32;
inline constexpr std::size_t ticket_nonce_bytes = 16;  // 128 bits

// The ticket for `user`@`domain` with the given expiry and nonce.
std::string sign_ticket(std::string_view secret, std::string_view user, std::string_view domain,
    std::int64_t exp, std::string_view nonce);

// A fresh ticket: a random nonce, expiring at `exp`.
std::string mint_ticket(
    std::string_view secret, std::string_view user, std::string_view domain, std::int64_t exp);

// What the server module checks, minus the one-use cache (for tests and
// tools): the nonce if the ticket is genuine for user@domain and not expired.
std::optional<std::string> check_ticket(std::string_view secret, std::string_view ticket,
    std::string_view user, std::string_view domain, std::int64_t now);

// A secret file's bytes with trailing CR/LF removed (the module does the
// same); an error text without key bytes, or the secret.
struct TicketSecret {
    std::string bytes;
    std::string error;
};
TicketSecret read_ticket_secret(const std::string& path);

}  // namespace bosun::prebind
