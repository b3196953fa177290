// The outbox::Store contract (store.hpp), one suite run on every store: SqliteStore always (a
// file in a fresh directory), PostgresStore when MISSIVE_TEST_POSTGRES names a database (a
// fresh schema per test; skipped otherwise). Time is a parameter of the store, so leases expire
// without sleeping.

#include <missive/error.hpp>
#include <missive/outbox/postgres_store.hpp>
#include <missive/outbox/sqlite_store.hpp>
#include <missive/outbox/store.hpp>

#include "support/outbox_stores.hpp"

#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using missive::errc;
using missive::Error;
using missive::smtp::Envelope;
using missive::test::envelope;
using missive::test::read_all;
using missive::test::StoreKind;
using missive::test::StoreSite;
using missive::test::text;
using namespace missive::outbox;
using namespace std::chrono_literals;

namespace {

template <StoreKind Kind>
struct On {
    static constexpr StoreKind kind = Kind;
};

template <class On>
class StoreContract : public ::testing::Test {
protected:
    void SetUp() override {
        site_ = missive::test::make_site(On::kind);
        if (!site_) {
            GTEST_SKIP() << missive::test::no_postgres;
        }
        store_ = site_->open();
        t0_ = TimePoint(std::chrono::milliseconds(1'700'000'000'000));
    }

    JobId add(const std::string& id, NewJob job = {}) {
        if (job.envelope.to.empty()) {
            job.envelope = envelope();
        }
        std::istringstream in(text(id));
        return store_->enqueue(job, in, t0_).id;
    }

    Store& store() { return *store_; }

    [[nodiscard]] const StoreSite& site() const { return *site_; }

    TimePoint t0_;

private:
    std::unique_ptr<StoreSite> site_;
    std::unique_ptr<Store> store_;
};

class Names {
public:
    template <class T>
    static std::string GetName(int /*unused*/) {  // NOLINT: GoogleTest's name
        return missive::test::to_string(T::kind);
    }
};

using Stores = ::testing::Types<On<StoreKind::sqlite>, On<StoreKind::postgres>>;
TYPED_TEST_SUITE(StoreContract, Stores, Names);

Lease lease_of(const Job& job) {
    return Lease{job.id, job.attempt, job.worker};
}

}  // namespace

TYPED_TEST(StoreContract, StoresAndReadsBackALargeTextInChunks) {
    // 200 KiB and a bit: four chunk rows, the last one short, with an 8-bit octet.
    std::string big = text("big", 3300);
    big.resize(200 * 1024 + 17, 'x');
    big += "\xc3\xa9\r\n";
    Envelope e = envelope({"bob@example.org", "carol@example.org"});
    e.params.envid = "env-1";
    e.params.requiretls = true;
    e.params.mt_priority = 3;
    e.params.by = missive::smtp::DeliverBy{120, false, true};
    e.to[1].params.orcpt = "rfc822;carol@example.org";
    std::istringstream in(big);
    const Enqueued q = this->store().enqueue({.envelope = e}, in, this->t0_);
    EXPECT_TRUE(q.created);
    const auto job = this->store().find(q.id);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, JobState::queued);
    EXPECT_EQ(job->size, big.size());
    EXPECT_EQ(job->created, this->t0_);
    EXPECT_EQ(job->due, this->t0_);
    EXPECT_EQ(job->attempts, 0U);
    EXPECT_EQ(job->envelope.from, "alice@example.org");
    EXPECT_EQ(job->envelope.params.body, missive::smtp::BodyType::eight_bit_mime);
    EXPECT_EQ(job->envelope.params.envid, "env-1");
    EXPECT_TRUE(job->envelope.params.requiretls);
    EXPECT_EQ(job->envelope.params.mt_priority, 3);
    ASSERT_TRUE(job->envelope.params.by);
    EXPECT_EQ(job->envelope.params.by->seconds, 120);
    EXPECT_FALSE(job->envelope.params.by->return_if_late);
    EXPECT_TRUE(job->envelope.params.by->trace);
    ASSERT_EQ(job->recipients.size(), 2U);
    EXPECT_EQ(job->recipients[1].recipient.address, "carol@example.org");
    EXPECT_EQ(job->recipients[1].recipient.params.orcpt, "rfc822;carol@example.org");
    EXPECT_EQ(job->recipients[1].state, RecipientState::pending);
    EXPECT_EQ(read_all(*this->store().open_text(q.id)), big);
    EXPECT_FALSE(this->store().find(q.id + 1000));
    EXPECT_THROW((void)this->store().open_text(q.id + 1000), Error);
    // Another store object on the same queue reads the same.
    EXPECT_EQ(read_all(*this->site().open()->open_text(q.id)), big);
}

TYPED_TEST(StoreContract, RefusesAJobWithoutRecipientsOrWithBadStates) {
    std::istringstream in(text("1"));
    const auto code_of = [&](const NewJob& job) {
        try {
            (void)this->store().enqueue(job, in, this->t0_);
        } catch (const Error& e) {
            return e.code();
        }
        return std::error_code();
    };
    EXPECT_EQ(code_of({}), errc::invalid_input);
    EXPECT_EQ(code_of({.envelope = envelope(), .states = {RecipientState::accepted}}),
              errc::invalid_input);  // nothing left to send
    EXPECT_EQ(code_of({.envelope = envelope(),
                       .states = {RecipientState::pending, RecipientState::pending}}),
              errc::invalid_input);  // one state per recipient
    EXPECT_TRUE(this->store().list({}).empty());
}

