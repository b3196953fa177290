#include <missive/smtp/result.hpp>

#include <algorithm>

namespace missive::smtp {

std::vector<std::string> SendResult::accepted() const {
    std::vector<std::string> out;
    for (const auto& r : recipients) {
        if (r.accepted) {
            out.push_back(r.address);
        }
    }
    return out;
}

std::vector<std::string> SendResult::refused() const {
    std::vector<std::string> out;
    for (const auto& r : recipients) {
        if (!r.accepted) {
            out.push_back(r.address);
        }
    }
    return out;
}

bool SendResult::all_accepted() const {
    return !recipients.empty() &&
           std::all_of(recipients.begin(), recipients.end(),
                       [](const RecipientResult& r) { return r.accepted; }) &&
           data_reply && data_reply->positive();
}

}  // namespace missive::smtp
