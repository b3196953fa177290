#include <missive/error.hpp>
#include <missive/mime/builder.hpp>

#include <algorithm>
#include <utility>

namespace missive::mime {

namespace {

std::string bracketed(std::string_view id) {
    std::string s(id);
    if (s.empty() || s.front() != '<') {
        s = '<' + s + '>';
    }
    return s;
}

MediaType type_for(std::string_view content_type, std::string_view filename) {
    return content_type.empty() ? guess_media_type(filename) : MediaType::parse(content_type);
}

}  // namespace

Builder& Builder::add_addresses(std::string_view field, std::string_view addresses) {
    std::vector<Address> parsed;
    try {
        parsed = parse_address_list(addresses);
    } catch (const Error& e) {
        throw Error(errc::invalid_input, std::string(field) + ": " + e.what());
    }
    if (parsed.empty()) {
        throw Error(errc::invalid_input, std::string(field) + ": no address in '" +
                                             std::string(addresses.substr(0, 200)) + "'");
    }
    auto it = std::find_if(addresses_.begin(), addresses_.end(),
                           [&](const auto& f) { return f.first == field; });
    if (it == addresses_.end()) {
        addresses_.emplace_back(std::string(field), std::vector<Address>{});
        it = std::prev(addresses_.end());
    }
    for (Address& a : parsed) {
        it->second.push_back(std::move(a));
    }
    return *this;
}

Builder& Builder::add_mailbox(std::string_view field, const Mailbox& mailbox) {
    return add_addresses(field, format_mailbox(mailbox, true));
}

Builder& Builder::from(std::string_view addresses) {
    return add_addresses("From", addresses);
}

Builder& Builder::from(const Mailbox& mailbox) {
    return add_mailbox("From", mailbox);
}

Builder& Builder::to(std::string_view addresses) {
    return add_addresses("To", addresses);
}

Builder& Builder::to(const Mailbox& mailbox) {
    return add_mailbox("To", mailbox);
}

Builder& Builder::cc(std::string_view addresses) {
    return add_addresses("Cc", addresses);
}

Builder& Builder::cc(const Mailbox& mailbox) {
    return add_mailbox("Cc", mailbox);
}

Builder& Builder::bcc(std::string_view addresses) {
    return add_addresses("Bcc", addresses);
}

Builder& Builder::bcc(const Mailbox& mailbox) {
    return add_mailbox("Bcc", mailbox);
}

Builder& Builder::reply_to(std::string_view addresses) {
    return add_addresses("Reply-To", addresses);
}

Builder& Builder::sender(std::string_view address) {
    const Mailbox m = parse_mailbox(address);
    headers_.set("Sender", format_mailbox(m, true));
    return *this;
}

Builder& Builder::subject(std::string_view text) {
    headers_.set("Subject", std::string(text));
    return *this;
}

Builder& Builder::date(std::chrono::system_clock::time_point when) {
    headers_.set("Date", format_date(when));
    return *this;
}

Builder& Builder::message_id(std::string_view id) {
    headers_.set("Message-ID", bracketed(id));
    return *this;
}

Builder& Builder::in_reply_to(std::string_view id) {
    headers_.set("In-Reply-To", bracketed(id));
    return references(id);
}

Builder& Builder::references(std::string_view id) {
    const std::string* now = headers_.find("References");
    headers_.set("References", (now != nullptr ? *now + ' ' : std::string()) + bracketed(id));
    return *this;
}

Builder& Builder::header(std::string name, std::string value) {
    headers_.add(std::move(name), std::move(value));
    return *this;
}

Builder& Builder::text(std::string body) {
    text_ = std::move(body);
    has_text_ = true;
    return *this;
}

Builder& Builder::html(std::string body) {
    html_ = std::move(body);
    has_html_ = true;
    return *this;
}

Builder& Builder::attach(std::string data, std::string filename, std::string_view content_type) {
    Part p = Part::bytes(std::move(data), type_for(content_type, filename));
    p.disposition = "attachment";
    p.filename = std::move(filename);
    attachments_.push_back(std::move(p));
    return *this;
}

Builder& Builder::attach_file(const std::filesystem::path& path, AttachmentOptions options) {
    std::string filename =
        options.filename.empty() ? path.filename().string() : std::move(options.filename);
    Part p = Part::file(path, type_for(options.content_type, filename));
    p.disposition = "attachment";
    p.filename = std::move(filename);
    attachments_.push_back(std::move(p));
    return *this;
}

Builder& Builder::inline_data(std::string data, std::string content_id,
                              std::string_view content_type) {
    Part p = Part::bytes(std::move(data), MediaType::parse(content_type));
    p.disposition = "inline";
    check_header("Content-ID", content_id);
    p.content_id = std::move(content_id);
    inline_.push_back(std::move(p));
    return *this;
}

Builder& Builder::inline_file(const std::filesystem::path& path, std::string content_id,
                              std::string_view content_type) {
    const std::string name = path.filename().string();
    Part p = Part::file(path, type_for(content_type, name));
    p.disposition = "inline";
    p.filename = name;
    check_header("Content-ID", content_id);
    p.content_id = std::move(content_id);
    inline_.push_back(std::move(p));
    return *this;
}

Builder& Builder::part(Part p) {
    attachments_.push_back(std::move(p));
    return *this;
}

Message Builder::build() const {
    Message m;
    for (const auto& [field, list] : addresses_) {
        m.headers.add(field, format_address_list(list, true));
    }
    for (const Header& h : headers_) {
        m.headers.add(h.name, h.value);
    }

    // text, html (with its inline parts), alternative, then the attachments around them.
    std::vector<Part> alternatives;
    if (has_text_) {
        alternatives.push_back(Part::text(text_, "plain"));
    }
    std::vector<Part> extra_inline;
    if (has_html_) {
        Part html = Part::text(html_, "html");
        if (!inline_.empty()) {
            std::vector<Part> related{std::move(html)};
            related.insert(related.end(), inline_.begin(), inline_.end());
            html = Part::multipart("related", std::move(related));
            html.type.set_param("type", "text/html");  // RFC 2387 3.1: the root's type
        }
        alternatives.push_back(std::move(html));
    } else {
        extra_inline = inline_;  // no HTML to refer to them: they go beside the text
    }

    std::vector<Part> mixed;
    if (alternatives.size() == 2) {
        mixed.push_back(Part::multipart("alternative", std::move(alternatives)));
    } else if (alternatives.size() == 1) {
        mixed.push_back(std::move(alternatives.front()));
    } else if (attachments_.empty() && extra_inline.empty()) {
        mixed.push_back(Part::text(""));
    }
    mixed.insert(mixed.end(), extra_inline.begin(), extra_inline.end());
    mixed.insert(mixed.end(), attachments_.begin(), attachments_.end());
    // An attachment always sits in multipart/mixed, even alone, as mail readers expect.
    m.body = mixed.size() == 1 && attachments_.empty() ? std::move(mixed.front())
                                                       : Part::multipart("mixed", std::move(mixed));
    return m;
}

}  // namespace missive::mime
