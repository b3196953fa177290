#include "message_input.hpp"

#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/header_reader.hpp>

#include <algorithm>

namespace missive::cli {

namespace {

void add_recipients(smtp::Envelope& e, const std::vector<mime::Mailbox>& list) {
    for (const auto& m : list) {
        const std::string address = mime::envelope_address(m, true);
        const bool seen = std::any_of(e.to.begin(), e.to.end(), [&](const smtp::Recipient& r) {
            return r.address == address;
        });
        if (!seen) {
            e.to.emplace_back(address);
        }
    }
}

}  // namespace

ReadyMessage read_ready_message(std::istream& in, const std::vector<std::string>& recipients,
                                const std::string& sender, bool from_headers,
                                const std::string& fallback_sender) {
    std::string text;
    std::string line;
    while (std::getline(in, line)) {
        text += line;
        text += '\n';
        if (line.empty() || line == "\r") {
            break;
        }
        if (text.size() > mime::HeaderBlock::max_size) {
            throw Error(errc::invalid_input,
                        "the message's header passes " +
                            std::to_string(mime::HeaderBlock::max_size / 1024) +
                            " KiB; is this a message?");
        }
    }
    const mime::HeaderBlock block = mime::HeaderBlock::parse(text);
    ReadyMessage ready;
    for (const auto& r : recipients) {
        add_recipients(ready.envelope, mime::flatten(mime::parse_address_list(r)));
    }
    if (from_headers || recipients.empty()) {
        for (const char* field : {"To", "Cc", "Bcc"}) {
            add_recipients(ready.envelope, block.mailboxes(field));
        }
    }
    ready.has_from = block.find("From") != nullptr;
    ready.has_date = block.find("Date") != nullptr;
    ready.has_message_id = block.find("Message-ID") != nullptr;
    if (ready.envelope.to.empty()) {
        throw Error(errc::invalid_input,
                    "no recipient: the message has no To, Cc or Bcc, and none was given");
    }
    if (!sender.empty()) {
        ready.envelope.from = mime::envelope_address(mime::parse_mailbox(sender), true);
    } else {
        std::vector<mime::Mailbox> from = block.mailboxes("Sender");
        if (from.empty()) {
            from = block.mailboxes("From");
        }
        if (from.empty() && !fallback_sender.empty()) {
            from.push_back(mime::parse_mailbox(fallback_sender));
        }
        if (from.empty()) {
            throw Error(errc::invalid_input,
                        "no sender: the message has no From or Sender, and none was given");
        }
        ready.envelope.from = mime::envelope_address(from.front(), true);
    }
    ready.header = block.write({"Bcc", "Resent-Bcc"});
    return ready;
}

}  // namespace missive::cli
