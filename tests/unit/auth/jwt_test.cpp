#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <memory>
#include <set>
#include <string>

#include "auth/base64url.hpp"
#include "auth/signature.hpp"
#include "test_keys.hpp"

namespace bosun::auth {
namespace {

using namespace std::chrono_literals;

const UnixTime t0 {std::chrono::seconds(1'700'000'000)};
const std::string issuer = "https://app.example";
const std::string audience = "xmpp-cm:prebind";
const std::string hs_secret = "0123456789abcdef0123456789abcdef";  // 32 bytes

// --- RFC test vectors ------------------------------------------------------

// RFC 7515 Appendix A.1: HS256. Header and payload contain CR LF.
const std::string a1_header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
const std::string a1_payload
    = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
const std::string a1_key_b64
    = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const std::string a1_token
    = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// RFC 7515 Appendix A.3: ES256, same payload.
const std::string a3_x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const std::string a3_y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const std::string a3_token
    = "eyJhbGciOiJFUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ"
      ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 8037 Appendix A.4: Ed25519.
const std::string a4_x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const std::string a4_token
    = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
      ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// SubjectPublicKeyInfo DER prefixes (RFC 5480, RFC 8410) for raw public keys.
const std::string p256_spki_prefix
    = test::from_hex("3059301306072a8648ce3d020106082a8648ce3d03010703420004");
const std::string ed25519_spki_prefix = test::from_hex("302a300506032b6570032100");

std::string b64(std::string_view s)
{
    return base64url_encode(s);
}

std::string unb64(std::string_view s)
{
    auto d = base64url_decode(s);
    EXPECT_TRUE(d.has_value()) << s;
    return d.value_or("");
}

std::string public_pem_from_spki(std::string_view der)
{
    return test::pem_wrap(der, "PUBLIC KEY");
}

// Splits a token at its dots; tests then swap parts.
struct Parts {
    std::string header, payload, signature;
    std::string join() const { return header + "." + payload + "." + signature; }
};

Parts parts_of(std::string_view token)
{
    auto a = token.find('.');
    auto b = token.find('.', a + 1);
    return {std::string(token.substr(0, a)), std::string(token.substr(a + 1, b - a - 1)),
        std::string(token.substr(b + 1))};
}

TEST(JwtVectors, rfc7515_a1_hs256_example_verifies)
{
    auto jws = split_compact(a1_token, default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->header, a1_header);
    EXPECT_EQ(jws->payload, a1_payload);
    auto key = load_verify_key_hs256("joe", "a1", unb64(a1_key_b64));
    ASSERT_TRUE(key) << key.error();
    EXPECT_TRUE(verify_signature(Alg::HS256, key->material, jws->signing_input, jws->signature));

    // One bit of the payload changed: the signature no longer holds.
    std::string input = jws->signing_input;
    input[input.size() - 2] ^= 0x01;
    EXPECT_FALSE(verify_signature(Alg::HS256, key->material, input, jws->signature));
}

TEST(JwtVectors, rfc7515_a1_is_reproduced_by_our_signer)
{
    auto key = load_signing_key_hs256(unb64(a1_key_b64));
    ASSERT_TRUE(key);
    auto token = sign_compact(*key, a1_header, a1_payload);
    ASSERT_TRUE(token) << token.error();
    EXPECT_EQ(*token, a1_token);
}

TEST(JwtVectors, rfc7515_a1_fails_our_profile_for_want_of_a_kid)
{
    KeySet keys;
    ASSERT_TRUE(keys.add(*load_verify_key_hs256("joe", "a1", unb64(a1_key_b64))));
    JtiCache jtis(10, 30s);
    VerifyPolicy policy {.audience = audience};
    auto result = verify_jwt(a1_token, keys, policy, t0, jtis);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), JwtError::malformed);
}

TEST(JwtVectors, rfc7515_a3_es256_example_verifies_in_jose_form_only)
{
    auto pem = public_pem_from_spki(p256_spki_prefix + unb64(a3_x) + unb64(a3_y));
    auto key = load_verify_key_pem("joe", "a3", pem);
    ASSERT_TRUE(key) << key.error();
    ASSERT_EQ(key->alg, Alg::ES256);
    auto jws = split_compact(a3_token, default_max_token_bytes);
    ASSERT_TRUE(jws);
    ASSERT_EQ(jws->signature.size(), 64u);
    EXPECT_TRUE(verify_signature(Alg::ES256, key->material, jws->signing_input, jws->signature));

    // The same (r, s) in DER, as OpenSSL would produce it, is not a JWS signature.
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    auto* raw = reinterpret_cast<const unsigned char*>(jws->signature.data());
    ASSERT_EQ(
        ECDSA_SIG_set0(sig.get(), BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr)),
        1);
    std::string der(static_cast<std::size_t>(i2d_ECDSA_SIG(sig.get(), nullptr)), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(sig.get(), &out);
    EXPECT_FALSE(verify_signature(Alg::ES256, key->material, jws->signing_input, der));

    std::string tampered = jws->signature;
    tampered[10] ^= 0x01;
    EXPECT_FALSE(verify_signature(Alg::ES256, key->material, jws->signing_input, tampered));
}

TEST(JwtVectors, rfc8037_a4_eddsa_example_verifies)
{
    auto key
        = load_verify_key_pem("joe", "a4", public_pem_from_spki(ed25519_spki_prefix + unb64(a4_x)));
    ASSERT_TRUE(key) << key.error();
    ASSERT_EQ(key->alg, Alg::EdDSA);
    auto jws = split_compact(a4_token, default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->payload, "Example of Ed25519 signing");
    EXPECT_TRUE(verify_signature(Alg::EdDSA, key->material, jws->signing_input, jws->signature));
    std::string input = jws->signing_input + "x";
    EXPECT_FALSE(verify_signature(Alg::EdDSA, key->material, input, jws->signature));
}

// --- The profile ------------------------------------------------------------

class Jwt : public ::testing::Test {
protected:
    void SetUp() override
    {
        hs_ = *load_signing_key_hs256(hs_secret, "hs-1");
        rs_ = *load_signing_key_pem(test::rsa2048().private_pem, "rs-1");
        es_ = *load_signing_key_pem(test::p256().private_pem, "es-1");
        ed_ = *load_signing_key_pem(test::ed25519().private_pem, "ed-1");
        add(load_verify_key_hs256(issuer, "hs-1", hs_secret));
        add(load_verify_key_pem(issuer, "rs-1", test::rsa2048().public_pem));
        add(load_verify_key_pem(issuer, "es-1", test::p256().public_pem));
        add(load_verify_key_pem(issuer, "ed-1", test::ed25519().public_pem));
        policy_.audience = audience;
    }

