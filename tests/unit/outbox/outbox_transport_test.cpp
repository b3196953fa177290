// OutboxTransport: code written against transport::Transport queues instead of sending.
#include <missive/error.hpp>
#include <missive/mime/builder.hpp>
#include <missive/outbox/outbox_transport.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

using namespace missive;

namespace {

std::filesystem::path fresh_db() {
    std::string tmpl = std::filesystem::temp_directory_path() / "missive-otransport-XXXXXX";
    return std::filesystem::path(::mkdtemp(tmpl.data())) / "outbox.db";
}

std::string stored(outbox::Store& store, outbox::JobId id) {
    std::ostringstream s;
    s << store.open_text(id)->rdbuf();
    return s.str();
}

}  // namespace

TEST(OutboxTransport, ABuiltMessageIsQueuedWithItsWholeEnvelope) {
    const auto db = fresh_db();
    outbox::SqliteStore store(db);
    outbox::OutboxTransport transport(store);
    transport::Transport& t = transport;  // as an application holds it
    const auto message = mime::Builder()
                             .from("alice@example.org")
                             .to("bob@example.org")
                             .bcc("carol@example.org")
                             .subject("Queued")
                             .text("Later.\n")
                             .build();
    const smtp::SendResult r = t.send(message);
    EXPECT_EQ(r.queue_id, "1");
    ASSERT_EQ(r.recipients.size(), 2U);
    EXPECT_TRUE(r.all_accepted());
    EXPECT_EQ(r.data_reply->to_string(), "250 2.0.0 queued as 1 in the outbox");
    const auto job = store.find(1);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, outbox::JobState::queued);
    EXPECT_EQ(job->envelope.from, "alice@example.org");
    ASSERT_EQ(job->envelope.to.size(), 2U);
    EXPECT_EQ(job->envelope.to[1].address, "carol@example.org");
    const std::string text = stored(store, 1);
    EXPECT_EQ(text.find("carol@example.org"), std::string::npos) << "Bcc written: " << text;
    EXPECT_NE(text.find("Message-ID: <"), std::string::npos) << text;
    std::filesystem::remove_all(db.parent_path());
}

TEST(OutboxTransport, ReadyTextAndAnInjectionRefusedBeforeAnythingIsStored) {
    const auto db = fresh_db();
    outbox::SqliteStore store(db);
    outbox::OutboxTransport transport(store);
    transport::Transport& t = transport;
    smtp::Envelope e;
    e.from = "alice@example.org";
    e.to.emplace_back("bob@example.org");
    EXPECT_EQ(t.send(e, "Subject: ready\r\n\r\nText.\r\n").queue_id, "1");
    EXPECT_EQ(stored(store, 1), "Subject: ready\r\n\r\nText.\r\n");
    e.to.emplace_back("eve@example.org>\r\nRCPT TO:<x@example.org");
    EXPECT_THROW((void)t.send(e, "Subject: x\r\n\r\n"), Error);
    EXPECT_FALSE(store.find(2));
    std::filesystem::remove_all(db.parent_path());
}
