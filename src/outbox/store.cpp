#include <missive/error.hpp>
#include <missive/outbox/store.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

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

bool Store::finish(const Lease& lease, const AttemptEnd& end, TimePoint now) {
    const Finish one{lease, end};
    return finish(std::span<const Finish>(&one, 1), now).at(0);
}

JobState initial_state(const NewJob& job) {
    if (job.envelope.to.empty()) {
        throw Error(errc::invalid_input, "outbox: a message needs at least one recipient");
    }
    if (job.states.empty()) {
        return JobState::queued;
    }
    if (job.states.size() != job.envelope.to.size()) {
        throw Error(errc::invalid_input,
                    "outbox: " + std::to_string(job.states.size()) + " recipient states for " +
                        std::to_string(job.envelope.to.size()) + " recipients");
    }
    const auto has = [&](RecipientState s) {
        return std::find(job.states.begin(), job.states.end(), s) != job.states.end();
    };
    if (has(RecipientState::unknown)) {
        return JobState::held;
    }
    if (has(RecipientState::pending)) {
        return JobState::queued;
    }
    throw Error(errc::invalid_input,
                "outbox: nothing to queue: every recipient is already accepted or refused");
}

std::string to_prometheus(const Stats& stats) {
    std::string out =
        "# HELP missive_outbox_jobs Jobs of the outbox by state.\n"
        "# TYPE missive_outbox_jobs gauge\n";
    const std::array<std::pair<const char*, std::uint64_t>, 6> counts{
        {{"queued", stats.queued},
         {"deferred", stats.deferred},
         {"in_flight", stats.in_flight},
         {"held", stats.held},
         {"delivered", stats.delivered},
         {"failed", stats.failed}}};
    for (const auto& [name, n] : counts) {
        out +=
            "missive_outbox_jobs{state=\"" + std::string(name) + "\"} " + std::to_string(n) + "\n";
    }
    out +=
        "# HELP missive_outbox_oldest_age_seconds Age of the oldest job not yet final.\n"
        "# TYPE missive_outbox_oldest_age_seconds gauge\n"
        "missive_outbox_oldest_age_seconds " +
        std::to_string(stats.oldest_age ? stats.oldest_age->count() : 0) + "\n";
    return out;
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