    void add(Expected<VerifyKey, std::string> key)
    {
        ASSERT_TRUE(key) << key.error();
        ASSERT_TRUE(keys_.add(std::move(*key)));
    }

    static MintClaims claims(std::string jti = "jti-1")
    {
        MintClaims c {.exp = t0 + 60s, .iat = t0, .aud = {audience}};
        c.strings = {{"iss", issuer}, {"sub", "alice@example.com"}, {"jti", std::move(jti)},
            {"name", "Alice"}};
        return c;
    }

    std::string mint(const MintClaims& c, const SigningKey& key)
    {
        auto token = mint_jwt(c, key);
        EXPECT_TRUE(token) << token.error();
        return token ? *token : std::string();
    }
    std::string mint(const MintClaims& c) { return mint(c, hs_); }

    // Signs header and payload JSON exactly as written.
    std::string craft(std::string_view header, std::string_view payload, const SigningKey& key)
    {
        auto token = sign_compact(key, header, payload);
        EXPECT_TRUE(token) << token.error();
        return token ? *token : std::string();
    }
    std::string craft_payload(std::string_view payload)
    {
        return craft(R"({"alg":"HS256","kid":"hs-1"})", payload, hs_);
    }

    Expected<VerifiedClaims, JwtError> verify(std::string_view token, UnixTime now = t0)
    {
        return verify_jwt(token, keys_, policy_, now, jtis_);
    }

    // The error, or "ok"; test failures then read as names.
    std::string outcome(std::string_view token, UnixTime now = t0)
    {
        auto r = verify(token, now);
        return r ? "ok" : std::string(to_string(r.error()));
    }

