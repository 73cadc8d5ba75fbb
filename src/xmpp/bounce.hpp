#pragma once
// XEP-0206 §7 (checklist #111): stanzas a BOSH client never received, once
// its session is gone, are answered upstream so that senders learn of it.

#include <optional>
#include <string>
#include <string_view>

namespace bosun::xmpp {

/// The error reply to send upstream for an undelivered stanza, or nullopt when
/// it must be dropped: a message gets recipient-unavailable, an iq get/set
/// gets service-unavailable, presence and errors are dropped silently.
std::optional<std::string> bounce_stanza(std::string_view xml);

}  // namespace bosun::xmpp
