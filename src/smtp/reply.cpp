#include <missive/smtp/reply.hpp>

namespace missive::smtp {

std::string EnhancedCode::to_string() const {
    return std::to_string(klass) + "." + std::to_string(subject) + "." + std::to_string(detail);
}

std::string Reply::text() const {
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty() && !line.empty()) {
            out += ' ';
        }
        out += line;
    }
    return out;
}

std::string Reply::to_string() const {
    std::string out = std::to_string(code);
    if (enhanced) {
        out += ' ';
        out += enhanced->to_string();
    }
    const std::string t = text();
    if (!t.empty()) {
        out += ' ';
        out += t;
    }
    return out;
}

}  // namespace missive::smtp