    SigningKey hs_, rs_, es_, ed_;
    KeySet keys_;
    VerifyPolicy policy_;
    JtiCache jtis_ {1000, 30s};
};

TEST_F(Jwt, minted_tokens_verify_for_every_algorithm)
{
    int n = 0;
    for (const SigningKey* key : {&hs_, &rs_, &es_, &ed_}) {
        std::string jti = "jti-" + std::to_string(n++);
        auto result = verify(mint(claims(jti), *key));
        ASSERT_TRUE(result) << to_wire(key->alg) << ": " << to_string(result.error());
        EXPECT_EQ(result->kid, key->kid);
        EXPECT_EQ(result->iss, issuer);
        EXPECT_EQ(result->sub, "alice@example.com");
        EXPECT_EQ(result->aud, std::vector<std::string> {audience});
        EXPECT_EQ(result->exp, t0 + 60s);
        EXPECT_EQ(result->iat, t0);
        EXPECT_FALSE(result->nbf);
        EXPECT_EQ(result->jti, jti);
        EXPECT_EQ(result->strings.at("name"), "Alice");
    }
}

TEST_F(Jwt, signatures_have_their_jose_sizes)
{
    EXPECT_EQ(unb64(parts_of(mint(claims(), hs_)).signature).size(), 32u);
    EXPECT_EQ(unb64(parts_of(mint(claims(), rs_)).signature).size(), 256u);
    EXPECT_EQ(unb64(parts_of(mint(claims(), es_)).signature).size(), 64u);  // r||s, not DER
    EXPECT_EQ(unb64(parts_of(mint(claims(), ed_)).signature).size(), 64u);
}

TEST_F(Jwt, other_string_claims_are_returned_and_registered_ones_are_not)
{
    auto token = craft_payload(
        R"({"iss":"https://app.example","sub":"alice@example.com","aud":"xmpp-cm:prebind",)"
        R"("exp":1700000060,"jti":"j","jid":"alice@example.com","resource":"web","name":"Alice",)"
        R"("admin":true,"level":3,"groups":["a"]})");
    auto result = verify(token);
    ASSERT_TRUE(result) << to_string(result.error());
    std::map<std::string, std::string, std::less<>> expected {
        {"jid", "alice@example.com"}, {"resource", "web"}, {"name", "Alice"}};
    EXPECT_EQ(result->strings, expected);
}

// --- algorithms ---

TEST_F(Jwt, alg_none_is_refused)
{
    std::string payload = b64(
        R"({"iss":"https://app.example","sub":"a","aud":"xmpp-cm:prebind","exp":1700000060,"jti":"j"})");
    for (std::string alg : {"none", "None", "NONE"}) {
        std::string header = b64(R"({"alg":")" + alg + R"(","kid":"hs-1"})");
        EXPECT_EQ(outcome(header + "." + payload + "."), "alg_not_allowed") << alg;
    }
    // Even carrying a signature that would be valid for the key.
    auto signed_none = craft(R"({"alg":"none","kid":"hs-1"})", unb64(payload), hs_);
    EXPECT_EQ(outcome(signed_none), "alg_not_allowed");
}

TEST_F(Jwt, algorithm_outside_the_list_is_refused)
{
    auto token
        = craft(R"({"alg":"HS512","kid":"hs-1"})", unb64(parts_of(mint(claims())).payload), hs_);
    EXPECT_EQ(outcome(token), "alg_not_allowed");
}

TEST_F(Jwt, header_alg_other_than_the_keys_is_refused)
{
    // A genuine RS256 signature, but presented under the EC key's kid.
    auto token
        = craft(R"({"alg":"RS256","kid":"es-1"})", unb64(parts_of(mint(claims())).payload), rs_);
    EXPECT_EQ(outcome(token), "alg_not_allowed");
}

TEST_F(Jwt, rsa_public_key_used_as_hmac_secret_is_refused)
{
    // The attacker knows the RSA public key and HMACs with its PEM bytes.
    SigningKey forged {Alg::HS256, "rs-1", KeyMaterial::copy_secret(test::rsa2048().public_pem)};
    std::string payload = unb64(parts_of(mint(claims())).payload);
    EXPECT_EQ(
        outcome(craft(R"({"alg":"HS256","kid":"rs-1"})", payload, forged)), "alg_not_allowed");
    // Claiming RS256 with the HMAC as signature fails the RSA check.
    EXPECT_EQ(outcome(craft(R"({"alg":"RS256","kid":"rs-1"})", payload, forged)), "bad_signature");
    // And the RSA key can never act as an HMAC key, whatever the caller asks.
    auto input = parts_of(mint(claims())).header + "." + b64(payload);
    const VerifyKey* rsa = keys_.find(issuer, "rs-1");
    ASSERT_NE(rsa, nullptr);
    auto mac = sign_bytes(Alg::HS256, forged.material, input);
    ASSERT_TRUE(mac);
    EXPECT_FALSE(verify_signature(Alg::HS256, rsa->material, input, *mac));
}

// --- signatures ---

TEST_F(Jwt, tampered_payload_is_refused)
{
    for (const SigningKey* key : {&hs_, &rs_, &es_, &ed_}) {
        Parts p = parts_of(mint(claims(), *key));
        std::string payload = unb64(p.payload);
        payload.replace(payload.find("alice"), 5, "mallo");
        p.payload = b64(payload);
        EXPECT_EQ(outcome(p.join()), "bad_signature") << to_wire(key->alg);
    }
}

TEST_F(Jwt, tampered_signature_is_refused)
{
    for (const SigningKey* key : {&hs_, &rs_, &es_, &ed_}) {
        Parts p = parts_of(mint(claims(), *key));
        std::string sig = unb64(p.signature);
        sig[sig.size() / 2] ^= 0x01;
        p.signature = b64(sig);
        EXPECT_EQ(outcome(p.join()), "bad_signature") << to_wire(key->alg);
    }
}

TEST_F(Jwt, truncated_or_empty_signature_is_refused)
{
    Parts p = parts_of(mint(claims()));
    std::string sig = unb64(p.signature);
    p.signature = b64(sig.substr(0, 31));
    EXPECT_EQ(outcome(p.join()), "bad_signature");
    p.signature = "";
    EXPECT_EQ(outcome(p.join()), "bad_signature");
}

TEST_F(Jwt, token_signed_by_another_key_with_the_same_kid_is_refused)
{
    auto other = load_signing_key_hs256(std::string(32, 'x'), "hs-1");
    ASSERT_TRUE(other);
    EXPECT_EQ(outcome(mint(claims(), *other)), "bad_signature");
    auto other_ec = load_signing_key_pem(test::generate("EC", 0, "P-256").private_pem, "es-1");
    ASSERT_TRUE(other_ec);
    EXPECT_EQ(outcome(mint(claims(), *other_ec)), "bad_signature");
}

// --- syntax and size ---

TEST_F(Jwt, padded_base64_is_refused)
{
    Parts p = parts_of(mint(claims()));
    ASSERT_EQ(p.signature.size(), 43u);  // 32 bytes, unpadded
    Parts padded = p;
    padded.signature += "=";
    EXPECT_EQ(outcome(padded.join()), "malformed");
    // A part whose unpadded length is already a multiple of four, padded anyway.
    padded = p;
    padded.header += "====";
    EXPECT_EQ(outcome(padded.join()), "malformed");
    EXPECT_EQ(outcome(p.join()), "ok");
}

TEST_F(Jwt, standard_base64_alphabet_is_refused)
{
    Parts p = parts_of(mint(claims()));
    std::string sig = p.signature;
    for (char& c : sig) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    if (sig == p.signature) {
        sig[0] = '+';
    }
    p.signature = sig;
    EXPECT_EQ(outcome(p.join()), "malformed");
}

TEST_F(Jwt, oversized_token_is_refused_before_parsing)
{
    // Not a token at all: were it parsed, it would be "malformed".
    EXPECT_EQ(outcome(std::string(default_max_token_bytes + 1, '!')), "too_large");
    EXPECT_EQ(outcome(std::string(default_max_token_bytes, '!')), "malformed");

    // A validly signed token, refused for its size alone.
    MintClaims big = claims();
    big.strings["name"] = std::string(default_max_token_bytes, 'a');
    EXPECT_EQ(outcome(mint(big)), "too_large");
}

TEST_F(Jwt, size_cap_is_configurable)
{
    std::string token = mint(claims());
    policy_.max_token_bytes = token.size() - 1;
    EXPECT_EQ(outcome(token), "too_large");
    policy_.max_token_bytes = token.size();
    EXPECT_EQ(outcome(token), "ok");
}

TEST_F(Jwt, anything_but_three_parts_is_malformed)
{
    Parts p = parts_of(mint(claims()));
    EXPECT_EQ(outcome(p.header + "." + p.payload), "malformed");
    EXPECT_EQ(outcome(p.join() + ".x"), "malformed");
    EXPECT_EQ(outcome(p.join() + "."), "malformed");
    EXPECT_EQ(outcome("." + p.payload + "." + p.signature), "malformed");
    EXPECT_EQ(outcome(p.header + ".." + p.signature), "malformed");
    EXPECT_EQ(outcome(""), "malformed");
    EXPECT_EQ(outcome(" " + p.join()), "malformed");
    EXPECT_EQ(outcome(p.join()), "ok");
}

TEST_F(Jwt, header_must_be_a_json_object_with_alg_and_kid)
{
    std::string payload = unb64(parts_of(mint(claims())).payload);
    EXPECT_EQ(outcome(craft(R"(["HS256"])", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":"hs-1"} x)", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"kid":"hs-1"})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":256,"kid":"hs-1"})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256"})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":""})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":1})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":"hs-1"})", payload, hs_)), "ok");
}