TYPED_TEST(StoreContract, AKnownIdempotencyKeyStoresNothing) {
    const JobId first = this->add("1", {.idempotency_key = "k1"});
    std::istringstream other(text("other"));
    const Enqueued again =
        this->store().enqueue({.envelope = envelope(), .idempotency_key = "k1"}, other, this->t0_);
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.id, first);
    EXPECT_EQ(this->store().list({}).size(), 1U);
    EXPECT_EQ(read_all(*this->store().open_text(first)), text("1"));
    EXPECT_EQ(this->store().find(first)->idempotency_key, "k1");
}

TYPED_TEST(StoreContract, ConcurrentEnqueuesWithOneKeyStoreOneJob) {
    constexpr int threads = 4;
    std::vector<Enqueued> results(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (int i = 0; i < threads; ++i) {
        workers.emplace_back([&, i] {
            const auto store = this->site().open();
            std::istringstream in(text(std::to_string(i), 2000));
            results[static_cast<std::size_t>(i)] =
                store->enqueue({.envelope = envelope(), .idempotency_key = "same"}, in, this->t0_);
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    const auto created =
        std::count_if(results.begin(), results.end(), [](const Enqueued& e) { return e.created; });
    EXPECT_EQ(created, 1);
    for (const auto& r : results) {
        EXPECT_EQ(r.id, results[0].id);
    }
    EXPECT_EQ(this->store().list({}).size(), 1U);
}

TYPED_TEST(StoreContract, ClaimTakesDueJobsOldestFirstUnderALease) {
    const JobId later = this->add("later", {.not_before = this->t0_ + 10s});
    const JobId a = this->add("a");
    const JobId b = this->add("b");
    Store& s = this->store();
    auto claimed = s.claim("w1", 5s, 1, this->t0_, false);
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].id, a);
    EXPECT_EQ(claimed[0].state, JobState::in_flight);
    EXPECT_EQ(claimed[0].worker, "w1");
    EXPECT_EQ(claimed[0].attempts, 1U);
    EXPECT_EQ(claimed[0].lease_until, this->t0_ + 5s);
    EXPECT_NE(claimed[0].attempt, 0);
    claimed = s.claim("w2", 5s, 10, this->t0_ + 1s, false);
    ASSERT_EQ(claimed.size(), 1U);  // a is leased, `later` not due
    EXPECT_EQ(claimed[0].id, b);
    EXPECT_TRUE(s.claim("w3", 5s, 10, this->t0_ + 4s, false).empty());
    claimed = s.claim("w3", 5s, 10, this->t0_ + 10s, false);
    ASSERT_EQ(claimed.size(), 3U);  // both leases expired (no end of data) and `later` is due
    EXPECT_EQ(claimed[0].id, a);
    EXPECT_EQ(claimed[1].id, b);
    EXPECT_EQ(claimed[2].id, later);
    EXPECT_EQ(claimed[0].attempts, 2U);
    EXPECT_EQ(claimed[2].attempts, 1U);
    EXPECT_TRUE(s.renew(lease_of(claimed[0]), 5s, this->t0_ + 14s));
    EXPECT_EQ(s.find(a)->lease_until, this->t0_ + 19s);
    EXPECT_TRUE(s.claim("w4", 5s, 10, this->t0_ + 16s, false).size() == 2U);  // not a: renewed
}

TYPED_TEST(StoreContract, ClaimMergesExpiredLeasesAndQueuedJobsByDue) {
    // Expired leases and queued jobs compete for `max` places, the oldest due first, whichever
    // side it is on (the SQLite store looks for each side apart, at most `max` of each).
    Store& s = this->store();
    const JobId a = this->add("a");                                // due t0
    ASSERT_EQ(s.claim("w1", 4s, 1, this->t0_, false).size(), 1U);  // expires t0 + 4 s
    const JobId f = this->add("f", {.not_before = this->t0_ + 2500ms});
    auto claimed = s.claim("w1", 1s, 1, this->t0_ + 2500ms, false);  // expires t0 + 3.5 s
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].id, f);
    const JobId e = this->add("e", {.not_before = this->t0_ + 1s});
    const JobId b = this->add("b", {.not_before = this->t0_ + 2s});
    const JobId c = this->add("c", {.not_before = this->t0_ + 3s});
    const auto ids = [](const std::vector<Job>& jobs) {
        std::vector<JobId> out;
        for (const Job& j : jobs) {
            out.push_back(j.id);
        }
        return out;
    };
    const TimePoint at = this->t0_ + 5s;
    EXPECT_EQ(ids(s.claim("w2", 60s, 2, at, false)), (std::vector<JobId>{a, e}));
    claimed = s.claim("w2", 60s, 2, at, false);
    EXPECT_EQ(ids(claimed), (std::vector<JobId>{b, f}));
    ASSERT_EQ(claimed.size(), 2U);
    EXPECT_EQ(claimed[1].attempts, 2U);
    EXPECT_EQ(ids(s.claim("w2", 60s, 2, at, false)), (std::vector<JobId>{c}));
    EXPECT_TRUE(s.claim("w2", 60s, 2, at, false).empty());
}

