#include "client/batch.hpp"

#include <algorithm>
#include <utility>

namespace missive::client::detail {

namespace {

// RFC 5321 4.5.3.1.10: a server that takes no more recipients in this transaction says 452;
// they go in the next one.
bool too_many(const smtp::RecipientResult& r) {
    return !r.accepted && r.reply.code == 452;
}

}  // namespace

Outcome not_sent(std::size_t index, const std::optional<Error>& cause) {
    Outcome o;
    o.index = index;
    std::string why = cause ? std::string(cause->what()) : std::string("the connection is closed");
    Error::Details d;
    d.connection_usable = false;
    if (cause) {
        d.reply = cause->reply();
        d.cause = cause->cause();
    }
    o.error = Error(errc::connection_lost,
                    "not sent: the connection failed before this message went out (" + why + ")",
                    std::move(d));
    return o;
}

Batch::Batch(std::span<const Letter> letters, std::function<void(Outcome)> report)
    : letters_(letters)
    , report_(std::move(report)) {}

std::optional<Batch::Next> Batch::next(std::optional<std::uint64_t> rcpt_max) {
    if (callback_error_) {
        return std::nullopt;
    }
    std::size_t index = 0;
    if (!continued_.empty()) {
        index = continued_.front();
        continued_.pop_front();
    } else {
        if (next_letter_ >= letters_.size()) {
            return std::nullopt;
        }
        index = next_letter_++;
        Job& job = jobs_[index];
        const auto& to = letters_[index].envelope.to;
        const std::size_t cut =
            rcpt_max && *rcpt_max > 0 ? static_cast<std::size_t>(*rcpt_max) : to.size();
        for (std::size_t i = 0; i < to.size() || i == 0; i += std::max<std::size_t>(cut, 1)) {
            const auto end = std::min(to.size(), i + std::max<std::size_t>(cut, 1));
            job.groups.emplace_back(to.begin() + static_cast<std::ptrdiff_t>(i),
                                    to.begin() + static_cast<std::ptrdiff_t>(end));
            if (to.empty()) {
                break;
            }
        }
    }
    Job& job = jobs_[index];
    Next n;
    n.job = index;
    n.letter = &letters_[index];
    n.envelope.from = n.letter->envelope.from;  // the recipients are this group's, not copied
    n.envelope.params = n.letter->envelope.params;
    n.envelope.to = std::move(job.groups.front());
    job.groups.pop_front();
    if (!job.groups.empty()) {
        continued_.push_front(index);  // its other groups before the next letter
    }
    ++job.in_flight;
    job.started = true;
    return n;
}

void Batch::ended(std::size_t index, smtp::SendResult result, const std::optional<Error>& error) {
    Job& job = jobs_[index];
    if (job.in_flight > 0) {
        --job.in_flight;
    }
    smtp::SendResult& merged = job.result;
    if (!merged.mail_reply) {
        merged.mail_reply = result.mail_reply;
    }
    if (result.data_reply) {
        merged.data_reply = result.data_reply;
    }
    if (merged.queue_id.empty()) {
        merged.queue_id = result.queue_id;
    }
    merged.message_sent = merged.message_sent || result.message_sent;
    // A transaction that failed (MAIL, DATA or the message refused, the connection lost)
    // delivered to nobody, whatever the RCPT replies said; the reply that failed it stands for
    // theirs.
    const bool accepted_here =
        !error && std::ranges::any_of(result.recipients,
                                      [](const smtp::RecipientResult& r) { return r.accepted; });
    // 452 with progress: those recipients go in a further transaction (without progress they
    // stay refused, transient, and the caller retries later).
    std::vector<smtp::Recipient> again;
    if (accepted_here) {
        const auto& to = letters_[index].envelope.to;
        for (const auto& r : result.recipients) {
            if (!too_many(r)) {
                continue;
            }
            const auto it = std::ranges::find_if(
                to, [&](const smtp::Recipient& x) { return x.address == r.address; });
            if (it != to.end()) {
                again.push_back(*it);
            }
        }
    }
    for (auto& r : result.recipients) {
        if (error && r.accepted) {
            r.accepted = false;
            if (error->reply()) {
                r.reply = *error->reply();
            }
        }
        if (std::ranges::any_of(again,
                                [&](const smtp::Recipient& x) { return x.address == r.address; })) {
            continue;  // its answer comes from the next transaction
        }
        merged.recipients.push_back(std::move(r));
    }
    if (!again.empty()) {
        job.groups.push_front(std::move(again));
        if (std::find(continued_.begin(), continued_.end(), index) == continued_.end()) {
            continued_.push_front(index);
        }
    }
    job.any_accepted = job.any_accepted || accepted_here;
    if (error) {
        job.error = error;
        // A failure that is not about this transaction's recipients or message (the connection,
        // an unknown outcome) decides the letter's outcome.
        if (!error->connection_usable() || error->outcome_unknown()) {
            job.fatal = error;
        }
    }
    report_if_done(index);
}

void Batch::abandon(const std::optional<Error>& cause) {
    continued_.clear();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        Job& job = it->second;
        const std::size_t index = it->first;
        ++it;
        if (!job.fatal && (!job.groups.empty() || job.in_flight > 0)) {
            job.fatal = not_sent(index, cause).error;
        }
        job.groups.clear();
        job.in_flight = 0;
        report(index, job);
    }
    jobs_.clear();
    while (next_letter_ < letters_.size() && !callback_error_) {
        deliver(not_sent(next_letter_++, cause));
    }
}

void Batch::report_if_done(std::size_t index) {
    Job& job = jobs_[index];
    if (job.in_flight > 0 || !job.groups.empty()) {
        return;
    }
    report(index, job);
    jobs_.erase(index);
}

void Batch::report(std::size_t index, Job& job) {
    if (job.reported) {
        return;
    }
    job.reported = true;
    Outcome o;
    o.index = index;
    o.attempts = 1;
    o.result = std::move(job.result);
    if (job.fatal) {
        o.error = job.fatal;
    } else if (!job.any_accepted) {
        o.error = job.error ? job.error : not_sent(index, std::nullopt).error;
    }
    if (o.error) {
        ErrorDetails d;
        d.reply = o.error->reply();
        d.command = o.error->command();
        d.cause = o.error->cause();
        d.connection_usable = o.error->connection_usable();
        d.report = o.result;
        o.error = Error(o.error->kind(), o.error->what(), std::move(d));
    }
    deliver(std::move(o));
}

// Outcomes go to the caller in the order of the letters: one that is ready early (a letter that
// could not go, or one whose verdict came first) waits for those before it.
void Batch::deliver(Outcome o) {
    ready_.emplace(o.index, std::move(o));
    while (!ready_.empty() && ready_.begin()->first == next_report_ && !callback_error_) {
        Outcome next = std::move(ready_.begin()->second);
        ready_.erase(ready_.begin());
        ++next_report_;
        try {
            report_(std::move(next));
        } catch (...) {
            callback_error_ = std::current_exception();
        }
    }
}

}  // namespace missive::client::detail