TEST_F(Jwt, duplicate_member_names_are_malformed)
{
    std::string payload = unb64(parts_of(mint(claims())).payload);
    EXPECT_EQ(
        outcome(craft(R"({"alg":"HS256","kid":"hs-1","alg":"none"})", payload, hs_)), "malformed");
    auto dup_sub = craft_payload(
        R"({"iss":"https://app.example","sub":"alice","sub":"admin","aud":"xmpp-cm:prebind",)"
        R"("exp":1700000060,"jti":"j"})");
    EXPECT_EQ(outcome(dup_sub), "malformed");
}

TEST_F(Jwt, payload_must_be_a_json_object)
{
    EXPECT_EQ(outcome(craft_payload("[1,2]")), "malformed");
    EXPECT_EQ(outcome(craft_payload("not json")), "malformed");
    EXPECT_EQ(outcome(craft_payload(R"({"iss":"https://app.example",})")), "malformed");
}

TEST_F(Jwt, critical_extensions_are_refused_unless_empty)
{
    std::string payload = unb64(parts_of(mint(claims())).payload);
    EXPECT_EQ(
        outcome(craft(R"({"alg":"HS256","kid":"hs-1","crit":["exp"],"exp":1})", payload, hs_)),
        "malformed");
    EXPECT_EQ(
        outcome(craft(R"({"alg":"HS256","kid":"hs-1","b64":false,"crit":["b64"]})", payload, hs_)),
        "malformed");
    EXPECT_EQ(
        outcome(craft(R"({"alg":"HS256","kid":"hs-1","crit":"b64"})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":"hs-1","crit":[]})", payload, hs_)), "ok");
}

TEST_F(Jwt, key_bearing_header_parameters_are_ignored)
{
    // An attacker's own key offered in the header, signed with that key.
    auto attacker = load_signing_key_pem(test::generate("EC", 0, "P-256").private_pem);
    ASSERT_TRUE(attacker);
    std::string payload = unb64(parts_of(mint(claims())).payload);
    auto forged = craft(R"({"alg":"ES256","kid":"es-1","jku":"https://evil.example/jwks",)"
                        R"("x5u":"https://evil.example/cert","jwk":{"kty":"EC"}})",
        payload, *attacker);
    EXPECT_EQ(outcome(forged), "bad_signature");
    // The same parameters on a genuine token change nothing.
    auto genuine
        = craft(R"({"alg":"ES256","kid":"es-1","jku":"https://evil.example/jwks"})", payload, es_);
    EXPECT_EQ(outcome(genuine), "ok");
}

// --- keys and issuers ---

TEST_F(Jwt, unknown_kid_is_refused)
{
    SigningKey stray = hs_;
    stray.kid = "hs-9";
    EXPECT_EQ(outcome(mint(claims(), stray)), "unknown_key");
}

TEST_F(Jwt, kid_of_another_issuer_is_an_issuer_mismatch)
{
    MintClaims c = claims();
    c.strings["iss"] = "https://other.example";
    EXPECT_EQ(outcome(mint(c)), "issuer_mismatch");
}

TEST_F(Jwt, same_kid_under_two_issuers_selects_by_issuer)
{
    // Another issuer reuses kid "hs-1" with its own secret (reference §5.4
    // pitfall 5): its tokens verify with its key, never with ours.
    const std::string other_issuer = "https://other.example";
    add(load_verify_key_hs256(other_issuer, "hs-1", std::string(32, 'o')));
    auto other_key = *load_signing_key_hs256(std::string(32, 'o'), "hs-1");
    MintClaims c = claims();
    c.strings["iss"] = other_issuer;
    EXPECT_EQ(outcome(mint(c, other_key)), "ok");
    // The other issuer's key cannot mint tokens in our name.
    EXPECT_EQ(outcome(mint(claims("jti-2"), other_key)), "bad_signature");
}

TEST_F(Jwt, policy_issuer_binds_the_token_to_the_caller)
{
    policy_.issuer = "https://other.example";
    EXPECT_EQ(outcome(mint(claims())), "issuer_mismatch");
    policy_.issuer = issuer;
    EXPECT_EQ(outcome(mint(claims())), "ok");
}

TEST_F(Jwt, missing_iss_is_a_missing_claim)
{
    auto token = craft_payload(R"({"sub":"a","aud":"xmpp-cm:prebind","exp":1700000060,"jti":"j"})");
    EXPECT_EQ(outcome(token), "missing_claim");
    auto numeric = craft_payload(
        R"({"iss":7,"sub":"a","aud":"xmpp-cm:prebind","exp":1700000060,"jti":"j"})");
    EXPECT_EQ(outcome(numeric), "malformed");
}

// --- dates ---

std::string payload_with(std::string_view dates)
{
    return R"({"iss":"https://app.example","sub":"a","aud":"xmpp-cm:prebind","jti":"j")"
        + std::string(dates.empty() ? "" : ",") + std::string(dates) + "}";
}

TEST_F(Jwt, exp_is_required)
{
    EXPECT_EQ(outcome(craft_payload(payload_with(R"("iat":1700000000)"))), "missing_claim");
    EXPECT_EQ(outcome(craft_payload(payload_with(R"("exp":1700000060)"))), "ok");
}

TEST_F(Jwt, dates_must_be_integer_numbers)
{
    for (std::string exp : {R"("1700000060")", "1700000060.0", "1.70000006e9", "1700000060.5", "-1",
             "1e400", "18446744073709551615", "253402300800", "true", "null", "[1700000060]"}) {
        EXPECT_EQ(outcome(craft_payload(payload_with(R"("exp":)" + exp))), "malformed") << exp;
    }
    EXPECT_EQ(outcome(craft_payload(payload_with(R"("exp":1700000060,"iat":"1700000000")"))),
        "malformed");
    EXPECT_EQ(outcome(craft_payload(payload_with(R"("exp":1700000060,"nbf":1.5)"))), "malformed");
}

TEST_F(Jwt, exp_honours_the_leeway_to_the_second)
{
    // exp = t0 + 60, leeway 30 s: valid until t0 + 89, expired from t0 + 90.
    EXPECT_EQ(outcome(mint(claims("a")), t0 + 89s), "ok");
    EXPECT_EQ(outcome(mint(claims("b")), t0 + 90s), "expired");
    policy_.leeway = 0s;
    EXPECT_EQ(outcome(mint(claims("c")), t0 + 59s), "ok");
    EXPECT_EQ(outcome(mint(claims("d")), t0 + 60s), "expired");
}

TEST_F(Jwt, nbf_honours_the_leeway_to_the_second)
{
    MintClaims c = claims("a");
    c.nbf = t0 + 40s;
    c.iat = std::nullopt;
    EXPECT_EQ(outcome(mint(c), t0 + 9s), "not_yet_valid");
    EXPECT_EQ(outcome(mint(c), t0 + 10s), "ok");
}

TEST_F(Jwt, iat_in_the_future_beyond_the_leeway_is_refused)
{
    MintClaims c = claims("a");
    c.iat = t0 + 31s;
    EXPECT_EQ(outcome(mint(c)), "issued_in_future");
    c.iat = t0 + 30s;
    EXPECT_EQ(outcome(mint(c)), "ok");
}

TEST_F(Jwt, lifetime_is_capped_from_iat)
{
    MintClaims c = claims("a");
    c.exp = t0 + 301s;
    EXPECT_EQ(outcome(mint(c)), "lifetime_too_long");
    c.exp = t0 + 300s;
    EXPECT_EQ(outcome(mint(c)), "ok");
    // An old iat with a near exp is still a long-lived token.
    c = claims("b");
    c.iat = t0 - 1000s;
    EXPECT_EQ(outcome(mint(c)), "lifetime_too_long");
}

TEST_F(Jwt, lifetime_is_capped_from_now_without_iat)
{
    MintClaims c = claims("a");
    c.iat = std::nullopt;
    c.exp = t0 + 301s;
    EXPECT_EQ(outcome(mint(c), t0), "lifetime_too_long");
    EXPECT_EQ(outcome(mint(c), t0 + 1s), "ok");
    policy_.max_lifetime = 120s;
    c.strings["jti"] = "b";
    c.exp = t0 + 121s;
    EXPECT_EQ(outcome(mint(c), t0), "lifetime_too_long");
}

// --- audience, subject, jti, typ ---

TEST_F(Jwt, audience_may_be_a_string_or_an_array_containing_ours)
{
    MintClaims c = claims("a");
    c.aud = {"other", audience};
    auto result = verify(mint(c));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->aud, (std::vector<std::string> {"other", audience}));
    c = claims("b");
    c.aud = {"other", "xmpp-cm:prebind2"};
    EXPECT_EQ(outcome(mint(c)), "audience_mismatch");
    c.aud = {};
    EXPECT_EQ(outcome(mint(c)), "missing_claim");
}

TEST_F(Jwt, audience_of_the_wrong_type_is_malformed)
{
    for (std::string aud : {"[1]", "{}", "7", R"(["xmpp-cm:prebind",null])"}) {
        auto token = craft_payload(
            R"({"iss":"https://app.example","sub":"a","exp":1700000060,"jti":"j","aud":)" + aud
            + "}");
        EXPECT_EQ(outcome(token), "malformed") << aud;
    }
}

TEST_F(Jwt, empty_configured_audience_refuses_every_token)
{
    policy_.audience = "";
    MintClaims c = claims();
    c.aud = {""};
    EXPECT_EQ(outcome(mint(c)), "audience_mismatch");
}

TEST_F(Jwt, sub_is_required_unless_the_policy_says_otherwise)
{
    MintClaims c = claims("a");
    c.strings.erase("sub");
    EXPECT_EQ(outcome(mint(c)), "missing_claim");
    policy_.require_sub = false;
    auto result = verify(mint(c));
    ASSERT_TRUE(result) << to_string(result.error());
    EXPECT_EQ(result->sub, "");
    auto numeric = craft_payload(
        R"({"iss":"https://app.example","sub":7,"aud":"xmpp-cm:prebind","exp":1700000060,"jti":"j"})");
    EXPECT_EQ(outcome(numeric), "malformed");
}

TEST_F(Jwt, jti_is_required_and_bounded)
{
    MintClaims c = claims();
    c.strings.erase("jti");
    EXPECT_EQ(outcome(mint(c)), "missing_claim");
    EXPECT_EQ(outcome(mint(claims(""))), "malformed");
    EXPECT_EQ(outcome(mint(claims(std::string(max_jti_bytes + 1, 'j')))), "malformed");
    EXPECT_EQ(outcome(mint(claims(std::string(max_jti_bytes, 'j')))), "ok");
}

TEST_F(Jwt, typ_is_checked_when_the_policy_names_one)
{
    policy_.typ = "prebind+jwt";
    std::string payload = unb64(parts_of(mint(claims())).payload);
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":"hs-1"})", payload, hs_)), "type_mismatch");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":"hs-1","typ":"JWT"})", payload, hs_)),
        "type_mismatch");
    EXPECT_EQ(outcome(craft(R"({"alg":"HS256","kid":"hs-1","typ":7})", payload, hs_)), "malformed");
    EXPECT_EQ(outcome(craft(
                  R"({"alg":"HS256","kid":"hs-1","typ":"application/Prebind+JWT"})", payload, hs_)),
        "ok");
    policy_.typ = "";
    MintClaims c = claims("b");
    EXPECT_EQ(outcome(mint(c)), "ok");  // typ "JWT" is fine when none is required
}