TYPED_TEST(StoreContract, ClaimersNeverTakeTheSameJob) {
    constexpr int jobs = 60;
    constexpr int claimers = 4;
    for (int i = 0; i < jobs; ++i) {
        this->add(std::to_string(i));
    }
    std::vector<std::vector<JobId>> taken(claimers);
    std::vector<std::thread> threads;
    threads.reserve(claimers);
    std::atomic<int> failures{0};
    for (int w = 0; w < claimers; ++w) {
        threads.emplace_back([&, w] {
            try {
                const auto store = this->site().open();  // its own connection or file handle
                const std::string name = "w" + std::to_string(w);
                for (;;) {
                    const auto claimed = store->claim(name, 60s, 3, this->t0_, false);
                    if (claimed.empty()) {
                        break;
                    }
                    for (const Job& j : claimed) {
                        taken[static_cast<std::size_t>(w)].push_back(j.id);
                        if (!store->finish(lease_of(j), {.next = JobState::done}, this->t0_)) {
                            ++failures;
                        }
                    }
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    std::multiset<JobId> all;
    for (const auto& ids : taken) {
        all.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(all.size(), static_cast<std::size_t>(jobs));
    for (const JobId id : all) {
        EXPECT_EQ(all.count(id), 1U) << "job " << id << " was claimed twice";
    }
    EXPECT_EQ(this->store().stats(this->t0_).delivered, static_cast<std::uint64_t>(jobs));
}

TYPED_TEST(StoreContract, LeasesTakenOverUnderLoadLetOneFinishWin) {
    // Leases of 1 ms on a clock every call moves on: claimers keep taking jobs over from each
    // other while the previous holders try to finish them. Each job is finished exactly once.
    constexpr int jobs = 30;
    constexpr int claimers = 4;
    for (int i = 0; i < jobs; ++i) {
        this->add(std::to_string(i));
    }
    std::atomic<std::int64_t> clock{0};
    const auto tick = [&] { return this->t0_ + std::chrono::milliseconds(clock++); };
    std::vector<std::vector<JobId>> finished(claimers);
    std::vector<std::thread> threads;
    threads.reserve(claimers);
    for (int w = 0; w < claimers; ++w) {
        threads.emplace_back([&, w] {
            try {
                const auto store = this->site().open();
                const std::string name = "w" + std::to_string(w);
                // Odd rounds keep what they claimed until the next round: meanwhile others may
                // take it over. Even rounds finish at once, so that all jobs get done.
                std::vector<Job> kept;
                for (int round = 0; round < 2000; ++round) {
                    auto claimed = store->claim(name, 1ms, 2, tick(), false);
                    std::vector<Job> now = std::exchange(kept, {});
                    if (round % 2 == 0) {
                        now.insert(now.end(), claimed.begin(), claimed.end());
                    } else {
                        kept = std::move(claimed);
                    }
                    for (const Job& j : now) {
                        if (store->finish(lease_of(j), {.next = JobState::done}, tick())) {
                            finished[static_cast<std::size_t>(w)].push_back(j.id);
                        }
                    }
                    if (kept.empty() && store->stats(tick()).delivered == jobs) {
                        break;
                    }
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::multiset<JobId> all;
    for (const auto& ids : finished) {
        all.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(all.size(), static_cast<std::size_t>(jobs));
    for (const JobId id : all) {
        EXPECT_EQ(all.count(id), 1U) << "job " << id << " was finished twice";
    }
    const auto done = this->store().list({.state = JobState::done});
    EXPECT_EQ(done.size(), static_cast<std::size_t>(jobs));
    unsigned attempts = 0;
    for (const Job& j : done) {
        attempts += j.attempts;
    }
    EXPECT_GT(attempts, static_cast<unsigned>(jobs));  // leases were taken over
}

TYPED_TEST(StoreContract, ExpiredLeaseWithoutEndOfDataIsClaimedAgain) {
    const JobId id = this->add("1");
    Store& s = this->store();
    const auto first = s.claim("a", 1s, 10, this->t0_, false);
    ASSERT_EQ(first.size(), 1U);
    const auto again = s.claim("b", 1s, 10, this->t0_ + 2s, false);
    ASSERT_EQ(again.size(), 1U);
    EXPECT_EQ(again[0].worker, "b");
    EXPECT_EQ(again[0].attempts, 2U);
    // The first worker lost its lease: nothing it says is recorded.
    const Lease old = lease_of(first[0]);
    EXPECT_FALSE(s.renew(old, 1s, this->t0_ + 2s));
    EXPECT_FALSE(s.mark_data_end(old, this->t0_ + 2s));
    EXPECT_FALSE(s.finish(old, {.next = JobState::done}, this->t0_ + 2s));
    EXPECT_EQ(s.find(id)->state, JobState::in_flight);
    const auto attempts = s.attempts(id);
    ASSERT_EQ(attempts.size(), 2U);
    EXPECT_EQ(attempts[0].worker, "a");
    EXPECT_EQ(attempts[0].error, "abandoned: the worker's lease expired");
    EXPECT_EQ(attempts[0].finished, this->t0_ + 2s);
    EXPECT_FALSE(attempts[0].data_end);
    EXPECT_EQ(attempts[1].worker, "b");
    EXPECT_FALSE(attempts[1].finished);
}

TYPED_TEST(StoreContract, ExpiredLeaseAfterEndOfDataIsHeldAsOutcomeUnknown) {
    const JobId id =
        this->add("1", {.envelope = envelope({"bob@example.org", "carol@example.org"})});
    Store& s = this->store();
    const auto claimed = s.claim("a", 1s, 10, this->t0_, false);
    ASSERT_EQ(claimed.size(), 1U);
    ASSERT_TRUE(s.mark_data_end(lease_of(claimed[0]), this->t0_ + 100ms));
    EXPECT_TRUE(s.claim("b", 1s, 10, this->t0_ + 2s, false).empty());
    const auto job = s.find(id);
    EXPECT_EQ(job->state, JobState::held);
    EXPECT_EQ(job->recipients[0].state, RecipientState::unknown);
    EXPECT_EQ(job->recipients[1].state, RecipientState::unknown);
    EXPECT_EQ(job->last_error,
              "outcome unknown: the worker's lease expired after the end of the data");
    EXPECT_EQ(s.stats(this->t0_ + 2s).held, 1U);
    const auto attempts = s.attempts(id);
    ASSERT_EQ(attempts.size(), 1U);
    EXPECT_EQ(attempts[0].data_end, this->t0_ + 100ms);
    EXPECT_EQ(attempts[0].finished, this->t0_ + 2s);
    EXPECT_EQ(attempts[0].error, job->last_error);
    EXPECT_TRUE(s.claim("b", 1s, 10, this->t0_ + 5s, false).empty());  // held: never sent again
    EXPECT_FALSE(s.finish(lease_of(claimed[0]), {.next = JobState::done}, this->t0_ + 5s));
}

TYPED_TEST(StoreContract, AllowDuplicatesClaimsAnExpiredLeaseAfterEndOfData) {
    const JobId id = this->add("1");
    Store& s = this->store();
    const auto claimed = s.claim("a", 1s, 10, this->t0_, true);
    ASSERT_TRUE(s.mark_data_end(lease_of(claimed.at(0)), this->t0_));
    const auto again = s.claim("b", 1s, 10, this->t0_ + 2s, true);
    ASSERT_EQ(again.size(), 1U);
    EXPECT_EQ(again[0].id, id);
    EXPECT_EQ(again[0].recipients[0].state, RecipientState::pending);
    EXPECT_EQ(again[0].attempts, 2U);
    // The new attempt starts without a mark: expiring again before its end of data, it is
    // claimed again even without allow_duplicates.
    EXPECT_EQ(s.claim("c", 1s, 10, this->t0_ + 4s, false).size(), 1U);
}

TYPED_TEST(StoreContract, FinishRecordsRecipientsAndTheNextState) {
    const JobId id = this->add(
        "1", {.envelope = envelope({"bob@example.org", "carol@example.org", "dave@example.org"})});
    Store& s = this->store();
    auto claimed = s.claim("a", 10s, 10, this->t0_, false);
    ASSERT_EQ(claimed.size(), 1U);
    missive::smtp::Reply deferred{451, missive::smtp::EnhancedCode{4, 3, 0}, {"try", "later"}};
    missive::smtp::Reply refused{550, missive::smtp::EnhancedCode{5, 1, 1}, {"no such user"}};
    const AttemptEnd end{
        .updates = {{0, RecipientState::accepted, missive::smtp::Reply{250, {}, {"ok"}}, ""},
                    {1, RecipientState::pending, deferred, ""},
                    {2, RecipientState::refused, refused, "refused for good"}},
        .next = JobState::queued,
        .due = this->t0_ + 30s,
        .error = "451 4.3.0 try later"};
    ASSERT_TRUE(s.finish(lease_of(claimed[0]), end, this->t0_ + 1s));
    EXPECT_FALSE(s.finish(lease_of(claimed[0]), end, this->t0_ + 1s));  // no longer in flight
    auto job = s.find(id);
    EXPECT_EQ(job->state, JobState::queued);
    EXPECT_EQ(job->due, this->t0_ + 30s);
    EXPECT_EQ(job->last_error, "451 4.3.0 try later");
    EXPECT_EQ(job->worker, "");
    EXPECT_EQ(job->recipients[0].state, RecipientState::accepted);
    EXPECT_EQ(job->recipients[0].reply->code, 250);
    EXPECT_FALSE(job->recipients[0].reply->enhanced);
    EXPECT_EQ(job->recipients[1].state, RecipientState::pending);
    EXPECT_EQ(job->recipients[1].reply, deferred);
    EXPECT_EQ(job->recipients[2].state, RecipientState::refused);
    EXPECT_EQ(job->recipients[2].reply, refused);
    EXPECT_EQ(job->recipients[2].note, "refused for good");
    ASSERT_EQ(job->pending_envelope().to.size(), 1U);
    EXPECT_EQ(job->pending_envelope().to[0].address, "carol@example.org");
    EXPECT_TRUE(s.claim("b", 10s, 10, this->t0_ + 29s, false).empty());
    claimed = s.claim("b", 10s, 10, this->t0_ + 30s, false);
    ASSERT_EQ(claimed.size(), 1U);
    ASSERT_TRUE(s.finish(
        lease_of(claimed[0]),
        {.updates = {{1, RecipientState::accepted, std::nullopt, ""}}, .next = JobState::done},
        this->t0_ + 31s));
    job = s.find(id);
    EXPECT_EQ(job->state, JobState::done);
    EXPECT_EQ(job->recipients[1].state, RecipientState::accepted);
    EXPECT_FALSE(job->recipients[1].reply);
    const auto attempts = s.attempts(id);
    ASSERT_EQ(attempts.size(), 2U);
    EXPECT_EQ(attempts[0].error, "451 4.3.0 try later");
    EXPECT_EQ(attempts[0].finished, this->t0_ + 1s);
    EXPECT_EQ(attempts[1].worker, "b");
    EXPECT_EQ(attempts[1].started, this->t0_ + 30s);
    EXPECT_EQ(attempts[1].error, "");
    EXPECT_TRUE(s.attempts(id + 1000).empty());
}

TYPED_TEST(StoreContract, FinishRecordsSeveralOutcomesTogetherAndSkipsAStaleLease) {
    Store& s = this->store();
    const JobId a = this->add("a");
    const JobId b = this->add("b");
    const JobId c = this->add("c");
    auto claimed = s.claim("w", 1s, 10, this->t0_, false);
    ASSERT_EQ(claimed.size(), 3U);
    // c's lease expires and another worker takes it: that record is skipped, the others kept.
    ASSERT_EQ(s.claim("other", 10s, 10, this->t0_ + 2s, false).size(), 3U);
    const std::vector<Job> now_theirs = {*s.find(a), *s.find(b)};
    const std::vector<Finish> ends{
        {lease_of(now_theirs[0]), {.next = JobState::done}},
        {lease_of(claimed[2]), {.next = JobState::failed}},  // stale: "w" lost it
        {lease_of(now_theirs[1]),
         {.next = JobState::queued, .due = this->t0_ + 1h, .error = "451 later"}}};
    EXPECT_EQ(s.finish(ends, this->t0_ + 3s), (std::vector<bool>{true, false, true}));
    EXPECT_EQ(s.find(a)->state, JobState::done);
    EXPECT_EQ(s.find(b)->state, JobState::queued);
    EXPECT_EQ(s.find(b)->last_error, "451 later");
    EXPECT_EQ(s.find(c)->state, JobState::in_flight);
    EXPECT_EQ(s.find(c)->worker, "other");
}

TYPED_TEST(StoreContract, ListFiltersByEveryCondition) {
    Store& s = this->store();
    const JobId j1 =
        this->add("1", {.envelope = envelope({"bob@example.org"}, "Alice@Example.org")});
    const JobId j2 =
        this->add("2", {.envelope = envelope({"Carol@Example.NET"}, "zed@example.org")});
    this->t0_ += 1h;
    const JobId j3 =
        this->add("3", {.envelope = envelope({"dave@example.org", "eve@example.net"})});
    const JobId j4 = this->add("4");
    // j1 done; j2 deferred (queued after an attempt); j3 and j4 queued.
    auto claimed = s.claim("w", 10s, 1, this->t0_ + 1s, false);  // j1, oldest due
    ASSERT_EQ(claimed.at(0).id, j1);
    ASSERT_TRUE(s.finish(lease_of(claimed[0]), {.next = JobState::done}, this->t0_ + 1s));
    claimed = s.claim("w", 10s, 1, this->t0_ + 1s, false);  // j2
    ASSERT_TRUE(s.finish(lease_of(claimed.at(0)), {.next = JobState::queued, .due = this->t0_ + 1h},
                         this->t0_ + 1s));
    const auto ids = [&](const ListFilter& f) {
        std::vector<JobId> out;
        for (const Job& j : s.list(f)) {
            out.push_back(j.id);
        }
        return out;
    };
    EXPECT_EQ(ids({}), (std::vector<JobId>{j1, j2, j3, j4}));
    EXPECT_EQ(ids({.state = JobState::done}), (std::vector<JobId>{j1}));
    EXPECT_EQ(ids({.state = JobState::queued}), (std::vector<JobId>{j2, j3, j4}));
    EXPECT_EQ(ids({.deferred = true}), (std::vector<JobId>{j2}));
    EXPECT_EQ(ids({.state = JobState::done, .deferred = true}), (std::vector<JobId>{}));
    EXPECT_EQ(ids({.sender = "alice@EXAMPLE"}), (std::vector<JobId>{j1, j3, j4}));
    EXPECT_EQ(ids({.sender = "zed"}), (std::vector<JobId>{j2}));
    EXPECT_EQ(ids({.recipient = "example.net"}), (std::vector<JobId>{j2, j3}));
    EXPECT_EQ(ids({.recipient = "CAROL"}), (std::vector<JobId>{j2}));
    EXPECT_EQ(ids({.sender = "alice", .recipient = "eve"}), (std::vector<JobId>{j3}));
    EXPECT_EQ(ids({.created_before = this->t0_}), (std::vector<JobId>{j1, j2}));
    EXPECT_EQ(ids({.after = j2}), (std::vector<JobId>{j3, j4}));
    EXPECT_EQ(ids({.after = j1, .limit = 2}), (std::vector<JobId>{j2, j3}));
    EXPECT_EQ(ids({.sender = "nobody"}), (std::vector<JobId>{}));
    // A pattern is text, not a LIKE pattern.
    EXPECT_EQ(ids({.sender = "%"}), (std::vector<JobId>{}));
}

TYPED_TEST(StoreContract, HoldRetryAndCancelAreTheOperatorsDecisions) {
    Store& s = this->store();
    const JobId a = this->add("a", {.not_before = this->t0_ + 1h});
    const JobId b =
        this->add("b", {.envelope = envelope({"bob@example.org", "carol@example.org"})});
    EXPECT_TRUE(s.hold(a, this->t0_));
    EXPECT_FALSE(s.hold(a, this->t0_));  // held, not queued
    EXPECT_EQ(s.find(a)->state, JobState::held);
    EXPECT_FALSE(s.hold(a + 1000, this->t0_));
    // A held job is not claimed, even when due; retry queues it now.
    auto claimed = s.claim("w", 10s, 10, this->t0_ + 2h, false);
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].id, b);
    EXPECT_FALSE(s.hold(b, this->t0_));  // in flight
    EXPECT_FALSE(s.retry(b, this->t0_));
    EXPECT_FALSE(s.cancel(b, this->t0_));
    EXPECT_TRUE(s.retry(a, this->t0_ + 2h));
    EXPECT_EQ(s.find(a)->state, JobState::queued);
    EXPECT_EQ(s.find(a)->due, this->t0_ + 2h);
    // b: bob accepted, carol deferred far away; retry makes it due now.
    ASSERT_TRUE(s.finish(lease_of(claimed[0]),
                         {.updates = {{0, RecipientState::accepted, std::nullopt, ""}},
                          .next = JobState::queued,
                          .due = this->t0_ + 10h},
                         this->t0_ + 2h));
    EXPECT_TRUE(s.retry(b, this->t0_ + 3h));
    EXPECT_EQ(s.find(b)->due, this->t0_ + 3h);
    // Cancel: carol refused ("cancelled"), b done (bob had it); a failed (nobody had it).
    EXPECT_TRUE(s.cancel(b, this->t0_ + 3h));
    auto job = s.find(b);
    EXPECT_EQ(job->state, JobState::done);
    EXPECT_EQ(job->recipients[0].state, RecipientState::accepted);
    EXPECT_EQ(job->recipients[1].state, RecipientState::refused);
    EXPECT_EQ(job->recipients[1].note, "cancelled");
    EXPECT_TRUE(s.hold(a, this->t0_ + 3h));
    EXPECT_TRUE(s.cancel(a, this->t0_ + 3h));  // held: may be cancelled too
    EXPECT_EQ(s.find(a)->state, JobState::failed);
    EXPECT_FALSE(s.cancel(a, this->t0_ + 3h));  // final
    EXPECT_FALSE(s.retry(a, this->t0_ + 3h));
    EXPECT_TRUE(s.claim("w", 10s, 10, this->t0_ + 20h, false).empty());
}

TYPED_TEST(StoreContract, RetryReleasesAnUnknownOutcome) {
    Store& s = this->store();
    const JobId id = this->add("1");
    const auto claimed = s.claim("a", 1s, 1, this->t0_, false);
    ASSERT_TRUE(s.mark_data_end(lease_of(claimed.at(0)), this->t0_));
    EXPECT_TRUE(s.claim("b", 1s, 1, this->t0_ + 2s, false).empty());
    ASSERT_EQ(s.find(id)->state, JobState::held);
    EXPECT_TRUE(s.retry(id, this->t0_ + 3s));
    const auto job = s.find(id);
    EXPECT_EQ(job->state, JobState::queued);
    EXPECT_EQ(job->due, this->t0_ + 3s);
    EXPECT_EQ(job->recipients[0].state, RecipientState::pending);
    EXPECT_EQ(job->recipients[0].note, "released for a retry: may arrive twice");
    EXPECT_EQ(s.claim("b", 1s, 1, this->t0_ + 3s, false).size(), 1U);
}

TYPED_TEST(StoreContract, ReleaseDecidesAHeldJob) {
    Store& s = this->store();
    const JobId id = this->add("1");
    const auto claimed = s.claim("a", 1s, 1, this->t0_, false);
    ASSERT_TRUE(s.mark_data_end(lease_of(claimed.at(0)), this->t0_));
    EXPECT_TRUE(s.claim("b", 1s, 1, this->t0_ + 2s, false).empty());
    EXPECT_FALSE(s.release(id + 1, false, this->t0_ + 2s));
    EXPECT_TRUE(s.release(id, false, this->t0_ + 2s));
    const auto job = s.find(id);
    EXPECT_EQ(job->state, JobState::failed);
    EXPECT_EQ(job->recipients[0].state, RecipientState::refused);
    EXPECT_EQ(job->recipients[0].note, "outcome unknown; not retried");
    EXPECT_FALSE(s.release(id, true, this->t0_ + 2s));  // no longer held
}

TYPED_TEST(StoreContract, PurgeDeletesFinalJobsCreatedBefore) {
    Store& s = this->store();
    const JobId done = this->add("done");
    const JobId failed = this->add("failed");
    const JobId waiting = this->add("waiting");
    this->t0_ += 1h;
    const JobId young = this->add("young");
    auto claimed = s.claim("w", 10s, 4, this->t0_, false);
    ASSERT_EQ(claimed.size(), 4U);
    for (const Job& j : claimed) {
        const JobState next = j.id == done || j.id == young ? JobState::done
                              : j.id == failed              ? JobState::failed
                                                            : JobState::queued;
        ASSERT_TRUE(s.finish(lease_of(j), {.next = next, .due = this->t0_}, this->t0_));
    }
    EXPECT_EQ(s.purge(this->t0_), 2U);
    EXPECT_FALSE(s.find(done));
    EXPECT_FALSE(s.find(failed));
    EXPECT_TRUE(s.attempts(done).empty());
    EXPECT_TRUE(s.find(waiting));
    EXPECT_TRUE(s.find(young));
    EXPECT_EQ(read_all(*s.open_text(young)), text("young"));
    EXPECT_EQ(s.purge(this->t0_), 0U);
    EXPECT_EQ(s.purge(this->t0_ + 1s), 1U);
    // Ids are never reused.
    EXPECT_GT(this->add("next"), young);
}

TYPED_TEST(StoreContract, InitialStatesRecordWhatASenderLearnt) {
    Store& s = this->store();
    // An unknown outcome: held at once, never claimed.
    const JobId held =
        this->add("held", {.envelope = envelope({"bob@example.org", "carol@example.org"}),
                           .states = {RecipientState::unknown, RecipientState::refused},
                           .note = "connection lost after the data"});
    auto job = s.find(held);
    EXPECT_EQ(job->state, JobState::held);
    EXPECT_EQ(job->recipients[0].state, RecipientState::unknown);
    EXPECT_EQ(job->recipients[0].note, "connection lost after the data");
    EXPECT_EQ(job->recipients[1].state, RecipientState::refused);
    // Accepted recipients are kept and never tried again.
    const JobId mixed =
        this->add("mixed", {.envelope = envelope({"bob@example.org", "carol@example.org"}),
                            .states = {RecipientState::accepted, RecipientState::pending},
                            .note = "250 ok"});
    auto claimed = s.claim("w", 10s, 10, this->t0_, false);
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].id, mixed);
    EXPECT_EQ(claimed[0].recipients[0].state, RecipientState::accepted);
    EXPECT_EQ(claimed[0].recipients[0].note, "250 ok");
    EXPECT_EQ(claimed[0].recipients[1].note, "");
    ASSERT_EQ(claimed[0].pending_envelope().to.size(), 1U);
    EXPECT_EQ(claimed[0].pending_envelope().to[0].address, "carol@example.org");
    EXPECT_EQ(s.stats(this->t0_).held, 1U);
    // Released for a retry: bob (unknown) becomes pending; carol stays refused.
    EXPECT_TRUE(s.retry(held, this->t0_));
    job = s.find(held);
    EXPECT_EQ(job->state, JobState::queued);
    EXPECT_EQ(job->recipients[0].state, RecipientState::pending);
    EXPECT_EQ(job->recipients[1].state, RecipientState::refused);
}

TYPED_TEST(StoreContract, StatsCountEachStateAndTheOldestAge) {
    Store& s = this->store();
    for (int i = 0; i < 6; ++i) {
        this->add(std::to_string(i));
    }
    auto claimed = s.claim("a", 10min, 5, this->t0_ + 1s, false);
    ASSERT_EQ(claimed.size(), 5U);
    const auto end = [&](std::size_t i, JobState next) {
        ASSERT_TRUE(
            s.finish(lease_of(claimed[i]), {.next = next, .due = this->t0_ + 1h}, this->t0_ + 1s));
    };
    end(0, JobState::done);
    end(1, JobState::failed);
    end(2, JobState::queued);  // deferred
    end(3, JobState::held);
    // 4 in flight, 5 queued.
    const Stats st = s.stats(this->t0_ + 61s);
    EXPECT_EQ(st.queued, 1U);
    EXPECT_EQ(st.deferred, 1U);
    EXPECT_EQ(st.in_flight, 1U);
    EXPECT_EQ(st.held, 1U);
    EXPECT_EQ(st.delivered, 1U);
    EXPECT_EQ(st.failed, 1U);
    ASSERT_TRUE(st.oldest_age);
    EXPECT_EQ(st.oldest_age->count(), 61);
    const std::string text = to_prometheus(st);
    EXPECT_NE(text.find("missive_outbox_jobs{state=\"in_flight\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("missive_outbox_oldest_age_seconds 61\n"), std::string::npos);
    EXPECT_FALSE(this->site().open()->stats(this->t0_).oldest_age == std::nullopt);
    // Once its lease expired, the job in flight waits for another worker: deferred.
    const Stats later = s.stats(this->t0_ + 1s + 11min);
    EXPECT_EQ(later.in_flight, 0U);
    EXPECT_EQ(later.deferred, 2U);
}

TYPED_TEST(StoreContract, AnEmptyQueueHasNoOldestAge) {
    const Stats st = this->store().stats(this->t0_);
    EXPECT_EQ(st.queued + st.deferred + st.in_flight + st.held + st.delivered + st.failed, 0U);
    EXPECT_FALSE(st.oldest_age);
    EXPECT_NE(to_prometheus(st).find("missive_outbox_oldest_age_seconds 0\n"), std::string::npos);
}

// PostgreSQL only: the connection.

namespace {

class PostgresConnection : public ::testing::Test {
protected:
    void SetUp() override {
        if (missive::test::postgres_conninfo().empty()) {
            GTEST_SKIP() << missive::test::no_postgres;
        }
        site_ = std::make_unique<missive::test::PostgresSite>(missive::test::postgres_conninfo());
    }

    // Ends the server processes of the connections named `application`, as a restart would.
    void terminate(const std::string& application) const {
        PGconn* conn = PQconnectdb(site_->conninfo().c_str());
        ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
        const std::array<const char*, 1> values{application.c_str()};
        PGresult* r = PQexecParams(conn,
                                   "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                                   "WHERE application_name = $1",
                                   1, nullptr, values.data(), nullptr, nullptr, 0);
        EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
        EXPECT_EQ(PQntuples(r), 1);
        PQclear(r);
        PQfinish(conn);
    }

    std::unique_ptr<missive::test::PostgresSite> site_;
};

}  // namespace

TEST_F(PostgresConnection, AReadReconnectsAfterTheConnectionWasLost) {
    const std::string app = "missive-test-" + site_->schema();
    PostgresStore store(site_->conninfo(), {.schema = site_->schema(), .application_name = app});
    std::istringstream in(text("1"));
    const JobId id = store.enqueue({.envelope = envelope()}, in, Clock::now()).id;
    terminate(app);
    ASSERT_TRUE(store.find(id));  // reconnected, ran again
    EXPECT_EQ(read_all(*store.open_text(id)), text("1"));
    terminate(app);
    // A change is not run twice: it reports the loss; the next call reconnects.
    try {
        (void)store.hold(id, Clock::now());
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), errc::storage);
        EXPECT_EQ(std::string(e.what()).rfind("outbox: holding a job: ", 0), 0U) << e.what();
    }
    EXPECT_TRUE(store.hold(id, Clock::now()));
}

TEST_F(PostgresConnection, ProcessesStartingTogetherCreateTheSchemaOnce) {
    const std::string schema = site_->schema() + "_new";
    constexpr int starts = 6;
    std::vector<std::thread> threads;
    threads.reserve(starts);
    std::atomic<int> failures{0};
    for (int i = 0; i < starts; ++i) {
        threads.emplace_back([&] {
            try {
                PostgresStore store(site_->conninfo(), {.schema = schema});
                (void)store.stats(Clock::now());
            } catch (const Error& e) {
                ADD_FAILURE() << e.what();
                ++failures;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    PGconn* conn = PQconnectdb(site_->conninfo().c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    const std::string drop = "DROP SCHEMA " + schema + " CASCADE";  // t_ and hex digits
    PGresult* r = PQexec(conn, drop.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
}

TEST_F(PostgresConnection, ErrorsNeverShowThePassword) {
    try {
        PostgresStore store("postgresql://postgres:s3cr3t-pw@127.0.0.1:1/missive",
                            {.connect_timeout = 2s});
        ADD_FAILURE() << "connected to port 1";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), errc::storage);
        const std::string what = e.what();
        EXPECT_EQ(what.find("s3cr3t"), std::string::npos) << what;
        EXPECT_EQ(what.rfind("outbox: connecting to postgresql://postgres@127.0.0.1:1/missive: "
                             "connection to server at \"127.0.0.1\", port 1 failed: Connection "
                             "refused",
                             0),
                  0U)
            << what;
    }
    try {
        PostgresStore store("host=127.0.0.1 password=s3cr3t-pw port", {});
        ADD_FAILURE() << "parsed";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), errc::config);
        EXPECT_EQ(std::string(e.what()),
                  "outbox: the PostgreSQL connection string cannot be parsed (not shown: it may "
                  "hold a password)");
    }
}

TEST_F(PostgresConnection, AServerErrorNamesTheStepAndTheServersMessage) {
    // Another process dropped the tables under a running store.
    PostgresStore store(site_->conninfo(), {.schema = site_->schema()});
    PGconn* conn = PQconnectdb(site_->conninfo().c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
    const std::string drop = "DROP TABLE " + site_->schema() + ".outbox_attempts";
    PQclear(PQexec(conn, drop.c_str()));
    PQfinish(conn);
    try {
        (void)store.attempts(1);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), errc::storage);
        EXPECT_EQ(std::string(e.what()),
                  "outbox: reading attempts: relation \"outbox_attempts\" does not exist");
    }
}
