-- mod_auth_bosun: a Prosody 0.12 auth provider that accepts Bosun's one-time
-- login tickets as the SASL PLAIN password (docs/prebind.md, "The ticket
-- strategy"). Bosun mints a ticket after it has verified a web app's
-- assertion (POST /v1/prebind method "assertion", or POST /v1/tickets).
--
--   VirtualHost "chat.example"
--       authentication = "bosun"
--       bosun_ticket_secret_file = "/etc/prosody/bosun-ticket.secret"  -- same bytes as
--           -- [upstream."chat.example"] ticket_secret_file in Bosun's config
--
-- Ticket: bt1.<exp>.<nonce>.<mac>, where mac is the lowercase hex
-- HMAC-SHA256(secret, "bt1\n<username>\n<host>\n<exp>\n<nonce>").
-- Test vector (tests/unit/prebind/assertion_test.cpp): secret = 32 x "k",
-- alice, localhost, 1700000000, "nonce" ->
-- f2f46199184d3501ee78f43c9d53fd89621d3e9c0096effa3f1788ef0c3a9e9f.
--
-- The check is offline, in this process, with a secret shared with Bosun.
-- An HTTP call back to a Bosun ticket-check endpoint would be possible in
-- 0.12 (mod_c2s handles stanzas, <auth/> included, in a util.async runner,
-- so plain_test could wait on net.http), but it would put a round trip on
-- every login and make every login on the host depend on Bosun being up
-- (reference/prebind-and-auth.md §6.4, strategy C's circular dependency).
-- A ticket is accepted once: its nonce is remembered until the ticket
-- expires. The cache is per Prosody process, so a VirtualHost using this
-- module must be served by one Prosody process (no clustering).
--
-- Users are created on first use: a good ticket for an unknown user
-- records the account, and user_exists() is true from then on.

local hashes = require "util.hashes";
local new_sasl = require "util.sasl".new;

local host = module.host;
local accounts = module:open_store("accounts");

local secret_file = module:get_option_string("bosun_ticket_secret_file");
if not secret_file then
	error("mod_auth_bosun: set bosun_ticket_secret_file for " .. host);
end
local secret;
do
	local f = assert(io.open(secret_file, "rb"), "mod_auth_bosun: cannot read bosun_ticket_secret_file");
	secret = f:read("a"):gsub("[\r\n]+$", "");
	f:close();
end
if #secret < 32 then
	error("mod_auth_bosun: the ticket secret must be at least 32 bytes");
end

-- Tickets valid for longer than this are refused whatever their mac says.
local max_lifetime = module:get_option_number("bosun_ticket_max_lifetime", 300);
-- Used nonces kept at once; when full, tickets are refused (fail closed).
local max_used = module:get_option_number("bosun_ticket_cache_size", 100000);

local used, used_count = {}, 0; -- nonce -> exp

local function sweep(now)
	for nonce, exp in pairs(used) do
		if exp <= now then
			used[nonce] = nil;
			used_count = used_count - 1;
		end
	end
end

-- true when `ticket` is a genuine, unexpired, unused ticket for username@host;
-- then it is spent.
local function check_ticket(username, ticket)
	local exp_text, nonce, mac = ticket:match("^bt1%.(%d+)%.([%w_%-]+)%.(%x+)$");
	if not exp_text or #exp_text > 12 then
		return false, "malformed";
	end
	local exp, now = tonumber(exp_text), os.time();
	if exp <= now then
		return false, "expired";
	end
	if exp > now + max_lifetime then
		return false, "lifetime too long";
	end
	local want = hashes.hmac_sha256(secret, "bt1\n" .. username .. "\n" .. host .. "\n" .. exp_text .. "\n" .. nonce, true);
	if not hashes.equals(want, mac) then
		return false, "bad mac";
	end
	if used[nonce] then
		return false, "replayed";
	end
	if used_count >= max_used then
		sweep(now);
		if used_count >= max_used then
			return false, "used-ticket cache full";
		end
	end
	used[nonce], used_count = exp, used_count + 1;
	return true;
end

local provider = {};

function provider.test_password(username, password)
	local ok, why = check_ticket(username, password);
	if not ok then
		-- Never log the ticket itself.
		module:log("info", "ticket refused for %s@%s: %s", username, host, why);
		return nil, "Auth failed. Invalid ticket.";
	end
	if not accounts:get(username) then
		accounts:set(username, { created = os.time(), via = "bosun" });
	end
	return true;
end

function provider.get_password()
	return nil, "Tickets only: there is no password to get.";
end

function provider.set_password()
	return nil, "Tickets only: passwords cannot be set.";
end

function provider.user_exists(username)
	return accounts:get(username) ~= nil;
end

function provider.create_user(username)
	return accounts:set(username, { created = os.time(), via = "create_user" });
end

function provider.delete_user(username)
	return accounts:set(username, nil);
end

function provider.users()
	return accounts:users();
end

function provider.get_sasl_handler()
	return new_sasl(host, {
		plain_test = function(_, username, password)
			return provider.test_password(username, password), true;
		end;
	});
end

module:provides("auth", provider);