// --- replay ---

TEST_F(Jwt, second_use_of_a_token_is_a_replay)
{
    std::string token = mint(claims());
    EXPECT_EQ(outcome(token), "ok");
    EXPECT_EQ(outcome(token, t0 + 1s), "replayed");
    // A fresh token reusing the jti is a replay too.
    EXPECT_EQ(outcome(mint(claims(), es_), t0 + 2s), "replayed");
}

TEST_F(Jwt, jti_is_namespaced_by_issuer)
{
    const std::string other_issuer = "https://other.example";
    add(load_verify_key_hs256(other_issuer, "o-1", std::string(32, 'o')));
    auto other_key = *load_signing_key_hs256(std::string(32, 'o'), "o-1");
    MintClaims c = claims();
    c.strings["iss"] = other_issuer;
    EXPECT_EQ(outcome(mint(c, other_key)), "ok");
    EXPECT_EQ(outcome(mint(claims())), "ok");  // same jti, our issuer
}

TEST_F(Jwt, refused_token_does_not_spend_its_jti)
{
    std::string token = mint(claims());
    policy_.audience = "someone-else";
    EXPECT_EQ(outcome(token), "audience_mismatch");
    Parts p = parts_of(token);
    p.signature = b64(std::string(32, '\0'));
    policy_.audience = audience;
    EXPECT_EQ(outcome(p.join()), "bad_signature");
    EXPECT_EQ(outcome(token), "ok");
}

