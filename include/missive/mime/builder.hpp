#pragma once

#include <missive/mime/address.hpp>
#include <missive/mime/message.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace missive::mime {

/** How an attachment is named and typed; empty fields are derived. */
struct AttachmentOptions {
    std::string filename{};      ///< the name shown; default: the file's own name
    std::string content_type{};  ///< e.g. "application/pdf"; default: guessed from the name
};

/**
 * Builds the usual shapes of a message without touching MIME:
 *
 *     auto message = mime::Builder()
 *                        .from("Ada <ada@example.org>")
 *                        .to("bob@example.com")
 *                        .subject("Grüße 👋")
 *                        .text("Hello")
 *                        .html("<p>Hello <img src=\"cid:logo\"></p>")
 *                        .inline_file("logo.png", "logo")
 *                        .attach_file("report.pdf")
 *                        .build();
 *
 * The shape follows what was given: text or HTML alone; both as multipart/alternative; inline
 * parts with the HTML in multipart/related (inside the alternative, as mail readers expect); and
 * attachments around all of it in multipart/mixed.
 *
 * Address arguments take one address or a comma-separated list ("A <a@x>, b@y"), in Unicode
 * if need be. Every method checks its input and throws `Error(errc::invalid_input)` naming the
 * field: a line break in a value, an address that does not parse, a file that is not there.
 */
class Builder {
public:
    Builder& from(std::string_view addresses);
    Builder& from(const Mailbox& mailbox);
    Builder& to(std::string_view addresses);
    Builder& to(const Mailbox& mailbox);
    Builder& cc(std::string_view addresses);
    Builder& cc(const Mailbox& mailbox);
    /** Envelope recipients that no header will show. */
    Builder& bcc(std::string_view addresses);
    Builder& bcc(const Mailbox& mailbox);
    Builder& reply_to(std::string_view addresses);
    Builder& sender(std::string_view address);

    Builder& subject(std::string_view text);
    /** Date; without it the send path writes the time of sending. */
    Builder& date(std::chrono::system_clock::time_point when);
    /** Message-ID, with or without the angle brackets; without it one is made when sending. */
    Builder& message_id(std::string_view id);
    /** In-Reply-To, and adds the id to References (RFC 5322 3.6.4). */
    Builder& in_reply_to(std::string_view id);
    /** Appends to References. */
    Builder& references(std::string_view id);
    /** Any other field (X-Mailer, List-Unsubscribe …), appended as given. */
    Builder& header(std::string name, std::string value);

    /** The text/plain body (UTF-8; line ends become CRLF). */
    Builder& text(std::string body);
    /** The text/html body. */
    Builder& html(std::string body);

    /** An attachment from memory; the type is guessed from `filename` unless given. */
    Builder& attach(std::string data, std::string filename, std::string_view content_type = {});
    /** An attachment read from a file as the message is sent (never held in memory). */
    Builder& attach_file(const std::filesystem::path& path, AttachmentOptions options = {});
    /** An inline part the HTML references as "cid:<content_id>", from memory. */
    Builder& inline_data(std::string data, std::string content_id, std::string_view content_type);
    /** An inline part from a file; the type is guessed from the name unless given. */
    Builder& inline_file(const std::filesystem::path& path, std::string content_id,
                         std::string_view content_type = {});
    /** Any part, added beside the attachments. */
    Builder& part(Part p);

    /** @return the message */
    [[nodiscard]] Message build() const;

private:
    Builder& add_addresses(std::string_view field, std::string_view addresses);
    Builder& add_mailbox(std::string_view field, const Mailbox& mailbox);

    Headers headers_;
    std::vector<std::pair<std::string, std::vector<Address>>> addresses_;
    std::string text_;
    std::string html_;
    bool has_text_ = false;
    bool has_html_ = false;
    std::vector<Part> inline_;
    std::vector<Part> attachments_;
};

}  // namespace missive::mime
