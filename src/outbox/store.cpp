#include <missive/outbox/store.hpp>

namespace missive::outbox {

smtp::Envelope Job::pending_envelope() const {
    smtp::Envelope e = envelope;
    e.to.clear();
    for (const auto& r : recipients) {
        if (r.state == RecipientState::pending) {
            e.to.push_back(r.recipient);
        }
    }
    return e;
}

std::string_view to_string(JobState state) noexcept {
    switch (state) {
        case JobState::queued:
            return "queued";
        case JobState::in_flight:
            return "in_flight";
        case JobState::held:
            return "held";
        case JobState::done:
            return "done";
        case JobState::failed:
            return "failed";
    }
    return "failed";
}

std::string_view to_string(RecipientState state) noexcept {
    switch (state) {
        case RecipientState::pending:
            return "pending";
        case RecipientState::accepted:
            return "accepted";
        case RecipientState::refused:
            return "refused";
        case RecipientState::unknown:
            return "unknown";
    }
    return "pending";
}

}  // namespace missive::outbox