TEST_F(Jwt, full_replay_cache_fails_closed)
{
    JtiCache tiny(1, 30s);
    EXPECT_TRUE(verify_jwt(mint(claims("a")), keys_, policy_, t0, tiny));
    auto second = verify_jwt(mint(claims("b")), keys_, policy_, t0, tiny);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), JwtError::replay_cache_full);
    // Once "a" is past exp + leeway its slot is free again.
    MintClaims c = claims("b");
    c.exp = t0 + 150s;
    c.iat = t0 + 90s;
    EXPECT_TRUE(verify_jwt(mint(c), keys_, policy_, t0 + 90s, tiny));
}

TEST(JwtErrors, every_error_has_its_own_name)
{
    std::set<std::string_view> names;
    for (int i = 0; i <= static_cast<int>(JwtError::replay_cache_full); ++i) {
        auto name = to_string(static_cast<JwtError>(i));
        EXPECT_NE(name, "unknown");
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    EXPECT_EQ(to_string(JwtError::bad_signature), "bad_signature");
    EXPECT_EQ(to_string(JwtError::replayed), "replayed");
}

// --- minting for ejabberd ---

TEST(JwtMint, ejabberd_token_carries_the_jid_field_and_exp_only)
{
    auto key = load_signing_key_pem(test::p256().private_pem);
    ASSERT_TRUE(key);
    auto token = mint_ejabberd_jwt({.jid = "alice@example.com", .exp = t0 + 60s}, *key);
    ASSERT_TRUE(token) << token.error();
    auto jws = split_compact(*token, default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->header, R"({"alg":"ES256","typ":"JWT"})");
    EXPECT_EQ(jws->payload, R"({"jid":"alice@example.com","exp":1700000060})");
    auto pub = load_verify_key_pem("x", "y", test::p256().public_pem);
    ASSERT_TRUE(pub);
    EXPECT_TRUE(verify_signature(Alg::ES256, pub->material, jws->signing_input, jws->signature));
}

TEST(JwtMint, ejabberd_jid_field_name_is_configurable)
{
    auto key = load_signing_key_hs256(hs_secret, "k1");
    ASSERT_TRUE(key);
    auto token
        = mint_ejabberd_jwt({.jid = "bob@example.com", .exp = t0 + 30s, .jid_field = "user"}, *key);
    ASSERT_TRUE(token) << token.error();
    auto jws = split_compact(*token, default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->header, R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
    EXPECT_EQ(jws->payload, R"({"user":"bob@example.com","exp":1700000030})");
}

TEST(JwtMint, ejabberd_token_needs_a_jid_and_a_plain_field_name)
{
    auto key = *load_signing_key_hs256(hs_secret);
    EXPECT_FALSE(mint_ejabberd_jwt({.jid = "", .exp = t0}, key));
    EXPECT_FALSE(mint_ejabberd_jwt({.jid = "a@b", .exp = t0, .jid_field = ""}, key));
    EXPECT_FALSE(mint_ejabberd_jwt({.jid = "a@b", .exp = t0, .jid_field = "exp"}, key));
}

TEST(JwtMint, rs256_and_eddsa_tokens_verify_with_the_public_key)
{
    for (const test::PemPair* pair : {&test::rsa2048(), &test::ed25519()}) {
        auto key = load_signing_key_pem(pair->private_pem);
        auto pub = load_verify_key_pem("x", "y", pair->public_pem);
        ASSERT_TRUE(key && pub);
        auto token = mint_ejabberd_jwt({.jid = "a@example.com", .exp = t0}, *key);
        ASSERT_TRUE(token);
        auto jws = split_compact(*token, default_max_token_bytes);
        ASSERT_TRUE(jws);
        EXPECT_TRUE(verify_signature(pub->alg, pub->material, jws->signing_input, jws->signature));
    }
}

TEST(JwtMint, mint_refuses_dates_and_aud_as_string_claims)
{
    auto key = *load_signing_key_hs256(hs_secret);
    for (std::string name : {"exp", "iat", "nbf", "aud"}) {
        MintClaims c {.exp = t0};
        c.strings[name] = "x";
        EXPECT_FALSE(mint_jwt(c, key)) << name;
    }
}

TEST(JwtMint, audience_list_is_written_as_an_array)
{
    auto key = *load_signing_key_hs256(hs_secret);
    MintClaims c {.exp = t0, .aud = {"a", "b"}};
    auto jws = split_compact(*mint_jwt(c, key), default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->payload, R"({"aud":["a","b"],"exp":1700000000})");
}

}  // namespace
}  // namespace bosun::auth
